"""OAuth2: the password-flow login form, bearer-token dependencies, and ``SecurityScopes`` (the
whole flow is in ``docs/security.md``). The bearer classes only extract the token; a missing one
is answered with 401 ``Not authenticated`` and ``WWW-Authenticate: Bearer`` (or ``None``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from framework.handlers.params import Form, SecurityScopes
from framework.http.requests import HTTPConnection
from framework.security.base import SecurityBase
from framework.security.models import OAuth2 as OAuth2Model
from framework.security.models import OAuthFlowAuthorizationCode, OAuthFlowPassword, OAuthFlows
from framework.security.utils import get_authorization_scheme_param

__all__ = [
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "SecurityScopes",
]

_SECRET = {"format": "password"}  # shown as a password field in the docs UIs


class OAuth2PasswordRequestForm:
    """The login form of the OAuth2 password flow, ``Annotated[OAuth2PasswordRequestForm,
    Depends()]``: ``username``, ``password`` and optionally ``scope`` (split as ``scopes``),
    ``grant_type`` (``"password"`` if sent), ``client_id``, ``client_secret``; missing ones: 422."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra=_SECRET)],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra=_SECRET)] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret

    def __repr__(self) -> str:
        return f"{type(self).__name__}(username={self.username!r}, scopes={self.scopes!r})"


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """:class:`OAuth2PasswordRequestForm` that requires ``grant_type=password``, as the OAuth2
    specification does."""

    def __init__(
        self,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


class OAuth2(SecurityBase):
    """OAuth2 with any ``flows`` (:class:`~framework.security.models.OAuthFlows` or a dict). As a
    dependency it gives the whole ``Authorization`` value (the bearer subclasses: the token)."""

    model: OAuth2Model

    def __init__(
        self,
        flows: OAuthFlows | Mapping[str, Any] | None = None,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        if flows is None:
            flows = OAuthFlows()
        elif not isinstance(flows, OAuthFlows):
            flows = OAuthFlows.model_validate(flows)
        self._init_base(OAuth2Model(flows=flows, description=description), scheme_name, auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self._present(request.headers.get("authorization"))

    async def _bearer_token(self, request: HTTPConnection) -> str | None:
        scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
        return self._present(token if scheme.lower() == "bearer" else None)


class OAuth2PasswordBearer(OAuth2):
    """OAuth2 password flow: clients post the login form to ``tokenUrl`` (relative to the app's
    root) and send the token as ``Authorization: Bearer <token>``, which this gives. ``scopes``
    maps each scope to a description."""

    def __init__(
        self,
        tokenUrl: str,
        *,
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,
    ) -> None:
        scopes = dict(scopes or {})
        flow = OAuthFlowPassword(tokenUrl=tokenUrl, refreshUrl=refreshUrl, scopes=scopes)
        model = OAuth2Model(flows=OAuthFlows(password=flow), description=description)
        self._init_base(model, scheme_name, auto_error)

    __call__ = OAuth2._bearer_token


class OAuth2AuthorizationCodeBearer(OAuth2):
    """OAuth2 authorization code flow (users log in at ``authorizationUrl``, the client trades
    the code at ``tokenUrl``); gives the bearer token of ``Authorization: Bearer <token>``."""

    def __init__(
        self,
        authorizationUrl: str,
        tokenUrl: str,
        refreshUrl: str | None = None,
        *,
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        scopes = dict(scopes or {})
        flow = OAuthFlowAuthorizationCode(
            authorizationUrl=authorizationUrl,
            tokenUrl=tokenUrl,
            refreshUrl=refreshUrl,
            scopes=scopes,
        )
        model = OAuth2Model(flows=OAuthFlows(authorizationCode=flow), description=description)
        self._init_base(model, scheme_name, auto_error)

    __call__ = OAuth2._bearer_token
