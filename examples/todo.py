"""A to-do list API over SQLite: models, query filters, 404s, a yield dependency, background tasks.

- The lifespan creates the database (``TODO_DATABASE`` names the file; by default a fresh one
  in a temporary directory, removed at shutdown) and puts its path in the lifespan state.
- ``get_db`` is a ``yield`` dependency: one ``sqlite3`` connection per request, closed after the
  response. Handlers commit their own changes before returning: the code after ``yield`` runs
  once the response has been sent, too late for a client that reads its write right away.
- ``TodoIn``, ``TodoUpdate`` and ``TodoOut`` validate what comes in (a 422 lists every problem)
  and shape what goes out. ``GET /todos`` takes filters from the query string, with limits.
- Every change is written to an audit log by a background task, after the response; ``GET
  /audit`` reads it.

The handlers and ``get_db`` are plain ``def`` functions because ``sqlite3`` blocks: they run in
worker threads, never on the event loop. A request may therefore open, use and close its
connection in different threads, hence ``check_same_thread=False``.

Run it::

    uvicorn examples.todo:app
    curl -X POST -d '{"title": "Buy milk"}' http://127.0.0.1:8000/todos
    curl 'http://127.0.0.1:8000/todos?done=false&q=milk&limit=10'
    curl -X PATCH -d '{"done": true}' http://127.0.0.1:8000/todos/1
    curl -X DELETE http://127.0.0.1:8000/todos/1
    curl http://127.0.0.1:8000/audit
"""

import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import BaseModel, Field

from framework import App, BackgroundTasks, Depends, HTTPException, Query, Request

DATABASE_ENV = "TODO_DATABASE"

SCHEMA = """
CREATE TABLE IF NOT EXISTS todos (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    todo_id INTEGER NOT NULL,
    detail TEXT NOT NULL
);
"""


# -- models ---------------------------------------------------------------------------------------


class TodoIn(BaseModel):
    """A new to-do, as the client sends it."""

    title: str = Field(min_length=1, max_length=200)
    done: bool = False


class TodoUpdate(BaseModel):
    """A partial update: fields left out (or null) keep their value."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    done: bool | None = None


class TodoOut(BaseModel):
    """A stored to-do, as the API returns it."""

    id: int
    title: str
    done: bool


class AuditEntry(BaseModel):
    """One change, as the background task recorded it."""

    id: int
    at: datetime
    action: str
    todo_id: int
    detail: str


# -- the database ---------------------------------------------------------------------------------


def connect(path: str) -> sqlite3.Connection:
    """A connection to the database at ``path``, rows readable by column name."""
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    return connection


def create_schema(path: str) -> None:
    connection = connect(path)
    try:
        connection.executescript(SCHEMA)
    finally:
        connection.close()


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="todo-") as directory:
        path = os.environ.get(DATABASE_ENV) or os.path.join(directory, "todo.sqlite3")
        create_schema(path)
        yield {"database": path}  # request.state.database in every request
    # Shutdown: the temporary directory (and a default database in it) is gone.


def get_db(request: Request) -> Iterator[sqlite3.Connection]:
    """One connection per request. Runs until ``yield`` before the handler, and the rest once
    the response has been sent (or the handler raised): uncommitted changes are rolled back."""
    connection = connect(request.state.database)
    try:
        yield connection
    finally:
        connection.rollback()  # a no-op after the handler's commit
        connection.close()


Database = Annotated[sqlite3.Connection, Depends(get_db)]


def write_audit_entry(path: str, action: str, todo_id: int, detail: str) -> None:
    """Append one entry to the audit log (run as a background task, with its own connection)."""
    connection = connect(path)
    try:
        with connection:  # commits
            connection.execute(
                "INSERT INTO audit (at, action, todo_id, detail) VALUES (?, ?, ?, ?)",
                (datetime.now(timezone.utc).isoformat(), action, todo_id, detail),
            )
    finally:
        connection.close()


class Audit:
    """Records changes after the response, as background tasks (a class used as a dependency:
    its ``__init__`` parameters are resolved like a function's)."""

    def __init__(self, request: Request, tasks: BackgroundTasks) -> None:
        self.path: str = request.state.database
        self.tasks = tasks

    def record(self, action: str, todo: TodoOut, detail: str) -> None:
        self.tasks.add_task(write_audit_entry, self.path, action, todo.id, detail)


def find_todo(db: sqlite3.Connection, todo_id: int) -> TodoOut:
    """The to-do ``todo_id``, or a 404."""
    row = db.execute("SELECT id, title, done FROM todos WHERE id = ?", (todo_id,)).fetchone()
    if row is None:
        raise HTTPException(404, detail=f"Todo {todo_id} not found")
    return TodoOut.model_validate(dict(row))


# -- routes ---------------------------------------------------------------------------------------

app = App(title="Todo", lifespan=lifespan)


@app.post("/todos", status_code=201)
def create_todo(todo: TodoIn, db: Database, audit: Annotated[Audit, Depends()]) -> TodoOut:
    cursor = db.execute("INSERT INTO todos (title, done) VALUES (?, ?)", (todo.title, todo.done))
    db.commit()
    created = TodoOut.model_validate({"id": cursor.lastrowid, **todo.model_dump()})
    audit.record("created", created, created.title)
    return created


@app.get("/todos")
def list_todos(
    db: Database,
    done: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Text in the title")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[TodoOut]:
    where: list[str] = []
    values: list[Any] = []
    if done is not None:
        where.append("done = ?")
        values.append(done)
    if q:
        where.append("instr(lower(title), ?) > 0")  # case-insensitive substring
        values.append(q.lower())
    sql = "SELECT id, title, done FROM todos"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = db.execute(sql + " ORDER BY id LIMIT ? OFFSET ?", (*values, limit, offset))
    return [TodoOut.model_validate(dict(row)) for row in rows]


@app.get("/todos/{todo_id:int}")
def read_todo(todo_id: int, db: Database) -> TodoOut:
    return find_todo(db, todo_id)


@app.patch("/todos/{todo_id:int}")
def update_todo(
    todo_id: int, update: TodoUpdate, db: Database, audit: Annotated[Audit, Depends()]
) -> TodoOut:
    todo = find_todo(db, todo_id)
    changes = update.model_dump(exclude_none=True)
    if not changes:
        return todo
    assignments = ", ".join(f"{column} = ?" for column in changes)  # names from the model
    db.execute(f"UPDATE todos SET {assignments} WHERE id = ?", (*changes.values(), todo_id))
    db.commit()
    updated = todo.model_copy(update=changes)
    audit.record("updated", updated, ", ".join(f"{k}={v!r}" for k, v in changes.items()))
    return updated


@app.delete("/todos/{todo_id:int}", status_code=204)
def delete_todo(todo_id: int, db: Database, audit: Annotated[Audit, Depends()]) -> None:
    todo = find_todo(db, todo_id)
    db.execute("DELETE FROM todos WHERE id = ?", (todo_id,))
    db.commit()
    audit.record("deleted", todo, todo.title)


@app.get("/audit")
def read_audit(db: Database, todo_id: int | None = None) -> list[AuditEntry]:
    if todo_id is None:
        rows = db.execute("SELECT * FROM audit ORDER BY id")
    else:
        rows = db.execute("SELECT * FROM audit WHERE todo_id = ? ORDER BY id", (todo_id,))
    return [AuditEntry.model_validate(dict(row)) for row in rows]
