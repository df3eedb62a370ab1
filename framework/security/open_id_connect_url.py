"""OpenID Connect, declared for the OpenAPI document."""

from __future__ import annotations

from framework.http.requests import HTTPConnection
from framework.security.base import SecurityBase
from framework.security.models import OpenIdConnect as OpenIdConnectModel

__all__ = ["OpenIdConnect"]


class OpenIdConnect(SecurityBase):
    """OpenID Connect: declares ``openIdConnectUrl`` (the provider's discovery document) and
    gives the whole ``Authorization`` header value for your code to verify; nothing here
    fetches the discovery document or checks tokens. A missing header is answered with 401 and
    ``WWW-Authenticate: Bearer`` (or gives ``None`` with ``auto_error=False``)."""

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
