"""Security dependencies (FastAPI's names and modules; see ``docs/security.md``): each reads a
credential, answers 401 with a ``WWW-Authenticate`` challenge when it is missing (``None`` with
``auto_error=False``), and declares its security scheme for the OpenAPI document."""

from framework.security.api_key import APIKeyCookie, APIKeyHeader, APIKeyQuery
from framework.security.base import SecurityBase
from framework.security.http import (
    HTTPAuthorizationCredentials,
    HTTPBase,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
)
from framework.security.oauth2 import (
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    SecurityScopes,
)
from framework.security.open_id_connect_url import OpenIdConnect

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "OpenIdConnect",
    "SecurityBase",
    "SecurityScopes",
]
