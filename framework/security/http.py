"""HTTP authentication from the ``Authorization`` header: Basic, Bearer, Digest. A missing header,
or one of another scheme, is answered with 401 ``Not authenticated`` and the scheme's challenge
(``None`` with ``auto_error=False``); unreadable Basic credentials with 401 ``Invalid
authentication credentials`` whatever ``auto_error`` says: the client did try Basic."""

from __future__ import annotations

import base64
import binascii

from pydantic import BaseModel

from framework.http.requests import HTTPConnection
from framework.security.base import SecurityBase
from framework.security.models import HTTPBase as HTTPBaseModel
from framework.security.models import HTTPBearer as HTTPBearerModel
from framework.security.utils import get_authorization_scheme_param

__all__ = [
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
]


class HTTPBasicCredentials(BaseModel):
    """The user name and password of HTTP Basic authentication (RFC 7617)."""

    username: str
    password: str


class HTTPAuthorizationCredentials(BaseModel):
    """An ``Authorization`` header split at its first space: ``scheme`` (as sent, e.g.
    ``"Bearer"``) and ``credentials`` (the rest, e.g. the token)."""

    scheme: str
    credentials: str


class HTTPBase(SecurityBase):
    """Any HTTP authentication scheme by name (``scheme="negotiate"``): gives the header's
    :class:`HTTPAuthorizationCredentials` when it uses that scheme (in any case) and carries
    credentials. The 401 challenge is the scheme's name."""

    model: HTTPBaseModel

    def __init__(
        self,
        *,
        scheme: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        model = HTTPBaseModel(scheme=scheme, description=description)
        self._init_base(model, scheme_name, auto_error)
        self.challenge = scheme.title()

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        scheme, credentials = get_authorization_scheme_param(request.headers.get("authorization"))
        if scheme.lower() != self.model.scheme.lower() or not credentials:
            self._missing()
            return None
        return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)


class HTTPBasic(HTTPBase):
    """HTTP Basic authentication (read as UTF-8, RFC 7617): gives :class:`HTTPBasicCredentials`.
    ``realm`` goes into the challenge. Compare secrets with ``secrets.compare_digest``."""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        realm: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="basic", scheme_name=scheme_name, description=description, auto_error=auto_error
        )
        if realm:
            if any(ord(char) < 32 or ord(char) == 127 for char in realm):
                raise ValueError("realm must not contain control characters")
            quoted = realm.replace("\\", "\\\\").replace('"', '\\"')
            self.challenge = f'Basic realm="{quoted}"'
        self.realm = realm

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, param = get_authorization_scheme_param(request.headers.get("authorization"))
        if scheme.lower() != "basic":
            self._missing()
            return None
        try:
            decoded = base64.b64decode(param, validate=True).decode("utf-8")
        except (ValueError, binascii.Error):  # bad base64, non-ASCII text, or not UTF-8
            raise self.make_invalid_credentials_error() from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise self.make_invalid_credentials_error()
        return HTTPBasicCredentials(username=username, password=password)


class HTTPBearer(HTTPBase):
    """HTTP bearer tokens (``Authorization: Bearer <token>``): gives
    :class:`HTTPAuthorizationCredentials`; an empty token counts as missing. ``bearerFormat``
    (e.g. ``"JWT"``) is documentation only."""

    model: HTTPBearerModel

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        model = HTTPBearerModel(bearerFormat=bearerFormat, description=description)
        self._init_base(model, scheme_name, auto_error)  # the challenge: SecurityBase's Bearer


class HTTPDigest(HTTPBase):
    """HTTP Digest authentication, declared only: gives the raw
    :class:`HTTPAuthorizationCredentials` of a ``Digest`` header for your code to verify (this
    class checks nothing of RFC 7616)."""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="digest", scheme_name=scheme_name, description=description, auto_error=auto_error
        )
