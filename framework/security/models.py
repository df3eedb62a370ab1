"""The OpenAPI Security Scheme Objects the security classes declare, as pydantic models.

Field names follow the OpenAPI spelling; the two that are Python keywords or builtins are
``type_`` (``"type"``) and ``in_`` (``"in"``). ``model.model_dump(by_alias=True,
exclude_none=True)`` is the entry of ``components.securitySchemes``::

    >>> APIKey(in_="header", name="X-Key").model_dump(by_alias=True, exclude_none=True)
    {'type': 'apiKey', 'in': 'header', 'name': 'X-Key'}

Extra fields are kept, for specification extensions (``x-...``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "APIKey",
    "HTTPBase",
    "HTTPBearer",
    "OAuth2",
    "OAuthFlow",
    "OAuthFlowAuthorizationCode",
    "OAuthFlowClientCredentials",
    "OAuthFlowImplicit",
    "OAuthFlowPassword",
    "OAuthFlows",
    "OpenIdConnect",
    "SecuritySchemeModel",
]

SecuritySchemeType = Literal["apiKey", "http", "oauth2", "openIdConnect"]


class _OpenAPIModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class SecuritySchemeModel(_OpenAPIModel):
    """What every Security Scheme Object has: its ``type`` and an optional ``description``."""

    type_: SecuritySchemeType = Field(alias="type")
    description: str | None = None


class APIKey(SecuritySchemeModel):
    """An API key sent in a header, a query parameter or a cookie named ``name``."""

    type_: SecuritySchemeType = Field(default="apiKey", alias="type")
    in_: Literal["query", "header", "cookie"] = Field(alias="in")
    name: str


class HTTPBase(SecuritySchemeModel):
    """An HTTP authentication scheme (RFC 7235) by its name: ``basic``, ``bearer``, ``digest``..."""

    type_: SecuritySchemeType = Field(default="http", alias="type")
    scheme: str


class HTTPBearer(HTTPBase):
    """HTTP bearer tokens; ``bearerFormat`` is a hint such as ``"JWT"``."""

    scheme: str = "bearer"
    bearerFormat: str | None = None


class OAuthFlow(_OpenAPIModel):
    """What every OAuth2 flow has: an optional refresh URL and its scopes (name: description)."""

    refreshUrl: str | None = None
    scopes: dict[str, str] = Field(default_factory=dict)


class OAuthFlowImplicit(OAuthFlow):
    """The implicit flow."""

    authorizationUrl: str


class OAuthFlowPassword(OAuthFlow):
    """The password flow: the client posts a username and password to ``tokenUrl``."""

    tokenUrl: str


class OAuthFlowClientCredentials(OAuthFlow):
    """The client credentials flow."""

    tokenUrl: str


class OAuthFlowAuthorizationCode(OAuthFlow):
    """The authorization code flow."""

    authorizationUrl: str
    tokenUrl: str


class OAuthFlows(_OpenAPIModel):
    """The OAuth2 flows a scheme supports (any of the four)."""

    implicit: OAuthFlowImplicit | None = None
    password: OAuthFlowPassword | None = None
    clientCredentials: OAuthFlowClientCredentials | None = None
    authorizationCode: OAuthFlowAuthorizationCode | None = None


class OAuth2(SecuritySchemeModel):
    """OAuth2, with its flows."""

    type_: SecuritySchemeType = Field(default="oauth2", alias="type")
    flows: OAuthFlows


class OpenIdConnect(SecuritySchemeModel):
    """OpenID Connect discovery: the URL of the provider's configuration document."""

    type_: SecuritySchemeType = Field(default="openIdConnect", alias="type")
    openIdConnectUrl: str
