"""examples/middleware.py: a plain ASGI timing middleware and a dispatch-style request id."""

import re

import anyio
import pytest

from examples.middleware import ProcessTimeMiddleware, app
from framework import App, PlainTextResponse
from framework.testclient import TestClient
from framework.types import Message, Receive, Scope, Send

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def client() -> TestClient:
    return TestClient(app)


def test_process_time_header_is_a_number_of_seconds(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert re.fullmatch(r"\d+\.\d{6}", response.headers["x-process-time"])


def test_request_id_from_the_client_is_kept(client: TestClient) -> None:
    response = client.get("/", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json() == {"request_id": "abc-123"}  # the handler saw it in request.state


def test_request_id_is_generated_when_missing_or_too_long(client: TestClient) -> None:
    first = client.get("/")
    second = client.get("/", headers={"x-request-id": "x" * 129})
    for response in (first, second):
        assert HEX_ID.fullmatch(response.headers["x-request-id"])
        assert response.json() == {"request_id": response.headers["x-request-id"]}
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_timing_middleware_is_outermost(client: TestClient) -> None:
    # Added last, ProcessTimeMiddleware sees the response after add_request_id set its header,
    # so it appends x-process-time behind x-request-id.
    names = list(client.get("/").headers.keys())
    assert names.index("x-request-id") < names.index("x-process-time")


def test_error_answers_pass_through_both_middleware(client: TestClient) -> None:
    response = client.get("/missing", headers={"x-request-id": "r-404"})
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "r-404"
    assert "x-process-time" in response.headers


def test_streaming_response_keeps_its_body_and_gets_the_header() -> None:
    other = App()
    other.add_middleware(ProcessTimeMiddleware, header="X-Elapsed")

    @other.get("/")
    async def index() -> PlainTextResponse:
        return PlainTextResponse("done")

    response = TestClient(other).get("/")
    assert response.text == "done"
    assert response.headers["content-length"] == "4"
    assert "x-elapsed" in response.headers


def test_non_http_scopes_pass_through_untouched() -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        raise AssertionError("the middleware must not send anything itself")

    scope: Scope = {"type": "websocket", "path": "/ws", "headers": []}
    anyio.run(ProcessTimeMiddleware(inner), scope, receive, send)
    assert len(seen) == 1
    assert seen[0][0] is scope
    assert seen[0][1] is receive
    assert seen[0][2] is send
    assert scope == {"type": "websocket", "path": "/ws", "headers": []}
