"""The seed article's HTTP echo server, grown up: ``POST /echo`` sends the body straight back.

The article's raw ASGI echo collects the whole body with ``receive()`` before answering. Here
``request.stream()`` yields the body chunk by chunk as the server receives it, and
``StreamingResponse`` sends each chunk on at once: an upload of any size passes through in
constant memory, and the reply starts before the upload ends. The reply carries the request's
``Content-Type`` (``application/octet-stream`` when it has none).

Since the body is never held, the route lifts the app's body size limit (16 MiB by default) with
``max_body_size=None``: memory use stays flat whatever the size of the upload.

Run it::

    uvicorn examples.echo:app
    curl --data-binary @some-file -H 'content-type: image/png' http://127.0.0.1:8000/echo > copy
    curl http://127.0.0.1:8000/                                 # how to use it
"""

from framework import App, PlainTextResponse, Request, StreamingResponse

app = App(title="Echo")

USAGE = """\
POST a body to /echo and get the same bytes back, streamed as they arrive.

    curl --data-binary @file -H 'content-type: text/csv' http://HOST/echo
"""


@app.get("/", response_class=PlainTextResponse)
async def usage() -> str:
    return USAGE


@app.post("/echo", max_body_size=None)
async def echo(request: Request) -> StreamingResponse:
    media_type = request.headers.get("content-type") or "application/octet-stream"
    return StreamingResponse(request.stream(), media_type=media_type)
