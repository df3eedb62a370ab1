"""A synchronous test client: httpx on the outside, the ASGI app called in-process inside.

```python
from framework.testclient import TestClient

client = TestClient(app)
assert client.get("/").json() == {"hello": "world"}

with TestClient(app) as client:   # runs lifespan startup and shutdown
    ...
```

Each request builds an ASGI scope and calls the app on an anyio blocking portal (an event loop in
a helper thread). ``raise_server_exceptions=True`` re-raises an exception from the app in the
test; with ``False`` the client sees the 500 answer a real client would.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Generator
from types import TracebackType
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.from_thread
import httpx
from anyio.from_thread import BlockingPortal

from framework.types import ASGIApp, Message

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class _AppTransport(httpx.BaseTransport):
    """An httpx transport that answers by calling the ASGI app."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scope = self.client._build_scope(request, "http")
        scope["method"] = request.method
        chunks = [bytes(chunk) for chunk in request.stream]  # type: ignore[union-attr]
        with self.client._portal() as portal:
            status, headers, body = portal.call(self.client._run_http, scope, chunks)
        return httpx.Response(
            status, headers=headers, stream=httpx.ByteStream(body), request=request
        )


class TestClient(httpx.Client):
    """Drive an ASGI app like a real client, synchronously, in the test's own thread.

    ``base_url`` sets scheme and host of the requests (``http://testserver``); redirects are
    followed as FastAPI's client does. ``root_path`` emulates a proxy prefix.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: str = "asyncio",
        backend_options: dict[str, Any] | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.backend = backend
        self.backend_options = backend_options or {}
        self.client_address = client
        self.app_state: dict[str, Any] = {}
        self._shared_portal: BlockingPortal | None = None
        self._exit_stack: contextlib.ExitStack | None = None
        merged_headers = {"user-agent": "testclient", **(headers or {})}
        super().__init__(
            base_url=base_url,
            headers=merged_headers,
            transport=_AppTransport(self),
            follow_redirects=follow_redirects,
            cookies=cookies,
        )

    # -- plumbing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _portal(self) -> Generator[BlockingPortal, None, None]:
        if self._shared_portal is not None:
            yield self._shared_portal
        else:
            with anyio.from_thread.start_blocking_portal(
                backend=self.backend, backend_options=self.backend_options
            ) as portal:
                yield portal

    def _build_scope(self, request: httpx.Request, kind: str) -> dict[str, Any]:
        url = request.url
        scheme = url.scheme
        port = url.port or _DEFAULT_PORTS.get(scheme, 80)
        raw_path, _, query = url.raw_path.partition(b"?")
        headers = [(k.lower(), v) for k, v in request.headers.raw]
        if not any(k == b"host" for k, _ in headers):
            host = url.host if url.port is None else f"{url.host}:{url.port}"
            headers.insert(0, (b"host", host.encode("latin-1")))
        path = unquote(raw_path.decode("ascii"))
        return {
            "type": kind,
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": scheme,
            "path": self.root_path + path,
            "raw_path": self.root_path.encode("ascii") + raw_path,
            "root_path": self.root_path,
            "query_string": query,
            "headers": headers,
            "client": self.client_address,
            "server": (url.host, port),
            "extensions": {"http.response.debug": {}},
            "state": self.app_state.copy(),
        }

    async def _run_http(
        self, scope: dict[str, Any], chunks: list[bytes]
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        response_done = anyio.Event()
        pending = list(chunks) or [b""]
        start: Message | None = None
        body: list[bytes] = []

        async def receive() -> Message:
            if pending:
                chunk = pending.pop(0)
                return {"type": "http.request", "body": chunk, "more_body": bool(pending)}
            await response_done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if start is not None:
                    raise RuntimeError("http.response.start sent twice")
                start = message
            elif message["type"] == "http.response.body":
                if start is None:
                    raise RuntimeError("http.response.body sent before http.response.start")
                if response_done.is_set():
                    raise RuntimeError("http.response.body sent after the response ended")
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    response_done.set()
            elif message["type"] == "http.response.pathsend":
                async with await anyio.open_file(message["path"], "rb") as file:
                    body.append(await file.read())
                response_done.set()

        try:
            await self.app(scope, receive, send)
        except BaseException:
            if self.raise_server_exceptions:
                raise
        finally:
            response_done.set()
        if start is None:
            if self.raise_server_exceptions:
                raise RuntimeError("The application returned without sending a response")
            return 500, [], b""
        headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", [])]
        return start["status"], headers, b"".join(body)

    # -- lifespan -------------------------------------------------------------------------------

    def __enter__(self) -> TestClient:
        with contextlib.ExitStack() as stack:
            self._shared_portal = portal = stack.enter_context(
                anyio.from_thread.start_blocking_portal(**self._portal_options())
            )

            @stack.callback
            def reset_portal() -> None:
                self._shared_portal = None

            to_app, from_client = portal.call(anyio.create_memory_object_stream[Message], math.inf)
            to_client, from_app = portal.call(anyio.create_memory_object_stream[Message], math.inf)
            scope = {
                "type": "lifespan",
                "asgi": {"version": "3.0", "spec_version": "2.0"},
                "state": self.app_state,
            }
            task = portal.start_task_soon(self.app, scope, from_client.receive, to_client.send)
            portal.call(to_app.send, {"type": "lifespan.startup"})
            message = portal.call(from_app.receive)
            if message["type"] == "lifespan.startup.failed":
                task.result()  # raises the startup exception
                raise RuntimeError(message.get("message", "Lifespan startup failed"))

            @stack.callback
            def shutdown() -> None:
                portal.call(to_app.send, {"type": "lifespan.shutdown"})
                reply = portal.call(from_app.receive)
                if reply["type"] == "lifespan.shutdown.failed":
                    task.result()
                task.result()

            self._exit_stack = stack.pop_all()
        super().__enter__()
        return self

    def _portal_options(self) -> dict[str, Any]:
        return {"backend": self.backend, "backend_options": self.backend_options}

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        super().__exit__(exc_type, exc_value, traceback)
        if self._exit_stack is not None:
            stack, self._exit_stack = self._exit_stack, None
            stack.close()
