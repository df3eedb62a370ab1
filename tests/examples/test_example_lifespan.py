"""examples/lifespan.py: a database opened at startup, read through request.state, closed at
shutdown."""

import sqlite3

import pytest

from examples.lifespan import NotesDatabase, app
from framework.testclient import TestClient


def test_database_is_open_while_serving_and_closed_after_shutdown() -> None:
    with TestClient(app) as client:
        db = client.app_state["db"]
        assert isinstance(db, NotesDatabase)
        assert db.closed is False
        assert client.post("/notes", json={"text": "buy milk"}).status_code == 201
        assert db.all() == [{"id": 1, "text": "buy milk"}]  # handlers used this very object
    assert db.closed is True
    with pytest.raises(sqlite3.ProgrammingError):
        db.all()  # the connection is really closed


def test_notes_round_trip() -> None:
    with TestClient(app) as client:
        assert client.get("/notes").json() == []
        created = client.post("/notes", json={"text": "buy milk"})
        assert created.status_code == 201
        assert created.json() == {"id": 1, "text": "buy milk"}
        client.post("/notes", json={"text": "call Ada"})
        assert client.get("/notes/2").json() == {"id": 2, "text": "call Ada"}
        assert client.get("/notes").json() == [
            {"id": 1, "text": "buy milk"},
            {"id": 2, "text": "call Ada"},
        ]


def test_each_startup_opens_a_fresh_database() -> None:
    with TestClient(app) as client:
        client.post("/notes", json={"text": "old"})
        first = client.app_state["db"]
    with TestClient(app) as client:
        assert client.app_state["db"] is not first
        assert client.get("/notes").json() == []


def test_missing_note_is_404() -> None:
    with TestClient(app) as client:
        response = client.get("/notes/7")
        assert response.status_code == 404
        assert response.json() == {"detail": "Note 7 not found"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b'["a list"]', 422),
        (b'{"text": ""}', 422),
        (b'{"text": 5}', 422),
        (b"{}", 422),
    ],
)
def test_bad_bodies_are_refused(body: bytes, status: int) -> None:
    with TestClient(app) as client:
        response = client.post("/notes", content=body)
        assert response.status_code == status
        assert "detail" in response.json()
        assert client.get("/notes").json() == []  # nothing was stored, the app still serves
