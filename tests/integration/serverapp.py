"""The application the integration tests serve with real ASGI servers.

The servers import it as ``serverapp:app`` (the test helpers put this folder on ``PYTHONPATH``).
It only uses anyio for waiting, so it runs the same on asyncio and on trio.

Environment variables read at startup:

- ``FRAMEWORK_IT_SHUTDOWN_MARKER``: a file the lifespan writes when shutdown runs.
- ``FRAMEWORK_IT_FAIL_STARTUP``: when set, the lifespan raises with this text as the message.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio

from framework import App, HTTPException, PlainTextResponse, Request, StreamingResponse

SHUTDOWN_MARKER_ENV = "FRAMEWORK_IT_SHUTDOWN_MARKER"
FAIL_STARTUP_ENV = "FRAMEWORK_IT_FAIL_STARTUP"

# What happened inside this server process, for tests that cannot see it from the response.
closed_streams: set[str] = set()
counters: dict[str, int] = {"upload_started": 0, "upload_finished": 0}


async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
    failure = os.environ.get(FAIL_STARTUP_ENV)
    if failure:
        raise RuntimeError(failure)
    yield {"started_at": time.time(), "server_pid": os.getpid()}
    marker = os.environ.get(SHUTDOWN_MARKER_ENV)
    if marker:
        with open(marker, "w") as file:
            file.write(f"shutdown ran in {os.getpid()}\n")


app = App(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/hello")
async def hello() -> PlainTextResponse:
    return PlainTextResponse("hello, world")


@app.get("/items/{item_id}")
async def read_item(item_id: str) -> dict[str, str]:
    return {"item_id": item_id}


@app.get("/only-get")
async def only_get() -> dict[str, str]:
    return {"method": "GET"}


@app.get("/slashed/")
async def slashed() -> dict[str, str]:
    return {"route": "/slashed/"}


@app.get("/state")
async def state(request: Request) -> dict[str, Any]:
    return {
        "started_at": request.state.started_at,
        "server_pid": request.state.server_pid,
        "handler_pid": os.getpid(),
    }


# -- streaming ------------------------------------------------------------------------------------


@app.post("/echo")
async def echo(request: Request) -> StreamingResponse:
    # Echo the body as it arrives; the header tells the test how the body was framed.
    framing = request.headers.get("transfer-encoding", "")
    return StreamingResponse(
        request.stream(),
        media_type="application/octet-stream",
        headers={"x-request-transfer-encoding": framing},
    )


def stream_lines(count: int) -> list[bytes]:
    """The chunks the /stream/* routes send (the tests build the expected body from it)."""
    return [f"line {index:03d} of {count}\n".encode() for index in range(count)]


@app.get("/stream/async")
async def stream_async() -> StreamingResponse:
    async def lines() -> AsyncIterator[bytes]:
        for line in stream_lines(50):
            await anyio.sleep(0)
            yield line

    return StreamingResponse(lines(), media_type="text/plain")


@app.get("/stream/sync")
async def stream_sync() -> StreamingResponse:
    def lines() -> Iterator[str]:
        for line in stream_lines(50):
            yield line.decode()  # str chunks: the response encodes them

    return StreamingResponse(lines(), media_type="text/plain")


@app.get("/stream/forever/{token}")
async def stream_forever(token: str) -> StreamingResponse:
    async def ticks() -> AsyncIterator[bytes]:
        number = 0
        try:
            while True:
                yield f"tick {number}\n".encode()
                number += 1
                await anyio.sleep(0.01)
        finally:
            closed_streams.add(token)

    return StreamingResponse(ticks(), media_type="text/plain")


@app.get("/stream/closed/{token}")
async def stream_closed(token: str) -> dict[str, bool]:
    return {"closed": token in closed_streams}


# -- request input --------------------------------------------------------------------------------


@app.get("/query")
async def query(request: Request) -> dict[str, Any]:
    return {
        "q": request.query_params.get("q"),
        "raw": request.scope["query_string"].decode("latin-1"),
    }


@app.get("/header")
async def header(request: Request) -> dict[str, Any]:
    return {"x_name": request.headers.get("x-name")}


@app.get("/path/{rest:path}")
async def any_path(rest: str) -> dict[str, str]:
    return {"rest": rest}


@app.post("/json")
async def post_json(request: Request) -> dict[str, Any]:
    return {"received": await request.json(), "content_type": request.headers.get("content-type")}


@app.post("/form")
async def post_form(request: Request) -> dict[str, Any]:
    form = await request.form()
    fields: dict[str, Any] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields[name] = value
        else:
            fields[name] = {"filename": value.filename, "content": (await value.read()).decode()}
    return fields


@app.post("/upload")
async def upload(request: Request) -> dict[str, int]:
    counters["upload_started"] += 1
    try:
        body = await request.body()
    finally:
        counters["upload_finished"] += 1
    return {"size": len(body)}


@app.get("/counters")
async def get_counters() -> dict[str, int]:
    return counters


@app.post("/small", max_body_size=1024)
async def small(request: Request) -> dict[str, int]:
    return {"size": len(await request.body())}


@app.get("/teapot")
async def teapot() -> None:
    raise HTTPException(418, detail="I'm a teapot")
