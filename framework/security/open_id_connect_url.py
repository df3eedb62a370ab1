"""OpenID Connect, declared for the OpenAPI document."""

from __future__ import annotations

from framework.http.requests import HTTPConnection
from framework.security.base import SecurityBase
from framework.security.models import OpenIdConnect as OpenIdConnectModel

__all__ = ["OpenIdConnect"]


class OpenIdConnect(SecurityBase):
    """OpenID Connect: declares ``openIdConnectUrl`` (the discovery document, never fetched) and
    gives the whole ``Authorization`` value for your code to verify (missing: 401 or ``None``)."""

    model: OpenIdConnectModel

    def __init__(
        self,
        openIdConnectUrl: str,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        model = OpenIdConnectModel(openIdConnectUrl=openIdConnectUrl, description=description)
        self._init_base(model, scheme_name, auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self._present(request.headers.get("authorization"))
