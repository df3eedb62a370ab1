"""Lifespan: open a resource when the server starts, close it when it stops.

``lifespan`` opens a small notes database (SQLite in memory) before the server takes requests and
yields ``{"db": db}``: that mapping is the lifespan state, and every request reads it as
``request.state.db``. When the server shuts down (Ctrl-C, SIGTERM) the code after ``yield`` closes
the database. No globals: whatever the app needs lives in the state.

Run it::

    uvicorn examples.lifespan:app
    curl -X POST -d '{"text": "buy milk"}' http://127.0.0.1:8000/notes
    curl http://127.0.0.1:8000/notes
"""

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from framework import App, HTTPException, Request


class NotesDatabase:
    """Notes in an SQLite database in memory: the kind of resource an app opens once."""

    def __init__(self) -> None:
        # Sync handlers run in worker threads, so the connection may be used from any thread.
        self.connection = sqlite3.connect(":memory:", check_same_thread=False)
        self.connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        self.closed = False

    def add(self, text: str) -> dict[str, Any]:
        cursor = self.connection.execute("INSERT INTO notes (text) VALUES (?)", (text,))
        return {"id": cursor.lastrowid, "text": text}

    def get(self, note_id: int) -> dict[str, Any] | None:
        row = self.connection.execute("SELECT id, text FROM notes WHERE id = ?", (note_id,))
        found = row.fetchone()
        return None if found is None else {"id": found[0], "text": found[1]}

    def all(self) -> list[dict[str, Any]]:
        rows = self.connection.execute("SELECT id, text FROM notes ORDER BY id")
        return [{"id": note_id, "text": text} for note_id, text in rows]

    def close(self) -> None:
        self.connection.close()
        self.closed = True


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
    db = NotesDatabase()  # startup: runs before the first request
    try:
        yield {"db": db}  # the lifespan state: request.state.db in every handler
    finally:
        db.close()  # shutdown


app = App(title="Notes", lifespan=lifespan)


@app.get("/notes")
async def list_notes(request: Request) -> list[dict[str, Any]]:
    return request.state.db.all()


@app.post("/notes", status_code=201)
async def add_note(request: Request) -> dict[str, Any]:
    data = await request.json()  # a body that is not JSON is answered with 400
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str) or not text:
        raise HTTPException(422, detail='Send a JSON object with a non-empty "text"')
    return request.state.db.add(text)


@app.get("/notes/{note_id:int}")
async def get_note(note_id: int, request: Request) -> dict[str, Any]:
    note = request.state.db.get(note_id)
    if note is None:
        raise HTTPException(404, detail=f"Note {note_id} not found")
    return note
