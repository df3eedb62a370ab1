"""framework.security: each class extracts its credential, answers 401 with its challenge when
the credential is missing (or gives None with auto_error=False), and describes its scheme."""

import base64
from typing import Annotated, Any

import pytest

from framework import App, Depends, Security, WebSocket
from framework.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBase,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    OpenIdConnect,
    SecurityBase,
    SecurityScopes,
)
from framework.security.models import OAuthFlowImplicit, OAuthFlows
from framework.security.utils import get_authorization_scheme_param
from framework.testclient import TestClient, WebSocketDenialResponse

NOT_AUTHENTICATED = {"detail": "Not authenticated"}
INVALID = {"detail": "Invalid authentication credentials"}


def basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode("ascii")


def client_for(scheme: Any) -> TestClient:
    """An app whose GET / answers what ``scheme`` gives, as {"value": ...}."""
    app = App()

    @app.get("/")
    async def read(value: Annotated[Any, Depends(scheme)]) -> dict[str, Any]:
        if hasattr(value, "model_dump"):
            value = value.model_dump()
        return {"value": value}

    return TestClient(app)


def assert_401(response: Any, challenge: str, body: dict[str, str] = NOT_AUTHENTICATED) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == body
    assert response.headers["www-authenticate"] == challenge


# -- the OpenAPI description: equal to FastAPI's securitySchemes entries ------------------------

SCHEMES: list[tuple[SecurityBase, str, dict[str, Any]]] = [
    (
        OAuth2PasswordBearer(tokenUrl="token", scopes={"items:read": "Read items"}),
        "OAuth2PasswordBearer",
        {
            "type": "oauth2",
            "flows": {"password": {"scopes": {"items:read": "Read items"}, "tokenUrl": "token"}},
        },
    ),
    (
        OAuth2PasswordBearer(tokenUrl="/t", refreshUrl="/r", scheme_name="PW2", description="d"),
        "PW2",
        {
            "type": "oauth2",
            "description": "d",
            "flows": {"password": {"refreshUrl": "/r", "scopes": {}, "tokenUrl": "/t"}},
        },
    ),
    (
        OAuth2AuthorizationCodeBearer(authorizationUrl="/auth", tokenUrl="/tok"),
        "OAuth2AuthorizationCodeBearer",
        {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {"scopes": {}, "authorizationUrl": "/auth", "tokenUrl": "/tok"}
            },
        },
    ),
    (OAuth2(), "OAuth2", {"type": "oauth2", "flows": {}}),
    (HTTPBasic(), "HTTPBasic", {"type": "http", "scheme": "basic"}),
    (
        HTTPBasic(realm="simple", scheme_name="BasicR", description="bd"),
        "BasicR",
        {"type": "http", "description": "bd", "scheme": "basic"},
    ),
    (HTTPBearer(), "HTTPBearer", {"type": "http", "scheme": "bearer"}),
    (
        HTTPBearer(bearerFormat="JWT", scheme_name="BF"),
        "BF",
        {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    ),
    (HTTPDigest(), "HTTPDigest", {"type": "http", "scheme": "digest"}),
    (
        APIKeyHeader(name="X-Key"),
        "APIKeyHeader",
        {"type": "apiKey", "in": "header", "name": "X-Key"},
    ),
    (APIKeyQuery(name="key"), "APIKeyQuery", {"type": "apiKey", "in": "query", "name": "key"}),
    (
        APIKeyCookie(name="session", description="cookie"),
        "APIKeyCookie",
        {"type": "apiKey", "description": "cookie", "in": "cookie", "name": "session"},
    ),
    (
        OpenIdConnect(openIdConnectUrl="/.well-known/openid"),
        "OpenIdConnect",
        {"type": "openIdConnect", "openIdConnectUrl": "/.well-known/openid"},
    ),
]


@pytest.mark.parametrize(("scheme", "name", "expected"), SCHEMES, ids=lambda v: str(v)[:30])
def test_scheme_models_dump_as_openapi_security_schemes(
    scheme: SecurityBase, name: str, expected: dict[str, Any]
) -> None:
    assert isinstance(scheme, SecurityBase)
    assert scheme.scheme_name == name
    assert scheme.model.model_dump(by_alias=True, exclude_none=True) == expected


def test_scheme_name_defaults_to_the_subclass_name() -> None:
    class CompanyToken(HTTPBearer):
        pass

    assert CompanyToken().scheme_name == "CompanyToken"


def test_oauth2_takes_flows_as_a_dict_or_a_model() -> None:
    flows = {"implicit": {"authorizationUrl": "/authorize", "scopes": {"a": "A"}}}
    expected = {
        "type": "oauth2",
        "flows": {"implicit": {"scopes": {"a": "A"}, "authorizationUrl": "/authorize"}},
    }
    assert OAuth2(flows=flows).model.model_dump(by_alias=True, exclude_none=True) == expected
    model = OAuthFlows(implicit=OAuthFlowImplicit(authorizationUrl="/authorize", scopes={"a": "A"}))
    assert OAuth2(flows=model).model.model_dump(by_alias=True, exclude_none=True) == expected


# -- OAuth2 bearer tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scheme",
    [
        OAuth2PasswordBearer(tokenUrl="token"),
        OAuth2AuthorizationCodeBearer(authorizationUrl="/a", tokenUrl="/t"),
    ],
    ids=["password", "authorization-code"],
)
def test_oauth2_bearer_gives_the_token(scheme: OAuth2) -> None:
    client = client_for(scheme)
    assert client.get("/", headers={"Authorization": "Bearer abc.def"}).json() == {
        "value": "abc.def"
    }
    # The scheme is case-insensitive.
    assert client.get("/", headers={"Authorization": "bearer xyz"}).json() == {"value": "xyz"}
    assert_401(client.get("/"), "Bearer")


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer    ", "Basic dTpw", "Token abc", "abc", "Bearerabc"],
    ids=["empty", "no-token", "blank-token", "basic", "other-scheme", "no-scheme", "glued"],
)
def test_oauth2_bearer_refuses_missing_empty_or_foreign_tokens(authorization: str) -> None:
    client = client_for(OAuth2PasswordBearer(tokenUrl="token"))
    assert_401(client.get("/", headers={"Authorization": authorization}), "Bearer")


def test_oauth2_bearer_without_auto_error_gives_none() -> None:
    client = client_for(OAuth2PasswordBearer(tokenUrl="token", auto_error=False))
    assert client.get("/").json() == {"value": None}
    assert client.get("/", headers={"Authorization": "Bearer"}).json() == {"value": None}
    assert client.get("/", headers={"Authorization": "Basic dTpw"}).json() == {"value": None}
    assert client.get("/", headers={"Authorization": "Bearer t"}).json() == {"value": "t"}


def test_oauth2_and_openid_connect_give_the_whole_header() -> None:
    for scheme in (OAuth2(), OpenIdConnect(openIdConnectUrl="/.well-known/openid")):
        client = client_for(scheme)
        answer = client.get("/", headers={"Authorization": "Custom abc"})
        assert answer.json() == {"value": "Custom abc"}
        assert_401(client.get("/"), "Bearer")
    lenient = client_for(OpenIdConnect(openIdConnectUrl="/x", auto_error=False))
    assert lenient.get("/").json() == {"value": None}


def test_non_ascii_bearer_token_bytes_reach_the_handler_as_latin1_text() -> None:
    client = client_for(OAuth2PasswordBearer(tokenUrl="token"))
    response = client.get("/", headers={"Authorization": b"Bearer caf\xe9\xff"})
    assert response.json() == {"value": "caf\u00e9\u00ff"}


# -- HTTP Basic -------------------------------------------------------------------------------------


def test_http_basic_gives_the_credentials() -> None:
    client = client_for(HTTPBasic())
    response = client.get("/", headers={"Authorization": basic(b"alice:s3cret:with:colons")})
    assert response.json() == {"value": {"username": "alice", "password": "s3cret:with:colons"}}
    # httpx's own Basic auth, and an empty password.
    assert client.get("/", auth=("bob", "")).json() == {
        "value": {"username": "bob", "password": ""}
    }


def test_http_basic_reads_utf8_credentials() -> None:
    client = client_for(HTTPBasic())
    response = client.get("/", headers={"Authorization": basic("jos\u00e9:p\u00e4ss".encode())})
    assert response.json() == {"value": {"username": "jos\u00e9", "password": "p\u00e4ss"}}


@pytest.mark.parametrize("authorization", [None, "", "Bearer abc", "Digest x=1", "Basicdxa="])
def test_http_basic_missing_or_other_scheme_is_401_with_basic_challenge(
    authorization: str | None,
) -> None:
    client = client_for(HTTPBasic())
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_401(client.get("/", headers=headers), "Basic")


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic !!!not-base64",  # characters outside the alphabet
        "Basic dTpw!!",  # valid base64 followed by junk
        "Basic dTpwYQ",  # missing padding
        basic(b"no-colon-here"),
        basic("u:p\u00e4".encode("latin-1")),  # not UTF-8
        basic(b"u:\xff\xfe"),
        "Basic",  # nothing after the scheme
        "Basic    ",
    ],
    ids=["alphabet", "junk", "padding", "no-colon", "latin-1", "invalid-utf8", "empty", "blank"],
)
def test_http_basic_malformed_credentials_are_401_not_500(authorization: str) -> None:
    client = client_for(HTTPBasic(realm="staff"))
    assert_401(
        client.get("/", headers={"Authorization": authorization}), 'Basic realm="staff"', INVALID
    )


def test_http_basic_non_ascii_header_bytes_are_401() -> None:
    client = client_for(HTTPBasic())
    response = client.get("/", headers={"Authorization": b"Basic \xe9\xe9\xe9\xe9"})
    assert_401(response, "Basic", INVALID)


def test_http_basic_without_auto_error() -> None:
    client = client_for(HTTPBasic(auto_error=False))
    assert client.get("/").json() == {"value": None}
    assert client.get("/", headers={"Authorization": "Bearer x"}).json() == {"value": None}
    # Credentials of the right scheme that cannot be read are refused all the same.
    assert_401(client.get("/", headers={"Authorization": "Basic !!"}), "Basic", INVALID)


def test_http_basic_realm_is_quoted_and_checked() -> None:
    client = client_for(HTTPBasic(realm='the "inner" \\ circle'))
    assert (
        client.get("/").headers["www-authenticate"] == 'Basic realm="the \\"inner\\" \\\\ circle"'
    )
    with pytest.raises(ValueError, match="control characters"):
        HTTPBasic(realm="evil\r\nSet-Cookie: a=b")


def test_http_basic_credentials_checked_with_compare_digest() -> None:
    import secrets

    security = HTTPBasic()
    app = App()

    def admin(credentials: Annotated[HTTPBasicCredentials, Depends(security)]) -> str:
        good_user = secrets.compare_digest(credentials.username.encode(), b"admin")
        good_password = secrets.compare_digest(credentials.password.encode(), b"open sesame")
        if not (good_user and good_password):
            raise security.make_invalid_credentials_error()
        return credentials.username

    @app.get("/admin")
    async def read(user: Annotated[str, Depends(admin)]) -> dict[str, str]:
        return {"user": user}

    client = TestClient(app)
    assert client.get("/admin", auth=("admin", "open sesame")).json() == {"user": "admin"}
    assert_401(client.get("/admin", auth=("admin", "guess")), "Basic", INVALID)


# -- HTTP Bearer, Digest and other schemes ----------------------------------------------------------


def test_http_bearer_gives_scheme_and_credentials() -> None:
    client = client_for(HTTPBearer())
    response = client.get("/", headers={"Authorization": "Bearer  tok en "})
    assert response.json() == {"value": {"scheme": "Bearer", "credentials": "tok en"}}


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer   ", "Basic dTpw", "tok"])
def test_http_bearer_missing_empty_or_other_scheme_is_401(authorization: str | None) -> None:
    client = client_for(HTTPBearer())
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_401(client.get("/", headers=headers), "Bearer")
    lenient = client_for(HTTPBearer(auto_error=False))
    assert lenient.get("/", headers=headers).json() == {"value": None}


def test_http_digest_gives_the_raw_credentials() -> None:
    client = client_for(HTTPDigest())
    response = client.get("/", headers={"Authorization": 'Digest username="u", nonce="n"'})
    assert response.json() == {
        "value": {"scheme": "Digest", "credentials": 'username="u", nonce="n"'}
    }
    assert_401(client.get("/"), "Digest")
    assert_401(client.get("/", headers={"Authorization": "Bearer x"}), "Digest")


def test_http_base_with_a_custom_scheme() -> None:
    scheme = HTTPBase(scheme="negotiate", description="Kerberos")
    assert scheme.model.model_dump(by_alias=True, exclude_none=True) == {
        "type": "http",
        "description": "Kerberos",
        "scheme": "negotiate",
    }
    client = client_for(scheme)
    response = client.get("/", headers={"Authorization": "Negotiate YIIB"})
    assert response.json() == {"value": {"scheme": "Negotiate", "credentials": "YIIB"}}
    assert_401(client.get("/", headers={"Authorization": "Bearer x"}), "Negotiate")


# -- API keys ---------------------------------------------------------------------------------------


def test_api_key_header() -> None:
    client = client_for(APIKeyHeader(name="X-API-Key"))
    assert client.get("/", headers={"x-api-key": "k1"}).json() == {"value": "k1"}
    assert_401(client.get("/"), "APIKey")
    assert_401(client.get("/", headers={"X-API-Key": ""}), "APIKey")


def test_api_key_query() -> None:
    client = client_for(APIKeyQuery(name="api_key"))
    assert client.get("/?api_key=k%202").json() == {"value": "k 2"}
    assert_401(client.get("/"), "APIKey")
    assert_401(client.get("/?api_key="), "APIKey")
    assert_401(client.get("/?API_KEY=k"), "APIKey")  # query names are case-sensitive


def test_api_key_cookie() -> None:
    client = client_for(APIKeyCookie(name="session"))
    assert client.get("/", headers={"Cookie": "theme=dark; session=abc"}).json() == {"value": "abc"}
    assert_401(client.get("/"), "APIKey")
    assert_401(client.get("/", headers={"Cookie": "session="}), "APIKey")


@pytest.mark.parametrize(
    "scheme", [APIKeyHeader(name="k", auto_error=False), APIKeyQuery(name="k", auto_error=False)]
)
def test_api_key_without_auto_error_gives_none(scheme: Any) -> None:
    assert client_for(scheme).get("/").json() == {"value": None}


def test_optional_schemes_combine_into_one_dependency() -> None:
    header = APIKeyHeader(name="X-Key", auto_error=False)
    bearer = HTTPBearer(auto_error=False)
    app = App()

    async def credential(
        key: Annotated[str | None, Depends(header)],
        token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        if key:
            return f"key {key}"
        if token:
            return f"token {token.credentials}"
        raise header.make_not_authenticated_error()

    @app.get("/")
    async def read(who: Annotated[str, Depends(credential)]) -> dict[str, str]:
        return {"who": who}

    client = TestClient(app)
    assert client.get("/", headers={"X-Key": "k"}).json() == {"who": "key k"}
    assert client.get("/", headers={"Authorization": "Bearer t"}).json() == {"who": "token t"}
    assert_401(client.get("/"), "APIKey")


# -- scopes, overrides, WebSockets ------------------------------------------------------------------


def test_security_scopes_collect_the_scopes_above_a_dependency() -> None:
    oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"a": "A", "b": "B"})
    app = App()

    async def user(
        scopes: SecurityScopes, token: Annotated[str, Depends(oauth2)]
    ) -> dict[str, Any]:
        return {"token": token, "scopes": scopes.scopes, "scope_str": scopes.scope_str}

    async def admin(info: Annotated[dict[str, Any], Security(user, scopes=["b"])]) -> Any:
        return info

    @app.get("/one")
    async def one(info: Annotated[dict[str, Any], Security(user, scopes=["a"])]) -> Any:
        return info

    @app.get("/two")
    async def two(info: Annotated[dict[str, Any], Security(admin, scopes=["a"])]) -> Any:
        return info

    client = TestClient(app)
    headers = {"Authorization": "Bearer t"}
    assert client.get("/one", headers=headers).json() == {
        "token": "t",
        "scopes": ["a"],
        "scope_str": "a",
    }
    assert client.get("/two", headers=headers).json() == {
        "token": "t",
        "scopes": ["a", "b"],
        "scope_str": "a b",
    }
    assert_401(client.get("/two"), "Bearer")


def test_security_scheme_can_be_overridden() -> None:
    oauth2 = OAuth2PasswordBearer(tokenUrl="token")
    app = App()

    @app.get("/")
    async def read(token: Annotated[str, Depends(oauth2)]) -> dict[str, str]:
        return {"token": token}

    app.dependency_overrides[oauth2] = lambda: "test-token"
    assert TestClient(app).get("/").json() == {"token": "test-token"}


def test_security_dependency_on_a_websocket() -> None:
    key = APIKeyQuery(name="key")
    app = App()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, value: Annotated[str, Depends(key)]) -> None:
        await websocket.accept()
        await websocket.send_text(value)
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/ws?key=abc") as session:
        assert session.receive_text() == "abc"
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/ws"):
        pass  # pragma: no cover
    assert denied.value.status_code == 401
    assert denied.value.headers["www-authenticate"] == "APIKey"


# -- the password form ------------------------------------------------------------------------------


def form_client() -> TestClient:
    app = App()

    @app.post("/login")
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
        return vars(form)

    @app.post("/strict")
    def strict(form: Annotated[OAuth2PasswordRequestFormStrict, Depends()]) -> dict[str, Any]:
        return vars(form)

    return TestClient(app)


def test_password_form_reads_the_fields_and_splits_scopes() -> None:
    client = form_client()
    data = {
        "username": "alice",
        "password": "pw",
        "scope": " items:read  me ",
        "grant_type": "password",
        "client_id": "cli",
        "client_secret": "sec",
    }
    assert client.post("/login", data=data).json() == {
        "grant_type": "password",
        "username": "alice",
        "password": "pw",
        "scopes": ["items:read", "me"],
        "client_id": "cli",
        "client_secret": "sec",
    }
    minimal = client.post("/login", data={"username": "a", "password": "b"}).json()
    assert minimal == {
        "grant_type": None,
        "username": "a",
        "password": "b",
        "scopes": [],
        "client_id": None,
        "client_secret": None,
    }
    # Multipart works as well as urlencoded.
    multipart = client.post("/login", files={"username": (None, "m"), "password": (None, "p")})
    assert multipart.json()["username"] == "m"


@pytest.mark.parametrize(
    ("path", "data", "loc", "error_type"),
    [
        ("/login", {"username": "a"}, ["body", "password"], "missing"),
        ("/login", {"password": "a"}, ["body", "username"], "missing"),
        (
            "/login",
            {"username": "a", "password": "b", "grant_type": "implicit"},
            ["body", "grant_type"],
            "string_pattern_mismatch",
        ),
        ("/strict", {"username": "a", "password": "b"}, ["body", "grant_type"], "missing"),
    ],
)
def test_password_form_errors_are_422(
    path: str, data: dict[str, str], loc: list[str], error_type: str
) -> None:
    response = form_client().post(path, data=data)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (loc, error_type)


def test_strict_password_form_accepts_grant_type_password() -> None:
    data = {"grant_type": "password", "username": "a", "password": "b", "scope": "x"}
    response = form_client().post("/strict", data=data)
    assert response.json()["scopes"] == ["x"]


# -- utilities --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("", "")),
        ("", ("", "")),
        ("Bearer abc", ("Bearer", "abc")),
        ("Bearer", ("Bearer", "")),
        ("  Basic   dTpw  ", ("Basic", "dTpw")),
        ("Digest a=1, b=2", ("Digest", "a=1, b=2")),
    ],
)
def test_get_authorization_scheme_param(value: str | None, expected: tuple[str, str]) -> None:
    assert get_authorization_scheme_param(value) == expected
