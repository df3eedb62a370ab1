"""Security dependencies: each reads a credential from the request, answers 401 with the right
``WWW-Authenticate`` challenge when it is missing (or gives ``None`` with
``auto_error=False``), and declares its security scheme for the OpenAPI document.

The names and modules are FastAPI's: ``from fastapi.security import X`` becomes
``from framework.security import X``. See ``docs/security.md``.
"""

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
