"""examples/chat.py: rooms, join/message/leave notices, bad input, the registry, the page."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from example_server import UvicornServer
from websockets.sync.client import connect

from benchmarks.ws_load import report, run_load
from examples.chat import MAX_TEXT_LENGTH, Member, MemoryBroadcaster, app
from framework import WebSocketDisconnect, WebSocketState
from framework.testclient import TestClient, WebSocketTestSession

EMPTY = {"rooms": {}, "members": 0}


@pytest.fixture
def client() -> Iterator[TestClient]:
    # Inside the block every session runs on the client's one event loop (and the lifespan has
    # made the broadcaster), so sessions in one room hear each other.
    with TestClient(app) as test_client:
        yield test_client


def join(ws: WebSocketTestSession, user: str) -> None:
    assert ws.receive_json() == {"type": "join", "user": user}


def said(user: str, text: str) -> dict[str, str]:
    return {"type": "message", "user": user, "text": text}


def closed_with(ws: WebSocketTestSession) -> tuple[int, str]:
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_text()
    return closed.value.code, closed.value.reason


# -- the page and the stats --------------------------------------------------------------------


def test_page_is_served(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert page.startswith("<!doctype html>")
    assert "new WebSocket(url)" in page
    assert f'maxlength="{MAX_TEXT_LENGTH}"' in page
    assert "textContent = text" in page  # messages are shown as text, never as HTML


def test_stats_start_empty(client: TestClient) -> None:
    response = client.get("/stats")
    assert response.status_code == 200
    assert response.json() == EMPTY


# -- conversation ------------------------------------------------------------------------------


def test_join_message_and_leave_reach_everyone_in_the_room(client: TestClient) -> None:
    with client.websocket_connect("/ws/lobby?user=ada") as ada:
        join(ada, "ada")  # the joiner hears their own join first
        with client.websocket_connect("/ws/lobby?user=bob") as bob:
            join(ada, "bob")
            join(bob, "bob")
            assert client.get("/stats").json() == {"rooms": {"lobby": 2}, "members": 2}

            bob.send_json({"text": "hi ada"})
            assert ada.receive_json() == said("bob", "hi ada")
            assert bob.receive_json() == said("bob", "hi ada")  # the sender too
            ada.send_json({"text": "hi bob"})
            assert bob.receive_json() == said("ada", "hi bob")
            assert ada.receive_json() == said("ada", "hi bob")
        assert ada.receive_json() == {"type": "leave", "user": "bob"}
        assert client.get("/stats").json() == {"rooms": {"lobby": 1}, "members": 1}
    assert client.get("/stats").json() == EMPTY


def test_messages_are_compact_json_text_frames(client: TestClient) -> None:
    with client.websocket_connect("/ws/lobby?user=ada") as ada:
        assert ada.receive() == {"type": "websocket.send", "text": '{"type":"join","user":"ada"}'}
        ada.send_json({"text": "ünïcode ✓ <b>"})
        assert ada.receive_text() == '{"type":"message","user":"ada","text":"ünïcode ✓ <b>"}'


def test_json_in_a_binary_frame_is_accepted(client: TestClient) -> None:
    with client.websocket_connect("/ws/lobby?user=ada") as ada:
        join(ada, "ada")
        ada.send_json({"text": "binary"}, mode="binary")
        assert ada.receive_json() == said("ada", "binary")


def test_text_is_passed_on_as_sent_and_extra_keys_are_dropped(client: TestClient) -> None:
    with client.websocket_connect("/ws/lobby?user=ada") as ada:
        join(ada, "ada")
        ada.send_json({"text": "  two  spaces  ", "user": "mallory", "type": "join"})
        assert ada.receive_json() == said("ada", "  two  spaces  ")


def test_rooms_isolate_messages(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws/lobby?user=ada") as ada,
        client.websocket_connect("/ws/kitchen?user=eve") as eve,
    ):
        join(ada, "ada")
        join(eve, "eve")  # not ada's join: other room
        ada.send_json({"text": "lobby only"})
        assert ada.receive_json() == said("ada", "lobby only")
        eve.send_json({"text": "kitchen only"})
        # Had "lobby only" reached the kitchen, it would have come first.
        assert eve.receive_json() == said("eve", "kitchen only")
        ada.send_json({"text": "again"})
        assert ada.receive_json() == said("ada", "again")  # and nothing from the kitchen
        assert client.get("/stats").json() == {
            "rooms": {"lobby": 1, "kitchen": 1},
            "members": 2,
        }


def test_same_name_in_two_rooms_and_twice_in_one(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws/a?user=ada") as first,
        client.websocket_connect("/ws/a?user=ada") as second,
    ):
        join(first, "ada")
        join(first, "ada")
        join(second, "ada")
        second.send_json({"text": "me again"})
        assert first.receive_json() == said("ada", "me again")
    assert client.get("/stats").json() == EMPTY


def test_blank_text_is_ignored(client: TestClient) -> None:
    with client.websocket_connect("/ws/lobby?user=ada") as ada:
        join(ada, "ada")
        ada.send_json({"text": ""})
        ada.send_json({"text": "  \n\t "})
        ada.send_json({"text": "real"})
        assert ada.receive_json() == said("ada", "real")


def test_a_thousand_messages_in_a_burst_arrive_in_order(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws/lobby?user=ada") as ada,
        client.websocket_connect("/ws/lobby?user=bob") as bob,
    ):
        join(ada, "ada")
        join(ada, "bob")
        join(bob, "bob")
        for number in range(1000):
            ada.send_json({"text": str(number)})
        for ws in (ada, bob):
            assert [ws.receive_json()["text"] for _ in range(1000)] == [
                str(number) for number in range(1000)
            ]


def test_a_client_closing_with_a_code_leaves(client: TestClient) -> None:
    with client.websocket_connect("/ws/lobby?user=ada") as ada:
        join(ada, "ada")
        with client.websocket_connect("/ws/lobby?user=bob") as bob:
            join(ada, "bob")
            bob.close(1001)  # going away
            assert ada.receive_json() == {"type": "leave", "user": "bob"}
        ada.send_json({"text": "still here"})
        assert ada.receive_json() == said("ada", "still here")
        assert client.get("/stats").json() == {"rooms": {"lobby": 1}, "members": 1}
    assert client.get("/stats").json() == EMPTY


# -- names ---------------------------------------------------------------------------------------


def test_without_a_name_you_are_a_guest(client: TestClient) -> None:
    for path in ("/ws/lobby", "/ws/lobby?user=", "/ws/lobby?user=%20%20"):
        with client.websocket_connect(path) as ws:
            notice = ws.receive_json()
            assert notice["type"] == "join"
            assert re.fullmatch(r"guest-[0-9a-f]{4}", notice["user"])


def test_names_are_stripped_and_may_be_any_printable_text(client: TestClient) -> None:
    for raw, user in [("%20ada%20", "ada"), ("Zoë 🦊", "Zoë 🦊"), ("n" * 32, "n" * 32)]:
        with client.websocket_connect(f"/ws/lobby?user={raw}") as ws:
            join(ws, user)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/ws/lobby?user=" + "n" * 33, "User name longer than 32 characters"),
        ("/ws/lobby?user=a%0Ab", "User name with unprintable characters"),
        ("/ws/lobby?user=a%C2%A0b", "User name with unprintable characters"),  # no-break space
        ("/ws/" + "r" * 65, "Room names are 1-64 letters, digits, '_', '-', '.' or '~'"),
        ("/ws/two%20words", "Room names are 1-64 letters, digits, '_', '-', '.' or '~'"),
    ],
    ids=["long-name", "control-character", "no-break-space", "long-room", "space-in-room"],
)
def test_bad_names_are_closed_1008_with_the_reason(
    client: TestClient, path: str, reason: str
) -> None:
    # Accepted, then closed: a browser script sees the code and reason (not so for a refusal).
    with client.websocket_connect(path) as ws:
        assert closed_with(ws) == (1008, reason)
    assert client.get("/stats").json() == EMPTY


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("hello", (1003, "Invalid JSON message")),
        ('{"text": "unfinished', (1003, "Invalid JSON message")),
        ('"just a string"', (1003, 'Expected {"text": "..."}')),
        ('["text"]', (1003, 'Expected {"text": "..."}')),
        ("{}", (1003, 'Expected {"text": "..."}')),
        ('{"text": null}', (1003, 'Expected {"text": "..."}')),
        ('{"text": ["a"]}', (1003, 'Expected {"text": "..."}')),
    ],
)
def test_bad_messages_close_with_a_code_and_reason(
    client: TestClient, frame: str, expected: tuple[int, str]
) -> None:
    with client.websocket_connect("/ws/lobby?user=ada") as ada:
        join(ada, "ada")
        with client.websocket_connect("/ws/lobby?user=bad") as bad:
            join(ada, "bad")
            join(bad, "bad")
            bad.send_text(frame)
            assert closed_with(bad) == expected
        assert ada.receive_json() == {"type": "leave", "user": "bad"}
        ada.send_json({"text": "unharmed"})
        assert ada.receive_json() == said("ada", "unharmed")
    assert client.get("/stats").json() == EMPTY


def test_text_length_limit(client: TestClient) -> None:
    with client.websocket_connect("/ws/lobby?user=ada") as ada:
        join(ada, "ada")
        longest = "x" * MAX_TEXT_LENGTH
        ada.send_json({"text": longest})
        assert ada.receive_json() == said("ada", longest)
        ada.send_json({"text": "x" * (MAX_TEXT_LENGTH + 1)})
        assert closed_with(ada) == (1009, "Message text longer than 4000 characters")


def test_one_mebibyte_frame_is_refused_and_others_carry_on(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws/lobby?user=ada") as ada,
        client.websocket_connect("/ws/lobby?user=big") as big,
    ):
        join(ada, "ada")
        join(ada, "big")
        join(big, "big")
        big.send_json({"text": "x" * 1024 * 1024})
        assert closed_with(big) == (1009, "Message text longer than 4000 characters")
        big.close()
        assert ada.receive_json() == {"type": "leave", "user": "big"}
        ada.send_json({"text": "after"})
        assert ada.receive_json() == said("ada", "after")


def test_messages_after_a_close_for_bad_input_are_dropped(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws/lobby?user=ada") as ada,
        client.websocket_connect("/ws/lobby?user=bad") as bad,
    ):
        join(ada, "ada")
        join(ada, "bad")
        join(bad, "bad")
        # Sent before the client saw the close: the app reads them, and must not publish them.
        bad.send_text("[1]")
        bad.send_json({"text": "too late"})
        bad.send_json({"text": "too late, again"})
        assert closed_with(bad) == (1003, 'Expected {"text": "..."}')
        bad.close()
        assert ada.receive_json() == {"type": "leave", "user": "bad"}
        ada.send_json({"text": "next"})
        assert ada.receive_json() == said("ada", "next")


def test_frames_after_the_close_are_dropped_without_an_error(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    # Once the app has closed the socket, the endpoint no longer decodes what arrives: invalid
    # JSON sent meanwhile must not try to close a second time (that raised and logged an error).
    with client.websocket_connect("/ws/lobby?user=bad") as bad:
        join(bad, "bad")
        bad.send_json({"text": "x" * (MAX_TEXT_LENGTH + 1)})
        bad.send_text("not json")
        bad.send_bytes(b"\xff")
        assert closed_with(bad) == (1009, "Message text longer than 4000 characters")
        bad.close(1000)
    assert client.get("/stats").json() == EMPTY
    assert [record.getMessage() for record in caplog.records if record.levelname == "ERROR"] == []


# -- members and the broadcaster, without a server -----------------------------------------------


async def settle() -> None:
    """Let the writer tasks run until they wait again (a few turns of the event loop)."""
    for _ in range(10):
        await anyio.lowlevel.checkpoint()


class FakeSocket:
    """What a member needs of a WebSocket; ``stuck`` makes every send wait forever, like a
    client that stopped reading once the TCP buffers are full."""

    def __init__(self, *, stuck: bool = False) -> None:
        self.stuck = stuck
        self.application_state = WebSocketState.CONNECTED
        self.sent: list[Any] = []
        self.closed: tuple[int, str | None] | None = None

    async def send_text(self, text: str) -> None:
        if self.stuck:
            await anyio.sleep_forever()
        if self.closed is not None:
            raise WebSocketDisconnect(1006)
        self.sent.append(json.loads(text))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason)
        self.application_state = WebSocketState.DISCONNECTED


def test_a_stuck_member_is_dropped_and_does_not_hold_up_the_room() -> None:
    async def scenario() -> None:
        rooms = MemoryBroadcaster()
        good_socket, stuck_socket = FakeSocket(), FakeSocket(stuck=True)
        good = Member(good_socket, "good", outbox_size=3)  # type: ignore[arg-type]
        stuck = Member(stuck_socket, "stuck", outbox_size=3)  # type: ignore[arg-type]
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(good.run)
            tasks.start_soon(stuck.run)
            await rooms.join("r", good)
            await rooms.join("r", stuck)
            for number in range(10):
                await rooms.publish("r", {"text": str(number)})
                await settle()
                if number == 3:
                    # One message in the stuck send, three queued: the fifth finds no room.
                    assert await rooms.rooms() == {"r": 2}
            assert good_socket.sent == [{"text": str(number)} for number in range(10)]
            assert stuck.too_slow
            assert await rooms.rooms() == {"r": 1}
            # The stuck send was cancelled and the connection closed, explaining why.
            assert stuck_socket.closed == (1008, "Too slow: messages piled up unread")
            assert stuck_socket.sent == []
            tasks.cancel_scope.cancel()

    anyio.run(scenario)


def test_a_member_whose_client_is_gone_is_removed_at_the_next_publish() -> None:
    async def scenario() -> None:
        rooms = MemoryBroadcaster()
        gone_socket = FakeSocket()
        gone = Member(gone_socket, "gone")  # type: ignore[arg-type]
        other = Member(FakeSocket(), "other")  # type: ignore[arg-type]
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(gone.run)
            tasks.start_soon(other.run)
            await rooms.join("r", gone)
            await rooms.join("r", other)
            gone_socket.closed = (1006, None)  # its next send fails: the client left
            await rooms.publish("r", {"text": "1"})
            await settle()  # the send failed, the writer ended
            assert await rooms.rooms() == {"r": 2}
            await rooms.publish("r", {"text": "2"})  # the member's closed queue refuses this
            assert await rooms.rooms() == {"r": 1}
            await rooms.leave("r", gone)  # leaving again (on_disconnect does) is harmless
            await rooms.leave("r", other)
            assert await rooms.rooms() == {}
            await rooms.publish("r", {"text": "to nobody"})
            tasks.cancel_scope.cancel()

    anyio.run(scenario)


# -- a real server -------------------------------------------------------------------------------


def test_chat_under_uvicorn(tmp_path: Path) -> None:
    with UvicornServer.run("examples.chat:app", tmp_path / "uvicorn.log") as server:
        page = httpx.get(server.url + "/", timeout=10)
        assert page.status_code == 200
        assert "new WebSocket(url)" in page.text

        base = server.url.replace("http://", "ws://")
        options: dict[str, Any] = {"proxy": None, "open_timeout": 10, "close_timeout": 5}
        with (
            connect(base + "/ws/lobby?user=ada", **options) as ada,
            connect(base + "/ws/lobby?user=bob", **options) as bob,
        ):
            assert json.loads(ada.recv(timeout=10)) == {"type": "join", "user": "ada"}
            assert json.loads(ada.recv(timeout=10)) == {"type": "join", "user": "bob"}
            assert json.loads(bob.recv(timeout=10)) == {"type": "join", "user": "bob"}
            bob.send(json.dumps({"text": "hello over TCP"}))
            assert json.loads(ada.recv(timeout=10)) == said("bob", "hello over TCP")
            assert json.loads(bob.recv(timeout=10)) == said("bob", "hello over TCP")
            stats = httpx.get(server.url + "/stats", timeout=10).json()
            assert stats == {"rooms": {"lobby": 2}, "members": 2}
            bob.close()
            assert json.loads(ada.recv(timeout=10)) == {"type": "leave", "user": "bob"}
        # The server notices the close a moment after the client made it.
        for _ in range(200):
            stats = httpx.get(server.url + "/stats", timeout=10).json()
            if stats == EMPTY:
                break
            time.sleep(0.02)
        assert stats == EMPTY
    assert server.stopped_gracefully()


def test_ws_load_benchmark_runs_to_the_end() -> None:
    # benchmarks/ws_load.py with tiny counts, so it cannot rot: every message reaches every
    # client, HTTP answers meanwhile, and the registry is empty at the end. No times asserted.
    result = run_load(clients=5, messages=3, timeout=30.0)
    assert result.deliveries == 5 * 5 * 3
    assert result.closed_by_server == {}
    assert result.http_statuses <= {200}
    assert result.registry_after == EMPTY
    lines = report(result)
    assert any(line.startswith("delivered:") and "75 of 75 deliveries" in line for line in lines)
