"""Bad input to typed handlers through real servers: a 4xx with a clear detail, the answer small,
and the server still serving afterwards.

The app is written to a temporary folder and served from there by each server kind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .servers import SERVER_KINDS, ServerProcess

MiB = 1024 * 1024
JSON = {"content-type": "application/json"}

APP_SOURCE = """
from typing import Annotated, Any

from pydantic import BaseModel

from framework import App, Body


class Item(BaseModel):
    name: str
    price: float


app = App(max_body_size=12 * 1024 * 1024)


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@app.post("/item")
async def item(item: Item) -> dict[str, Any]:
    return {"name_length": len(item.name), "price": item.price}


@app.post("/ints")
async def ints(data: Annotated[list[int], Body()]) -> int:
    return len(data)


@app.post("/any")
async def anything(data: Annotated[Any, Body()]) -> str:
    return type(data).__name__


@app.get("/q")
async def query(n: int) -> int:
    return n
"""


@pytest.fixture(scope="module", params=SERVER_KINDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    kind: str = request.param
    folder: Path = tmp_path_factory.mktemp(f"typed-{kind}")
    (folder / "typedapp.py").write_text(APP_SOURCE)
    with ServerProcess.start(
        kind, "typedapp:app", log_path=folder / "server.log", app_dir=folder, ready_path="/health"
    ) as process:
        yield process


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30.0) as http_client:
        yield http_client


def assert_still_serving(server: ServerProcess) -> None:
    response = httpx.get(f"{server.url}/health", timeout=5.0)
    assert response.json() == {"ok": True}


def test_a_10_mib_json_body(server: ServerProcess, client: httpx.Client) -> None:
    body = json.dumps({"name": "x" * (10 * MiB), "price": 2.5})
    response = client.post("/item", content=body, headers=JSON)
    assert response.status_code == 200
    assert response.json() == {"name_length": 10 * MiB, "price": 2.5}
    # Not JSON: a 422 that does not echo the 10 MiB back.
    response = client.post("/item", content=body[:-1], headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert len(response.content) < 200
    assert_still_serving(server)


def test_a_body_over_the_limit(server: ServerProcess, client: httpx.Client) -> None:
    body = json.dumps({"name": "x" * (13 * MiB), "price": 1})
    response = client.post("/item", content=body, headers=JSON)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    assert_still_serving(server)


def test_json_nested_10000_levels(server: ServerProcess, client: httpx.Client) -> None:
    response = client.post("/any", content=b"[" * 10_000 + b"]" * 10_000, headers=JSON)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["type"] == "json_invalid"
    assert error["ctx"] == {"error": "recursion limit exceeded"}
    assert_still_serving(server)


def test_half_a_million_wrong_items_get_a_short_answer(
    server: ServerProcess, client: httpx.Client
) -> None:
    body = "[" + ",".join(['"x"'] * 500_000) + "]"
    response = client.post("/ints", content=body, headers=JSON)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["body", 0],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "x",
            }
        ]
    }
    assert_still_serving(server)


def test_invalid_utf8_huge_numbers_and_repeated_keys(
    server: ServerProcess, client: httpx.Client
) -> None:
    response = client.post("/item", content=b'{"name": "\xff", "price": 1}', headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    response = client.get("/q", params={"n": "9" * 5000})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "int_parsing_size"
    assert client.get("/q?n=1&n=2").json() == 2
    response = client.post("/ints", content=b"[1e400]", headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["input"] == "Infinity"
    assert_still_serving(server)
