"""The test client: an ``httpx.Client`` whose transport calls the ASGI app in the test's process."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.from_thread
import httpx
from anyio.from_thread import BlockingPortal

from framework.testclient.websocket import WebSocketTestSession
from framework.types import ASGIApp, Message

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class _AppTransport(httpx.BaseTransport):
    """An httpx transport that answers by calling the ASGI app."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scope = {**self.client._build_scope(request, "http"), "method": request.method}
        chunks = [bytes(chunk) for chunk in request.stream]  # type: ignore[union-attr]
        with self.client._portal() as portal:
            start, body, debug = portal.call(self._call_app, scope, chunks)
        headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", [])]
        response = httpx.Response(
            start["status"], headers=headers, stream=httpx.ByteStream(body), request=request
        )
        if "template" in debug:
            # What a TemplateResponse rendered (http.response.debug), as Starlette's client has it.
            response.template = debug["template"]  # type: ignore[attr-defined]
            response.context = debug.get("context")  # type: ignore[attr-defined]
        return response

    async def _call_app(
        self, scope: dict[str, Any], chunks: list[bytes]
    ) -> tuple[Message, bytes, dict[str, Any]]:
        """Run the app on one request: its ``http.response.start``, body and debug info."""
        response_done = anyio.Event()
        debug: dict[str, Any] = {}
        pending = chunks or [b""]
        start: Message | None = None
        body: list[bytes] = []

        async def receive() -> Message:
            if pending:
                return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending)}
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
            elif message["type"] == "http.response.debug":
                debug.update(message.get("info") or {})
            elif message["type"] == "http.response.pathsend":
                async with await anyio.open_file(message["path"], "rb") as file:
                    body.append(await file.read())
                response_done.set()

        try:
            await self.client.app(scope, receive, send)
        except BaseException:
            if self.client.raise_server_exceptions:
                raise
        finally:
            response_done.set()
        if start is None:
            if self.client.raise_server_exceptions:
                raise RuntimeError("The application returned without sending a response")
            return {"status": 500}, b"", debug
        return start, b"".join(body), debug


class TestClient(httpx.Client):
    """Drive an ASGI app like a real client, synchronously (``with TestClient(app)`` runs its
    lifespan): ``base_url`` sets scheme and host, ``root_path`` emulates a proxy prefix."""

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
        super().__init__(
            base_url=base_url,
            headers={"user-agent": "testclient", **(headers or {})},
            transport=_AppTransport(self),
            follow_redirects=follow_redirects,
            cookies=cookies,
        )

    def _portal(self) -> contextlib.AbstractContextManager[BlockingPortal]:
        """The portal of the ``with`` block, else a new one (a new event loop) for one call."""
        if self._shared_portal is not None:
            return contextlib.nullcontext(self._shared_portal)
        return self._new_portal()

    def _new_portal(self) -> contextlib.AbstractContextManager[BlockingPortal]:
        return anyio.from_thread.start_blocking_portal(self.backend, self.backend_options)

    def _build_scope(self, request: httpx.Request, kind: str) -> dict[str, Any]:
        url = request.url
        port = url.port or _DEFAULT_PORTS.get(url.scheme, 80)
        raw_path, _, query = url.raw_path.partition(b"?")
        headers = [(k.lower(), v) for k, v in request.headers.raw]
        if not any(k == b"host" for k, _ in headers):
            host = url.host if url.port is None else f"{url.host}:{url.port}"
            headers.insert(0, (b"host", host.encode("latin-1")))
        return {
            "type": kind,
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": url.scheme,
            "path": self.root_path + unquote(raw_path.decode("ascii")),
            "raw_path": self.root_path.encode("ascii") + raw_path,
            "root_path": self.root_path,
            "query_string": query,
            "headers": headers,
            "client": self.client_address,
            "server": (url.host, port),
            "extensions": {"http.response.debug": {}},
            "state": self.app_state.copy(),
        }

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: httpx._types.HeaderTypes | None = None,
    ) -> WebSocketTestSession:
        """A WebSocket session with the app (its ``with`` block performs the handshake), offering
        ``subprotocols``, with ``headers`` and the client's cookies in the handshake request."""
        if url.startswith(("ws://", "wss://")):
            url = "http" + url[2:]  # httpx resolves cookies and ports for http(s) URLs
        handshake = httpx.Headers(
            {"connection": "upgrade", "upgrade": "websocket", "sec-websocket-version": "13"}
        )
        handshake["sec-websocket-key"] = "dGVzdGNsaWVudCBub25jZQ=="
        if subprotocols:
            handshake["sec-websocket-protocol"] = ", ".join(subprotocols)
        handshake.update(httpx.Headers(headers))
        scope = self._build_scope(self.build_request("GET", url, headers=handshake), "websocket")
        scope["scheme"] = "wss" if scope["scheme"] == "https" else "ws"
        scope["subprotocols"] = list(subprotocols or [])
        scope["extensions"] = {"websocket.http.response": {}}
        return WebSocketTestSession(self, scope)

    def __enter__(self) -> TestClient:
        with contextlib.ExitStack() as stack:
            self._shared_portal = portal = stack.enter_context(self._new_portal())
            stack.callback(setattr, self, "_shared_portal", None)
            to_app, from_client = portal.call(anyio.create_memory_object_stream[Message], math.inf)
            to_client, from_app = portal.call(anyio.create_memory_object_stream[Message], math.inf)
            for stream in (to_app, from_client, to_client, from_app):
                stack.callback(portal.call, stream.close)  # else a ResourceWarning when collected
            asgi = {"version": "3.0", "spec_version": "2.0"}
            scope = {"type": "lifespan", "asgi": asgi, "state": self.app_state}
            task = portal.start_task_soon(self.app, scope, from_client.receive, to_client.send)
            portal.call(to_app.send, {"type": "lifespan.startup"})
            message = portal.call(from_app.receive)
            if message["type"] == "lifespan.startup.failed":
                task.result()  # raises the startup exception
                raise RuntimeError(message.get("message", "Lifespan startup failed"))

            @stack.callback
            def shutdown() -> None:
                portal.call(to_app.send, {"type": "lifespan.shutdown"})
                portal.call(from_app.receive)  # complete or failed; result() raises any app error
                task.result()

            self._exit_stack = stack.pop_all()
        super().__enter__()
        return self

    def __exit__(self, exc_type: Any = None, exc_value: Any = None, traceback: Any = None) -> None:
        super().__exit__(exc_type, exc_value, traceback)
        if self._exit_stack is not None:
            stack, self._exit_stack = self._exit_stack, None
            stack.close()
