"""Cross-Origin Resource Sharing: ``app.add_middleware(CORSMiddleware, allow_origins=[...])``
lets browsers call the API from other origins. See ``docs/middleware.md``."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Collection, Sequence

from framework.http.responses import PlainTextResponse
from framework.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ALL_METHODS", "SAFELISTED_HEADERS", "CORSMiddleware"]

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
# Request headers a browser sends without asking in a preflight: always allowed.
SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})

_PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
    "Access-Control-Request-Private-Network"
)


def add_vary(headers: Sequence[tuple[bytes, bytes]], token: bytes) -> list[tuple[bytes, bytes]]:
    """A new list of raw ``headers`` with ``token`` added to the first ``Vary`` (unless one lists it
    or is ``*``)."""
    result = list(headers)
    wanted = token.lower()
    first = -1
    for index, (name, value) in enumerate(result):
        if name == b"vary":
            listed = [part.strip().lower() for part in value.split(b",")]
            if wanted in listed or b"*" in listed:
                return result
            if first < 0:
                first = index
    if first < 0:  # the common case: no Vary yet
        result.append((b"vary", token))
    else:
        value = result[first][1]
        result[first] = (b"vary", value + b", " + token if value.strip() else token)
    return result


class CORSMiddleware:
    """Answer CORS preflights and add CORS headers to responses for allowed origins.

    - ``allow_origins``: exact origins, or ``["*"]`` for any (answered ``*``, or with the origin
      echoed under ``allow_credentials``: browsers refuse ``*`` with credentials).
    - ``allow_origin_regex``: a pattern the whole origin must match (``re.fullmatch``).
    - ``allow_methods``: methods a preflight may ask for (``["*"]`` for all); ``GET`` by default.
    - ``allow_headers``: request headers a preflight may ask for, case-insensitive (``["*"]`` for
      any); ``Accept``, ``Accept-Language``, ``Content-Language`` and ``Content-Type`` always.
    - ``allow_credentials``: let the browser send cookies and read the answer.
    - ``allow_private_network``: allow preflights asking for private-network access.
    - ``expose_headers``: response headers the page's script may read.
    - ``max_age``: seconds a browser may cache a preflight answer.

    A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered
    here: ``200``, or ``400`` ``Disallowed CORS origin, method, headers`` (the parts that failed).
    Other requests from an allowed origin get ``Access-Control-Allow-Origin`` (and the others)
    on the response, and ``Vary: Origin`` unless answered ``*``.
    """

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Collection[str] = (),
        max_age: int = 600,
    ) -> None:
        self.app = app
        self.allow_all_origins = "*" in allow_origins
        self.allow_origins = frozenset(allow_origins)
        self.allow_origin_regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        self.allow_methods = ALL_METHODS if "*" in allow_methods else tuple(allow_methods)
        self.allow_all_headers = "*" in allow_headers
        spelled = {h: h.title() for h in SAFELISTED_HEADERS}
        for header in allow_headers:
            if header != "*":
                spelled.setdefault(header.strip().lower(), header.strip())
        self.allow_headers = frozenset(spelled)
        self.allow_credentials = allow_credentials
        self.allow_private_network = allow_private_network
        # With credentials a browser refuses "*": the origin is echoed instead.
        self.echo_origin = not self.allow_all_origins or allow_credentials

        simple: list[tuple[bytes, bytes]] = []
        if allow_credentials:
            simple.append((b"access-control-allow-credentials", b"true"))
        if expose_headers:
            simple.append((b"access-control-expose-headers", ", ".join(expose_headers).encode()))
        self._simple_headers = simple

        preflight = {"vary": _PREFLIGHT_VARY}
        if not self.echo_origin:
            preflight["access-control-allow-origin"] = "*"
        preflight["access-control-allow-methods"] = ", ".join(self.allow_methods)
        if not self.allow_all_headers:
            preflight["access-control-allow-headers"] = ", ".join(
                spelled[h] for h in sorted(spelled)
            )
        preflight["access-control-max-age"] = str(max_age)
        if allow_credentials:
            preflight["access-control-allow-credentials"] = "true"
        self._preflight_headers = preflight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"origin":
                    await self._cors_request(scope, receive, send, value)
                    return
        # Not a CORS request (no Origin: same-origin, or not from a browser), or not HTTP.
        await self.app(scope, receive, send)

    async def _cors_request(
        self, scope: Scope, receive: Receive, send: Send, origin: bytes
    ) -> None:
        """A request with an ``Origin``: a preflight is answered here, others get CORS headers."""
        if scope["method"] == "OPTIONS":
            for name, _ in scope["headers"]:
                if name == b"access-control-request-method":
                    response = self.preflight_response(scope, origin.decode("latin-1"))
                    await response(scope, receive, send)
                    return

        def send_with_cors(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                message["headers"] = self.simple_headers(headers, origin)
            return send(message)

        await self.app(scope, receive, send_with_cors)

    def is_allowed_origin(self, origin: str) -> bool:
        """Whether ``origin`` may read responses: listed, matching the regex, or any with ``*``."""
        if self.allow_all_origins or origin in self.allow_origins:
            return True
        regex = self.allow_origin_regex
        return regex is not None and regex.fullmatch(origin) is not None

    def preflight_response(self, scope: Scope, origin: str) -> PlainTextResponse:
        """The answer to a preflight request from ``origin``: 200, or 400 naming what failed."""
        requested: dict[bytes, str] = {}
        for name, value in scope["headers"]:
            if name.startswith(b"access-control-request-") and name not in requested:
                requested[name] = value.decode("latin-1")
        headers = dict(self._preflight_headers)
        failures = []
        if self.is_allowed_origin(origin):
            if self.echo_origin:
                headers["access-control-allow-origin"] = origin
        else:
            failures.append("origin")
        if requested.get(b"access-control-request-method") not in self.allow_methods:
            failures.append("method")
        requested_headers = requested.get(b"access-control-request-headers")
        if requested_headers is not None:
            asked = {header.strip().lower() for header in requested_headers.split(",")} - {""}
            if self.allow_all_headers:
                headers["access-control-allow-headers"] = requested_headers
            elif not asked <= self.allow_headers:
                failures.append("headers")
        if b"access-control-request-private-network" in requested:
            if self.allow_private_network:
                headers["access-control-allow-private-network"] = "true"
            else:
                failures.append("private-network")
        if failures:
            text = "Disallowed CORS " + ", ".join(failures)
            return PlainTextResponse(text, status_code=400, headers=headers)
        return PlainTextResponse("OK", status_code=200, headers=headers)

    def simple_headers(
        self, headers: Sequence[tuple[bytes, bytes]], origin: bytes
    ) -> list[tuple[bytes, bytes]]:
        """Response headers for a non-preflight request from ``origin`` (a new list)."""
        if not self.is_allowed_origin(origin.decode("latin-1")):
            return add_vary(headers, b"Origin")
        replaced = {b"access-control-allow-origin"}
        replaced.update(name for name, _ in self._simple_headers)
        result = [(name, value) for name, value in headers if name not in replaced]
        result.extend(self._simple_headers)
        if self.echo_origin:
            result.append((b"access-control-allow-origin", origin))
            return add_vary(result, b"Origin")
        result.append((b"access-control-allow-origin", b"*"))
        return result
