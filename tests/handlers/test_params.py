"""Where handler parameters come from: the signature, the markers, and the plan built once per
route (framework/params.py, framework/dependencies.py, framework/solving.py).

Every marker is tested in both spellings FastAPI accepts, ``Annotated[T, Query()]`` and
``q: T = Query()``. Expected 422 bodies are the ones FastAPI gives for the same handler.
"""

import dataclasses
import inspect
import typing
from typing import Annotated, Any, Literal

import pydantic
import pytest
from pydantic import BaseModel, ConfigDict, Field

import framework.handlers.compile
import framework.handlers.validators
import framework.routing.route
from framework import (
    App,
    BackgroundTasks,
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
)
from framework.testclient import TestClient


def int_parsing(loc: list[Any], value: str) -> dict[str, Any]:
    return {
        "type": "int_parsing",
        "loc": loc,
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": value,
    }


def missing(loc: list[Any], value: Any = None) -> dict[str, Any]:
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": value}


# -- path -----------------------------------------------------------------------------------------


def test_path_parameters_in_both_spellings_with_constraints() -> None:
    app = App()

    @app.get("/a/{item_id}")
    async def annotated(item_id: Annotated[int, Path(ge=1, le=100)]) -> dict[str, Any]:
        return {"item_id": item_id}

    @app.get("/d/{item_id}")
    async def default_form(item_id: int = Path(ge=1, le=100)) -> dict[str, Any]:
        return {"item_id": item_id}

    @app.get("/plain/{name}/{ratio}")
    async def plain(name: str, ratio: float) -> dict[str, Any]:
        return {"name": name, "ratio": ratio}

    client = TestClient(app)
    for prefix in ("/a", "/d"):
        assert client.get(f"{prefix}/7").json() == {"item_id": 7}
        response = client.get(f"{prefix}/0")
        assert response.status_code == 422
        assert response.json() == {
            "detail": [
                {
                    "type": "greater_than_equal",
                    "loc": ["path", "item_id"],
                    "msg": "Input should be greater than or equal to 1",
                    "input": "0",
                    "ctx": {"ge": 1},
                }
            ]
        }
        assert client.get(f"{prefix}/101").json()["detail"][0]["type"] == "less_than_equal"
        assert client.get(f"{prefix}/abc").json() == {
            "detail": [int_parsing(["path", "item_id"], "abc")]
        }
    assert client.get("/plain/pen/0.5").json() == {"name": "pen", "ratio": 0.5}


def test_path_parameter_typed_by_its_converter() -> None:
    app = App()

    @app.get("/items/{item_id:int}")
    async def read(item_id: int) -> dict[str, Any]:
        return {"item_id": item_id, "type": type(item_id).__name__}

    client = TestClient(app)
    assert client.get("/items/42").json() == {"item_id": 42, "type": "int"}
    assert client.get("/items/x").status_code == 404  # the converter does not match


def test_path_marker_for_a_name_not_in_the_template_fails_when_the_route_is_added() -> None:
    app = App()

    async def handler(item_id: Annotated[int, Path()]) -> None: ...

    with pytest.raises(TypeError, match="item_id"):
        app.add_api_route("/items", handler)


def test_path_parameter_with_a_default_is_still_required() -> None:
    app = App()

    @app.get("/items/{item_id}")
    async def read(item_id: Annotated[int, Path()] = 5) -> dict[str, Any]:
        return {"item_id": item_id}

    assert TestClient(app).get("/items/9").json() == {"item_id": 9}


# -- query ----------------------------------------------------------------------------------------


def test_query_scalars_defaults_and_optional_values() -> None:
    app = App()

    @app.get("/search")
    async def search(
        q: str,
        page: int = 1,
        ratio: float | None = None,
        exact: bool = False,
        kind: Literal["a", "b"] = "a",
    ) -> dict[str, Any]:
        return {"q": q, "page": page, "ratio": ratio, "exact": exact, "kind": kind}

    client = TestClient(app)
    assert client.get("/search?q=pen").json() == {
        "q": "pen",
        "page": 1,
        "ratio": None,
        "exact": False,
        "kind": "a",
    }
    assert client.get("/search?q=pen&page=3&ratio=0.5&exact=yes&kind=b").json() == {
        "q": "pen",
        "page": 3,
        "ratio": 0.5,
        "exact": True,
        "kind": "b",
    }
    for word in ("1", "true", "on", "YES"):
        assert client.get(f"/search?q=x&exact={word}").json()["exact"] is True
    for word in ("0", "false", "off", "no"):
        assert client.get(f"/search?q=x&exact={word}").json()["exact"] is False
    assert client.get("/search").json() == {"detail": [missing(["query", "q"])]}


@pytest.mark.parametrize("form", ["annotated", "default"])
def test_query_constraints_in_both_spellings(form: str) -> None:
    app = App()
    if form == "annotated":

        @app.get("/q")
        async def annotated(
            n: Annotated[int, Query(gt=0, lt=10)] = 3,
            word: Annotated[str | None, Query(min_length=2, max_length=4, pattern="^[a-z]+$")] = (
                None
            ),
        ) -> dict[str, Any]:
            return {"n": n, "word": word}

    else:

        @app.get("/q")
        async def default_form(
            n: int = Query(3, gt=0, lt=10),
            word: str | None = Query(None, min_length=2, max_length=4, pattern="^[a-z]+$"),
        ) -> dict[str, Any]:
            return {"n": n, "word": word}

    client = TestClient(app)
    assert client.get("/q").json() == {"n": 3, "word": None}
    assert client.get("/q?n=9&word=abc").json() == {"n": 9, "word": "abc"}
    assert client.get("/q?n=0").json() == {
        "detail": [
            {
                "type": "greater_than",
                "loc": ["query", "n"],
                "msg": "Input should be greater than 0",
                "input": "0",
                "ctx": {"gt": 0},
            }
        ]
    }
    assert client.get("/q?n=10").json() == {
        "detail": [
            {
                "type": "less_than",
                "loc": ["query", "n"],
                "msg": "Input should be less than 10",
                "input": "10",
                "ctx": {"lt": 10},
            }
        ]
    }
    assert client.get("/q?word=a").json() == {
        "detail": [
            {
                "type": "string_too_short",
                "loc": ["query", "word"],
                "msg": "String should have at least 2 characters",
                "input": "a",
                "ctx": {"min_length": 2},
            }
        ]
    }
    assert client.get("/q?word=abcde").json() == {
        "detail": [
            {
                "type": "string_too_long",
                "loc": ["query", "word"],
                "msg": "String should have at most 4 characters",
                "input": "abcde",
                "ctx": {"max_length": 4},
            }
        ]
    }
    assert client.get("/q?word=AB").json() == {
        "detail": [
            {
                "type": "string_pattern_mismatch",
                "loc": ["query", "word"],
                "msg": "String should match pattern '^[a-z]+$'",
                "input": "AB",
                "ctx": {"pattern": "^[a-z]+$"},
            }
        ]
    }


def test_query_ge_le_and_multiple_of() -> None:
    app = App()

    @app.get("/q")
    async def handler(
        a: Annotated[int, Query(ge=1, le=5)] = 1,
        step: Annotated[float, Query(multiple_of=0.5)] = 1.0,
    ) -> dict[str, Any]:
        return {"a": a, "step": step}

    client = TestClient(app)
    assert client.get("/q?a=1").json() == {"a": 1, "step": 1.0}
    assert client.get("/q?a=5&step=2.5").json() == {"a": 5, "step": 2.5}
    assert client.get("/q?a=6").json()["detail"] == [
        {
            "type": "less_than_equal",
            "loc": ["query", "a"],
            "msg": "Input should be less than or equal to 5",
            "input": "6",
            "ctx": {"le": 5},
        }
    ]
    assert client.get("/q?step=0.3").json()["detail"] == [
        {
            "type": "multiple_of",
            "loc": ["query", "step"],
            "msg": "Input should be a multiple of 0.5",
            "input": "0.3",
            "ctx": {"multiple_of": 0.5},
        }
    ]


@pytest.mark.parametrize("form", ["annotated", "default"])
def test_query_alias_is_the_name_on_the_wire(form: str) -> None:
    app = App()
    if form == "annotated":

        @app.get("/q")
        async def annotated(item_query: Annotated[int, Query(alias="item-query")]) -> Any:
            return {"value": item_query}

    else:

        @app.get("/q")
        async def default_form(item_query: int = Query(alias="item-query")) -> Any:
            return {"value": item_query}

    client = TestClient(app)
    assert client.get("/q?item-query=3").json() == {"value": 3}
    # The Python name is not read; errors name the alias.
    assert client.get("/q?item_query=3").json() == {"detail": [missing(["query", "item-query"])]}
    assert client.get("/q?item-query=x").json() == {
        "detail": [int_parsing(["query", "item-query"], "x")]
    }


def test_query_lists_collect_repeated_keys() -> None:
    app = App()

    @app.get("/q")
    async def handler(
        tags: list[str] = [],  # noqa: B006 - a list of scalars is a query parameter
        ids: Annotated[list[int], Query()] = [],  # noqa: B006
        scores: set[int] | None = None,
        pairs: Annotated[tuple[int, ...], Query(alias="pair")] = (),
        req: Annotated[list[str], Query(min_length=1)] = ["x"],  # noqa: B006
    ) -> dict[str, Any]:
        return {
            "tags": tags,
            "ids": ids,
            "scores": sorted(scores) if scores is not None else None,
            "pairs": list(pairs),
            "req": req,
        }

    client = TestClient(app)
    assert client.get("/q").json() == {
        "tags": [],
        "ids": [],
        "scores": None,
        "pairs": [],
        "req": ["x"],
    }
    assert client.get("/q?tags=a&tags=b&ids=1&ids=2&scores=3&scores=3&pair=5&req=r").json() == {
        "tags": ["a", "b"],
        "ids": [1, 2],
        "scores": [3],
        "pairs": [5],
        "req": ["r"],
    }
    assert client.get("/q?ids=1&ids=x").json() == {
        "detail": [int_parsing(["query", "ids", 1], "x")]
    }


def test_required_query_list() -> None:
    app = App()

    @app.get("/q")
    async def handler(ids: Annotated[list[int], Query()]) -> list[int]:
        return ids

    client = TestClient(app)
    assert client.get("/q?ids=3&ids=1").json() == [3, 1]
    assert client.get("/q").json() == {"detail": [missing(["query", "ids"])]}


def test_query_default_factory() -> None:
    app = App()
    calls: list[int] = []

    def fresh() -> list[str]:
        calls.append(1)
        return ["default"]

    @app.get("/q")
    async def handler(tags: Annotated[list[str], Query(default_factory=fresh)]) -> list[str]:
        return tags

    client = TestClient(app)
    assert client.get("/q").json() == ["default"]
    assert client.get("/q").json() == ["default"]
    assert client.get("/q?tags=x").json() == ["x"]
    assert len(calls) == 2  # a fresh default per request that needs it


def test_documentation_options_do_not_change_validation() -> None:
    app = App()

    @app.get("/q")
    async def handler(
        a: Annotated[
            str,
            Query(
                title="A",
                description="The a value",
                examples=["x"],
                deprecated=True,
                include_in_schema=False,
                json_schema_extra={"x-extra": 1},
            ),
        ] = "d",
        b: int = Query(0, title="B", description="b", examples=[1], deprecated=True),
    ) -> dict[str, Any]:
        return {"a": a, "b": b}

    client = TestClient(app)
    assert client.get("/q").json() == {"a": "d", "b": 0}
    assert client.get("/q?a=z&b=2").json() == {"a": "z", "b": 2}
    assert client.get("/q?b=x").json() == {"detail": [int_parsing(["query", "b"], "x")]}


def test_required_marker_spelled_with_ellipsis() -> None:
    app = App()

    @app.get("/q")
    async def handler(q: str = Query(...), h: str = Header(...)) -> dict[str, str]:
        return {"q": q, "h": h}

    client = TestClient(app)
    assert client.get("/q?q=1", headers={"h": "2"}).json() == {"q": "1", "h": "2"}
    assert client.get("/q").json() == {
        "detail": [missing(["query", "q"]), missing(["header", "h"])]
    }


def test_annotated_metadata_besides_the_marker_is_kept() -> None:
    app = App()

    @app.get("/q")
    async def handler(n: Annotated[int, Field(gt=2), Query(alias="num")]) -> int:
        return n

    client = TestClient(app)
    assert client.get("/q?num=3").json() == 3
    assert client.get("/q?num=1").json()["detail"][0]["type"] == "greater_than"


# -- headers and cookies --------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["annotated", "default"])
def test_headers_convert_underscores_and_aliases(form: str) -> None:
    app = App()
    if form == "annotated":

        @app.get("/h")
        async def annotated(
            user_agent: Annotated[str | None, Header()] = None,
            x_token: Annotated[str, Header()] = "none",
            x_raw: Annotated[str | None, Header(convert_underscores=False)] = None,
            custom: Annotated[int | None, Header(alias="X-Custom-Value")] = None,
        ) -> dict[str, Any]:
            return {"ua": user_agent, "token": x_token, "raw": x_raw, "custom": custom}

    else:

        @app.get("/h")
        async def default_form(
            user_agent: str | None = Header(None),
            x_token: str = Header("none"),
            x_raw: str | None = Header(None, convert_underscores=False),
            custom: int | None = Header(None, alias="X-Custom-Value"),
        ) -> dict[str, Any]:
            return {"ua": user_agent, "token": x_token, "raw": x_raw, "custom": custom}

    client = TestClient(app)
    assert client.get("/h").json() == {
        "ua": "testclient",
        "token": "none",
        "raw": None,
        "custom": None,
    }
    response = client.get(
        "/h",
        headers={"X-Token": "secret", "x_raw": "kept", "x-custom-value": "7", "user-agent": "me"},
    )
    assert response.json() == {"ua": "me", "token": "secret", "raw": "kept", "custom": 7}
    # convert_underscores=False: the dashed name is another header
    assert client.get("/h", headers={"x-raw": "dash"}).json()["raw"] is None
    assert client.get("/h", headers={"x-custom-value": "x"}).json() == {
        "detail": [int_parsing(["header", "x-custom-value"], "x")]
    }


def test_required_header_missing_names_the_header() -> None:
    app = App()

    @app.get("/h")
    async def handler(x_token: Annotated[str, Header()]) -> str:
        return x_token

    client = TestClient(app)
    assert client.get("/h").json() == {"detail": [missing(["header", "x-token"])]}
    assert client.get("/h", headers={"X-TOKEN": "upper"}).json() == "upper"


def test_header_lists_and_repeated_scalar_headers() -> None:
    app = App()

    @app.get("/h")
    async def handler(
        x_token: Annotated[str, Header()],
        x_id: Annotated[list[int], Header()] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {"token": x_token, "ids": x_id}

    client = TestClient(app)
    headers = [("x-token", "first"), ("x-token", "second"), ("x-id", "1"), ("x-id", "2")]
    # A repeated header read as one value: the first, as Starlette's Headers.get (and FastAPI).
    assert client.get("/h", headers=headers).json() == {"token": "first", "ids": [1, 2]}
    assert client.get("/h", headers=[("x-token", "t"), ("x-id", "a")]).json() == {
        "detail": [int_parsing(["header", "x-id", 0], "a")]
    }


def test_header_values_are_decoded_as_latin_1() -> None:
    app = App()

    @app.get("/h")
    async def handler(x_name: Annotated[str, Header()]) -> str:
        return x_name

    assert TestClient(app).get("/h", headers=[(b"x-name", "café".encode())]).json() == "cafÃ©"


@pytest.mark.parametrize("form", ["annotated", "default"])
def test_cookies_in_both_spellings(form: str) -> None:
    app = App()
    if form == "annotated":

        @app.get("/c")
        async def annotated(
            session: Annotated[int, Cookie()],
            theme: Annotated[str, Cookie(alias="ui-theme")] = "light",
        ) -> dict[str, Any]:
            return {"session": session, "theme": theme}

    else:

        @app.get("/c")
        async def default_form(
            session: int = Cookie(), theme: str = Cookie("light", alias="ui-theme")
        ) -> dict[str, Any]:
            return {"session": session, "theme": theme}

    client = TestClient(app)
    assert client.get("/c", headers={"cookie": "session=5; ui-theme=dark"}).json() == {
        "session": 5,
        "theme": "dark",
    }
    assert client.get("/c", headers={"cookie": "session=5"}).json() == {
        "session": 5,
        "theme": "light",
    }
    assert client.get("/c").json() == {"detail": [missing(["cookie", "session"])]}
    assert client.get("/c", headers={"cookie": "session=x"}).json() == {
        "detail": [int_parsing(["cookie", "session"], "x")]
    }


# -- models as groups of query, header or cookie parameters ---------------------------------------


class Filters(BaseModel):
    limit: int = Field(100, gt=0, le=100)
    offset: int = 0
    order_by: Literal["created", "updated"] = "created"
    tags: list[str] = []


class StrictFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: int
    b: str = "x"


class CommonHeaders(BaseModel):
    x_token: str
    user_agent: str | None = None
    traceparent: list[str] = []


class Session(BaseModel):
    session_id: str
    ads: str | None = None


class StrictSession(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session_id: str


def test_query_model_group() -> None:
    app = App()

    @app.get("/items")
    async def items(filters: Annotated[Filters, Query()]) -> Filters:
        assert isinstance(filters, Filters)
        return filters

    client = TestClient(app)
    assert client.get("/items").json() == {
        "limit": 100,
        "offset": 0,
        "order_by": "created",
        "tags": [],
    }
    url = "/items?limit=5&offset=2&order_by=updated&tags=a&tags=b&unknown=1"
    assert client.get(url).json() == {
        "limit": 5,
        "offset": 2,
        "order_by": "updated",
        "tags": ["a", "b"],
    }
    assert client.get("/items?limit=0&order_by=x&offset=y").json() == {
        "detail": [
            {
                "type": "greater_than",
                "loc": ["query", "limit"],
                "msg": "Input should be greater than 0",
                "input": "0",
                "ctx": {"gt": 0},
            },
            int_parsing(["query", "offset"], "y"),
            {
                "type": "literal_error",
                "loc": ["query", "order_by"],
                "msg": "Input should be 'created' or 'updated'",
                "input": "x",
                "ctx": {"expected": "'created' or 'updated'"},
            },
        ]
    }


def test_query_model_with_extra_forbid_rejects_other_keys() -> None:
    app = App()

    @app.get("/s")
    async def strict(params: Annotated[StrictFilters, Query()]) -> StrictFilters:
        return params

    client = TestClient(app)
    assert client.get("/s?a=1").json() == {"a": 1, "b": "x"}
    assert client.get("/s?a=1&c=2").json() == {
        "detail": [
            {
                "type": "extra_forbidden",
                "loc": ["query", "c"],
                "msg": "Extra inputs are not permitted",
                "input": "2",
            }
        ]
    }
    # As FastAPI: a missing field of a model group reports what the model was given.
    assert client.get("/s?c=2&d=3&d=4").json() == {
        "detail": [
            missing(["query", "a"], {"c": "2", "d": ["3", "4"]}),
            {
                "type": "extra_forbidden",
                "loc": ["query", "c"],
                "msg": "Extra inputs are not permitted",
                "input": "2",
            },
            {
                "type": "extra_forbidden",
                "loc": ["query", "d"],
                "msg": "Extra inputs are not permitted",
                "input": ["3", "4"],
            },
        ]
    }
    assert client.get("/s").json() == {"detail": [missing(["query", "a"], {})]}


def test_header_model_group_converts_underscores() -> None:
    app = App()

    @app.get("/h")
    async def headers(h: Annotated[CommonHeaders, Header()]) -> CommonHeaders:
        return h

    client = TestClient(app)
    sent = [("x-token", "t"), ("traceparent", "p"), ("traceparent", "q")]
    assert client.get("/h", headers=sent).json() == {
        "x_token": "t",
        "user_agent": "testclient",
        "traceparent": ["p", "q"],
    }
    # The error names the header; the input is every header the model was given.
    assert client.get("/h", headers={"accept": "*/*"}).json() == {
        "detail": [
            missing(
                ["header", "x-token"],
                {
                    "user_agent": "testclient",
                    "host": "testserver",
                    "accept": "*/*",
                    "accept-encoding": "gzip, deflate",
                    "connection": "keep-alive",
                },
            )
        ]
    }


def test_header_model_group_without_converting_underscores() -> None:
    app = App()

    class Raw(BaseModel):
        x_token: str

    @app.get("/h")
    async def headers(h: Annotated[Raw, Header(convert_underscores=False)]) -> Raw:
        return h

    client = TestClient(app)
    assert client.get("/h", headers={"x_token": "under"}).json() == {"x_token": "under"}
    assert client.get("/h", headers={"x-token": "dash"}).status_code == 422


def test_cookie_model_groups() -> None:
    app = App()

    @app.get("/c")
    async def cookies(c: Annotated[Session, Cookie()]) -> Session:
        return c

    @app.get("/strict")
    async def strict(c: Annotated[StrictSession, Cookie()]) -> StrictSession:
        return c

    client = TestClient(app)
    cookie = {"cookie": "session_id=s; ads=a; other=o"}
    assert client.get("/c", headers=cookie).json() == {"session_id": "s", "ads": "a"}
    assert client.get("/c").json() == {"detail": [missing(["cookie", "session_id"], {})]}
    assert client.get("/strict", headers={"cookie": "session_id=s"}).json() == {"session_id": "s"}
    assert client.get("/strict", headers=cookie).json() == {
        "detail": [
            {
                "type": "extra_forbidden",
                "loc": ["cookie", "ads"],
                "msg": "Extra inputs are not permitted",
                "input": "a",
            },
            {
                "type": "extra_forbidden",
                "loc": ["cookie", "other"],
                "msg": "Extra inputs are not permitted",
                "input": "o",
            },
        ]
    }


def test_model_groups_beside_plain_parameters() -> None:
    app = App()

    @app.get("/items/{item_id}")
    async def read(
        item_id: int,
        filters: Annotated[Filters, Query()],
        q: str | None = None,
        x_token: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        return {"id": item_id, "limit": filters.limit, "q": q, "token": x_token}

    client = TestClient(app)
    assert client.get("/items/3?limit=7&q=pen", headers={"x-token": "t"}).json() == {
        "id": 3,
        "limit": 7,
        "q": "pen",
        "token": "t",
    }


# -- bodies ---------------------------------------------------------------------------------------


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    tags: list[str] = []


class User(BaseModel):
    username: str


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


def test_model_body() -> None:
    app = App()

    @app.post("/items")
    async def create(item: Item) -> dict[str, Any]:
        assert isinstance(item, Item)
        return {"item": item.model_dump()}

    client = TestClient(app)
    assert client.post("/items", json={"name": "pen", "price": 2}).json() == {
        "item": {"name": "pen", "price": 2.0, "tags": []}
    }
    assert client.post("/items", json={"name": "pen", "price": 0}).json() == {
        "detail": [
            {
                "type": "greater_than",
                "loc": ["body", "price"],
                "msg": "Input should be greater than 0",
                "input": 0,
                "ctx": {"gt": 0.0},
            }
        ]
    }
    assert client.post("/items").json() == {"detail": [missing(["body"])]}


def test_json_media_types_with_parameters_and_suffixes() -> None:
    app = App()

    @app.post("/items")
    async def create(item: Item) -> str:
        return item.name

    client = TestClient(app)
    body = b'{"name": "pen", "price": 1}'
    for content_type in (
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.api+json",
    ):
        response = client.post("/items", content=body, headers={"content-type": content_type})
        assert response.json() == "pen", content_type
    # No content type at all: read as JSON (clients often leave it out).
    assert client.post("/items", content=body).json() == "pen"


def test_dataclass_body() -> None:
    app = App()

    @app.post("/points")
    async def create(point: Point) -> dict[str, Any]:
        assert isinstance(point, Point)
        return {"x": point.x, "y": point.y}

    client = TestClient(app)
    assert client.post("/points", json={"x": 1}).json() == {"x": 1, "y": 0}
    assert client.post("/points", json={"x": "a"}).json() == {
        "detail": [int_parsing(["body", "x"], "a")]
    }


def test_dict_and_list_bodies() -> None:
    app = App()

    @app.post("/dict")
    async def typed_dict(data: dict[str, int]) -> dict[str, int]:
        return data

    @app.post("/any-dict")
    async def any_dict(data: dict) -> dict:  # type: ignore[type-arg]
        return data

    @app.post("/bare-list")
    async def bare_list(data: list) -> list:  # type: ignore[type-arg]
        return data

    @app.post("/any-list")
    async def any_list(data: list[Any]) -> list[Any]:
        return data

    @app.post("/models")
    async def models(items: list[Item]) -> int:
        return len(items)

    @app.post("/int-list")
    async def int_list(data: Annotated[list[int], Body()]) -> list[int]:
        return data

    client = TestClient(app)
    assert client.post("/dict", json={"a": 1}).json() == {"a": 1}
    assert client.post("/dict", json={"a": "b"}).json() == {
        "detail": [int_parsing(["body", "a"], "b")]
    }
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
    assert client.post("/any-dict", json={"a": [1, {"b": None}]}).json() == {"a": [1, {"b": None}]}
    assert client.post("/bare-list", json=[1, "a"]).json() == [1, "a"]
    assert client.post("/any-list", json=[1, "a"]).json() == [1, "a"]
    assert client.post("/models", json=[{"name": "a", "price": 1}]).json() == 1
    assert client.post("/models", json=[{"name": "a", "price": 1}, {"price": 1}]).json() == {
        "detail": [missing(["body", 1, "name"], {"price": 1})]
    }
    assert client.post("/int-list", json=[1, 2]).json() == [1, 2]
    assert client.post("/int-list", json={"a": 1}).json() == {
        "detail": [
            {
                "type": "list_type",
                "loc": ["body"],
                "msg": "Input should be a valid list",
                "input": {"a": 1},
            }
        ]
    }


def test_a_list_of_scalars_without_a_marker_is_a_query_parameter() -> None:
    # The issue's rule (FastAPI would read it from the body).
    app = App()

    @app.post("/q")
    async def handler(ids: list[int]) -> list[int]:
        return ids

    client = TestClient(app)
    assert client.post("/q?ids=1&ids=2", json=[9]).json() == [1, 2]
    assert client.post("/q", json=[9]).json() == {"detail": [missing(["query", "ids"])]}


def test_several_body_parameters_are_embedded_by_name() -> None:
    app = App()

    @app.put("/items/{item_id}")
    async def update(
        item_id: int,
        item: Item,
        user: User,
        importance: Annotated[int, Body(gt=0)],
        note: Annotated[str | None, Body()] = None,
    ) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "item": item.name,
            "user": user.username,
            "importance": importance,
            "note": note,
        }

    client = TestClient(app)
    body = {"item": {"name": "pen", "price": 1}, "user": {"username": "ann"}, "importance": 2}
    assert client.put("/items/1", json=body).json() == {
        "item_id": 1,
        "item": "pen",
        "user": "ann",
        "importance": 2,
        "note": None,
    }
    assert client.put("/items/1", json={**body, "note": "n"}).json()["note"] == "n"
    assert client.put("/items/1", json={"item": {"name": "pen", "price": 1}}).json() == {
        "detail": [missing(["body", "user"]), missing(["body", "importance"])]
    }
    assert client.put("/items/1", json={**body, "importance": 0, "user": {}}).json() == {
        "detail": [
            missing(["body", "user", "username"], {}),
            {
                "type": "greater_than",
                "loc": ["body", "importance"],
                "msg": "Input should be greater than 0",
                "input": 0,
                "ctx": {"gt": 0},
            },
        ]
    }
    every_field_missing = {
        "detail": [
            missing(["body", "item"]),
            missing(["body", "user"]),
            missing(["body", "importance"]),
        ]
    }
    assert client.put("/items/1").json() == every_field_missing
    # A body that is not an object: FastAPI reports every embedded value missing.
    assert client.put("/items/1", json=[1]).json() == {
        "detail": [*every_field_missing["detail"], missing(["body", "note"])]
    }


@pytest.mark.parametrize("form", ["annotated", "default"])
def test_body_embed_and_alias(form: str) -> None:
    app = App()
    if form == "annotated":

        @app.post("/embed")
        async def annotated(item: Annotated[Item, Body(embed=True)]) -> str:
            return item.name

        @app.post("/alias")
        async def annotated_alias(item: Annotated[Item, Body(embed=True, alias="it")]) -> str:
            return item.name

    else:

        @app.post("/embed")
        async def default_form(item: Item = Body(embed=True)) -> str:
            return item.name

        @app.post("/alias")
        async def default_alias(item: Item = Body(embed=True, alias="it")) -> str:
            return item.name

    client = TestClient(app)
    assert client.post("/embed", json={"item": {"name": "pen", "price": 1}}).json() == "pen"
    assert client.post("/embed", json={"name": "pen", "price": 1}).json() == {
        "detail": [missing(["body", "item"])]
    }
    assert client.post("/alias", json={"it": {"name": "pen", "price": 1}}).json() == "pen"
    assert client.post("/alias", json={"item": {"name": "pen", "price": 1}}).json() == {
        "detail": [missing(["body", "it"])]
    }


def test_scalar_and_optional_bodies() -> None:
    app = App()

    @app.post("/scalar")
    async def scalar(value: Annotated[int, Body()]) -> int:
        return value

    @app.post("/optional")
    async def optional(item: Item | None = None) -> dict[str, Any]:
        return {"item": item.name if item else None}

    @app.post("/default")
    async def default(count: Annotated[int, Body(embed=True)] = 7) -> int:
        return count

    client = TestClient(app)
    assert client.post("/scalar", json=3).json() == 3
    assert client.post("/scalar", json="x").json() == {"detail": [int_parsing(["body"], "x")]}
    assert client.post("/optional").json() == {"item": None}
    assert client.post("/optional", json=None).json() == {"item": None}
    assert client.post("/optional", json={"name": "a", "price": 1}).json() == {"item": "a"}
    assert client.post("/default").json() == 7
    assert client.post("/default", json={}).json() == 7
    assert client.post("/default", json={"count": 2}).json() == 2


def test_body_with_path_and_query_parameters() -> None:
    app = App()

    @app.post("/items/{item_id}")
    async def create(item_id: int, item: Item, q: int = 1) -> dict[str, Any]:
        return {"item_id": item_id, "name": item.name, "q": q}

    client = TestClient(app)
    assert client.post("/items/3?q=2", json={"name": "pen", "price": 1}).json() == {
        "item_id": 3,
        "name": "pen",
        "q": 2,
    }
    # Every location's problems in one answer, in the order path, query, body.
    assert client.post("/items/x?q=y", json={"price": 1}).json() == {
        "detail": [
            int_parsing(["path", "item_id"], "x"),
            int_parsing(["query", "q"], "y"),
            missing(["body", "name"], {"price": 1}),
        ]
    }


# -- forms and files ------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["annotated", "default"])
def test_form_fields(form: str) -> None:
    app = App()
    if form == "annotated":

        @app.post("/login")
        async def annotated(
            username: Annotated[str, Form(min_length=2)],
            password: Annotated[str, Form()],
            remember: Annotated[bool, Form()] = False,
            tags: Annotated[list[str], Form()] = [],  # noqa: B006
        ) -> dict[str, Any]:
            return {"u": username, "p": password, "r": remember, "t": tags}

    else:

        @app.post("/login")
        async def default_form(
            username: str = Form(min_length=2),
            password: str = Form(),
            remember: bool = Form(False),
            tags: list[str] = Form([]),
        ) -> dict[str, Any]:
            return {"u": username, "p": password, "r": remember, "t": tags}

    client = TestClient(app)
    assert client.post("/login", data={"username": "bob", "password": "pw"}).json() == {
        "u": "bob",
        "p": "pw",
        "r": False,
        "t": [],
    }
    sent = {"username": "bob", "password": "pw", "remember": "on", "tags": ["a", "b"]}
    assert client.post("/login", data=sent).json() == {
        "u": "bob",
        "p": "pw",
        "r": True,
        "t": ["a", "b"],
    }
    # The same fields sent as multipart
    multipart = {"username": (None, "bob"), "password": (None, "pw")}
    assert client.post("/login", files=multipart).json()["u"] == "bob"
    assert client.post("/login", data={"username": "b"}).json() == {
        "detail": [
            {
                "type": "string_too_short",
                "loc": ["body", "username"],
                "msg": "String should have at least 2 characters",
                "input": "b",
                "ctx": {"min_length": 2},
            },
            missing(["body", "password"]),
        ]
    }
    both_missing = {"detail": [missing(["body", "username"]), missing(["body", "password"])]}
    # Empty fields of an HTML form count as not given.
    assert client.post("/login", data={"username": "", "password": ""}).json() == both_missing
    assert client.post("/login").json() == both_missing
    # A JSON body is not a form: the fields are missing.
    assert client.post("/login", json={"username": "bob", "password": "pw"}).json() == (
        both_missing
    )


def test_form_alias_and_default_for_an_empty_field() -> None:
    app = App()

    @app.post("/f")
    async def handler(
        name: Annotated[str, Form(alias="user-name")],
        age: Annotated[int, Form()] = 30,
    ) -> dict[str, Any]:
        return {"name": name, "age": age}

    client = TestClient(app)
    assert client.post("/f", data={"user-name": "ann", "age": ""}).json() == {
        "name": "ann",
        "age": 30,
    }
    assert client.post("/f", data={"user-name": "ann", "age": "x"}).json() == {
        "detail": [int_parsing(["body", "age"], "x")]
    }


def test_file_as_bytes_and_upload_file() -> None:
    app = App()

    @app.post("/bytes")
    async def as_bytes(
        data: Annotated[bytes, File()], note: Annotated[str | None, Form()] = None
    ) -> dict[str, Any]:
        return {"size": len(data), "note": note}

    @app.post("/bytes-default")
    async def as_bytes_default(data: bytes = File()) -> int:
        return len(data)

    @app.post("/upload")
    async def upload(
        doc: UploadFile, extra: Annotated[UploadFile | None, File()] = None
    ) -> dict[str, Any]:
        return {
            "filename": doc.filename,
            "content_type": doc.content_type,
            "data": (await doc.read()).decode(),
            "extra": extra.filename if extra else None,
        }

    client = TestClient(app)
    response = client.post("/bytes", files={"data": ("a.txt", b"hello")}, data={"note": "n"})
    assert response.json() == {"size": 5, "note": "n"}
    assert client.post("/bytes-default", files={"data": ("a.bin", b"\x00\x01")}).json() == 2
    assert client.post("/bytes", data={"note": "n"}).json() == {
        "detail": [missing(["body", "data"])]
    }
    sent = {"doc": ("a.txt", b"hello", "text/plain")}
    assert client.post("/upload", files=sent).json() == {
        "filename": "a.txt",
        "content_type": "text/plain",
        "data": "hello",
        "extra": None,
    }
    both = {**sent, "extra": ("b.bin", b"x")}
    assert client.post("/upload", files=both).json()["extra"] == "b.bin"
    assert client.post("/upload").json() == {"detail": [missing(["body", "doc"])]}
    # A text field where a file is expected
    response = client.post("/upload", data={"doc": "not a file"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "doc"]
    assert response.json()["detail"][0]["input"] == "not a file"


def test_list_of_upload_files() -> None:
    app = App()

    @app.post("/files")
    async def files(docs: list[UploadFile]) -> list[list[str]]:
        return [[doc.filename or "", (await doc.read()).decode()] for doc in docs]

    @app.post("/aliased")
    async def aliased(docs: Annotated[list[UploadFile], File(alias="file")]) -> list[str]:
        return [doc.filename or "" for doc in docs]

    @app.post("/bytes")
    async def as_bytes(parts: Annotated[list[bytes], File()]) -> list[str]:
        return [part.decode() for part in parts]

    client = TestClient(app)
    sent = [("docs", ("a.txt", b"A")), ("docs", ("b.txt", b"B"))]
    assert client.post("/files", files=sent).json() == [["a.txt", "A"], ["b.txt", "B"]]
    assert client.post("/files", files=[("other", ("a.txt", b"A"))]).json() == {
        "detail": [missing(["body", "docs"])]
    }
    sent = [("file", ("a.txt", b"A")), ("file", ("b.txt", b"B"))]
    assert client.post("/aliased", files=sent).json() == ["a.txt", "b.txt"]
    sent = [("parts", ("a", b"1")), ("parts", ("b", b"2"))]
    assert client.post("/bytes", files=sent).json() == ["1", "2"]


def test_a_file_input_left_empty_counts_as_not_given() -> None:
    app = App()

    @app.post("/upload")
    async def upload(doc: Annotated[UploadFile | None, File()] = None) -> str | None:
        return doc.filename if doc else None

    client = TestClient(app)
    # What a browser sends for a file input with no file chosen
    assert client.post("/upload", files={"doc": ("", b"")}).json() is None
    assert client.post("/upload", files={"doc": ("a.txt", b"x")}).json() == "a.txt"


def test_uploaded_files_are_closed_after_the_response() -> None:
    app = App()
    kept: list[UploadFile] = []

    @app.post("/upload")
    async def upload(doc: UploadFile) -> int:
        kept.append(doc)
        return len(await doc.read())

    assert TestClient(app).post("/upload", files={"doc": ("a", b"abc")}).json() == 3
    assert kept[0].file.closed


def test_mixing_json_body_and_form_parameters_fails_when_the_route_is_added() -> None:
    app = App()

    async def handler(item: Item, name: Annotated[str, Form()]) -> None: ...

    with pytest.raises(TypeError, match="mixes"):
        app.add_api_route("/x", handler, methods=["POST"])


# -- objects the framework injects ----------------------------------------------------------------


def test_request_is_injected_beside_parameters() -> None:
    app = App()

    @app.post("/echo/{name}")
    async def echo(request: Request, name: str, item: Item) -> dict[str, Any]:
        return {
            "path": request.url.path,
            "name": name,
            "item": item.name,
            "raw": (await request.json())["name"],
        }

    @app.get("/sync")
    def sync_handler(req: Request, q: int = 0) -> dict[str, Any]:
        return {"method": req.method, "q": q}

    client = TestClient(app)
    assert client.post("/echo/x", json={"name": "pen", "price": 1}).json() == {
        "path": "/echo/x",
        "name": "x",
        "item": "pen",
        "raw": "pen",
    }
    assert client.get("/sync?q=4").json() == {"method": "GET", "q": 4}


def test_response_parameter_sets_headers_cookies_and_status() -> None:
    app = App()

    @app.post("/items", status_code=201)
    async def create(response: Response, q: int = 0) -> dict[str, int]:
        response.headers["x-created"] = "yes"
        response.set_cookie("last", "item")
        if q:
            response.status_code = 202
        return {"q": q}

    @app.get("/plain")
    async def plain(response: Response) -> Response:
        # A Response returned directly is sent as it is.
        response.headers["x-ignored"] = "1"
        return Response(b"raw", media_type="text/plain")

    client = TestClient(app)
    response = client.post("/items")
    assert response.status_code == 201
    assert response.json() == {"q": 0}
    assert response.headers["x-created"] == "yes"
    assert response.headers["set-cookie"].startswith("last=item")
    assert client.post("/items?q=1").status_code == 202
    plain_response = client.get("/plain")
    assert plain_response.text == "raw"
    assert plain_response.headers["content-type"].startswith("text/plain")


def test_background_tasks_parameter_runs_after_the_response() -> None:
    app = App()
    done: list[str] = []

    @app.post("/work")
    async def work(tasks: BackgroundTasks, name: str) -> str:
        tasks.add_task(done.append, name)
        assert done == []
        return "queued"

    assert TestClient(app).post("/work?name=a").json() == "queued"
    assert done == ["a"]


def test_websocket_is_injected_with_path_query_and_header_values() -> None:
    app = App()

    @app.websocket("/ws/{room}")
    async def chat(
        websocket: WebSocket,
        room: Annotated[str, Path(min_length=2)],
        limit: Annotated[int, Query(gt=0)] = 10,
        x_user: Annotated[str | None, Header()] = None,
        filters: Annotated[Filters | None, Query()] = None,
    ) -> None:
        await websocket.accept()
        await websocket.send_json({"room": room, "limit": limit, "user": x_user})
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/ws/lobby?limit=3", headers={"x-user": "ann"}) as ws:
        assert ws.receive_json() == {"room": "lobby", "limit": 3, "user": "ann"}
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/ws/x?limit=0"):
        pass
    assert refused.value.code == 1008


def test_request_parameter_on_a_websocket_route_fails_when_added() -> None:
    app = App()

    async def handler(websocket: WebSocket, request: Request) -> None: ...

    with pytest.raises(TypeError, match="Request"):
        app.add_websocket_route("/ws", handler)


# -- decided once, when the route is added --------------------------------------------------------


def test_requests_never_inspect_signatures_or_build_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = App()

    @app.post("/items/{item_id}")
    async def create(
        item_id: Annotated[int, Path(ge=1)],
        item: Item,
        user: User,
        request: Request,
        response: Response,
        tasks: BackgroundTasks,
        q: Annotated[list[int], Query()] = [],  # noqa: B006
        x_token: Annotated[str | None, Header()] = None,
        session: Annotated[str | None, Cookie()] = None,
    ) -> dict[str, Any]:
        response.headers["x-ok"] = "1"
        return {"id": item_id, "item": item.name, "user": user.username, "q": q}

    @app.get("/filters")
    async def filters(f: Annotated[Filters, Query()], h: Annotated[CommonHeaders, Header()]) -> int:
        return f.limit

    @app.post("/form")
    async def form(name: Annotated[str, Form()], doc: UploadFile) -> str:
        return name + (doc.filename or "")

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("called while handling a request")

    client = TestClient(app)
    monkeypatch.setattr(inspect, "signature", forbidden)
    monkeypatch.setattr(typing, "get_type_hints", forbidden)
    monkeypatch.setattr(pydantic, "create_model", forbidden)
    monkeypatch.setattr(framework.handlers.validators, "create_model", forbidden)
    monkeypatch.setattr(framework.handlers.validators, "TypeAdapter", forbidden)
    monkeypatch.setattr(framework.handlers.compile, "signature_hints", forbidden)
    monkeypatch.setattr(framework.routing.route, "signature_hints", forbidden)

    async def late(q: int) -> int:
        return q

    with pytest.raises(AssertionError, match="called while"):  # the patches do bite
        app.add_api_route("/late", late)

    body = {"item": {"name": "pen", "price": 1}, "user": {"username": "ann"}}
    response = client.post("/items/3?q=1&q=2", json=body, headers={"x-token": "t"})
    assert response.status_code == 200
    assert response.json() == {"id": 3, "item": "pen", "user": "ann", "q": [1, 2]}
    assert response.headers["x-ok"] == "1"
    # Failures take the same prepared path.
    assert client.post("/items/0", json={"item": {}}).status_code == 422
    assert (
        client.post(
            "/items/1", content=b"{bad", headers={"content-type": "application/json"}
        ).json()["detail"][0]["type"]
        == "json_invalid"
    )
    assert client.get("/filters?limit=3", headers={"x-token": "t"}).json() == 3
    assert client.get("/filters?limit=x").status_code == 422
    assert client.post("/form", data={"name": "n"}, files={"doc": ("f", b"1")}).json() == "nf"


class _Note(BaseModel):
    text: str


async def _note_dependency(note: _Note) -> str:
    return note.text


def test_body_parameters_spread_over_handler_and_dependency_are_embedded() -> None:
    app = App()

    @app.post("/spread")
    async def spread(
        item: _SpreadItem, note: Annotated[str, Depends(_note_dependency)]
    ) -> dict[str, str]:
        return {"name": item.name, "note": note}

    client = TestClient(app)
    response = client.post("/spread", json={"item": {"name": "pen"}, "note": {"text": "hi"}})
    assert response.status_code == 200
    assert response.json() == {"name": "pen", "note": "hi"}
    response = client.post("/spread", json={"name": "pen"})
    assert response.status_code == 422
    assert sorted(error["loc"][1] for error in response.json()["detail"]) == ["item", "note"]


class _SpreadItem(BaseModel):
    name: str


def test_the_same_body_parameter_in_handler_and_dependency_stays_whole() -> None:
    app = App()

    async def check(note: _Note) -> str:
        return note.text.upper()

    @app.post("/same")
    async def same(note: _Note, upper: Annotated[str, Depends(check)]) -> list[str]:
        return [note.text, upper]

    response = TestClient(app).post("/same", json={"text": "hi"})
    assert response.status_code == 200
    assert response.json() == ["hi", "HI"]
