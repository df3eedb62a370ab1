"""Lifespan: the context manager, startup/shutdown hooks, lifespan state and ASGI messages
(App lifespan handling in framework/app.py)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from framework import App, Request, State
from framework.testclient import TestClient

Message = dict[str, Any]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def run_lifespan(
    app: Any, *, with_state: bool = True
) -> tuple[list[Message], BaseException | None, dict[str, Any]]:
    """Drive one lifespan conversation as a server does: startup, then shutdown if it started."""
    scope: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
    if with_state:
        scope["state"] = {}
    sent: list[Message] = []
    incoming = [{"type": "lifespan.startup"}]

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        return {"type": "lifespan.shutdown"}

    async def send(message: Message) -> None:
        sent.append(message)

    raised: BaseException | None = None
    try:
        await app(scope, receive, send)
    except Exception as exc:
        raised = exc
    return sent, raised, scope.get("state", {})


# -- context manager and state --------------------------------------------------------------------


def test_startup_before_requests_and_shutdown_after() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = App(lifespan=lifespan)

    @app.get("/")
    async def index() -> list[str]:
        events.append("request")
        return list(events)

    with TestClient(app) as client:
        assert events == ["startup"]
        assert client.get("/").json() == ["startup", "request"]
        assert events == ["startup", "request"]
    assert events == ["startup", "request", "shutdown"]


def test_lifespan_receives_the_app() -> None:
    received: list[Any] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        received.append(app)
        yield

    app = App(lifespan=lifespan)
    with TestClient(app):
        pass
    assert received == [app]


def test_shutdown_runs_when_a_request_failed() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        events.append("startup")
        try:
            yield
        finally:
            events.append("shutdown")

    app = App(lifespan=lifespan)

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("request failed")

    with pytest.raises(RuntimeError, match="request failed"), TestClient(app) as client:
        client.get("/crash")
    assert events == ["startup", "shutdown"]

    events.clear()
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/crash").status_code == 500
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


def test_yielded_mapping_becomes_request_state() -> None:
    pool = {"connections": 3}

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        yield {"pool": pool, "name": "main"}

    app = App(lifespan=lifespan)

    @app.get("/state")
    async def state(request: Request) -> dict[str, Any]:
        return {"pool_is_shared": request.state.pool is pool, "name": request.state.name}

    with TestClient(app) as client:
        assert client.get("/state").json() == {"pool_is_shared": True, "name": "main"}


def test_each_request_gets_a_copy_of_the_state() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        yield {"counter": 0, "shared": []}

    app = App(lifespan=lifespan)

    @app.post("/change")
    async def change(request: Request) -> dict[str, Any]:
        request.state.counter += 1
        request.state.added_here = True
        request.state.shared.append("x")  # the objects themselves are shared
        return {"counter": request.state.counter}

    @app.get("/read")
    async def read(request: Request) -> dict[str, Any]:
        return {
            "counter": request.state.counter,
            "added_here": "added_here" in request.state,
            "shared": request.state.shared,
        }

    with TestClient(app) as client:
        assert client.post("/change").json() == {"counter": 1}
        assert client.post("/change").json() == {"counter": 1}
        assert client.get("/read").json() == {
            "counter": 0,
            "added_here": False,
            "shared": ["x", "x"],
        }


def test_plain_async_generator_is_accepted() -> None:
    events: list[str] = []

    async def lifespan(app: App) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"source": "generator"}
        events.append("shutdown")

    app = App(lifespan=lifespan)

    @app.get("/")
    async def index(request: Request) -> str:
        return str(request.state.source)

    with TestClient(app) as client:
        assert client.get("/").json() == "generator"
    assert events == ["startup", "shutdown"]


def test_no_lifespan_and_no_state() -> None:
    app = App()

    @app.get("/")
    async def index(request: Request) -> bool:
        return "anything" in request.state

    with TestClient(app) as client:
        assert client.get("/").json() is False


# -- hooks ----------------------------------------------------------------------------------------


def test_on_startup_and_on_shutdown_order_with_lifespan() -> None:
    events: list[str] = []
    threads: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        threads["loop"] = threading.get_ident()
        events.append("lifespan enter")
        yield
        events.append("lifespan exit")

    def sync_start() -> None:
        threads["sync"] = threading.get_ident()
        events.append("sync startup")

    async def async_start() -> None:
        threads["async"] = threading.get_ident()
        events.append("async startup")

    def sync_stop() -> None:
        events.append("sync shutdown")

    async def async_stop() -> None:
        events.append("async shutdown")

    app = App(
        lifespan=lifespan,
        on_startup=[sync_start, async_start],
        on_shutdown=[async_stop, sync_stop],
    )
    with TestClient(app):
        assert events == ["sync startup", "async startup", "lifespan enter"]
    assert events == [
        "sync startup",
        "async startup",
        "lifespan enter",
        "lifespan exit",
        "async shutdown",
        "sync shutdown",
    ]
    assert threads["async"] == threads["loop"]
    assert threads["sync"] != threads["loop"]


def test_hooks_without_lifespan() -> None:
    events: list[str] = []
    app = App(on_startup=[lambda: events.append("up")], on_shutdown=[lambda: events.append("down")])
    with TestClient(app):
        assert events == ["up"]
    assert events == ["up", "down"]


def test_client_without_with_runs_no_lifespan() -> None:
    events: list[str] = []
    app = App(on_startup=[lambda: events.append("up")])

    @app.get("/")
    async def index() -> str:
        return "ok"

    assert TestClient(app).get("/").json() == "ok"
    assert events == []


# -- failures ------------------------------------------------------------------------------------


def test_startup_exception_raised_by_test_client() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        raise ConnectionError("database unreachable")
        yield

    app = App(lifespan=lifespan)

    @app.get("/")
    async def index() -> None:
        events.append("request")

    with pytest.raises(ConnectionError, match="database unreachable"), TestClient(app) as client:
        client.get("/")
    assert events == []


def test_failed_startup_does_not_run_shutdown_hooks() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        events.append("lifespan enter")
        raise ConnectionError("database unreachable")
        yield

    app = App(
        lifespan=lifespan,
        on_startup=[lambda: events.append("startup hook")],
        on_shutdown=[lambda: events.append("shutdown hook")],
    )
    with pytest.raises(ConnectionError), TestClient(app):
        pass
    assert events == ["startup hook", "lifespan enter"]


def test_startup_hook_exception_raised_by_test_client() -> None:
    def failing() -> None:
        raise ValueError("bad config")

    with pytest.raises(ValueError, match="bad config"), TestClient(App(on_startup=[failing])):
        pass


def test_shutdown_exception_raised_by_test_client() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        yield
        raise OSError("flush failed")

    app = App(lifespan=lifespan)
    client = TestClient(app)
    with pytest.raises(OSError, match="flush failed"), client:
        pass


@pytest.mark.anyio
async def test_asgi_startup_complete_and_shutdown_complete() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, int]]:
        yield {"answer": 42}

    sent, raised, state = await run_lifespan(App(lifespan=lifespan))
    assert raised is None
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert state == {"answer": 42}


@pytest.mark.anyio
async def test_asgi_startup_failed_carries_the_message() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        raise RuntimeError("cannot open pool")
        yield

    sent, raised, _ = await run_lifespan(App(lifespan=lifespan))
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]
    assert "RuntimeError: cannot open pool" in sent[0]["message"]
    assert isinstance(raised, RuntimeError)


@pytest.mark.anyio
async def test_asgi_shutdown_failed_carries_the_message() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        yield
        raise RuntimeError("cannot close pool")

    sent, raised, _ = await run_lifespan(App(lifespan=lifespan))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.failed"]
    assert "RuntimeError: cannot close pool" in sent[1]["message"]
    assert isinstance(raised, RuntimeError)


@pytest.mark.anyio
async def test_asgi_shutdown_hook_failure() -> None:
    def failing() -> None:
        raise ValueError("hook failed")

    sent, _, _ = await run_lifespan(App(on_shutdown=[failing]))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.failed"]
    assert "ValueError: hook failed" in sent[1]["message"]


@pytest.mark.anyio
async def test_yielding_state_without_server_support_fails_startup() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, int]]:
        yield {"x": 1}

    sent, raised, _ = await run_lifespan(App(lifespan=lifespan), with_state=False)
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]
    assert "does not support lifespan state" in sent[0]["message"]
    assert isinstance(raised, RuntimeError)
    assert "does not support lifespan state" in str(raised)


@pytest.mark.anyio
async def test_no_state_yielded_works_without_server_support() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        yield

    sent, raised, _ = await run_lifespan(App(lifespan=lifespan), with_state=False)
    assert raised is None
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# -- app.state ------------------------------------------------------------------------------------


def test_app_state_namespace() -> None:
    app = App()
    assert isinstance(app.state, State)
    app.state.db = "database"
    app.state.counter = 0

    @app.post("/bump")
    async def bump(request: Request) -> dict[str, Any]:
        request.app.state.counter += 1
        return {"db": request.app.state.db, "counter": request.app.state.counter}

    client = TestClient(app)
    assert client.post("/bump").json() == {"db": "database", "counter": 1}
    assert client.post("/bump").json() == {"db": "database", "counter": 2}
    assert app.state.counter == 2
    assert "db" in app.state
    del app.state.db
    assert "db" not in app.state
    with pytest.raises(AttributeError, match="missing"):
        _ = app.state.missing
    with pytest.raises(AttributeError):
        del app.state.missing


def test_app_state_set_in_lifespan_is_visible_to_requests() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        app.state.ready = True
        yield
        app.state.ready = False

    app = App(lifespan=lifespan)

    @app.get("/ready")
    async def ready(request: Request) -> bool:
        return bool(request.app.state.ready)

    with TestClient(app) as client:
        assert client.get("/ready").json() is True
    assert app.state.ready is False
