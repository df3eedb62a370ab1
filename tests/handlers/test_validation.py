"""422 answers: FastAPI's body shape for every location, invalid JSON, custom handlers for
RequestValidationError (framework/solving.py, framework/exception_handlers.py).

The expected bodies are the ones FastAPI 0.165 gives for the same handlers, written out here.
"""

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, field_validator

from framework import (
    App,
    Body,
    Cookie,
    Form,
    Header,
    JSONResponse,
    Path,
    Query,
    Request,
    RequestValidationError,
    WebSocket,
    WebSocketDisconnect,
)
from framework.exception_handlers import request_validation_exception_handler
from framework.testclient import TestClient

JSON = {"content-type": "application/json"}


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    tags: list[str] = []


class Checked(BaseModel):
    x: int

    @field_validator("x")
    @classmethod
    def not_three(cls, value: int) -> int:
        if value == 3:
            raise ValueError("three is bad")
        return value


def missing(loc: list[Any], value: Any = None) -> dict[str, Any]:
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": value}


def json_invalid(position: int, reason: str) -> dict[str, Any]:
    return {
        "type": "json_invalid",
        "loc": ["body", position],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": reason},
    }


def model_attributes_type(value: Any) -> dict[str, Any]:
    return {
        "type": "model_attributes_type",
        "loc": ["body"],
        "msg": "Input should be a valid dictionary or object to extract fields from",
        "input": value,
    }


@pytest.fixture
def client() -> TestClient:
    app = App()

    @app.post("/items/{item_id}")
    async def create(
        item_id: Annotated[int, Path(ge=1)],
        item: Item,
        q: Annotated[int, Query()],
        x_token: Annotated[str, Header()],
        session: Annotated[int, Cookie()],
    ) -> dict[str, Any]:
        return {"ok": True}

    @app.post("/item")
    async def one(item: Item) -> str:
        return item.name

    @app.post("/embedded")
    async def embedded(item: Item, note: Annotated[str, Body()]) -> str:
        return note

    @app.post("/checked")
    async def checked(value: Checked) -> int:
        return value.x

    @app.post("/checked-list")
    async def checked_list(values: list[Checked]) -> int:
        return len(values)

    @app.post("/dict")
    async def mapping(data: dict[str, list[int]]) -> int:
        return len(data)

    return TestClient(app)


# -- the shape ------------------------------------------------------------------------------------


def test_every_location_in_one_answer(client: TestClient) -> None:
    response = client.post("/items/0?q=x", json={"price": -1}, headers={"cookie": "session=s"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "detail": [
            {
                "type": "greater_than_equal",
                "loc": ["path", "item_id"],
                "msg": "Input should be greater than or equal to 1",
                "input": "0",
                "ctx": {"ge": 1},
            },
            {
                "type": "int_parsing",
                "loc": ["query", "q"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "x",
            },
            missing(["header", "x-token"]),
            {
                "type": "int_parsing",
                "loc": ["cookie", "session"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "s",
            },
            missing(["body", "name"], {"price": -1}),
            {
                "type": "greater_than",
                "loc": ["body", "price"],
                "msg": "Input should be greater than 0",
                "input": -1,
                "ctx": {"gt": 0.0},
            },
        ]
    }


def test_every_error_has_exactly_the_documented_keys(client: TestClient) -> None:
    response = client.post("/items/0?q=x", json={"name": 1, "price": "x"})
    assert len(response.json()["detail"]) == 6
    for error in response.json()["detail"]:
        assert set(error) in (
            {"type", "loc", "msg", "input"},
            {"type", "loc", "msg", "input", "ctx"},
        )
        assert error["loc"][0] in ("path", "query", "header", "cookie", "body")


def test_the_handler_is_not_called_when_validation_fails() -> None:
    app = App()
    calls: list[int] = []

    @app.get("/q")
    async def handler(n: int) -> int:
        calls.append(n)
        return n

    client = TestClient(app)
    assert client.get("/q?n=x").status_code == 422
    assert client.get("/q?n=1").json() == 1
    assert calls == [1]


def test_nested_body_locations(client: TestClient) -> None:
    body = {"name": 1, "price": "x", "tags": ["a", 2]}
    assert client.post("/item", json=body).json() == {
        "detail": [
            {
                "type": "string_type",
                "loc": ["body", "name"],
                "msg": "Input should be a valid string",
                "input": 1,
            },
            {
                "type": "float_parsing",
                "loc": ["body", "price"],
                "msg": "Input should be a valid number, unable to parse string as a number",
                "input": "x",
            },
            {
                "type": "string_type",
                "loc": ["body", "tags", 1],
                "msg": "Input should be a valid string",
                "input": 2,
            },
        ]
    }
    assert client.post("/dict", json={"a": [1, "x"]}).json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["body", "a", 1],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "x",
            }
        ]
    }


def test_validator_errors_carry_an_empty_error_context(client: TestClient) -> None:
    value_error = {
        "type": "value_error",
        "loc": ["body", "x"],
        "msg": "Value error, three is bad",
        "input": 3,
        "ctx": {"error": {}},
    }
    assert client.post("/checked", json={"x": 3}).json() == {"detail": [value_error]}
    response = client.post("/checked-list", json=[{"x": 1}, {"x": 3}, {}])
    assert response.json() == {
        "detail": [
            {**value_error, "loc": ["body", 1, "x"]},
            missing(["body", 2, "x"], {}),
        ]
    }


# -- bodies of the wrong kind ---------------------------------------------------------------------


def test_a_body_that_is_not_an_object(client: TestClient) -> None:
    assert client.post("/item", json=[1, 2]).json() == {"detail": [model_attributes_type([1, 2])]}
    assert client.post("/item", json="text").json() == {"detail": [model_attributes_type("text")]}
    assert client.post("/dict", json=[1]).json() == {
        "detail": [
            {
                "type": "dict_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary",
                "input": [1],
            }
        ]
    }


def test_a_body_that_is_not_json_by_its_content_type(client: TestClient) -> None:
    body = '{"name": "a", "price": 1}'
    response = client.post("/item", content=body, headers={"content-type": "text/plain"})
    assert response.json() == {"detail": [model_attributes_type(body)]}
    form = "name=a&price=1"
    form_type = {"content-type": "application/x-www-form-urlencoded"}
    response = client.post("/item", content=form, headers=form_type)
    assert response.json() == {"detail": [model_attributes_type(form)]}
    # Embedded values cannot be read from it: each one is missing.
    response = client.post("/embedded", content=body, headers={"content-type": "text/plain"})
    assert response.json() == {"detail": [missing(["body", "item"]), missing(["body", "note"])]}


def test_a_missing_body(client: TestClient) -> None:
    assert client.post("/item").json() == {"detail": [missing(["body"])]}
    assert client.post("/embedded").json() == {
        "detail": [missing(["body", "item"]), missing(["body", "note"])]
    }


def test_json_null_for_a_required_body(client: TestClient) -> None:
    response = client.post("/item", content=b"null", headers=JSON)
    assert response.json() == {"detail": [model_attributes_type(None)]}
    response = client.post("/embedded", content=b"null", headers=JSON)
    assert response.json() == {"detail": [missing(["body", "item"]), missing(["body", "note"])]}


# -- invalid JSON ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{bad", json_invalid(1, "Expecting property name enclosed in double quotes")),
        (b"[1,]", json_invalid(3, "Expecting value")),
        (b'{"name": "a", "price": 1} x', json_invalid(26, "Extra data")),
        (b'\n\n  {"name": 1,\n "price": }', json_invalid(26, "Expecting value")),
        (b'{"name": "a"', json_invalid(12, "Expecting ',' delimiter")),
        (b"{'name': 'a'}", json_invalid(1, "Expecting property name enclosed in double quotes")),
        (b"\xff\xfe", json_invalid(0, "Expecting value")),
        (b" ", json_invalid(1, "Expecting value")),
    ],
)
def test_invalid_json_in_fastapis_shape(
    client: TestClient, body: bytes, expected: dict[str, Any]
) -> None:
    response = client.post("/item", content=body, headers=JSON)
    assert response.status_code == 422
    assert response.json() == {"detail": [expected]}


def test_invalid_json_for_embedded_and_other_bodies(client: TestClient) -> None:
    expected = {"detail": [json_invalid(1, "Expecting property name enclosed in double quotes")]}
    for path in ("/embedded", "/dict", "/checked-list"):
        assert client.post(path, content=b"{bad", headers=JSON).json() == expected, path


def test_invalid_json_is_the_only_error_reported(client: TestClient) -> None:
    # As FastAPI: the other locations' problems are not reported with it.
    response = client.post("/items/0?q=x", content=b"[", headers=JSON)
    assert response.json() == {"detail": [json_invalid(1, "Expecting value")]}


def test_invalid_json_with_a_json_suffix_media_type(client: TestClient) -> None:
    response = client.post("/item", content=b"{bad", headers={"content-type": "application/x+json"})
    assert response.json()["detail"][0]["type"] == "json_invalid"


# -- handling RequestValidationError --------------------------------------------------------------


def test_custom_handler_can_call_the_default_one() -> None:
    app = App()
    seen: list[tuple[list[dict[str, Any]], Any]] = []

    @app.exception_handler(RequestValidationError)
    async def logged(request: Request, exc: RequestValidationError) -> Any:
        seen.append((exc.errors(), exc.body))
        response = await request_validation_exception_handler(request, exc)
        response.headers["x-validation"] = "failed"
        return response

    @app.post("/item")
    async def create(item: Item) -> str:
        return item.name

    client = TestClient(app)
    response = client.post("/item", json={"name": "a", "price": 0})
    assert response.status_code == 422
    assert response.headers["x-validation"] == "failed"
    error = {
        "type": "greater_than",
        "loc": ["body", "price"],
        "msg": "Input should be greater than 0",
        "input": 0,
        "ctx": {"gt": 0.0},
    }
    assert response.json() == {"detail": [error]}
    assert seen == [([error], {"name": "a", "price": 0})]
    assert client.post("/item", json={"name": "a", "price": 1}).json() == "a"
    # A body that is not JSON: the handler sees it as text.
    response = client.post("/item", content=b'{"name": \xff', headers=JSON)
    assert response.headers["x-validation"] == "failed"
    assert seen[-1][1] == '{"name": \ufffd'
    assert seen[-1][0][0]["type"] == "json_invalid"


def test_custom_handler_replaces_the_answer() -> None:
    def flat(request: Request, exc: RequestValidationError) -> JSONResponse:  # a sync handler
        fields = [".".join(str(part) for part in error["loc"]) for error in exc.errors()]
        return JSONResponse({"invalid": fields, "path": request.url.path}, status_code=400)

    app = App(exception_handlers={RequestValidationError: flat})

    @app.get("/q/{n}")
    async def handler(n: int, flag: bool, form: Annotated[str | None, Form()] = None) -> int:
        return n

    client = TestClient(app)
    response = client.get("/q/x?flag=maybe")
    assert response.status_code == 400
    assert response.json() == {"invalid": ["path.n", "query.flag"], "path": "/q/x"}


def test_request_validation_error_body_of_a_form() -> None:
    app = App()
    bodies: list[Any] = []

    @app.exception_handler(RequestValidationError)
    async def keep(request: Request, exc: RequestValidationError) -> Any:
        bodies.append(exc.body)
        return await request_validation_exception_handler(request, exc)

    @app.post("/login")
    async def login(name: Annotated[str, Form()], age: Annotated[int, Form()]) -> str:
        return name

    response = TestClient(app).post("/login", data={"name": "n", "age": "x"})
    assert response.status_code == 422
    assert [(key, value) for key, value in bodies[0].multi_items()] == [("name", "n"), ("age", "x")]


def test_websocket_parameters_that_do_not_validate_close_with_1008() -> None:
    app = App()

    @app.websocket("/ws")
    async def chat(websocket: WebSocket, room: Annotated[int, Query()]) -> None:
        await websocket.accept()
        await websocket.close()

    client = TestClient(app)
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/ws?room=x"):
        pass
    assert refused.value.code == 1008
    assert "query.room" in refused.value.reason
