"""examples/todo.py: a CRUD API over SQLite with models, query filters, 404s, a yield dependency
opening one connection per request, and an audit log written by background tasks."""

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from example_server import UvicornServer

import examples.todo
from examples.todo import DATABASE_ENV, app
from framework.testclient import TestClient


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    with TestClient(app) as test_client:  # runs the lifespan: a fresh database each test
        yield test_client


def add(client: TestClient, title: str, done: bool = False) -> dict[str, Any]:
    response = client.post("/todos", json={"title": title, "done": done})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def audit(client: TestClient, **params: Any) -> list[tuple[str, int, str]]:
    """The audit log as (action, todo_id, detail) triples."""
    response = client.get("/audit", params=params)
    assert response.status_code == 200
    return [(entry["action"], entry["todo_id"], entry["detail"]) for entry in response.json()]


# -- create and read ------------------------------------------------------------------------------


def test_create_then_read(client: TestClient) -> None:
    response = client.post("/todos", json={"title": "Buy milk"})
    assert response.status_code == 201
    assert response.json() == {"id": 1, "title": "Buy milk", "done": False}
    assert add(client, "Call Ada", done=True) == {"id": 2, "title": "Call Ada", "done": True}

    assert client.get("/todos/1").json() == {"id": 1, "title": "Buy milk", "done": False}
    assert client.get("/todos").json() == [
        {"id": 1, "title": "Buy milk", "done": False},
        {"id": 2, "title": "Call Ada", "done": True},
    ]


def test_unknown_fields_are_ignored_and_not_returned(client: TestClient) -> None:
    response = client.post("/todos", json={"title": "Walk", "owner": "me", "id": 99})
    assert response.status_code == 201
    assert response.json() == {"id": 1, "title": "Walk", "done": False}


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        ({}, ["body", "title"], "missing"),
        ({"title": ""}, ["body", "title"], "string_too_short"),
        ({"title": "x" * 201}, ["body", "title"], "string_too_long"),
        ({"title": 5}, ["body", "title"], "string_type"),
        ({"title": "ok", "done": "perhaps"}, ["body", "done"], "bool_parsing"),
    ],
)
def test_invalid_new_todos_are_422(
    client: TestClient, body: Any, loc: list[str], error_type: str
) -> None:
    response = client.post("/todos", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (loc, error_type)
    assert client.get("/todos").json() == []
    assert audit(client) == []  # a refused request records nothing


def test_body_that_is_not_a_json_object_is_422(client: TestClient) -> None:
    for body in (b"{not json", b'["a list"]', b'"text"'):
        response = client.post("/todos", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][0] == "body"
    missing = client.post("/todos")
    assert missing.status_code == 422
    assert missing.json() == {
        "detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    }
    assert client.get("/todos").json() == []


def test_missing_todo_is_404(client: TestClient) -> None:
    response = client.get("/todos/7")
    assert response.status_code == 404
    assert response.json() == {"detail": "Todo 7 not found"}
    assert client.get("/todos/seven").status_code == 404  # not an int: no route matches


# -- filters --------------------------------------------------------------------------------------


@pytest.fixture
def three(client: TestClient) -> TestClient:
    add(client, "Buy milk")
    add(client, "Call Ada", done=True)
    add(client, "buy stamps")
    return client


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("", [1, 2, 3]),
        ("?done=true", [2]),
        ("?done=false", [1, 3]),
        ("?done=0", [1, 3]),
        ("?q=BUY", [1, 3]),  # case-insensitive substring
        ("?q=milk", [1]),
        ("?q=%25", []),  # "%" is text here, not a LIKE wildcard
        ("?q=buy&done=true", []),
        ("?q=", [1, 2, 3]),
        ("?limit=2", [1, 2]),
        ("?limit=2&offset=2", [3]),
        ("?offset=5", []),
        ("?done=false&limit=1&offset=1", [3]),
    ],
)
def test_list_filters(three: TestClient, query: str, ids: list[int]) -> None:
    response = three.get("/todos" + query)
    assert response.status_code == 200
    assert [todo["id"] for todo in response.json()] == ids


@pytest.mark.parametrize(
    ("query", "name", "error_type"),
    [
        ("?limit=0", "limit", "greater_than_equal"),
        ("?limit=101", "limit", "less_than_equal"),
        ("?limit=ten", "limit", "int_parsing"),
        ("?offset=-1", "offset", "greater_than_equal"),
        ("?done=maybe", "done", "bool_parsing"),
        ("?q=" + "x" * 101, "q", "string_too_long"),
    ],
)
def test_bad_filters_are_422(three: TestClient, query: str, name: str, error_type: str) -> None:
    response = three.get("/todos" + query)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["query", name], error_type)


def test_every_bad_filter_is_reported_at_once(three: TestClient) -> None:
    response = three.get("/todos?limit=0&offset=-1&done=maybe")
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert sorted(locs) == [["query", "done"], ["query", "limit"], ["query", "offset"]]


# -- update and delete ----------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(three: TestClient) -> None:
    response = three.patch("/todos/1", json={"done": True})
    assert response.status_code == 200
    assert response.json() == {"id": 1, "title": "Buy milk", "done": True}
    renamed = three.patch("/todos/1", json={"title": "Buy oat milk", "done": None})
    assert renamed.json() == {"id": 1, "title": "Buy oat milk", "done": True}  # null: unchanged
    assert three.patch("/todos/1", json={}).json() == renamed.json()
    assert three.get("/todos/1").json() == renamed.json()  # stored, not only returned
    assert three.get("/todos?done=true").json()[0]["title"] == "Buy oat milk"


def test_patch_errors(three: TestClient) -> None:
    missing = three.patch("/todos/9", json={"done": True})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Todo 9 not found"}
    invalid = three.patch("/todos/1", json={"title": "", "done": "sometimes"})
    assert invalid.status_code == 422
    assert [error["loc"] for error in invalid.json()["detail"]] == [
        ["body", "title"],
        ["body", "done"],
    ]
    assert three.get("/todos/1").json() == {"id": 1, "title": "Buy milk", "done": False}


def test_delete(three: TestClient) -> None:
    response = three.delete("/todos/2")
    assert response.status_code == 204
    assert response.content == b""
    assert three.get("/todos/2").status_code == 404
    assert [todo["id"] for todo in three.get("/todos").json()] == [1, 3]
    again = three.delete("/todos/2")
    assert again.status_code == 404
    assert again.json() == {"detail": "Todo 2 not found"}


def test_wrong_method_is_405(client: TestClient) -> None:
    response = client.put("/todos/1", json={"title": "x"})
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, HEAD, PATCH"


# -- the audit log (background tasks) -------------------------------------------------------------


def test_changes_are_audited_after_the_response(client: TestClient) -> None:
    add(client, "Buy milk")
    add(client, "Call Ada")
    client.patch("/todos/1", json={"done": True})
    client.patch("/todos/1", json={})  # no change, nothing to record
    client.delete("/todos/2")
    entries = client.get("/audit").json()
    assert [entry["id"] for entry in entries] == [1, 2, 3, 4]
    assert all(entry["at"].endswith("Z") for entry in entries)  # UTC timestamps
    assert audit(client) == [
        ("created", 1, "Buy milk"),
        ("created", 2, "Call Ada"),
        ("updated", 1, "done=True"),
        ("deleted", 2, "Call Ada"),
    ]
    assert audit(client, todo_id=2) == [("created", 2, "Call Ada"), ("deleted", 2, "Call Ada")]
    assert audit(client, todo_id=3) == []


def test_failed_changes_are_not_audited(client: TestClient) -> None:
    add(client, "Buy milk")
    assert client.patch("/todos/5", json={"done": True}).status_code == 404
    assert client.delete("/todos/5").status_code == 404
    assert client.patch("/todos/1", json={"done": "x"}).status_code == 422
    assert audit(client) == [("created", 1, "Buy milk")]


# -- one connection per request -------------------------------------------------------------------


def test_each_request_opens_its_own_connection_and_closes_it(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[sqlite3.Connection] = []
    connect = examples.todo.connect

    def recording_connect(path: str) -> sqlite3.Connection:
        connection = connect(path)
        opened.append(connection)
        return connection

    monkeypatch.setattr(examples.todo, "connect", recording_connect)
    add(client, "Buy milk")  # the request's connection and the audit task's
    assert client.get("/todos/1").status_code == 200
    assert client.get("/todos/2").status_code == 404  # closed after an error too
    assert len(opened) == 4
    assert len(set(map(id, opened))) == 4
    for connection in opened:
        with pytest.raises(sqlite3.ProgrammingError):
            connection.execute("SELECT 1")  # closed


def test_default_database_is_fresh_and_removed_at_shutdown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    with TestClient(app) as client:
        add(client, "Buy milk")
        path = Path(client.app_state["database"])
        assert path.is_file()
    assert not path.exists()  # the temporary directory went at shutdown
    with TestClient(app) as second:
        assert second.app_state["database"] != str(path)
        assert second.get("/todos").json() == []


def test_database_file_from_the_environment_persists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "todos.sqlite3"
    monkeypatch.setenv(DATABASE_ENV, str(database))
    with TestClient(app) as client:
        add(client, "Buy milk")
    assert database.is_file()
    with TestClient(app) as client:
        assert client.get("/todos").json() == [{"id": 1, "title": "Buy milk", "done": False}]
        assert audit(client) == [("created", 1, "Buy milk")]


# -- a real server --------------------------------------------------------------------------------


def wait_for_audit(http: httpx.Client, count: int) -> list[dict[str, Any]]:
    """The audit log once it has ``count`` entries: under a real server the background task
    finishes after the client has its response."""
    deadline = time.monotonic() + 10.0
    while True:
        entries: list[dict[str, Any]] = http.get("/audit").json()
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(0.02)


def test_served_by_uvicorn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "served.sqlite3"
    monkeypatch.setenv(DATABASE_ENV, str(database))  # inherited by the server process
    log_path = tmp_path / "uvicorn.log"
    with (
        UvicornServer.run("examples.todo:app", log_path) as server,
        httpx.Client(base_url=server.url, timeout=10.0) as http,
    ):
        created = http.post("/todos", json={"title": "Buy milk"})
        assert created.status_code == 201, server.output()
        assert created.json() == {"id": 1, "title": "Buy milk", "done": False}
        # The handler committed before answering: the next request sees the row.
        assert http.get("/todos/1").json() == created.json()
        assert http.patch("/todos/1", json={"done": True}).json()["done"] is True
        assert http.get("/todos", params={"done": "true", "q": "MILK"}).json() == [
            {"id": 1, "title": "Buy milk", "done": True}
        ]
        assert http.get("/todos", params={"limit": 0}).status_code == 422
        assert http.get("/todos/2").status_code == 404
        assert http.delete("/todos/1").status_code == 204
        entries = wait_for_audit(http, 3)
        assert [entry["action"] for entry in entries] == ["created", "updated", "deleted"]
    assert server.stopped_gracefully(), server.output()
    assert "Traceback" not in server.output()
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("SELECT count(*) FROM todos").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM audit").fetchone() == (3,)
    finally:
        connection.close()
