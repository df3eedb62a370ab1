"""The seed article's WebSocket echo grown into a chat: rooms, names, join and leave notices.

Open http://127.0.0.1:8000/ in two browser tabs, pick a name and the same room, and talk. Or
from a terminal (``pip install websockets``)::

    uvicorn examples.chat:app
    python -m websockets 'ws://127.0.0.1:8000/ws/lobby?user=ada'
    curl http://127.0.0.1:8000/stats            # rooms and how many people are in each

Connecting: ``/ws/{room}?user=NAME``. The room is 1 to 64 letters, digits, ``_``, ``-``, ``.`` or
``~``; the name is 1 to 32 printable characters (spaces around it are dropped; without one you are
``guest-`` and four hex digits); names are not unique. A room or name that breaks these rules is
accepted and then closed at once with 1008 and a reason saying what is wrong, since a browser
shows scripts no reason for a refused handshake.

Every message is one JSON object in a text frame (the server also reads UTF-8 JSON in binary
frames; it always answers in text frames).

Client to server::

    {"text": "hello"}                  1 to 4000 characters; blank text is ignored

Server to everyone in the room, the sender included::

    {"type": "join", "user": "ada"}                      someone came in (you too, first thing)
    {"type": "message", "user": "ada", "text": "hello"}  someone said something
    {"type": "leave", "user": "ada"}                     someone left

Bad input closes the connection with a code and a reason: 1003 for a frame that is not JSON, or
JSON that is not ``{"text": "..."}``; 1009 for text longer than 4000 characters. A member that
reads so slowly that :data:`OUTBOX_SIZE` messages pile up for it is closed with 1008: the room
never waits for one member.

How it works: each connection is a :class:`Member` with an outbox and a writer task that sends
from it, so publishing a message only queues it (no waiting on anybody's socket). Rooms live
behind the :class:`Broadcaster` interface; :class:`MemoryBroadcaster` keeps them in this process,
which is right for one worker. Several workers need a shared one (Redis pub/sub, say) with the
same four methods. The lifespan creates the broadcaster, handlers read it as ``state.broadcaster``.
"""

import itertools
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup
from pydantic_core import to_json

from framework import (
    App,
    HTMLResponse,
    Request,
    WebSocket,
    WebSocketDisconnect,
    WebSocketEndpoint,
    WebSocketState,
    status,
)

MAX_TEXT_LENGTH = 4000
MAX_USER_LENGTH = 32
ROOM_PATTERN = re.compile(r"[\w.~-]{1,64}")
OUTBOX_SIZE = 4096
"""Messages that may wait for one member before it counts as too slow and is closed."""
CLOSE_TIMEOUT = 5.0
"""Seconds a too-slow member's close frame may wait behind the data it did not read."""
SEND_BATCH = 8
"""Messages a member's writer sends in a row before letting other tasks run: fewer trips
through the event loop (about twice the deliveries per second in a busy room), at the price of
longer turns for everything else (HTTP answers slower while a room is that busy)."""


class Member:
    """One person in a room: their connection, their name, and the messages waiting for them.

    :meth:`deliver` queues a message and never waits; :meth:`run` (a task of its own) sends the
    queue in order. When :data:`OUTBOX_SIZE` messages wait unsent, the member is too slow: the
    send it is stuck in is cancelled and the connection closed with 1008.
    """

    def __init__(self, websocket: WebSocket, user: str, outbox_size: int = OUTBOX_SIZE) -> None:
        self.websocket = websocket
        self.user = user
        self.too_slow = False
        self._outbox, self._queue = anyio.create_memory_object_stream[str](outbox_size)
        self._sending = anyio.CancelScope()

    def deliver(self, text: str) -> bool:
        """Queue one encoded message; False when this member takes no more (gone, too slow)."""
        try:
            self._outbox.send_nowait(text)
        except anyio.WouldBlock:
            self.too_slow = True
            self._outbox.close()
            self._sending.cancel()
            return False
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return False
        return True

    async def run(self) -> None:
        """Send queued messages until the connection ends (cancel it to stop it sooner)."""
        websocket, queue = self.websocket, self._queue
        with queue, self._sending:
            try:
                for sent in itertools.count(1):
                    try:
                        text = queue.receive_nowait()  # no trip through the event loop...
                    except anyio.WouldBlock:
                        text = await queue.receive()  # ...unless there is nothing to send
                    if websocket.application_state is not WebSocketState.CONNECTED:
                        return  # closed for bad input
                    await websocket.send_text(text)
                    if sent % SEND_BATCH == 0:
                        await anyio.lowlevel.checkpoint()  # let other connections have a turn
            except anyio.EndOfStream:
                pass  # too slow: deliver() closed the outbox
            except WebSocketDisconnect:
                return  # the client is gone; the closed queue makes deliver() refuse from now on
        if self.too_slow and websocket.application_state is WebSocketState.CONNECTED:
            # The close frame waits behind the unsent data: give up on it after a while.
            with anyio.move_on_after(CLOSE_TIMEOUT):
                reason = "Too slow: messages piled up unread"
                await websocket.close(status.WS_1008_POLICY_VIOLATION, reason)


class Broadcaster(Protocol):
    """Where rooms live: who is in which room, and the way a message reaches all of them."""

    async def join(self, room: str, member: Member) -> None:
        """Add ``member`` to ``room`` (created on first use)."""

    async def leave(self, room: str, member: Member) -> None:
        """Remove ``member`` from ``room``; an empty room disappears. Leaving twice is fine."""

    async def publish(self, room: str, message: dict[str, Any]) -> None:
        """Queue ``message`` for every member of ``room``; members that refuse it are removed."""

    async def rooms(self) -> dict[str, int]:
        """The number of members in each room that has any."""


class MemoryBroadcaster:
    """Rooms kept in this process: enough for one worker (see :class:`Broadcaster`)."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[Member, None]] = {}  # a dict keeps the join order

    async def join(self, room: str, member: Member) -> None:
        self._rooms.setdefault(room, {})[member] = None

    async def leave(self, room: str, member: Member) -> None:
        self._remove(room, member)

    async def publish(self, room: str, message: dict[str, Any]) -> None:
        text = to_json(message).decode()  # encoded once for the whole room
        for member in list(self._rooms.get(room, ())):
            if not member.deliver(text):
                self._remove(room, member)

    async def rooms(self) -> dict[str, int]:
        return {room: len(members) for room, members in self._rooms.items()}

    def _remove(self, room: str, member: Member) -> None:
        members = self._rooms.get(room)
        if members is not None:
            members.pop(member, None)
            if not members:
                del self._rooms[room]


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
    yield {"broadcaster": MemoryBroadcaster()}


app = App(title="Chat", lifespan=lifespan)


def check_user(raw: str | None) -> str:
    """The user's name from ``?user=``, or a ``ValueError`` saying what is wrong with it."""
    user = (raw or "").strip()
    if not user:
        return f"guest-{secrets.token_hex(2)}"
    if len(user) > MAX_USER_LENGTH:
        raise ValueError(f"User name longer than {MAX_USER_LENGTH} characters")
    if not user.isprintable():
        raise ValueError("User name with unprintable characters")
    return user


@app.websocket_route("/ws/{room}")
class Chat(WebSocketEndpoint):
    """One chat connection: join on connect, publish each message, leave on disconnect."""

    encoding = "json"  # a frame that is not JSON closes the connection with 1003

    member: Member | None = None  # set once the connection has joined its room
    room: str
    broadcaster: Broadcaster
    tasks: TaskGroup

    async def dispatch(self, websocket: WebSocket) -> None:
        # The member's writer task runs beside the conversation and stops with it.
        error: Exception | None = None
        async with anyio.create_task_group() as self.tasks:
            try:
                await super().dispatch(websocket)
            except Exception as exc:  # raised after the task group, not wrapped in a group
                error = exc
            self.tasks.cancel_scope.cancel()
        if error is not None:
            raise error

    async def on_connect(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self.room = websocket.path_params["room"]
        try:
            user = check_user(websocket.query_params.get("user"))
            if not ROOM_PATTERN.fullmatch(self.room):
                raise ValueError("Room names are 1-64 letters, digits, '_', '-', '.' or '~'")
        except ValueError as exc:
            await websocket.close(status.WS_1008_POLICY_VIOLATION, str(exc))
            return
        self.broadcaster = websocket.state.broadcaster
        self.member = Member(websocket, user)
        self.tasks.start_soon(self.member.run)
        await self.broadcaster.join(self.room, self.member)
        await self.broadcaster.publish(self.room, {"type": "join", "user": user})

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        member = self.member
        if member is None or member.too_slow:
            return  # out of the room: what the client still sends is dropped
        if websocket.application_state is not WebSocketState.CONNECTED:
            return  # closed for bad input, likewise
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str):
            await websocket.close(status.WS_1003_UNSUPPORTED_DATA, 'Expected {"text": "..."}')
            return
        if len(text) > MAX_TEXT_LENGTH:
            reason = f"Message text longer than {MAX_TEXT_LENGTH} characters"
            await websocket.close(status.WS_1009_MESSAGE_TOO_BIG, reason)
            return
        if text.strip():
            message = {"type": "message", "user": member.user, "text": text}
            await self.broadcaster.publish(self.room, message)

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        member = self.member
        if member is not None:
            await self.broadcaster.leave(self.room, member)
            await self.broadcaster.publish(self.room, {"type": "leave", "user": member.user})


@app.get("/stats")
async def stats(request: Request) -> dict[str, Any]:
    """Rooms with their member counts: ``{"rooms": {"lobby": 2}, "members": 2}``."""
    rooms = await request.state.broadcaster.rooms()
    return {"rooms": rooms, "members": sum(rooms.values())}


PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chat</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  form { display: flex; gap: .5rem; margin: .5rem 0; }
  input[name=text] { flex: 1; }
  #log { list-style: none; padding: .5rem; height: 22rem; overflow-y: auto; border: 1px solid #ccc; }
  .notice { color: #777; font-style: italic; }
  .user { font-weight: bold; }
</style>
</head>
<body>
<h1>Chat</h1>
<form id="join">
  <input name="user" placeholder="your name" maxlength="32" autocomplete="nickname">
  <input name="room" placeholder="room" value="lobby" maxlength="64" required>
  <button>Join</button>
</form>
<section id="chat" hidden>
  <h2 id="title"></h2>
  <ul id="log"></ul>
  <form id="say">
    <input name="text" placeholder="Say something" maxlength="MAX_TEXT_LENGTH" autocomplete="off">
    <button>Send</button>
    <button type="button" id="leave">Leave</button>
  </form>
</section>
<script>
const joinForm = document.getElementById("join");
const sayForm = document.getElementById("say");
const log = document.getElementById("log");
let socket = null;

function show(className, ...parts) {
  const line = document.createElement("li");
  line.className = className;
  for (const [cls, text] of parts) {
    const span = document.createElement("span");
    if (cls) span.className = cls;
    span.textContent = text;  // text, never HTML
    line.append(span);
  }
  log.append(line);
  line.scrollIntoView({block: "end"});
}

joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const room = joinForm.room.value.trim();
  // Relative to this page, so the app also works under a path prefix.
  const url = new URL("ws/" + encodeURIComponent(room), location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("user", joinForm.user.value.trim());
  socket = new WebSocket(url);
  log.replaceChildren();
  document.getElementById("title").textContent = "Room " + room;
  joinForm.hidden = true;
  document.getElementById("chat").hidden = false;
  socket.addEventListener("message", (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "message") show("", ["user", data.user + ": "], ["", data.text]);
    else if (data.type === "join") show("notice", ["", data.user + " joined"]);
    else if (data.type === "leave") show("notice", ["", data.user + " left"]);
  });
  socket.addEventListener("close", (close) => {
    const why = close.reason ? ": " + close.reason : "";
    show("notice", ["", "Disconnected (" + close.code + why + ")"]);
    socket = null;
    joinForm.hidden = false;
  });
  sayForm.text.focus();
});

sayForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = sayForm.text.value;
  if (socket && socket.readyState === WebSocket.OPEN && text.trim()) {
    socket.send(JSON.stringify({text}));
    sayForm.text.value = "";
  }
});

document.getElementById("leave").addEventListener("click", () => {
  if (socket) socket.close(1000);
});
</script>
</body>
</html>
""".replace("MAX_TEXT_LENGTH", str(MAX_TEXT_LENGTH))


@app.get("/", response_class=HTMLResponse)
async def page() -> str:
    return PAGE
