"""API keys in a header, a query parameter or a cookie: ``Depends(APIKeyHeader(name="X-Key"))``.
A missing or empty key is answered with 401 ``Not authenticated`` and ``WWW-Authenticate:
APIKey`` (a 401 needs a challenge; none is standard for API keys), or ``None`` with
``auto_error=False``. Compare the key with ``secrets.compare_digest``."""

from __future__ import annotations

from typing import Literal

from framework.http.requests import HTTPConnection
from framework.security.base import SecurityBase
from framework.security.models import APIKey

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]

# The request attribute each location is read from (only that one is parsed).
_SOURCES = {"query": "query_params", "header": "headers", "cookie": "cookies"}


class APIKeyBase(SecurityBase):
    """An API key called ``name`` in the class's ``location``; as a dependency it gives the key."""

    model: APIKey
    challenge = "APIKey"
    location: Literal["query", "header", "cookie"]

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        model = APIKey.model_validate(
            {"in": self.location, "name": name, "description": description}
        )
        self._init_base(model, scheme_name, auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self.check_api_key(getattr(request, _SOURCES[self.location]).get(self.model.name))

    def check_api_key(self, api_key: str | None) -> str | None:
        """``api_key`` if it is there and not empty, else the missing-credential answer."""
        return self._present(api_key)


class APIKeyQuery(APIKeyBase):
    """An API key in the query parameter ``name`` (``/items?api_key=...``)."""

    location = "query"


class APIKeyHeader(APIKeyBase):
    """An API key in the header ``name`` (case-insensitive, e.g. ``X-API-Key``)."""

    location = "header"


class APIKeyCookie(APIKeyBase):
    """An API key in the cookie ``name``."""

    location = "cookie"
