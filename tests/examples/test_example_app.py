"""examples/app.py: the showcase app that ``make serve`` runs."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from example_server import UvicornServer

from examples.app import Inventory, app
from framework import Route
from framework.testclient import TestClient

HAMMER = {"id": 1, "name": "Hammer", "price": 9.5}
SCREWDRIVER = {"id": 2, "name": "Screwdriver", "price": 4.25}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app) as test_client:  # runs the lifespan: a fresh inventory each test
        yield test_client


def test_index_links_are_absolute_urls_built_with_url_for(client: TestClient) -> None:
    assert client.get("/").json() == {
        "message": "Welcome to the Shop API",
        "items": "http://testserver/items",
        "example_user": "http://testserver/users/ada",
    }


def test_items_come_from_the_lifespan_state(client: TestClient) -> None:
    assert isinstance(client.app_state["inventory"], Inventory)
    response = client.get("/items")
    assert response.status_code == 200
    assert response.json() == [HAMMER, SCREWDRIVER]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?q=ham", [HAMMER]),
        ("?q=SCREW", [SCREWDRIVER]),
        ("?q=", [HAMMER, SCREWDRIVER]),
        ("?q=x", []),
    ],
)
def test_items_filtered_by_query(client: TestClient, query: str, expected: list[object]) -> None:
    assert client.get("/items" + query).json() == expected


def test_item_by_int_id(client: TestClient) -> None:
    assert client.get("/items/2").json() == SCREWDRIVER
    missing = client.get("/items/99")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Item 99 not found"}
    assert client.get("/items/two").status_code == 404  # not an int: no route matches


def test_create_item_then_read_it(client: TestClient) -> None:
    created = client.post("/items", json={"name": "Saw", "price": 12})
    assert created.status_code == 201
    assert created.json() == {"id": 3, "name": "Saw", "price": 12.0}
    assert client.get("/items/3").json() == created.json()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b'{"name": "", "price": -1}', [["name"], ["price"]]),
        (b'{"price": 3}', [["name"]]),
        (b'{"name": "Saw", "price": "cheap"}', [["price"]]),
        (b"not json", [[]]),
    ],
)
def test_invalid_item_is_answered_by_the_custom_handler(
    client: TestClient, body: bytes, fields: list[list[str]]
) -> None:
    response = client.post("/items", content=body)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == fields
    assert client.get("/items").json() == [HAMMER, SCREWDRIVER]  # nothing stored


def test_latest_redirects_to_the_newest_item(client: TestClient) -> None:
    client.post("/items", json={"name": "Saw", "price": 12})
    redirect = client.get("/items/latest", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "http://testserver/items/3"
    assert client.get("/items/latest").json()["name"] == "Saw"


def test_latest_without_items_is_404(client: TestClient) -> None:
    assert client.delete("/items/1").status_code == 204
    assert client.delete("/items/2").status_code == 204
    response = client.get("/items/latest")
    assert response.status_code == 404
    assert response.json() == {"detail": "No items yet"}


def test_delete_item(client: TestClient) -> None:
    response = client.delete("/items/1")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/items").json() == [SCREWDRIVER]
    assert client.delete("/items/1").status_code == 404


def test_csv_export_streams_quoted_rows(client: TestClient) -> None:
    client.post("/items", json={"name": 'Saw, "big"', "price": 12})
    response = client.get("/items.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="items.csv"'
    assert "content-length" not in response.headers
    assert response.text.splitlines() == [
        "id,name,price",
        "1,Hammer,9.5",
        "2,Screwdriver,4.25",
        '3,"Saw, ""big""",12.0',
    ]


def test_users_router_with_prefix_and_tags(client: TestClient) -> None:
    assert client.get("/users").json() == ["ada", "grace"]
    assert client.get("/users/grace").json() == {"username": "grace", "name": "Grace Hopper"}
    missing = client.get("/users/bob")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No user 'bob'"}
    user_routes = [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/users")]
    assert {r.path for r in user_routes} == {"/users", "/users/{username}"}
    assert all(r.tags == ["users"] for r in user_routes)


def test_head_comes_free_with_get(client: TestClient) -> None:
    get = client.get("/items/1")
    head = client.head("/items/1")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == "application/json"


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.put("/items/1", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, HEAD"
    assert client.post("/users").headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/", "/items", "/items/99", "/items.csv", "/users/bob"])
def test_every_answer_has_the_process_time_header(client: TestClient, path: str) -> None:
    assert re.fullmatch(r"\d+\.\d{6}", client.get(path).headers["x-process-time"])


def test_under_uvicorn(tmp_path: Path) -> None:
    log_path = tmp_path / "uvicorn.log"
    with (
        UvicornServer.run("examples.app:app", log_path) as server,
        httpx.Client(base_url=server.url, timeout=10.0) as http,
    ):
        index = http.get("/")
        assert index.status_code == 200
        assert index.json()["items"] == f"{server.url}/items"  # url_for uses the Host

        created = http.post("/items", json={"name": "Saw", "price": 12})
        assert created.status_code == 201, server.output()
        assert created.json() == {"id": 3, "name": "Saw", "price": 12.0}

        redirect = http.get("/items/latest")
        assert redirect.status_code == 307
        assert redirect.headers["location"] == f"{server.url}/items/3"
        assert http.get(redirect.headers["location"]).json()["name"] == "Saw"

        assert http.get("/items/99").status_code == 404
        assert http.post("/items", content=b"{}").status_code == 422
        assert http.patch("/items/1").status_code == 405

        head = http.head("/items/1")
        assert (head.status_code, head.content) == (200, b"")
        assert "x-process-time" in head.headers

        with http.stream("GET", "/items.csv") as csv_response:
            assert csv_response.headers["transfer-encoding"] == "chunked"
            lines = csv_response.read().decode().splitlines()
        assert lines == ["id,name,price", "1,Hammer,9.5", "2,Screwdriver,4.25", "3,Saw,12.0"]
    assert server.stopped_gracefully(), server.output()
