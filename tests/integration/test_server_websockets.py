"""WebSockets through real servers: the chat example (``wsapp:app``) under uvicorn, hypercorn
(asyncio) and hypercorn (trio), driven by the ``websockets`` client library on asyncio.

Every test uses rooms of its own and ends by checking that the server's room registry
(``GET /stats``) is empty again once its clients are gone. Every wait is bounded, so a server
that stops answering fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .servers import HOST, SERVER_KINDS, ServerProcess

T = TypeVar("T")

RECEIVE_TIMEOUT = 10.0
SCENARIO_TIMEOUT = 90.0
EMPTY_ROOMS = {"rooms": {}, "members": 0}
MIB = 1024 * 1024


@pytest.fixture(scope="module", params=SERVER_KINDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """The chat app under each server kind (named ``server`` so the conftest's log-on-failure
    hook and ``client`` fixture use it)."""
    kind: str = request.param
    log_path: Path = tmp_path_factory.mktemp(f"ws-{kind}") / "server.log"
    with ServerProcess.start(kind, "wsapp:app", log_path=log_path, ready_path="/stats") as process:
        yield process


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    """Run an async scenario on a fresh asyncio loop, bounded by :data:`SCENARIO_TIMEOUT`."""

    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), SCENARIO_TIMEOUT)

    return asyncio.run(bounded())


def new_room() -> str:
    return f"room-{uuid.uuid4().hex[:10]}"


def ws_url(server: ServerProcess, path: str) -> str:
    return f"ws://{HOST}:{server.port}{path}"


def open_ws(server: ServerProcess, path: str, **options: Any) -> Any:
    """``websockets`` client connection to ``path`` (no proxy, bounded handshake and close)."""
    options.setdefault("compression", None)
    return connect(
        ws_url(server, path), proxy=None, open_timeout=RECEIVE_TIMEOUT, close_timeout=5, **options
    )


async def receive(ws: ClientConnection) -> dict[str, Any]:
    """The next chat message, parsed."""
    data: Any = json.loads(await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT))
    assert isinstance(data, dict)
    return data


async def receive_until(ws: ClientConnection, expected: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages up to and including ``expected`` (join and leave notices of others may come
    first, depending on timing); fails if ``expected`` does not come in time."""
    seen = []
    while True:
        message = await receive(ws)
        seen.append(message)
        if message == expected:
            return seen


async def close_code(ws: ClientConnection) -> tuple[int | None, str | None]:
    """Read until the server closes the connection; its close code and reason."""
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT)
    return ws.close_code, ws.close_reason


async def stats(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/stats")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


async def wait_for_stats(
    http: httpx.AsyncClient, check: Callable[[dict[str, Any]], bool], timeout: float = 15.0
) -> dict[str, Any]:
    """Poll ``/stats`` until ``check`` holds (the server sees a disconnect a little later than
    the client makes it); the last answer either way."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    current = await stats(http)
    while not check(current) and loop.time() < deadline:
        await asyncio.sleep(0.05)
        current = await stats(http)
    return current


async def assert_registry_empty(http: httpx.AsyncClient) -> None:
    assert await wait_for_stats(http, lambda current: current == EMPTY_ROOMS) == EMPTY_ROOMS


@asynccontextmanager
async def http_client(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=RECEIVE_TIMEOUT) as http:
        yield http


def abort(ws: ClientConnection) -> None:
    """Drop the TCP connection without a close frame, as a client that crashed would."""
    ws.transport.abort()


# -- conversation ------------------------------------------------------------------------------


def test_two_clients_in_a_room_see_each_other_and_another_room_sees_nothing(
    server: ServerProcess,
) -> None:
    room, other_room = new_room(), new_room()

    async def scenario() -> None:
        async with http_client(server) as http:
            # Default (deflate) compression here, as browsers negotiate it.
            async with (
                open_ws(server, f"/ws/{room}?user=ada", compression="deflate") as ada,
                open_ws(server, f"/ws/{room}?user=bob", compression="deflate") as bob,
                open_ws(server, f"/ws/{other_room}?user=eve") as eve,
            ):
                assert await receive_until(ada, {"type": "join", "user": "bob"})
                assert await receive(bob) == {"type": "join", "user": "bob"}
                assert await receive(eve) == {"type": "join", "user": "eve"}
                assert (await stats(http))["rooms"] == {room: 2, other_room: 1}

                await ada.send(json.dumps({"text": "hello from ada"}))
                said_by_ada = {"type": "message", "user": "ada", "text": "hello from ada"}
                assert await receive(bob) == said_by_ada
                assert await receive(ada) == said_by_ada
                await bob.send(json.dumps({"text": "hi ada ✓"}))
                said_by_bob = {"type": "message", "user": "bob", "text": "hi ada ✓"}
                assert await receive(ada) == said_by_bob
                assert await receive(bob) == said_by_bob

                # Both messages were published before this one: had either reached eve's room,
                # it would have come first.
                await eve.send(json.dumps({"text": "anyone?"}))
                said_by_eve = {"type": "message", "user": "eve", "text": "anyone?"}
                assert await receive(eve) == said_by_eve

                await bob.close()
                assert await receive(ada) == {"type": "leave", "user": "bob"}
            await assert_registry_empty(http)

    run(scenario)


def test_abrupt_disconnect_leaves_the_server_serving_the_others(server: ServerProcess) -> None:
    room = new_room()

    async def scenario() -> None:
        async with http_client(server) as http:
            async with (
                open_ws(server, f"/ws/{room}?user=ada") as ada,
                open_ws(server, f"/ws/{room}?user=bob") as bob,
            ):
                crash = await open_ws(server, f"/ws/{room}?user=crash")
                try:
                    await receive_until(ada, {"type": "join", "user": "crash"})
                    await receive_until(bob, {"type": "join", "user": "crash"})
                    abort(crash)  # the TCP connection ends with no close frame
                finally:
                    await crash.wait_closed()
                assert await receive(ada) == {"type": "leave", "user": "crash"}
                assert await receive(bob) == {"type": "leave", "user": "crash"}
                assert (await stats(http))["rooms"] == {room: 2}

                await bob.send(json.dumps({"text": "still here"}))
                said = {"type": "message", "user": "bob", "text": "still here"}
                assert await receive(ada) == said
                assert await receive(bob) == said
                assert (await http.get("/")).status_code == 200
            await assert_registry_empty(http)

    run(scenario)


def test_clients_that_connect_and_vanish(server: ServerProcess) -> None:
    room = new_room()
    handshake = (
        f"GET /ws/{room}?user=ghost HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    ).encode()

    def vanish(data: bytes, read_answer: bool) -> None:
        with socket.create_connection((HOST, server.port), timeout=RECEIVE_TIMEOUT) as sock:
            sock.sendall(data)
            if read_answer:
                assert sock.recv(4096).startswith(b"HTTP/1.1 101")

    async def scenario() -> None:
        async with http_client(server) as http:
            # Nothing at all, half a handshake, a full handshake never read, and a completed
            # handshake: each socket is closed at once.
            for data, read_answer in [
                (b"", False),
                (handshake[:40], False),
                (handshake, False),
                (handshake, True),
            ]:
                await asyncio.to_thread(vanish, data, read_answer)
            # A connection that joined the room, then dropped without a word.
            ghost = await open_ws(server, f"/ws/{room}?user=ghost2")
            await receive(ghost)
            abort(ghost)
            await ghost.wait_closed()

            await assert_registry_empty(http)
            async with open_ws(server, f"/ws/{room}?user=ada") as ada:
                assert await receive(ada) == {"type": "join", "user": "ada"}
                await ada.send(json.dumps({"text": "alone?"}))
                assert await receive(ada) == {"type": "message", "user": "ada", "text": "alone?"}
                assert (await stats(http))["rooms"] == {room: 1}
            await assert_registry_empty(http)

    run(scenario)


# -- bad input ---------------------------------------------------------------------------------


def test_one_mebibyte_text_frame_to_the_chat_closes_1009_and_the_room_goes_on(
    server: ServerProcess,
) -> None:
    room = new_room()
    big = json.dumps({"text": "x" * MIB})

    async def scenario() -> None:
        async with http_client(server) as http:
            async with (
                open_ws(server, f"/ws/{room}?user=ada") as ada,
                open_ws(server, f"/ws/{room}?user=big") as big_sender,
            ):
                await receive_until(ada, {"type": "join", "user": "big"})
                await receive(big_sender)
                await big_sender.send(big)
                # The reason is the chat's own: the frame went through the server to the app.
                assert await close_code(big_sender) == (
                    1009,
                    "Message text longer than 4000 characters",
                )
                assert await receive(ada) == {"type": "leave", "user": "big"}
                await ada.send(json.dumps({"text": "after"}))
                assert await receive(ada) == {"type": "message", "user": "ada", "text": "after"}
            await assert_registry_empty(http)

    run(scenario)


def test_one_mebibyte_frames_round_trip_through_the_echo(server: ServerProcess) -> None:
    text = "".join(chr(0x20 + index % 0x5F) for index in range(MIB - 3)) + "✓"  # 1 MiB of UTF-8
    data = bytes(index % 251 for index in range(MIB))

    async def scenario() -> None:
        async with open_ws(server, "/echo", max_size=2 * MIB) as ws:
            for _ in range(3):
                await ws.send(text)
                assert await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT) == text
                await ws.send(data)
                assert await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT) == data

    assert len(text.encode()) == MIB
    run(scenario)


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("not json", (1003, "Invalid JSON message")),
        ('["text"]', (1003, 'Expected {"text": "..."}')),
        ('{"text": 42}', (1003, 'Expected {"text": "..."}')),
    ],
    ids=["not-json", "array", "text-not-a-string"],
)
def test_bad_messages_close_with_a_code_and_reason(
    server: ServerProcess, frame: str, expected: tuple[int, str]
) -> None:
    room = new_room()

    async def scenario() -> None:
        async with http_client(server) as http:
            async with open_ws(server, f"/ws/{room}?user=ada") as ada:
                await receive(ada)
                await ada.send(frame)
                assert await close_code(ada) == expected
            await assert_registry_empty(http)

    run(scenario)


def test_a_bad_user_name_is_closed_1008_with_the_reason(server: ServerProcess) -> None:
    async def scenario() -> None:
        async with open_ws(server, f"/ws/{new_room()}?user={'n' * 33}") as ws:
            assert await close_code(ws) == (1008, "User name longer than 32 characters")

    run(scenario)


# -- load --------------------------------------------------------------------------------------


def test_a_burst_of_a_thousand_messages_arrives_complete_and_in_order(
    server: ServerProcess,
) -> None:
    room = new_room()
    count = 1000

    async def scenario() -> None:
        async with http_client(server) as http:
            async with (
                open_ws(server, f"/ws/{room}?user=ada") as ada,
                open_ws(server, f"/ws/{room}?user=bob") as bob,
            ):
                await receive_until(ada, {"type": "join", "user": "bob"})
                await receive(bob)

                async def texts(ws: ClientConnection) -> list[str]:
                    return [(await receive(ws))["text"] for _ in range(count)]

                readers = [asyncio.create_task(texts(ws)) for ws in (ada, bob)]
                for number in range(count):  # no waiting for anything between sends
                    await ada.send(json.dumps({"text": f"message {number}"}))
                expected = [f"message {number}" for number in range(count)]
                assert await readers[0] == expected
                assert await readers[1] == expected
            await assert_registry_empty(http)

    run(scenario)


# 200 clients in one room already cost 40,000 notices (each join and each leave goes to everyone
# present). One client in ten sends a message, 4,000 deliveries more: that keeps the test within
# seconds on every server kind, hypercorn's trio worker (the slowest) included. The full burst,
# every client sending, is benchmarks/ws_load.py.
CROWD = 200
SPEAKERS = range(0, CROWD, 10)


def test_two_hundred_clients_in_one_room_while_http_keeps_answering(
    server: ServerProcess,
) -> None:
    room = new_room()

    async def scenario() -> None:
        async with http_client(server) as http, AsyncExitStack() as stack:
            connecting = asyncio.Semaphore(50)  # hypercorn's listen backlog is 100

            async def join(number: int) -> ClientConnection:
                async with connecting:
                    ws = await stack.enter_async_context(
                        open_ws(server, f"/ws/{room}?user=user{number}")
                    )
                return ws

            http_answers: list[int] = []
            done = asyncio.Event()

            async def poll_http() -> None:  # through the joins, the messages, until done
                while not done.is_set():
                    http_answers.append((await http.get("/")).status_code)
                    await asyncio.sleep(0.02)

            poller = asyncio.create_task(poll_http())
            clients = await asyncio.gather(*(join(number) for number in range(CROWD)))
            members = await wait_for_stats(http, lambda current: current["members"] >= CROWD)
            assert members["rooms"] == {room: CROWD}

            async def hear_everyone(ws: ClientConnection) -> set[str]:
                heard: set[str] = set()
                while len(heard) < len(SPEAKERS):
                    message = await receive(ws)
                    if message["type"] == "message":
                        heard.add(message["text"])
                return heard

            listeners = [asyncio.create_task(hear_everyone(ws)) for ws in clients]
            await asyncio.gather(
                *(
                    clients[number].send(json.dumps({"text": f"from {number}"}))
                    for number in SPEAKERS
                )
            )
            everyone = {f"from {number}" for number in SPEAKERS}
            for heard in await asyncio.gather(*listeners):
                assert heard == everyone
            done.set()
            await poller
            assert http_answers
            assert set(http_answers) == {200}

            await asyncio.gather(*(ws.close() for ws in clients))
            await assert_registry_empty(http)

    run(scenario)
