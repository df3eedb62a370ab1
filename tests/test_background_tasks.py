"""Background tasks: ``BackgroundTasks`` parameters and ``Response(background=...)``
(framework/background.py, framework/routes.py)."""

import logging
import threading
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
import pytest

from framework import (
    App,
    BackgroundTask,
    BackgroundTasks,
    Depends,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from framework.testclient import TestClient

Message = dict[str, Any]


def call_app(app: App, path: str, events: list[Any]) -> list[Message]:
    """Call ``app`` for ``GET path``, recording the messages it sends in ``events`` (as
    ``sent start`` / ``sent body``) next to what the app records there itself."""
    sent: list[Message] = []
    requested = False
    done = anyio.Event()

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        events.append("sent start" if message["type"] == "http.response.start" else "sent body")
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }

    async def main() -> None:
        try:
            await app(scope, receive, send)
        finally:
            done.set()

    anyio.run(main)
    return sent


def test_tasks_run_after_the_response_in_order_with_their_arguments() -> None:
    app = App()
    events: list[Any] = []

    def sync_task(name: str, *, suffix: str = "") -> None:
        events.append(f"sync {name}{suffix}")

    async def async_task(name: str, count: int = 1) -> None:
        await anyio.sleep(0)
        events.append(f"async {name}x{count}")

    @app.get("/")
    async def index(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(sync_task, "one")
        tasks.add_task(async_task, "two", count=2)
        tasks.add_task(sync_task, "three", suffix="!")
        tasks.add_task(async_task, "four")
        events.append("handler")
        return {"queued": True}

    sent = call_app(app, "/", events)
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b'{"queued":true}'
    assert events == [
        "handler",
        "sent start",
        "sent body",
        "sync one",
        "async twox2",
        "sync three!",
        "async fourx1",
    ]


def test_tasks_through_the_test_client_and_a_sync_handler() -> None:
    app = App()
    done: list[str] = []

    @app.post("/send/{to}")
    def send_mail(to: str, tasks: BackgroundTasks) -> str:
        tasks.add_task(done.append, f"mail to {to}")
        return "queued"

    response = TestClient(app).post("/send/ann")
    assert response.json() == "queued"
    assert done == ["mail to ann"]


def test_sync_tasks_run_in_a_worker_thread() -> None:
    app = App()
    threads: dict[str, int] = {}

    def blocking() -> None:
        threads["sync task"] = threading.get_ident()

    async def non_blocking() -> None:
        threads["async task"] = threading.get_ident()

    @app.get("/")
    async def index(tasks: BackgroundTasks) -> None:
        threads["loop"] = threading.get_ident()
        tasks.add_task(blocking)
        tasks.add_task(non_blocking)

    TestClient(app).get("/")
    assert threads["async task"] == threads["loop"]
    assert threads["sync task"] != threads["loop"]


def test_failing_task_is_logged_and_later_tasks_and_requests_continue(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()
    events: list[str] = []

    def broken() -> None:
        raise RuntimeError("smtp down")

    async def broken_async() -> None:
        raise ValueError("queue full")

    @app.get("/")
    async def index(tasks: BackgroundTasks) -> str:
        tasks.add_task(events.append, "first")
        tasks.add_task(broken)
        tasks.add_task(events.append, "after sync failure")
        tasks.add_task(broken_async)
        tasks.add_task(events.append, "after async failure")
        return "ok"

    client = TestClient(app)  # raises the app's exceptions: none may reach it
    with caplog.at_level(logging.ERROR):
        first = client.get("/")
    assert first.status_code == 200
    assert first.json() == "ok"
    assert events == ["first", "after sync failure", "after async failure"]
    failures = [r for r in caplog.records if r.exc_info]
    assert [type(r.exc_info[1]) for r in failures] == [RuntimeError, ValueError]  # type: ignore[index]
    assert "broken" in failures[0].getMessage()
    # The app keeps answering.
    events.clear()
    assert client.get("/").json() == "ok"
    assert events == ["first", "after sync failure", "after async failure"]


def test_dependency_and_handler_share_one_instance() -> None:
    app = App()
    events: list[str] = []
    instances: list[BackgroundTasks] = []

    def audit(tasks: BackgroundTasks, user: str = "anon") -> str:
        instances.append(tasks)
        tasks.add_task(events.append, f"audit {user}")
        return user

    async def session(tasks: BackgroundTasks) -> AsyncIterator[str]:
        instances.append(tasks)
        tasks.add_task(events.append, "flush session")
        yield "session"

    @app.get("/")
    async def index(
        user: Annotated[str, Depends(audit)],
        db: Annotated[str, Depends(session)],
        tasks: BackgroundTasks,
    ) -> str:
        instances.append(tasks)
        tasks.add_task(events.append, f"notify {user}")
        return user

    assert TestClient(app).get("/?user=ann").json() == "ann"
    assert events == ["audit ann", "flush session", "notify ann"]
    assert len(instances) == 3
    assert instances[0] is instances[1] is instances[2]


def test_each_request_gets_its_own_tasks() -> None:
    app = App()
    events: list[str] = []

    @app.get("/{n}")
    async def index(n: int, tasks: BackgroundTasks) -> int:
        tasks.add_task(events.append, f"task {n}")
        return len(tasks.tasks)

    client = TestClient(app)
    assert client.get("/1").json() == 1
    assert client.get("/2").json() == 1
    assert events == ["task 1", "task 2"]


def test_tasks_with_a_returned_response() -> None:
    app = App()
    events: list[Any] = []

    @app.get("/plain")
    async def plain(tasks: BackgroundTasks) -> Response:
        tasks.add_task(events.append, "injected")
        return PlainTextResponse("text")

    @app.get("/both")
    async def both(tasks: BackgroundTasks) -> Response:
        tasks.add_task(events.append, "injected")
        return JSONResponse({"a": 1}, background=BackgroundTask(events.append, "own"))

    @app.get("/same")
    async def same(tasks: BackgroundTasks) -> Response:
        tasks.add_task(events.append, "once")
        return Response("x", background=tasks)

    @app.get("/own-failing")
    async def own_failing(tasks: BackgroundTasks) -> Response:
        tasks.add_task(events.append, "injected")

        def fail() -> None:
            raise RuntimeError("own task failed")

        return Response("x", background=BackgroundTasks([BackgroundTask(fail)]))

    assert call_app(app, "/plain", events)[1]["body"] == b"text"
    assert events == ["sent start", "sent body", "injected"]
    events.clear()
    # Tasks added while handling are not dropped because the response has its own.
    call_app(app, "/both", events)
    assert events == ["sent start", "sent body", "injected", "own"]
    events.clear()
    # The same instance given back as the response's background runs once.
    call_app(app, "/same", events)
    assert events == ["sent start", "sent body", "once"]
    events.clear()
    response = TestClient(app).get("/own-failing")
    assert response.content == b"x"
    assert events == ["injected"]


def test_response_background_without_injected_tasks() -> None:
    app = App()
    events: list[Any] = []

    async def cleanup(path: str) -> None:
        events.append(f"removed {path}")

    @app.get("/download")
    async def download() -> Response:
        return PlainTextResponse("data", background=BackgroundTask(cleanup, "/tmp/export.csv"))

    @app.get("/many")
    async def many() -> Response:
        tasks = BackgroundTasks()
        tasks.add_task(events.append, "a")
        tasks.add_task(cleanup, path="b")
        return Response("ok", background=tasks)

    call_app(app, "/download", events)
    assert events == ["sent start", "sent body", "removed /tmp/export.csv"]
    events.clear()
    assert TestClient(app).get("/many").text == "ok"
    assert events == ["a", "removed b"]


def test_tasks_run_after_a_streamed_body() -> None:
    app = App()
    events: list[Any] = []

    @app.get("/")
    async def index(tasks: BackgroundTasks) -> StreamingResponse:
        tasks.add_task(events.append, "task")

        async def chunks() -> AsyncIterator[bytes]:
            for part in (b"a", b"b"):
                events.append(f"chunk {part.decode()}")
                yield part

        return StreamingResponse(chunks())

    sent = call_app(app, "/", events)
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"ab"
    assert events[-1] == "task"
    assert events.index("chunk b") < events.index("task")


def test_tasks_with_a_status_code_set_through_the_response_parameter() -> None:
    app = App()
    events: list[str] = []

    @app.post("/jobs", status_code=202)
    async def start(tasks: BackgroundTasks, response: Response) -> dict[str, str]:
        response.headers["Location"] = "/jobs/1"
        tasks.add_task(events.append, "job 1")
        return {"id": "1"}

    @app.delete("/jobs/{job}", status_code=204)
    async def remove(job: str, tasks: BackgroundTasks) -> None:
        tasks.add_task(events.append, f"delete {job}")

    client = TestClient(app)
    started = client.post("/jobs")
    assert started.status_code == 202
    assert started.json() == {"id": "1"}
    assert started.headers["location"] == "/jobs/1"
    removed = client.delete("/jobs/7")
    assert removed.status_code == 204
    assert removed.content == b""
    assert events == ["job 1", "delete 7"]


def test_no_tasks_when_the_handler_fails() -> None:
    app = App()
    events: list[str] = []

    @app.get("/")
    async def index(tasks: BackgroundTasks, fail: bool = False) -> str:
        tasks.add_task(events.append, "task")
        if fail:
            raise RuntimeError("handler failed")
        return "ok"

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/?fail=true").status_code == 500
    assert events == []
    assert client.get("/").json() == "ok"
    assert events == ["task"]
