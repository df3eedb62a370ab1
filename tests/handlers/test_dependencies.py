"""Dependency injection: Depends, yield dependencies, caching, overrides, Security scopes
(framework/dependencies.py, framework/solving.py, framework/routes.py)."""

import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import pytest

from framework import (
    App,
    BackgroundTasks,
    Depends,
    HTTPException,
    JSONResponse,
    Request,
    Response,
    Router,
    Security,
    StreamingResponse,
)
from framework.params import SecurityScopes
from framework.testclient import TestClient

Message = dict[str, Any]


def call_app(app: App, path: str, events: list[str]) -> list[Message]:
    """Call ``app`` directly for ``GET path``, recording each message it sends in ``events``
    (as ``sent start`` / ``sent body``) next to whatever the app records there itself."""
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


# -- kinds of dependencies ------------------------------------------------------------------------


def sync_value() -> str:
    return "sync"


async def async_value() -> str:
    return "async"


class Pagination:
    def __init__(self, skip: int = 0, limit: int = 10) -> None:
        self.skip = skip
        self.limit = limit


class Multiplier:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    def __call__(self, value: int = 1) -> int:
        return value * self.factor


class AsyncGreeter:
    async def __call__(self, name: str = "world") -> str:
        return f"hello {name}"


def test_function_async_function_class_and_callable_instances() -> None:
    app = App()
    triple = Multiplier(3)

    @app.get("/")
    async def index(
        a: Annotated[str, Depends(sync_value)],
        b: Annotated[str, Depends(async_value)],
        page: Annotated[Pagination, Depends(Pagination)],
        tripled: Annotated[int, Depends(triple)],
        greeting: Annotated[str, Depends(AsyncGreeter())],
    ) -> dict[str, Any]:
        return {
            "a": a,
            "b": b,
            "page": [page.skip, page.limit],
            "tripled": tripled,
            "greeting": greeting,
        }

    client = TestClient(app)
    assert client.get("/").json() == {
        "a": "sync",
        "b": "async",
        "page": [0, 10],
        "tripled": 3,
        "greeting": "hello world",
    }
    # The dependencies' own parameters come from the request.
    response = client.get("/", params={"skip": 20, "limit": 5, "value": 7, "name": "ann"})
    assert response.json() == {
        "a": "sync",
        "b": "async",
        "page": [20, 5],
        "tripled": 21,
        "greeting": "hello ann",
    }


def test_depends_without_argument_uses_the_annotated_class() -> None:
    app = App()

    @app.get("/annotated")
    async def annotated(page: Annotated[Pagination, Depends()]) -> list[int]:
        return [page.skip, page.limit]

    @app.get("/default")
    def default(page: Pagination = Depends()) -> list[int]:
        return [page.skip, page.limit]

    client = TestClient(app)
    assert client.get("/annotated?skip=3").json() == [3, 10]
    assert client.get("/default?limit=4").json() == [0, 4]


def test_depends_old_style_default_value() -> None:
    app = App()

    @app.get("/")
    async def index(value: str = Depends(async_value)) -> str:
        return value

    assert TestClient(app).get("/").json() == "async"


def test_sub_dependencies_to_any_depth_read_the_request() -> None:
    app = App()

    async def level3(q: int) -> int:
        return q

    def level2(v: Annotated[int, Depends(level3)]) -> int:
        return v * 10

    async def level1(v: Annotated[int, Depends(level2)], request: Request) -> str:
        return f"{request.url.path}:{v}"

    @app.get("/deep")
    async def deep(result: Annotated[str, Depends(level1)]) -> str:
        return result

    client = TestClient(app)
    assert client.get("/deep?q=4").json() == "/deep:40"
    # A parameter of the deepest dependency is validated like the handler's own.
    response = client.get("/deep?q=four")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]
    assert response.json()["detail"][0]["type"] == "int_parsing"


def test_dependency_parameters_are_validated_and_all_errors_reported() -> None:
    app = App()

    def needs_header(request: Request, page: int, size: int = 10) -> int:
        return page * size

    called: list[str] = []

    @app.get("/")
    async def index(
        total: Annotated[int, Depends(needs_header)], item: int
    ) -> dict[str, int]:  # pragma: no cover - not reached with bad input
        called.append("handler")
        return {"total": total, "item": item}

    client = TestClient(app)
    response = client.get("/?page=x")
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert ["query", "page"] in locs
    assert ["query", "item"] in locs
    assert called == []
    assert client.get("/?page=2&size=3&item=1").json() == {"total": 6, "item": 1}


def test_sync_dependencies_run_in_a_worker_thread() -> None:
    app = App()
    seen: dict[str, int] = {}

    def sync_dependency() -> int:
        seen["sync"] = threading.get_ident()
        return 1

    def sync_generator() -> Iterator[int]:
        seen["generator enter"] = threading.get_ident()
        yield 2
        seen["generator exit"] = threading.get_ident()

    async def async_dependency() -> int:
        seen["async"] = threading.get_ident()
        return 3

    @app.get("/")
    async def index(
        a: Annotated[int, Depends(sync_dependency)],
        b: Annotated[int, Depends(sync_generator)],
        c: Annotated[int, Depends(async_dependency)],
    ) -> int:
        seen["loop"] = threading.get_ident()
        return a + b + c

    assert TestClient(app).get("/").json() == 6
    loop = seen["loop"]
    assert seen["async"] == loop
    assert seen["sync"] != loop
    assert seen["generator enter"] != loop
    assert seen["generator exit"] != loop


# -- caching --------------------------------------------------------------------------------------


def test_one_call_per_request_shared_between_sub_dependencies() -> None:
    app = App()
    calls: list[str] = []

    def database() -> object:
        calls.append("db")
        return object()

    def users(db: Annotated[object, Depends(database)]) -> object:
        return db

    async def orders(db: Annotated[object, Depends(database)]) -> object:
        return db

    @app.get("/")
    async def index(
        u: Annotated[object, Depends(users)],
        o: Annotated[object, Depends(orders)],
        db: Annotated[object, Depends(database)],
    ) -> bool:
        return u is o is db

    client = TestClient(app)
    assert client.get("/").json() is True
    assert calls == ["db"]
    # The cache lives for one request.
    assert client.get("/").json() is True
    assert calls == ["db", "db"]


def test_use_cache_false_calls_again() -> None:
    app = App()
    counter = {"n": 0}

    def next_number() -> int:
        counter["n"] += 1
        return counter["n"]

    def via_sub(n: Annotated[int, Depends(next_number, use_cache=False)]) -> int:
        return n

    @app.get("/")
    async def index(
        a: Annotated[int, Depends(next_number)],
        b: Annotated[int, Depends(next_number, use_cache=False)],
        c: Annotated[int, Depends(via_sub)],
        d: Annotated[int, Depends(next_number)],
    ) -> list[int]:
        return [a, b, c, d]

    result = TestClient(app).get("/").json()
    assert counter["n"] == 3
    assert sorted(result[:3]) == [1, 2, 3]
    assert result[3] == result[0]  # the cached one is shared


def test_yield_dependency_cached_enters_once() -> None:
    app = App()
    events: list[str] = []

    async def session() -> AsyncIterator[str]:
        events.append("open")
        yield "session"
        events.append("close")

    def repo(s: Annotated[str, Depends(session)]) -> str:
        return s

    @app.get("/")
    async def index(
        r: Annotated[str, Depends(repo)], s: Annotated[str, Depends(session)]
    ) -> list[str]:
        return [r, s]

    assert TestClient(app).get("/").json() == ["session", "session"]
    assert events == ["open", "close"]


# -- yield dependencies ---------------------------------------------------------------------------


def make_yield_app(events: list[str]) -> App:
    app = App()

    async def outer() -> AsyncIterator[str]:
        events.append("outer enter")
        try:
            yield "outer"
        except Exception as exc:
            events.append(f"outer saw {type(exc).__name__}")
            raise
        finally:
            events.append("outer exit")

    def inner(o: Annotated[str, Depends(outer)]) -> Iterator[str]:
        events.append("inner enter")
        try:
            yield o + "+inner"
        except Exception as exc:
            events.append(f"inner saw {type(exc).__name__}")
            raise
        finally:
            events.append("inner exit")

    @app.get("/ok")
    async def ok(value: Annotated[str, Depends(inner)]) -> str:
        events.append("handler")
        return value

    @app.get("/http-error")
    async def http_error(value: Annotated[str, Depends(inner)]) -> str:
        events.append("handler")
        raise HTTPException(status_code=404, detail="nothing here")

    @app.get("/crash")
    def crash(value: Annotated[str, Depends(inner)]) -> str:
        events.append("handler")
        raise KeyError("boom")

    @app.get("/stream")
    async def stream(value: Annotated[str, Depends(inner)]) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            events.append("chunk 1")
            yield b"a"
            events.append("chunk 2")
            yield value.encode()

        return StreamingResponse(chunks())

    return app


def test_yield_dependencies_enter_in_order_and_exit_in_reverse() -> None:
    events: list[str] = []
    response = TestClient(make_yield_app(events)).get("/ok")
    assert response.json() == "outer+inner"
    assert events == [
        "outer enter",
        "inner enter",
        "handler",
        "inner exit",
        "outer exit",
    ]


def test_yield_teardown_runs_after_the_response_is_sent() -> None:
    events: list[str] = []
    sent = call_app(make_yield_app(events), "/ok", events)
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b'"outer+inner"'
    assert events == [
        "outer enter",
        "inner enter",
        "handler",
        "sent start",
        "sent body",
        "inner exit",
        "outer exit",
    ]


def test_yield_dependency_stays_open_while_a_response_streams() -> None:
    events: list[str] = []
    sent = call_app(make_yield_app(events), "/stream", events)
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"aouter+inner"
    assert events.index("chunk 2") < events.index("inner exit") < events.index("outer exit")
    assert events[-2:] == ["inner exit", "outer exit"]


def test_yield_dependencies_see_the_handlers_http_exception() -> None:
    events: list[str] = []
    response = TestClient(make_yield_app(events)).get("/http-error")
    assert response.status_code == 404
    assert response.json() == {"detail": "nothing here"}
    assert events == [
        "outer enter",
        "inner enter",
        "handler",
        "inner saw HTTPException",
        "inner exit",
        "outer saw HTTPException",
        "outer exit",
    ]


def test_yield_dependencies_see_other_exceptions_and_teardown_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[str] = []
    client = TestClient(make_yield_app(events), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="framework.error"):
        response = client.get("/crash")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert events == [
        "outer enter",
        "inner enter",
        "handler",
        "inner saw KeyError",
        "inner exit",
        "outer saw KeyError",
        "outer exit",
    ]
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)


def test_yield_dependency_exception_reaches_the_test_client() -> None:
    events: list[str] = []
    with pytest.raises(KeyError):
        TestClient(make_yield_app(events)).get("/crash")
    assert events[-1] == "outer exit"


def test_yield_dependency_can_turn_the_handlers_exception_into_an_http_error() -> None:
    app = App()

    def translate() -> Iterator[None]:
        try:
            yield
        except LookupError as exc:
            raise HTTPException(status_code=409, detail=f"conflict: {exc}") from exc

    @app.get("/")
    async def index(_: Annotated[None, Depends(translate)]) -> None:
        raise KeyError("row")

    response = TestClient(app).get("/")
    assert response.status_code == 409
    assert response.json() == {"detail": "conflict: 'row'"}


def test_yield_dependency_exception_answered_by_a_custom_handler() -> None:
    app = App()
    events: list[str] = []

    class Problem(Exception):
        pass

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> Response:
        events.append("handler answered")
        return JSONResponse({"problem": str(exc)}, status_code=400)

    async def watcher() -> AsyncIterator[None]:
        try:
            yield
        except Problem:
            events.append("dependency saw Problem")
            raise

    @app.get("/")
    async def index(_: Annotated[None, Depends(watcher)]) -> None:
        raise Problem("bad")

    response = TestClient(app).get("/")
    assert response.status_code == 400
    assert response.json() == {"problem": "bad"}
    assert events == ["dependency saw Problem", "handler answered"]


def test_yield_dependency_that_swallows_the_exception_is_a_server_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The handler produced no response and the dependency hid why: a 500, logged, rather
    # than a connection closed without an answer.
    app = App()

    swallowed: list[str] = []

    def swallow() -> Iterator[None]:
        try:
            yield
        except ValueError as exc:
            swallowed.append(str(exc))

    @app.get("/")
    def index(_: Annotated[None, Depends(swallow)]) -> None:
        raise ValueError("hidden")

    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="framework.error"):
        response = client.get("/")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert swallowed == ["hidden"]
    assert any("yield" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    with pytest.raises(RuntimeError, match="yield"):
        TestClient(app).get("/")


def test_yield_dependency_runs_setup_before_validation_errors_and_tears_down() -> None:
    app = App()
    events: list[str] = []

    async def resource() -> AsyncIterator[str]:
        events.append("enter")
        try:
            yield "r"
        except Exception as exc:
            events.append(f"saw {type(exc).__name__}")
            raise
        finally:
            events.append("exit")

    @app.get("/")
    async def index(r: Annotated[str, Depends(resource)], n: int) -> int:
        return n

    response = TestClient(app).get("/?n=x")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "n"]
    # What was opened is closed again when the request is refused, and sees why.
    assert events == ["enter", "saw RequestValidationError", "exit"]


def test_dependency_raising_http_exception_answers_with_its_status() -> None:
    app = App()
    events: list[str] = []

    def require_token() -> None:
        raise HTTPException(status_code=401, detail="no token", headers={"WWW-Authenticate": "X"})

    async def opened() -> AsyncIterator[None]:
        events.append("enter")
        try:
            yield
        finally:
            events.append("exit")

    @app.get("/", dependencies=[Depends(opened), Depends(require_token)])
    async def index() -> str:  # pragma: no cover - the dependency refuses first
        events.append("handler")
        return "secret"

    response = TestClient(app).get("/")
    assert response.status_code == 401
    assert response.json() == {"detail": "no token"}
    assert response.headers["www-authenticate"] == "X"
    assert events == ["enter", "exit"]


def test_yield_dependency_raising_before_yield() -> None:
    app = App()

    async def refuse() -> AsyncIterator[None]:
        raise HTTPException(status_code=403, detail="forbidden")
        yield  # pragma: no cover

    @app.get("/")
    async def index(_: Annotated[None, Depends(refuse)]) -> str:  # pragma: no cover
        return "no"

    response = TestClient(app).get("/")
    assert response.status_code == 403
    assert response.json() == {"detail": "forbidden"}


# -- route, router and app dependencies -----------------------------------------------------------


def recorder(events: list[str], name: str) -> Any:
    def record(request: Request) -> str:
        events.append(f"{name} {request.url.path}")
        return name

    return record


def test_route_router_and_app_dependencies_run_in_order() -> None:
    events: list[str] = []
    app = App(dependencies=[Depends(recorder(events, "app"))])
    router = Router(prefix="/r", dependencies=[Depends(recorder(events, "router"))])

    @router.get("/x", dependencies=[Depends(recorder(events, "route"))])
    async def x() -> str:
        events.append("handler")
        return "x"

    app.include_router(router, dependencies=[Depends(recorder(events, "include"))])

    @app.get("/plain")
    async def plain() -> str:
        events.append("handler")
        return "plain"

    client = TestClient(app)
    assert client.get("/r/x").json() == "x"
    assert events == ["app /r/x", "include /r/x", "router /r/x", "route /r/x", "handler"]
    events.clear()
    assert client.get("/plain").json() == "plain"
    assert events == ["app /plain", "handler"]


def test_route_dependency_can_refuse_and_read_parameters() -> None:
    app = App()

    def api_key(key: str) -> None:
        if key != "secret":
            raise HTTPException(status_code=403, detail="bad key")

    router = Router(dependencies=[Depends(api_key)])

    @router.get("/data")
    async def data() -> dict[str, int]:
        return {"value": 1}

    app.include_router(router)
    client = TestClient(app)
    assert client.get("/data?key=secret").json() == {"value": 1}
    assert client.get("/data?key=guess").status_code == 403
    missing = client.get("/data")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "key"]


def test_route_dependency_with_yield_wraps_the_request() -> None:
    events: list[str] = []

    async def transaction() -> AsyncIterator[None]:
        events.append("begin")
        yield
        events.append("commit")

    app = App(dependencies=[Depends(transaction)])

    @app.get("/")
    def index() -> str:
        events.append("handler")
        return "ok"

    assert TestClient(app).get("/").json() == "ok"
    assert events == ["begin", "handler", "commit"]


# -- injected objects in dependencies ---------------------------------------------------------------


def test_dependency_sets_headers_cookies_and_status_on_the_response() -> None:
    app = App()

    def tag(response: Response) -> None:
        response.headers["X-Tag"] = "tagged"
        response.set_cookie("seen", "1")

    def created(response: Response) -> None:
        response.status_code = 201

    @app.get("/", dependencies=[Depends(tag)])
    async def index() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/items", dependencies=[Depends(tag), Depends(created)])
    async def make() -> dict[str, bool]:
        return {"made": True}

    client = TestClient(app)
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert response.headers["x-tag"] == "tagged"
    assert response.cookies["seen"] == "1"
    made = client.post("/items")
    assert made.status_code == 201
    assert made.json() == {"made": True}
    assert made.headers["x-tag"] == "tagged"


# -- dependency overrides -------------------------------------------------------------------------


def real_settings() -> str:
    return "production"


def real_user(settings: Annotated[str, Depends(real_settings)]) -> str:
    return f"user@{settings}"


def test_dependency_overrides_apply_to_nested_dependencies_and_are_removed() -> None:
    app = App()

    @app.get("/")
    async def index(
        user: Annotated[str, Depends(real_user)],
        settings: Annotated[str, Depends(real_settings)],
    ) -> list[str]:
        return [user, settings]

    client = TestClient(app)
    assert client.get("/").json() == ["user@production", "production"]

    app.dependency_overrides[real_settings] = lambda: "testing"
    assert client.get("/").json() == ["user@testing", "testing"]

    app.dependency_overrides[real_user] = lambda: "fake user"
    assert client.get("/").json() == ["fake user", "testing"]

    del app.dependency_overrides[real_settings]
    assert client.get("/").json() == ["fake user", "production"]

    app.dependency_overrides.clear()
    assert client.get("/").json() == ["user@production", "production"]


def test_override_has_its_own_parameters_and_can_be_a_yield_dependency() -> None:
    app = App()
    events: list[str] = []

    @app.get("/")
    async def index(settings: Annotated[str, Depends(real_settings)]) -> str:
        return settings

    async def override(env: str = "staging") -> AsyncIterator[str]:
        events.append("enter")
        yield env
        events.append("exit")

    app.dependency_overrides[real_settings] = override
    client = TestClient(app)
    assert client.get("/").json() == "staging"
    assert client.get("/?env=qa").json() == "qa"
    assert events == ["enter", "exit", "enter", "exit"]


def test_overrides_apply_to_route_and_app_dependencies() -> None:
    def refuse() -> None:
        raise HTTPException(status_code=403)

    app = App(dependencies=[Depends(refuse)])

    @app.get("/")
    async def index() -> str:
        return "open"

    client = TestClient(app)
    assert client.get("/").status_code == 403
    app.dependency_overrides[refuse] = lambda: None
    assert client.get("/").json() == "open"


# -- Security scopes ------------------------------------------------------------------------------


def test_security_scopes_accumulate_through_the_chain() -> None:
    app = App()
    seen: list[tuple[list[str], str]] = []

    def token(security_scopes: SecurityScopes) -> str:
        seen.append((security_scopes.scopes, security_scopes.scope_str))
        return "token"

    def current_user(
        security_scopes: SecurityScopes,
        t: Annotated[str, Security(token, scopes=["me"])],
    ) -> str:
        seen.append((security_scopes.scopes, security_scopes.scope_str))
        return "alice"

    @app.get("/items")
    async def items(user: Annotated[str, Security(current_user, scopes=["items:read"])]) -> str:
        return user

    @app.get("/plain")
    async def plain(user: Annotated[str, Depends(current_user)]) -> str:
        return user

    client = TestClient(app)
    assert client.get("/items").json() == "alice"
    assert seen == [(["items:read", "me"], "items:read me"), (["items:read"], "items:read")]
    seen.clear()
    assert client.get("/plain").json() == "alice"
    assert seen == [(["me"], "me"), ([], "")]


def test_security_with_different_scopes_is_not_shared_from_the_cache() -> None:
    app = App()
    calls: list[list[str]] = []

    def check(security_scopes: SecurityScopes) -> str:
        calls.append(security_scopes.scopes)
        return security_scopes.scope_str

    @app.get("/")
    async def index(
        a: Annotated[str, Security(check, scopes=["a"])],
        b: Annotated[str, Security(check, scopes=["b"])],
        a_again: Annotated[str, Security(check, scopes=["a"])],
    ) -> list[str]:
        return [a, b, a_again]

    assert TestClient(app).get("/").json() == ["a", "b", "a"]
    assert calls == [["a"], ["b"]]


def test_security_scopes_on_route_dependencies() -> None:
    app = App()
    seen: list[str] = []

    def guard(security_scopes: SecurityScopes) -> None:
        seen.append(security_scopes.scope_str)

    @app.get("/admin", dependencies=[Security(guard, scopes=["admin", "write"])])
    async def admin() -> str:
        return "ok"

    assert TestClient(app).get("/admin").json() == "ok"
    assert seen == ["admin write"]


# -- dependencies and background tasks ------------------------------------------------------------


def test_yield_teardown_runs_after_background_tasks() -> None:
    # As in current FastAPI: the request's resources (a DB session) stay open for its tasks.
    app = App()
    events: list[str] = []

    async def session() -> AsyncIterator[str]:
        events.append("open")
        yield "db"
        events.append("close")

    @app.get("/")
    async def index(db: Annotated[str, Depends(session)], tasks: BackgroundTasks) -> str:
        tasks.add_task(events.append, f"task uses {db}")
        return db

    sent = call_app(app, "/", events)
    assert sent[0]["status"] == 200
    assert events == ["open", "sent start", "sent body", "task uses db", "close"]


# -- more shapes ----------------------------------------------------------------------------------


class SyncSession:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def __call__(self, q: int = 0) -> Iterator[int]:
        self.events.append("sync enter")
        yield q
        self.events.append("sync exit")


class AsyncSession:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    async def __call__(self, q: int = 0) -> AsyncIterator[int]:
        self.events.append("async enter")
        yield q + 1
        self.events.append("async exit")


def test_callable_instances_with_yield() -> None:
    app = App()
    events: list[str] = []

    @app.get("/")
    def index(
        a: Annotated[int, Depends(SyncSession(events))],
        b: Annotated[int, Depends(AsyncSession(events))],
    ) -> list[int]:
        return [a, b]

    assert TestClient(app).get("/?q=5").json() == [5, 6]
    assert events == ["sync enter", "async enter", "async exit", "sync exit"]


def test_route_dependency_and_parameter_share_the_cache() -> None:
    app = App()
    calls: list[int] = []

    def counted() -> int:
        calls.append(1)
        return len(calls)

    @app.get("/", dependencies=[Depends(counted)])
    async def index(value: Annotated[int, Depends(counted)]) -> int:
        return value

    assert TestClient(app).get("/").json() == 1
    assert calls == [1]


def test_override_of_a_security_dependency_keeps_the_scopes() -> None:
    app = App()

    def real(security_scopes: SecurityScopes) -> str:
        return "real " + security_scopes.scope_str

    def fake(security_scopes: SecurityScopes) -> str:
        return "fake " + security_scopes.scope_str

    @app.get("/")
    async def index(user: Annotated[str, Security(real, scopes=["read", "write"])]) -> str:
        return user

    client = TestClient(app)
    assert client.get("/").json() == "real read write"
    app.dependency_overrides[real] = fake
    assert client.get("/").json() == "fake read write"


def test_failing_teardown_after_the_response_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    def fails_on_close() -> Iterator[int]:
        yield 1
        raise RuntimeError("close failed")

    @app.get("/")
    def index(value: Annotated[int, Depends(fails_on_close)]) -> int:
        return value

    with caplog.at_level(logging.ERROR, logger="framework.error"):
        response = TestClient(app, raise_server_exceptions=False).get("/")
    # The answer was already sent; the failure is the server's to see, not the client's.
    assert response.status_code == 200
    assert response.json() == 1
    assert any(r.exc_info and str(r.exc_info[1]) == "close failed" for r in caplog.records)
