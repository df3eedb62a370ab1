"""Bad input to typed handlers: wrong types, missing values, huge numbers, deep nesting, big
bodies, repeated keys, invalid UTF-8. Each gets a 4xx with a clear detail, never a 500.

The TestClient re-raises any exception that escapes the app, so a request that would be a 500
fails its test. Every 422 body is parsed as strict JSON (no NaN or Infinity).
"""

import json
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, field_validator, model_validator

from framework import App, Body, Cookie, Form, Header, Query, Request
from framework.handlers.errors import MAX_BODY_ERRORS
from framework.testclient import TestClient

JSON = {"content-type": "application/json"}
MiB = 1024 * 1024


def strict_json(text: str) -> Any:
    """Parse as JSON the way a browser would: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def detail(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    errors: list[dict[str, Any]] = strict_json(response.text)["detail"]
    return errors


class Item(BaseModel):
    name: str
    price: float
    count: int = 0


def make_app(**options: Any) -> App:
    app = App(**options)

    @app.post("/item")
    async def item(item: Item) -> dict[str, Any]:
        return {"name_length": len(item.name), "price": item.price}

    @app.post("/any")
    async def anything(data: Annotated[Any, Body()]) -> str:
        return type(data).__name__

    @app.post("/dict")
    async def mapping(data: dict[str, Any]) -> int:
        return len(data)

    @app.post("/ints")
    async def ints(data: Annotated[list[int], Body()]) -> int:
        return len(data)

    @app.post("/count")
    async def count(value: Annotated[int, Body(embed=True)]) -> str:
        return str(value)[:20]

    @app.post("/finite")
    async def finite(value: Annotated[float, Body(embed=True, allow_inf_nan=False)]) -> float:
        return value

    @app.post("/text")
    async def text(data: Annotated[str, Body()]) -> int:
        return len(data)

    @app.get("/q")
    async def query(
        n: int,
        name: str = "",
        tags: Annotated[list[str], Query()] = [],  # noqa: B006
        ratio: Annotated[float, Query(allow_inf_nan=False)] = 0.0,
    ) -> dict[str, Any]:
        return {"n": n, "name": name, "tags": tags, "ratio": ratio}

    @app.get("/h")
    async def header(
        x_count: Annotated[int | None, Header()] = None,
        x_name: Annotated[str | None, Header()] = None,
        session: Annotated[int | None, Cookie()] = None,
    ) -> dict[str, Any]:
        return {"count": x_count, "name": x_name, "session": session}

    @app.get("/items/{item_id}")
    async def path(item_id: int) -> int:
        return item_id

    @app.get("/names/{name}")
    async def path_text(name: str) -> str:
        return name

    @app.post("/form")
    async def form(name: Annotated[str, Form()], n: Annotated[int, Form()] = 0) -> dict[str, Any]:
        return {"name": name, "n": n}

    @app.post("/raw")
    async def raw(request: Request) -> str:
        return type(await request.json()).__name__

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app())


# -- wrong types and missing values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "options", "expected"),
    [
        ("GET", "/q?n=abc", {}, [("int_parsing", ["query", "n"], "abc")]),
        ("GET", "/q?n=1.5", {}, [("int_parsing", ["query", "n"], "1.5")]),
        ("GET", "/q?n=", {}, [("int_parsing", ["query", "n"], "")]),
        ("GET", "/q", {}, [("missing", ["query", "n"], None)]),
        ("GET", "/items/abc", {}, [("int_parsing", ["path", "item_id"], "abc")]),
        (
            "GET",
            "/h",
            {"headers": {"x-count": "many"}},
            [("int_parsing", ["header", "x-count"], "many")],
        ),
        (
            "GET",
            "/h",
            {"headers": {"cookie": "session=x"}},
            [("int_parsing", ["cookie", "session"], "x")],
        ),
        (
            "POST",
            "/item",
            {"json": {"name": ["a"], "price": "cheap"}},
            [
                ("string_type", ["body", "name"], ["a"]),
                ("float_parsing", ["body", "price"], "cheap"),
            ],
        ),
        (
            "POST",
            "/item",
            {"json": {"name": None, "price": [1], "count": 1.5}},
            [
                ("string_type", ["body", "name"], None),
                ("float_type", ["body", "price"], [1]),
                ("int_from_float", ["body", "count"], 1.5),
            ],
        ),
        (
            "POST",
            "/item",
            {"json": {}},
            [
                ("missing", ["body", "name"], {}),
                ("missing", ["body", "price"], {}),
            ],
        ),
        ("POST", "/item", {}, [("missing", ["body"], None)]),
        (
            "POST",
            "/ints",
            {"json": [1, "two", None, {}]},
            [
                ("int_parsing", ["body", 1], "two"),
                ("int_type", ["body", 2], None),
                ("int_type", ["body", 3], {}),
            ],
        ),
        ("POST", "/ints", {"json": "1,2"}, [("list_type", ["body"], "1,2")]),
        (
            "POST",
            "/form",
            {"data": {"n": "x"}},
            [
                ("missing", ["body", "name"], None),
                ("int_parsing", ["body", "n"], "x"),
            ],
        ),
    ],
)
def test_wrong_types_and_missing_values(
    client: TestClient,
    method: str,
    url: str,
    options: dict[str, Any],
    expected: list[tuple[str, list[Any], Any]],
) -> None:
    errors = detail(client.request(method, url, **options))
    assert [(error["type"], error["loc"], error["input"]) for error in errors] == expected
    assert all(error["msg"] for error in errors)


# -- huge numbers ---------------------------------------------------------------------------------


def test_an_integer_too_long_to_parse_in_a_query(client: TestClient) -> None:
    digits = "9" * 5000
    assert detail(client.get(f"/q?n={digits}")) == [
        {
            "type": "int_parsing_size",
            "loc": ["query", "n"],
            "msg": "Unable to parse input string as an integer, exceeded maximum size",
            "input": digits,
        }
    ]


def test_big_integers_within_limits_are_values(client: TestClient) -> None:
    big = "9" * 100
    assert client.get(f"/q?n={big}").json()["n"] == int(big)
    assert client.get(f"/items/{big}").json() == int(big)
    assert client.post("/count", content=f'{{"value": {big}}}', headers=JSON).json() == big[:20]


def test_an_integer_too_long_in_a_json_body(client: TestClient) -> None:
    body = '{"value": ' + "1" * 5000 + "}"
    (error,) = detail(client.post("/count", content=body, headers=JSON))
    assert error["type"] == "json_invalid"
    assert error["loc"][0] == "body"
    assert 10 < error["loc"][1] <= len(body)  # where the parser gave up
    assert error["ctx"] == {"error": "number out of range"}
    assert error["input"] == {}


def test_infinite_numbers_are_refused_where_they_cannot_be_values(client: TestClient) -> None:
    # 1e400 overflows to infinity: not an integer, and refused where allow_inf_nan=False.
    for literal, shown in (("1e400", "Infinity"), ("-1e400", "-Infinity"), ("NaN", "NaN")):
        body = f'{{"value": {literal}}}'
        assert detail(client.post("/count", content=body, headers=JSON)) == [
            {
                "type": "finite_number",
                "loc": ["body", "value"],
                "msg": "Input should be a finite number",
                "input": shown,  # written as text: the 422 body stays valid JSON
            }
        ]
        assert detail(client.post("/finite", content=body, headers=JSON))[0]["type"] == (
            "finite_number"
        )
    assert detail(client.get("/q?n=1&ratio=1e400")) == [
        {
            "type": "finite_number",
            "loc": ["query", "ratio"],
            "msg": "Input should be a finite number",
            "input": "1e400",
        }
    ]
    assert client.post("/finite", json={"value": 1e300}).json() == 1e300


# -- deep nesting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b"[" * 10_000,  # never closed
    ],
    ids=["arrays", "objects", "unclosed"],
)
@pytest.mark.parametrize("path", ["/any", "/dict", "/item", "/ints"])
def test_json_nested_10000_levels(client: TestClient, body: bytes, path: str) -> None:
    (error,) = detail(client.post(path, content=body, headers=JSON))
    assert error["type"] == "json_invalid"
    assert error["loc"][0] == "body"
    assert error["ctx"] == {"error": "recursion limit exceeded"}
    assert error["input"] == {}


def test_moderate_nesting_is_fine(client: TestClient) -> None:
    assert client.post("/any", content=b"[" * 100 + b"]" * 100, headers=JSON).json() == "list"


def test_deep_nesting_read_by_request_json_is_a_400(client: TestClient) -> None:
    response = client.post("/raw", content=b"[" * 10_000 + b"]" * 10_000, headers=JSON)
    assert response.status_code == 400
    assert "recursion limit exceeded" in response.json()["detail"]


# -- big bodies -----------------------------------------------------------------------------------


def test_a_10_mib_json_body_within_the_limit(client: TestClient) -> None:
    body = json.dumps({"name": "x" * (10 * MiB), "price": 1.5})
    response = client.post("/item", content=body, headers=JSON)
    assert response.status_code == 200
    assert response.json() == {"name_length": 10 * MiB, "price": 1.5}
    numbers = "[" + ",".join(["7"] * (5 * MiB)) + "]"  # 10 MiB of small numbers
    assert client.post("/ints", content=numbers, headers=JSON).json() == 5 * MiB


def test_a_10_mib_body_that_is_not_json_is_not_echoed_back(client: TestClient) -> None:
    body = b'{"name": "' + b"x" * (10 * MiB) + b'", "price": }'
    response = client.post("/item", content=body, headers=JSON)
    assert detail(response) == [
        {
            "type": "json_invalid",
            "loc": ["body", 10 * MiB + 22],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": "Expecting value"},
        }
    ]
    assert len(response.content) < 200


def test_a_10_mib_body_over_the_apps_limit_is_a_413() -> None:
    client = TestClient(make_app(max_body_size=MiB))
    body = json.dumps({"name": "x" * (10 * MiB), "price": 1})
    response = client.post("/item", content=body, headers=JSON)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    # Without Content-Length (chunked) the limit applies as the body arrives.
    chunks = (body[i : i + MiB].encode() for i in range(0, len(body), MiB))
    response = client.post("/item", content=chunks, headers=JSON)
    assert response.status_code == 413
    assert client.post("/item", json={"name": "a", "price": 1}).status_code == 200


def test_a_body_with_very_many_errors_reports_the_first_of_each_list(
    client: TestClient,
) -> None:
    wrong = ["x"] * (MAX_BODY_ERRORS * 50)
    response = client.post("/ints", json=[1, 2, *wrong])
    assert detail(response) == [
        {
            "type": "int_parsing",
            "loc": ["body", 2],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "x",
        }
    ]
    # Up to the limit, every error is listed.
    assert len(detail(client.post("/ints", json=["x"] * MAX_BODY_ERRORS))) == MAX_BODY_ERRORS


def test_many_errors_inside_models_and_embedded_bodies() -> None:
    app = App()

    class Order(BaseModel):
        ref: str
        lines: list[int] = []

    @app.post("/orders")
    async def orders(orders: list[Order], note: Annotated[str, Body()]) -> int:
        return len(orders)

    client = TestClient(app)
    body = {"orders": [{"ref": "a", "lines": [1, *["x"] * 5000]}, *[{}] * 5000], "note": 5}
    assert detail(client.post("/orders", json=body)) == [
        {
            "type": "int_parsing",
            "loc": ["body", "orders", 0, "lines", 1],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "x",
        },
        {
            "type": "string_type",
            "loc": ["body", "note"],
            "msg": "Input should be a valid string",
            "input": 5,
        },
    ]


class Range(BaseModel):
    low: int
    high: int = 0

    @model_validator(mode="wrap")
    @classmethod
    def ordered(cls, value: Any, handler: Any) -> Any:
        result = handler(value)
        if result.high and result.high < result.low:
            raise ValueError("high below low")
        return result


class Span(BaseModel):
    range: Range

    @field_validator("range")
    @classmethod
    def positive(cls, value: Range) -> Range:
        if value.low < 0:  # needs the Range itself
            raise ValueError("negative")
        return value


def test_many_errors_with_validators_of_models() -> None:
    app = App()

    @app.post("/ranges")
    async def ranges(items: list[Range]) -> int:
        return len(items)

    @app.post("/spans")
    async def spans(items: list[Span]) -> int:
        return len(items)

    client = TestClient(app)
    assert client.post("/ranges", json=[{"low": 1, "high": 2}]).json() == 1
    assert detail(client.post("/ranges", json=[{"low": 1}, *[{}] * 2000])) == [
        {"type": "missing", "loc": ["body", 1, "low"], "msg": "Field required", "input": {}}
    ]
    # A validator that needs the model it validates cannot run on the shortcut: the errors are
    # counted instead of listed.
    assert client.post("/spans", json=[{"range": {"low": 1}}]).json() == 1
    body = [{"range": {"low": 1}}, *[{}] * 2000]
    assert detail(client.post("/spans", json=body)) == [
        {
            "type": "too_many_errors",
            "loc": ["body"],
            "msg": "The body has 2000 validation errors, too many to list",
            "input": {},
        }
    ]


# -- repeated keys --------------------------------------------------------------------------------


def test_repeated_query_key_for_a_scalar_takes_the_last_value(client: TestClient) -> None:
    assert client.get("/q?n=1&n=2&n=3").json()["n"] == 3
    assert client.get("/q?n=x&n=2").json()["n"] == 2  # only the value used is validated
    assert detail(client.get("/q?n=1&n=x")) == [
        {
            "type": "int_parsing",
            "loc": ["query", "n"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "x",
        }
    ]
    assert client.get("/q?n=1&tags=a&tags=b&tags=a").json()["tags"] == ["a", "b", "a"]


def test_many_repeated_query_keys(client: TestClient) -> None:
    url = "/q?n=1&" + "&".join(f"tags=t{i}" for i in range(5000))
    assert len(client.get(url).json()["tags"]) == 5000


def test_repeated_header_for_a_scalar_takes_the_first_value(client: TestClient) -> None:
    headers = [("x-count", "1"), ("x-count", "2")]
    assert client.get("/h", headers=headers).json()["count"] == 1


def test_repeated_json_key_takes_the_last_value(client: TestClient) -> None:
    body = b'{"name": "a", "name": "bb", "price": 1}'
    assert client.post("/item", content=body, headers=JSON).json()["name_length"] == 2


# -- invalid UTF-8 and odd bytes ------------------------------------------------------------------


def test_invalid_utf8_in_a_json_body_is_invalid_json(client: TestClient) -> None:
    for body, position in ((b'{"name": "\xff", "price": 1}', 10), (b'{"name": "a\xc3"}', 11)):
        assert detail(client.post("/item", content=body, headers=JSON)) == [
            {
                "type": "json_invalid",
                "loc": ["body", position],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": "invalid unicode code point"},
            }
        ]


def test_a_lone_surrogate_escape_is_invalid_json(client: TestClient) -> None:
    body = b'{"name": "\\ud800", "price": 1}'
    (error,) = detail(client.post("/item", content=body, headers=JSON))
    assert error["type"] == "json_invalid"
    assert error["loc"] == ["body", 16]


def test_invalid_utf8_in_a_text_body(client: TestClient) -> None:
    response = client.post("/text", content=b"\xff\xfeabc", headers={"content-type": "text/plain"})
    assert detail(response) == [
        {
            "type": "string_unicode",
            "loc": ["body"],
            "msg": "Input should be a valid string, unable to parse raw data as a unicode string",
            "input": "\ufffd\ufffdabc",
        }
    ]


def test_invalid_utf8_in_query_path_and_forms_decodes_leniently(client: TestClient) -> None:
    assert client.get("/q?n=1&name=%ff%fe").json()["name"] == "\ufffd\ufffd"
    assert detail(client.get("/q?n=%ff"))[0]["input"] == "\ufffd"
    assert client.get("/names/%ff").json() == "\ufffd"
    urlencoded = {"content-type": "application/x-www-form-urlencoded"}
    assert client.post("/form", content=b"name=%ff&n=1", headers=urlencoded).json() == {
        "name": "\ufffd",
        "n": 1,
    }
    assert client.post("/form", files={"name": (None, b"\xff\xfe")}).json()["name"] == (
        "\ufffd\ufffd"
    )


def test_non_ascii_header_bytes_are_latin_1(client: TestClient) -> None:
    response = client.get("/h", headers=[(b"x-name", b"\xff\xfe"), (b"x-count", b"\xff")])
    assert detail(response)[0]["loc"] == ["header", "x-count"]
    assert detail(response)[0]["input"] == "\xff"
    assert client.get("/h", headers=[(b"x-name", b"\xe9t\xe9")]).json()["name"] == "\xe9t\xe9"


def test_nul_bytes_and_control_characters_are_plain_text(client: TestClient) -> None:
    assert client.get("/q?n=1&name=a%00b%01").json()["name"] == "a\x00b\x01"
    body = b'{"name": "a\\u0000b", "price": 1}'
    assert client.post("/item", content=body, headers=JSON).json()["name_length"] == 3
    assert detail(client.get("/q?n=%00"))[0]["input"] == "\x00"


def test_a_utf8_byte_order_mark_is_not_json(client: TestClient) -> None:
    body = b'\xef\xbb\xbf{"name": "a", "price": 1}'
    (error,) = detail(client.post("/item", content=body, headers=JSON))
    assert error["type"] == "json_invalid"
    assert error["loc"] == ["body", 0]
