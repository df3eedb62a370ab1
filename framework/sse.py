"""Server-sent events (``text/event-stream``): ``return EventSourceResponse(generate())`` sends
one event per item an (async) generator yields. See ``docs/sse.md``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, cast

import anyio
from pydantic_core import to_json

from framework.background import BackgroundTask
from framework.http.responses import StreamingResponse
from framework.types import Send

__all__ = ["DEFAULT_PING_INTERVAL", "EventSourceResponse", "ServerSentEvent"]

DEFAULT_PING_INTERVAL = 15.0
"""Seconds between keep-alive comments when ``EventSourceResponse(ping=None)``."""

DEFAULT_SEPARATOR = "\r\n"
_SEPARATORS = ("\r\n", "\n", "\r")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_STREAM_HEADERS = {
    "Cache-Control": "no-store",
    "Connection": "keep-alive",
    "X-Accel-Buffering": "no",
}


def _single_line(name: str, value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if "\r" in text or "\n" in text:
        raise ValueError(f"The {name} of a server-sent event must be a single line")
    return text


def _separator(sep: str | None) -> str | None:
    if sep is not None and sep not in _SEPARATORS:
        raise ValueError(r"sep must be '\r\n', '\n' or '\r'")
    return sep


class ServerSentEvent:
    """One event of an event stream.

    - ``data``: a ``str`` is sent as it is (a ``data:`` line per line), ``bytes`` decoded as UTF-8,
      anything else as JSON (pydantic-core); ``None`` sends no ``data`` field.
    - ``event``: the event type; ``id``: sent back in ``Last-Event-ID`` on reconnection; both
      single lines (and ``id`` without NUL), else ``ValueError``: they could inject fields.
    - ``retry``: the reconnection delay, in milliseconds; ``comment``: lines clients ignore.
    - ``sep``: the line separator, ``"\\r\\n"`` (the default), ``"\\n"`` or ``"\\r"``.
    """

    __slots__ = ("comment", "data", "event", "id", "retry", "sep")

    def __init__(
        self,
        data: Any = None,
        *,
        event: str | None = None,
        id: str | int | None = None,
        retry: int | None = None,
        comment: str | None = None,
        sep: str | None = None,
    ) -> None:
        self.data = data
        self.event = None if event is None else _single_line("event", event)
        self.id = None if id is None else _single_line("id", id)
        if self.id is not None and "\0" in self.id:
            raise ValueError("The id of a server-sent event must not contain NUL")
        if retry is not None and (not isinstance(retry, int) or isinstance(retry, bool)):
            raise TypeError("retry must be an int (milliseconds)")
        if retry is not None and retry < 0:
            raise ValueError("retry must not be negative")
        self.retry = retry
        self.comment = comment
        self.sep = _separator(sep)

    def encode(self) -> bytes:
        """The event in the ``text/event-stream`` format, ending with a blank line."""
        return self._encode(DEFAULT_SEPARATOR)

    def _encode(self, default_sep: str) -> bytes:
        sep = self.sep or default_sep
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" for line in _LINE_BREAK.split(self.comment))
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.event is not None:
            lines.append(f"event: {self.event}")
        if self.data is not None:
            lines.extend(f"data: {line}" for line in _LINE_BREAK.split(self._data_text()))
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        lines.append(sep)
        return sep.join(lines).encode("utf-8")

    def _data_text(self) -> str:
        data = self.data
        if isinstance(data, str):
            return data
        if isinstance(data, (bytes, bytearray, memoryview)):
            return bytes(data).decode("utf-8")
        return to_json(data).decode("utf-8")

    def __repr__(self) -> str:
        values = {name: getattr(self, name) for name in self.__slots__}
        fields = ", ".join(f"{k}={v!r}" for k, v in values.items() if v is not None)
        return f"ServerSentEvent({fields})"


def _default_ping() -> ServerSentEvent:
    return ServerSentEvent(comment=f"ping - {datetime.now(timezone.utc)}")


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` response fed by a sync or async iterator, one event per item: a
    :class:`ServerSentEvent`, a ``str`` (the data), a ``dict`` of event fields, raw ``bytes`` (sent
    as they are), anything else as JSON data. ``Cache-Control: no-store``, ``Connection:
    keep-alive`` and ``X-Accel-Buffering: no`` are added unless ``headers`` sets them.

    - ``ping``: seconds between keep-alive comments (None: 15; ``0``: none);
      ``ping_message_factory`` returns the :class:`ServerSentEvent` to send instead.
    - ``sep``: the line separator of events that do not choose their own.
    - ``send_timeout``: seconds one send may take before the client counts as gone.

    When the client disconnects the generator is closed (its ``finally`` blocks run).
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncIterable[Any] | Iterable[Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        ping: float | None = None,
        sep: str | None = None,
        ping_message_factory: Callable[[], ServerSentEvent] | None = None,
        send_timeout: float | None = None,
    ) -> None:
        self.sep = _separator(sep) or DEFAULT_SEPARATOR
        self.ping_interval = DEFAULT_PING_INTERVAL if ping is None else ping
        self.ping_message_factory = ping_message_factory or _default_ping
        self.send_timeout = send_timeout
        merged = dict(headers or {})
        given = {name.lower() for name in merged}
        merged.update((k, v) for k, v in _STREAM_HEADERS.items() if k.lower() not in given)
        stream = cast("AsyncIterable[str | bytes] | Iterable[str | bytes]", content)
        super().__init__(stream, status_code, merged, media_type, background)

    def encode_item(self, item: Any) -> bytes:
        """The bytes sent for one item the generator yielded."""
        if isinstance(item, ServerSentEvent):
            return item._encode(self.sep)
        if isinstance(item, (bytes, bytearray, memoryview)):
            return bytes(item)
        event = ServerSentEvent(**item) if isinstance(item, dict) else ServerSentEvent(item)
        return event._encode(self.sep)

    async def _send_chunks(self, send: Send) -> None:
        lock = anyio.Lock()
        finished = False
        timeout = self.send_timeout

        async def send_body(body: bytes, more_body: bool = True) -> bool:
            """Send under the lock; False once the stream is over or the client is gone."""
            nonlocal finished
            async with lock:
                if finished:
                    return False
                finished = not more_body
                message = {"type": "http.response.body", "body": body, "more_body": more_body}
                try:
                    with anyio.fail_after(timeout):
                        await send(message)
                except (OSError, TimeoutError):
                    # The client is gone (ASGI 2.4 servers raise OSError) or stopped reading.
                    finished = True
                    return False
                return True

        error: Exception | None = None
        async with anyio.create_task_group() as group:
            if self.ping_interval > 0:
                group.start_soon(self._ping, send_body)
            try:
                async for item in self.body_iterator:
                    if not await send_body(self.encode_item(item)):
                        break
                else:
                    await send_body(b"", more_body=False)
            except Exception as exc:  # raised as it is, not in an ExceptionGroup
                error = exc
            group.cancel_scope.cancel()
        if error is not None:
            raise error

    async def _ping(self, send_body: Callable[[bytes], Any]) -> None:
        while True:
            await anyio.sleep(self.ping_interval)
            if not await send_body(self.ping_message_factory()._encode(self.sep)):
                return
