"""WebSocket load: many chat clients in one room of ``examples.chat:app`` under a real uvicorn.

``python -m benchmarks.ws_load [--clients 200] [--messages 10]``

The server is a ``uvicorn`` subprocess on a free 127.0.0.1 port (uvloop and httptools when
installed, as in :mod:`benchmarks.soak`). The client, the ``websockets`` library on one event
loop in this process, then:

1. connects ``--clients`` clients to one room (at most 50 handshakes at a time) and waits until
   every join notice has arrived;
2. has every client send ``--messages`` messages in a burst, all at once, without waiting for
   anything, and waits until every client has received every message (the sender's own
   included): ``clients * clients * messages`` deliveries. Meanwhile it asks ``GET /stats`` over
   HTTP in a loop, to show the server keeps answering;
3. closes every client and polls ``/stats`` until the room registry is empty.

Printed: the time of each phase, messages sent per second and messages delivered per second
(all deliveries to all receivers / the burst's elapsed time), the CPU time the server and the
clients used during the burst, the HTTP answers during the burst (from a thread of their own)
and their slowest time, and members the server closed for being too slow (expected: none).
Client and server share the machine's cores, so the rates measure both sides together; on a
busy machine the CPU times say more than the rates. Every wait is bounded (``--timeout``): a
stuck run fails instead of hanging. The exit status is 1 when a delivery is missing or the room
registry is not empty at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from benchmarks.soak import HOST, _run_client, server_options, uvicorn_server

APP = "examples.chat:app"
ROOM = "load"
CONNECT_CONCURRENCY = 50


@dataclass
class LoadResult:
    """What one run saw. Times are in seconds."""

    clients: int
    messages: int
    connect_seconds: float = 0.0
    joins_seconds: float = 0.0
    burst_seconds: float = 0.0
    send_seconds: float = 0.0
    """Until the last client had handed its last message to its socket."""
    leave_seconds: float = 0.0
    deliveries: int = 0
    http_answers: int = 0
    http_statuses: set[int] = field(default_factory=set)
    http_slowest: float = 0.0
    closed_by_server: dict[int, int] = field(default_factory=dict)
    """Close codes of clients the server closed during the run, with their count."""
    registry_after: dict[str, object] = field(default_factory=dict)
    server_cpu_seconds: float = 0.0
    """CPU time (user + system) the server process used during the burst."""
    client_cpu_seconds: float = 0.0
    """CPU time this process (the clients) used during the burst."""

    @property
    def sent_per_second(self) -> float:
        return self.clients * self.messages / self.burst_seconds

    @property
    def delivered_per_second(self) -> float:
        return self.deliveries / self.burst_seconds


class Listener:
    """One client's reader: counts the join notices and messages it receives."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.joins = 0
        self.messages = 0
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                # The server's JSON is compact: the type is the first key.
                if isinstance(frame, str) and frame.startswith('{"type":"message"'):
                    self.messages += 1
                elif isinstance(frame, str) and frame.startswith('{"type":"join"'):
                    self.joins += 1
        except ConnectionClosed:
            pass


def poll_http(port: int, result: LoadResult, done: threading.Event, timeout: float) -> None:
    """Ask ``GET /stats`` every 50 ms until ``done``, recording the answers and the slowest
    (status 0: no answer, the connection failed).

    It runs in a thread of its own, so a busy client event loop does not delay the readings.
    """
    request = f"GET /stats HTTP/1.1\r\nhost: {HOST}\r\nconnection: close\r\n\r\n".encode()
    while not done.is_set():
        asked = time.perf_counter()
        answer = b""
        try:
            with socket.create_connection((HOST, port), timeout=timeout) as sock:
                sock.sendall(request)
                while chunk := sock.recv(65536):
                    answer += chunk
        except OSError:
            answer = b""
        result.http_slowest = max(result.http_slowest, time.perf_counter() - asked)
        result.http_answers += 1
        result.http_statuses.add(int(answer[9:12]) if answer[9:12].isdigit() else 0)
        done.wait(0.05)


async def http_get(port: int, path: str) -> tuple[int, bytes]:
    """One ``GET`` on a fresh connection: status and body."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nhost: {HOST}\r\nconnection: close\r\n\r\n".encode())
        answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head[9:12]), body


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition()`` every few milliseconds; ``TimeoutError`` naming ``what`` if it never
    holds within ``timeout`` seconds."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.005)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(port: int, result: LoadResult, timeout: float, server_pid: int) -> None:
    """Connect, burst, disconnect (see the module docstring)."""
    clients, messages = result.clients, result.messages
    connecting = asyncio.Semaphore(CONNECT_CONCURRENCY)
    sockets: list[ClientConnection] = []

    async def join(number: int) -> None:
        async with connecting:
            ws = await connect(
                f"ws://{HOST}:{port}/ws/{ROOM}?user=user{number}",
                proxy=None,
                compression=None,
                open_timeout=timeout,
                max_queue=None,  # the listener reads everything; let it buffer freely
            )
        sockets.append(ws)

    burst_done = threading.Event()
    start = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*(join(n) for n in range(clients))), timeout)
        result.connect_seconds = time.perf_counter() - start
        listeners = [Listener(ws) for ws in sockets]

        # The k-th client to join hears its own join and those of everyone after it.
        all_joins = clients * (clients + 1) // 2
        await wait_until(
            lambda: sum(listener.joins for listener in listeners) >= all_joins,
            timeout,
            "the join notices",
        )
        result.joins_seconds = time.perf_counter() - start - result.connect_seconds

        poller = threading.Thread(
            target=poll_http, args=(port, result, burst_done, timeout), daemon=True
        )

        async def burst(ws: ClientConnection, number: int) -> None:
            for index in range(messages):
                await ws.send(json.dumps({"text": f"{number}:{index}"}))

        poller.start()
        server_cpu, client_cpu = cpu_seconds(server_pid), time.process_time()
        burst_start = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(burst(ws, n) for n, ws in enumerate(sockets))), timeout
        )
        result.send_seconds = time.perf_counter() - burst_start
        per_client = clients * messages
        await wait_until(
            lambda: all(
                listener.messages >= per_client or listener.task.done() for listener in listeners
            ),
            timeout,
            "every message to reach every client",
        )
        result.burst_seconds = time.perf_counter() - burst_start
        result.server_cpu_seconds = cpu_seconds(server_pid) - server_cpu
        result.client_cpu_seconds = time.process_time() - client_cpu
        burst_done.set()
        await asyncio.to_thread(poller.join)
        result.deliveries = sum(listener.messages for listener in listeners)
        for ws in sockets:
            if ws.close_code is not None:
                result.closed_by_server[ws.close_code] = (
                    result.closed_by_server.get(ws.close_code, 0) + 1
                )

        leave_start = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(ws.close() for ws in sockets)), timeout)
        deadline = time.perf_counter() + timeout
        while True:
            _, body = await http_get(port, "/stats")
            result.registry_after = json.loads(body)
            if result.registry_after.get("members") == 0 or time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.01)
        result.leave_seconds = time.perf_counter() - leave_start
    finally:
        burst_done.set()
        for ws in sockets:
            ws.transport.abort()


def run_load(clients: int = 200, messages: int = 10, timeout: float = 120.0) -> LoadResult:
    """Serve the chat with uvicorn and run the load against it; the server is stopped on return."""
    result = LoadResult(clients=clients, messages=messages)
    with uvicorn_server(APP) as (process, port):
        _run_client(drive(port, result, timeout, process.pid))
    return result


def report(result: LoadResult) -> list[str]:
    """The result as lines of text."""
    loop, http = server_options()
    expected = result.clients * result.clients * result.messages
    return [
        f"uvicorn ({loop}, {http}) serving {APP}; Python {sys.version.split()[0]}",
        f"{result.clients} clients in one room, {result.messages} messages each in a burst",
        f"connect:   {result.connect_seconds:8.2f} s",
        f"joins:     {result.joins_seconds:8.2f} s  (all {result.clients * (result.clients + 1) // 2:,} join notices)",
        f"burst:     {result.burst_seconds:8.2f} s  (sending took {result.send_seconds:.2f} s; CPU: server {result.server_cpu_seconds:.2f} s, clients {result.client_cpu_seconds:.2f} s)",
        f"sent:      {result.sent_per_second:10,.0f} messages/s  ({result.clients * result.messages:,} messages)",
        f"delivered: {result.delivered_per_second:10,.0f} messages/s  ({result.deliveries:,} of {expected:,} deliveries)",
        f"HTTP during the burst: {result.http_answers} answers, statuses {sorted(result.http_statuses)}, slowest {result.http_slowest * 1000:.0f} ms",
        f"closed by the server: {result.closed_by_server or 'none'}",
        f"leave:     {result.leave_seconds:8.2f} s  (registry after: {result.registry_after})",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="clients in the room (200)")
    parser.add_argument("--messages", type=int, default=10, help="messages each client sends (10)")
    parser.add_argument("--timeout", type=float, default=120.0, help="bound on each phase (120)")
    options = parser.parse_args(argv)
    if options.clients < 1 or options.messages < 1:
        parser.error("--clients and --messages must be at least 1")
    result = run_load(options.clients, options.messages, options.timeout)
    for line in report(result):
        print(line, flush=True)
    complete = result.deliveries == options.clients**2 * options.messages
    return 0 if complete and result.registry_after.get("members") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
