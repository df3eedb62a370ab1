"""Exceptions a handler raises to answer with an error, and the ones the framework raises itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from framework.status import reason_phrase


class HTTPException(Exception):
    """Raise to answer with an error: ``raise HTTPException(404, detail="No such item")``, sent as
    ``{"detail": detail}`` (any JSON value; by default the reason phrase) with ``headers``."""

    def __init__(
        self, status_code: int, detail: Any = None, headers: Mapping[str, str] | None = None
    ) -> None:
        if detail is None:
            detail = reason_phrase(status_code)
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers is not None else None

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class WebSocketException(Exception):
    """Raise inside a WebSocket handler to close the connection with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason or ""

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


class ClientDisconnect(Exception):
    """The client went away while the request body was being read: the request ends quietly."""


class InvalidJSONBody(HTTPException, ValueError):
    """``await request.json()`` found a body that is not JSON: answered with 400. It is also a
    ``ValueError``, so ``except ValueError`` around ``request.json()`` still works."""

    def __init__(self, reason: str) -> None:
        super().__init__(400, detail=f"Invalid JSON body: {reason}")


class _ValidationErrors(ValueError):
    """What the request and the response validation errors share."""

    _where = ""  # where the errors were found, for str()

    def __init__(self, errors: list[dict[str, Any]], *, body: Any = None) -> None:
        super().__init__(errors)
        self._errors = errors
        self.body = body

    def errors(self) -> list[dict[str, Any]]:
        """The validation errors, in FastAPI's shape."""
        return self._errors

    def __str__(self) -> str:
        lines = [f"{len(self._errors)} validation error(s){self._where}:"]
        lines += [f"  {list(e['loc'])}: {e['msg']}" for e in self._errors]
        return "\n".join(lines)


class RequestValidationError(_ValidationErrors):
    """The request did not match what the handler declared: answered with 422. ``errors()`` lists
    the problems in FastAPI's shape (``loc`` starting at ``"path"``, ``"query"``, ``"header"``,
    ``"cookie"`` or ``"body"``); ``body`` is the request body as parsed (when there was one)."""


class WebSocketRequestValidationError(RequestValidationError):
    """A WebSocket handshake whose parameters did not validate: the socket closes with 1008."""


class ResponseValidationError(_ValidationErrors):
    """A handler returned a value that does not fit its ``response_model``: a server error (500),
    never sent to the client. ``errors()`` lists the problems, ``body`` is the returned value."""

    _where = " in the response"
