"""examples/auth.py: token login with scrypt password hashes, HMAC-signed tokens and scopes."""

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from example_server import UvicornServer

from examples.auth import (
    USERS,
    app,
    create_access_token,
    decode_access_token,
    hash_password,
    verify_password,
)
from framework.testclient import TestClient

ITEMS_CHALLENGE = 'Bearer scope="items:read"'


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app)


def login(client: Any, username: str, password: str, scope: str = "") -> httpx.Response:
    data = {"username": username, "password": password}
    if scope:
        data["scope"] = scope
    response: httpx.Response = client.post("/token", data=data)
    return response


def token_of(client: Any, username: str, password: str, scope: str = "") -> str:
    response = login(client, username, password, scope)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    token: str = body["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response: httpx.Response, detail: str, challenge: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": detail}
    assert response.headers["www-authenticate"] == challenge


# -- passwords ------------------------------------------------------------------------------------


def test_password_hashes_are_salted_scrypt() -> None:
    first, second = hash_password("same"), hash_password("same")
    assert first != second  # a fresh salt each time
    assert first.startswith("scrypt$16384$8$1$")
    assert verify_password("same", first)
    assert verify_password("same", second)
    assert not verify_password("Same", first)
    stored = {user.hashed_password.split("$")[4] for user in USERS.values()}
    assert len(stored) == len(USERS)  # one salt per user


# -- login ----------------------------------------------------------------------------------------


def test_login_gives_a_token_for_the_user(client: TestClient) -> None:
    token = token_of(client, "alice", "wonderland", "items:read")
    payload = decode_access_token(token)
    assert (payload.sub, payload.scopes) == ("alice", ["items:read"])
    me = client.get("/users/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {
        "username": "alice",
        "full_name": "Alice Liddell",
        "scopes": ["items:read"],
    }
    assert "hashed_password" not in me.text


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong"), ("alice", "Wonderland"), ("nobody", "wonderland"), ("carol", "gone")],
    ids=["bad-password", "wrong-case", "unknown-user", "disabled-user"],
)
def test_login_refuses_wrong_credentials(client: TestClient, username: str, password: str) -> None:
    response = login(client, username, password)
    assert response.status_code == 400
    assert response.json() == {"detail": "Incorrect username or password"}


def test_login_refuses_scopes_the_user_may_not_have(client: TestClient) -> None:
    response = login(client, "bob", "builder", "items:read")
    assert response.status_code == 400
    assert response.json() == {"detail": "Scope not allowed: items:read"}


@pytest.mark.parametrize("data", [{"username": "alice"}, {"username": "alice", "password": ""}])
def test_login_without_a_password_is_422(client: TestClient, data: dict[str, str]) -> None:
    response = client.post("/token", data=data)  # an empty form field counts as missing
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "password"]]


# -- scopes ---------------------------------------------------------------------------------------


def test_scoped_endpoint_needs_the_scope(client: TestClient) -> None:
    with_scope = token_of(client, "alice", "wonderland", "items:read")
    items = client.get("/items", headers=bearer(with_scope))
    assert items.status_code == 200
    assert [item["name"] for item in items.json()] == ["Looking glass", "Hammer"]

    without_scope = token_of(client, "alice", "wonderland")
    assert client.get("/users/me", headers=bearer(without_scope)).status_code == 200
    refused = client.get("/items", headers=bearer(without_scope))
    assert_refused(refused, "Not enough permissions", ITEMS_CHALLENGE)

    bob = token_of(client, "bob", "builder")
    assert_refused(
        client.get("/items", headers=bearer(bob)), "Not enough permissions", ITEMS_CHALLENGE
    )


# -- bad tokens -----------------------------------------------------------------------------------


def test_expired_token_is_refused(client: TestClient) -> None:
    expired = create_access_token("alice", ["items:read"], lifetime=-1)
    assert_refused(client.get("/users/me", headers=bearer(expired)), "Token expired", "Bearer")
    assert_refused(client.get("/items", headers=bearer(expired)), "Token expired", ITEMS_CHALLENGE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _payload(token: str) -> dict[str, Any]:
    encoded = token.split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(encoded + "=" * 4))
    return decoded


def tampered_tokens(client: TestClient) -> dict[str, str]:
    bob = token_of(client, "bob", "builder")
    encoded, signature = bob.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    # bob's token claiming alice's name and scope, with bob's signature
    forged = _b64(json.dumps({**_payload(bob), "sub": "alice", "scopes": ["items:read"]}).encode())
    # a well-formed token signed with another key
    claims = json.dumps({"sub": "alice", "scopes": ["items:read"], "exp": 2**40}).encode()
    foreign = _b64(claims)
    foreign_signature = _b64(hmac.new(b"guessed key", foreign.encode(), hashlib.sha256).digest())
    return {
        "flipped-signature": f"{encoded}.{flipped}",
        "forged-payload": f"{forged}.{signature}",
        "other-key": f"{foreign}.{foreign_signature}",
        "no-signature": f"{encoded}.",
        "signature-only": f".{signature}",
        "three-parts": f"{bob}.{signature}",
        "no-dot": encoded,
    }


def test_tampered_tokens_are_refused(client: TestClient) -> None:
    for name, token in tampered_tokens(client).items():
        response = client.get("/items", headers=bearer(token))
        assert response.status_code == 401, name
        assert response.json() == {"detail": "Could not validate credentials"}, name
        assert response.headers["www-authenticate"] == ITEMS_CHALLENGE, name


def test_signed_token_of_an_unknown_or_disabled_user_is_refused(client: TestClient) -> None:
    for username in ("mallory", "carol"):
        token = create_access_token(username, ["items:read"])
        response = client.get("/users/me", headers=bearer(token))
        assert_refused(response, "Could not validate credentials", "Bearer")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer    ",
        "Token abc.def",
        "Basic YWxpY2U6d29uZGVybGFuZA==",
        "abc.def",
    ],
    ids=["missing", "empty", "no-token", "blank-token", "other-scheme", "basic", "no-scheme"],
)
def test_missing_or_malformed_authorization_is_401(
    client: TestClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_refused(client.get("/items", headers=headers), "Not authenticated", "Bearer")


@pytest.mark.parametrize(
    "token",
    [b"caf\xe9.\xff\xfe", b"\x00\x01.\x02", b"a.b" + b"\x80", b"not a token"],
    ids=["latin-1", "control", "high-byte", "spaces"],
)
def test_garbage_tokens_are_401_not_500(client: TestClient, token: bytes) -> None:
    response = client.get("/users/me", headers={"Authorization": b"Bearer " + token})
    assert_refused(response, "Could not validate credentials", "Bearer")


# -- a real server --------------------------------------------------------------------------------


def test_login_flow_under_uvicorn(tmp_path: Path) -> None:
    log_path = tmp_path / "uvicorn.log"
    with (
        UvicornServer.run("examples.auth:app", log_path) as server,
        httpx.Client(base_url=server.url, timeout=10.0) as http,
    ):
        token = token_of(http, "alice", "wonderland", "items:read")
        items = http.get("/items", headers=bearer(token))
        assert items.status_code == 200, server.output()
        assert http.get("/users/me", headers=bearer(token)).json()["username"] == "alice"
        encoded, signature = token.split(".")
        tampered = f"{encoded}.{signature[::-1]}"
        refused = http.get("/items", headers=bearer(tampered))
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == ITEMS_CHALLENGE
        assert http.post("/token", data={"username": "alice", "password": "x"}).status_code == 400
        assert http.get("/items").status_code == 401
    assert server.stopped_gracefully(), server.output()
    assert "Traceback" not in server.output()
