"""API keys sent in a header, a query parameter or a cookie: ``key: Annotated[str,
Depends(APIKeyHeader(name="X-API-Key"))]`` (see ``docs/security.md``).

A missing or empty key is answered with 401 ``Not authenticated`` and ``WWW-Authenticate:
APIKey`` (HTTP requires a challenge with a 401; none is standard for API keys), or gives
``None`` with ``auto_error=False``. Checking the key is your code's job: compare it with
``secrets.compare_digest``.
"""

from __future__ import annotations

from typing import Literal

from framework.http.requests import HTTPConnection
from framework.security.base import SecurityBase
from framework.security.models import APIKey

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]

# The request attribute each location is read from (only that one is parsed).
_SOURCES = {"query": "query_params", "header": "headers", "cookie": "cookies"}


class APIKeyBase(SecurityBase):
    """What the three API-key classes share: the key's ``name`` and where it is sent. As a
    dependency an instance gives the key."""

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
