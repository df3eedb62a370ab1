"""Response models, status codes and response classes (framework/handlers/serialize.py,
framework/handlers/pipeline.py)."""

import dataclasses
import logging
from typing import Any

import pytest
from pydantic import BaseModel, Field

from framework import (
    App,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    ResponseValidationError,
    Router,
)
from framework.testclient import TestClient


class UserIn(BaseModel):
    name: str
    email: str
    password: str


class UserOut(BaseModel):
    name: str
    email: str


class Item(BaseModel):
    name: str
    price: float
    tax: float = 10.5
    description: str | None = None
    tags: list[str] = []


class Aliased(BaseModel):
    item_id: int = Field(alias="itemId")
    display_name: str = Field(alias="displayName")


@dataclasses.dataclass
class Point:
    x: int
    y: int
    label: str = "origin"


SECRET = UserIn(name="ann", email="ann@example.org", password="hunter2")


# -- filtering ------------------------------------------------------------------------------------


def test_response_model_filters_out_undeclared_fields() -> None:
    app = App()

    @app.post("/users", response_model=UserOut)
    async def create(user: UserIn) -> Any:
        return user

    @app.get("/dict", response_model=UserOut)
    async def as_dict() -> Any:
        return SECRET.model_dump()

    @app.get("/object", response_model=UserOut)
    def as_object() -> Any:
        class Row:  # an ORM-like object: read from attributes
            name = "bob"
            email = "bob@example.org"
            password = "pw"

        return Row()

    client = TestClient(app)
    response = client.post("/users", json=SECRET.model_dump())
    assert response.status_code == 200
    assert response.json() == {"name": "ann", "email": "ann@example.org"}
    assert "hunter2" not in response.text
    assert client.get("/dict").json() == {"name": "ann", "email": "ann@example.org"}
    assert client.get("/object").json() == {"name": "bob", "email": "bob@example.org"}


class UserBase(BaseModel):
    name: str


class UserWithSecret(UserBase):
    password: str


class Team(BaseModel):
    owner: UserBase
    members: list[UserBase] = []
    motto: str | None = None


def test_subclass_instances_are_filtered_also_when_nested() -> None:
    app = App()
    secret = UserWithSecret(name="ann", password="leaked-secret")

    @app.get("/sub", response_model=UserBase)
    async def sub() -> Any:
        return secret

    @app.get("/team")
    async def team() -> Team:
        return Team(owner=secret, members=[secret])

    @app.get("/mapping", response_model=dict[str, UserBase])
    async def mapping() -> Any:
        return {"owner": secret}

    client = TestClient(app)
    assert client.get("/sub").json() == {"name": "ann"}
    assert client.get("/team").json() == {
        "owner": {"name": "ann"},
        "members": [{"name": "ann"}],
        "motto": None,
    }
    assert client.get("/mapping").json() == {"owner": {"name": "ann"}}
    for path in ("/sub", "/team", "/mapping"):
        assert "leaked-secret" not in client.get(path).text


def test_return_annotation_is_the_response_model() -> None:
    app = App()

    @app.get("/me")
    async def me() -> UserOut:
        return SECRET  # type: ignore[return-value]  # a UserIn: filtered by the annotation

    @app.get("/many")
    def many() -> list[UserOut]:
        return [SECRET, UserOut(name="bob", email="b@x")]  # type: ignore[list-item]

    client = TestClient(app)
    assert client.get("/me").json() == {"name": "ann", "email": "ann@example.org"}
    assert client.get("/many").json() == [
        {"name": "ann", "email": "ann@example.org"},
        {"name": "bob", "email": "b@x"},
    ]


def test_response_model_option_wins_over_the_annotation() -> None:
    app = App()

    @app.get("/", response_model=UserOut)
    async def index() -> dict[str, Any]:
        return {"name": "ann", "email": "a@x", "password": "pw", "extra": 1}

    assert TestClient(app).get("/").json() == {"name": "ann", "email": "a@x"}


def test_response_model_none_disables_the_annotation() -> None:
    app = App()

    @app.get("/", response_model=None)
    async def index() -> UserOut:
        return {"anything": "goes", "password": "not filtered"}  # type: ignore[return-value]

    response = TestClient(app).get("/")
    assert response.status_code == 200
    assert response.json() == {"anything": "goes", "password": "not filtered"}


def test_returned_response_bypasses_the_model() -> None:
    app = App()

    @app.get("/plain", response_model=UserOut)
    async def plain() -> Any:
        return PlainTextResponse("raw text", status_code=202)

    @app.get("/json")
    async def json_response() -> UserOut:
        return JSONResponse({"password": "kept"}, headers={"X-Raw": "1"})  # type: ignore[return-value]

    @app.get("/union")
    async def union(raw: bool = False) -> UserOut | Response:
        if raw:
            return Response(b"\x00\x01", media_type="application/octet-stream")
        return SECRET

    client = TestClient(app)
    plain_response = client.get("/plain")
    assert (plain_response.status_code, plain_response.text) == (202, "raw text")
    raw = client.get("/json")
    assert raw.json() == {"password": "kept"}
    assert raw.headers["x-raw"] == "1"
    assert client.get("/union?raw=true").content == b"\x00\x01"
    # Not a Response: still filtered by the rest of the annotation.
    assert client.get("/union").json() == {"name": "ann", "email": "ann@example.org"}


def test_dataclass_and_list_of_models() -> None:
    app = App()

    @app.get("/point")
    async def point() -> Point:
        return Point(1, 2)

    @app.get("/points", response_model=list[Point])
    async def points() -> Any:
        return [{"x": 1, "y": 2, "z": 3}, Point(3, 4, "p")]

    @app.get("/items")
    def items() -> list[Item]:
        return [Item(name="a", price=1), Item(name="b", price=2, tags=["t"])]

    client = TestClient(app)
    assert client.get("/point").json() == {"x": 1, "y": 2, "label": "origin"}
    assert client.get("/points").json() == [
        {"x": 1, "y": 2, "label": "origin"},
        {"x": 3, "y": 4, "label": "p"},
    ]
    assert client.get("/items").json() == [
        {"name": "a", "price": 1.0, "tax": 10.5, "description": None, "tags": []},
        {"name": "b", "price": 2.0, "tax": 10.5, "description": None, "tags": ["t"]},
    ]


def test_values_are_coerced_to_the_model() -> None:
    app = App()

    @app.get("/")
    async def index() -> Item:
        return {"name": "n", "price": "3.5"}  # type: ignore[return-value]

    assert TestClient(app).get("/").json() == {
        "name": "n",
        "price": 3.5,
        "tax": 10.5,
        "description": None,
        "tags": [],
    }


# -- response_model_* options ---------------------------------------------------------------------


def items_app() -> App:
    app = App()
    partial = Item(name="foo", price=50.2)
    full = Item(name="bar", price=62, tax=20.2, description="The bar", tags=["x"])

    @app.get("/unset/{which}", response_model=Item, response_model_exclude_unset=True)
    async def unset(which: str) -> Any:
        return {"partial": partial, "full": full, "dict": {"name": "d", "price": 1}}[which]

    @app.get("/defaults", response_model=Item, response_model_exclude_defaults=True)
    async def defaults() -> Any:
        return Item(name="d", price=1, tax=10.5, description="set")

    @app.get("/none", response_model=Item, response_model_exclude_none=True)
    async def none() -> Any:
        return partial

    @app.get("/include", response_model=Item, response_model_include={"name", "price"})
    async def include() -> Any:
        return full

    @app.get("/exclude", response_model=Item, response_model_exclude={"tax", "tags"})
    async def exclude() -> Any:
        return full

    @app.get("/list-unset", response_model=list[Item], response_model_exclude_unset=True)
    async def list_unset() -> Any:
        return [partial, {"name": "d", "price": 1, "tax": 0}]

    return app


def test_response_model_exclude_unset() -> None:
    client = TestClient(items_app())
    assert client.get("/unset/partial").json() == {"name": "foo", "price": 50.2}
    assert client.get("/unset/full").json() == {
        "name": "bar",
        "price": 62.0,
        "tax": 20.2,
        "description": "The bar",
        "tags": ["x"],
    }
    assert client.get("/unset/dict").json() == {"name": "d", "price": 1.0}
    assert client.get("/list-unset").json() == [
        {"name": "foo", "price": 50.2},
        {"name": "d", "price": 1.0, "tax": 0.0},
    ]


def test_response_model_exclude_defaults_none_include_exclude() -> None:
    client = TestClient(items_app())
    assert client.get("/defaults").json() == {"name": "d", "price": 1.0, "description": "set"}
    assert client.get("/none").json() == {"name": "foo", "price": 50.2, "tax": 10.5, "tags": []}
    assert client.get("/include").json() == {"name": "bar", "price": 62.0}
    assert client.get("/exclude").json() == {
        "name": "bar",
        "price": 62.0,
        "description": "The bar",
    }


def test_response_model_by_alias() -> None:
    app = App()
    value = Aliased(itemId=1, displayName="one")

    @app.get("/alias", response_model=Aliased)
    async def alias() -> Any:
        return value

    @app.get("/names", response_model=Aliased, response_model_by_alias=False)
    async def names() -> Any:
        return value

    client = TestClient(app)
    assert client.get("/alias").json() == {"itemId": 1, "displayName": "one"}
    assert client.get("/names").json() == {"item_id": 1, "display_name": "one"}


def test_response_model_options_on_a_router_route() -> None:
    app = App()
    router = Router(prefix="/r")

    @router.get("/item", response_model=Item, response_model_exclude_unset=True)
    async def item() -> Any:
        return Item(name="x", price=1)

    app.include_router(router, prefix="/v1")
    assert TestClient(app).get("/v1/r/item").json() == {"name": "x", "price": 1.0}


# -- invalid return values ------------------------------------------------------------------------


def invalid_app() -> App:
    app = App()

    @app.get("/missing", response_model=UserOut)
    async def missing() -> Any:
        return {"name": "ann", "password": "leaked-secret"}

    @app.get("/wrong-type")
    def wrong_type() -> list[int]:
        return ["leaked-secret"]  # type: ignore[list-item]

    @app.get("/not-a-dict")
    async def not_a_dict() -> dict[str, Any]:
        return "leaked-secret"  # type: ignore[return-value]

    @app.get("/status", response_model=UserOut, status_code=201)
    async def with_status() -> Any:
        return None

    return app


@pytest.mark.parametrize("path", ["/missing", "/wrong-type", "/not-a-dict", "/status"])
def test_invalid_return_value_is_a_logged_server_error(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(invalid_app(), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="framework.error"):
        response = client.get(path)
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert "leaked-secret" not in response.text
    logged = [r for r in caplog.records if r.exc_info]
    assert logged
    assert isinstance(logged[-1].exc_info[1], ResponseValidationError)  # type: ignore[index]


def test_invalid_return_value_raises_in_tests_with_the_errors() -> None:
    with pytest.raises(ResponseValidationError) as info:
        TestClient(invalid_app()).get("/missing")
    errors = info.value.errors()
    assert [error["loc"] for error in errors] == [["response", "email"]]
    assert errors[0]["type"] == "missing"


def test_invalid_return_value_after_a_dependency_with_state() -> None:
    # The generic path (injected Response, background tasks): still a 500, nothing sent first.
    app = App()

    @app.get("/", response_model=UserOut)
    async def index(response: Response) -> Any:
        response.headers["X-Set"] = "1"
        return {"password": "leaked-secret"}

    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert "leaked-secret" not in response.text
    assert "x-set" not in response.headers


# -- status codes and response classes ------------------------------------------------------------


def test_status_code_option() -> None:
    app = App()

    @app.post("/items", status_code=201)
    async def create() -> UserOut:
        return SECRET  # type: ignore[return-value]

    @app.delete("/items/{item_id}", status_code=204)
    async def delete(item_id: int) -> None:
        return None

    @app.get("/accepted", status_code=202, response_class=PlainTextResponse)
    async def accepted() -> str:
        return "later"

    client = TestClient(app)
    created = client.post("/items")
    assert created.status_code == 201
    assert created.json() == {"name": "ann", "email": "ann@example.org"}
    deleted = client.delete("/items/3")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert "content-type" not in deleted.headers
    accepted_response = client.get("/accepted")
    assert (accepted_response.status_code, accepted_response.text) == (202, "later")


def test_status_code_set_on_the_injected_response() -> None:
    app = App()

    @app.put("/items/{name}", status_code=200)
    async def upsert(name: str, response: Response) -> UserOut:
        if name == "new":
            response.status_code = 201
        response.headers["X-Name"] = name
        return SECRET  # type: ignore[return-value]

    client = TestClient(app)
    new = client.put("/items/new")
    assert new.status_code == 201
    assert new.json() == {"name": "ann", "email": "ann@example.org"}
    assert new.headers["x-name"] == "new"
    assert new.headers["content-type"] == "application/json"
    assert int(new.headers["content-length"]) == len(new.content)
    assert client.put("/items/old").status_code == 200


def test_response_class_option() -> None:
    app = App()

    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> str:
        return "hello"

    @app.get("/page", response_class=HTMLResponse)
    def page() -> str:
        return "<h1>hi</h1>"

    @app.get("/json", response_class=JSONResponse, response_model=UserOut)
    async def json_class() -> Any:
        return SECRET

    client = TestClient(app)
    text_response = client.get("/text")
    assert text_response.text == "hello"
    assert text_response.headers["content-type"] == "text/plain; charset=utf-8"
    page_response = client.get("/page")
    assert page_response.text == "<h1>hi</h1>"
    assert page_response.headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/json").json() == {"name": "ann", "email": "ann@example.org"}


def test_default_response_class_of_app_and_router() -> None:
    app = App(default_response_class=PlainTextResponse)
    router = Router(default_response_class=HTMLResponse)

    @app.get("/app")
    async def app_route() -> str:
        return "from app"

    @router.get("/router")
    async def router_route() -> str:
        return "<b>router</b>"

    app.include_router(router)
    client = TestClient(app)
    assert client.get("/app").headers["content-type"].startswith("text/plain")
    assert client.get("/app").text == "from app"
    assert client.get("/router").headers["content-type"].startswith("text/html")


def test_head_request_gets_headers_without_body() -> None:
    app = App()

    @app.get("/user")
    async def user() -> UserOut:
        return SECRET  # type: ignore[return-value]

    client = TestClient(app)
    head = client.head("/user")
    get = client.get("/user")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


def test_return_model_declared_further_down_the_module_is_found_and_filters() -> None:
    import types as _types

    source = """
from __future__ import annotations
from pydantic import BaseModel
from framework import App

app = App()

@app.get("/user")
async def user() -> Public:
    return {"name": "ada", "password": "hunter2"}

class Public(BaseModel):
    name: str
"""
    module = _types.ModuleType("late_model_app")
    exec(compile(source, "late_model_app.py", "exec"), module.__dict__)
    response = TestClient(module.app).get("/user")
    assert response.status_code == 200
    assert response.json() == {"name": "ada"}


def test_nan_and_infinity_are_sent_as_null_so_the_answer_stays_json() -> None:
    import json as _json

    app = App()

    @app.get("/plain")
    async def plain() -> dict[str, float]:
        return {"nan": float("nan"), "inf": float("inf")}

    @app.get("/untyped")
    async def untyped():  # type: ignore[no-untyped-def]
        return [float("-inf")]

    @app.get("/response")
    async def response() -> JSONResponse:
        return JSONResponse({"x": float("nan")})

    client = TestClient(app)
    assert _json.loads(client.get("/plain").text) == {"nan": None, "inf": None}
    assert _json.loads(client.get("/untyped").text) == [None]
    assert _json.loads(client.get("/response").text) == {"x": None}
