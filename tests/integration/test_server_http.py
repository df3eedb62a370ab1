"""Routing answers and lifespan state, as a client of a real server sees them."""

from __future__ import annotations

import time

import httpx

from .servers import ServerProcess


def test_health(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.json() == {"ok": True}


def test_path_parameter(client: httpx.Client) -> None:
    response = client.get("/items/abc-123")
    assert response.status_code == 200
    assert response.json() == {"item_id": "abc-123"}


def test_percent_encoded_path_parameter_is_decoded(client: httpx.Client) -> None:
    response = client.get("/items/a%20b%3Fc%25")
    assert response.status_code == 200
    assert response.json() == {"item_id": "a b?c%"}


def test_encoded_slash_separates_segments(client: httpx.Client) -> None:
    # Routing uses the decoded ASGI path, where %2F is a "/" like any other: no one-segment match.
    response = client.get("/items/a%2Fb")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_unknown_path_is_404(client: httpx.Client) -> None:
    response = client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Not Found"}


def test_wrong_method_is_405_with_allow(client: httpx.Client) -> None:
    response = client.post("/only-get", content=b"ignored")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json() == {"detail": "Method Not Allowed"}


def test_http_exception_from_handler(client: httpx.Client) -> None:
    response = client.get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"detail": "I'm a teapot"}


def test_head_on_get_route_has_headers_without_body(client: httpx.Client) -> None:
    get = client.get("/hello")
    head = client.head("/hello")
    assert get.status_code == head.status_code == 200
    assert get.text == "hello, world"
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] == "12"
    assert (
        head.headers["content-type"] == get.headers["content-type"] == "text/plain; charset=utf-8"
    )


def test_head_on_json_route(client: httpx.Client) -> None:
    get = client.get("/items/xyz")
    head = client.head("/items/xyz")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-length"] == str(len(b'{"item_id":"xyz"}'))
    # The connection is still usable after a HEAD (no stray body bytes were sent).
    assert client.get("/health").json() == {"ok": True}


def test_missing_trailing_slash_redirects(server: ServerProcess, client: httpx.Client) -> None:
    response = client.get("/slashed?page=2")
    assert response.status_code == 307
    assert response.headers["location"] == f"{server.url}/slashed/?page=2"
    assert response.content == b""
    followed = client.get("/slashed?page=2", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.json() == {"route": "/slashed/"}


def test_extra_trailing_slash_redirects(server: ServerProcess, client: httpx.Client) -> None:
    response = client.get("/hello/")
    assert response.status_code == 307
    assert response.headers["location"] == f"{server.url}/hello"
    assert client.get("/hello/", follow_redirects=True).text == "hello, world"


def test_lifespan_state_reaches_requests(client: httpx.Client) -> None:
    first = client.get("/state")
    second = client.get("/state")
    assert first.status_code == second.status_code == 200
    state = first.json()
    assert isinstance(state["started_at"], float)
    assert state["started_at"] <= time.time()
    # The lifespan ran once, in the process that answers requests.
    assert second.json()["started_at"] == state["started_at"]
    assert state["server_pid"] == state["handler_pid"]


def test_keep_alive_connection_serves_many_requests(client: httpx.Client) -> None:
    for index in range(20):
        response = client.get(f"/items/{index}")
        assert response.status_code == 200
        assert response.json() == {"item_id": str(index)}
