"""Path templates, converters, precedence and reversing (framework/routing/paths.py), through an App."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from framework import App, Request
from framework.routing import NoMatchFound
from framework.routing.paths import CONVERTORS, PathIndex, PathTemplate
from framework.testclient import TestClient


def typed(value: Any) -> dict[str, Any]:
    """What the echo endpoints answer: the value (JSON-able) and its Python type name."""
    return {
        "value": str(value) if isinstance(value, uuid.UUID) else value,
        "type": type(value).__name__,
    }


@pytest.fixture
def converter_client() -> TestClient:
    app = App()

    @app.get("/int/{x:int}")
    async def as_int(x: int) -> dict[str, Any]:
        return typed(x)

    @app.get("/float/{x:float}")
    async def as_float(x: float) -> dict[str, Any]:
        return typed(x)

    @app.get("/uuid/{x:uuid}")
    async def as_uuid(x: uuid.UUID) -> dict[str, Any]:
        return typed(x)

    @app.get("/path/{x:path}")
    async def as_path(x: str) -> dict[str, Any]:
        return typed(x)

    @app.get("/str/{x:str}")
    async def as_str(x: str) -> dict[str, Any]:
        return typed(x)

    @app.get("/plain/{x}")
    async def as_plain(x: str) -> dict[str, Any]:
        return typed(x)

    return TestClient(app)


# -- converters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "value", "type_name"),
    [
        ("/int/0", 0, "int"),
        ("/int/42", 42, "int"),
        ("/int/007", 7, "int"),
        ("/int/12345678901234567890", 12345678901234567890, "int"),
        ("/float/12", 12.0, "float"),
        ("/float/12.5", 12.5, "float"),
        ("/float/0.25", 0.25, "float"),
        (
            "/uuid/12345678-1234-5678-1234-567812345678",
            "12345678-1234-5678-1234-567812345678",
            "UUID",
        ),
        (
            "/uuid/ABCDEF01-ABCD-ABCD-ABCD-ABCDEF012345",
            "abcdef01-abcd-abcd-abcd-abcdef012345",
            "UUID",
        ),
        ("/path/a", "a", "str"),
        ("/path/a/b/c.txt", "a/b/c.txt", "str"),
        ("/str/hello", "hello", "str"),
        ("/str/42", "42", "str"),
        ("/plain/with%20space", "with space", "str"),
        ("/plain/caf%C3%A9", "café", "str"),
    ],
)
def test_converter_matches_and_converts(
    converter_client: TestClient, url: str, value: Any, type_name: str
) -> None:
    response = converter_client.get(url)
    assert response.status_code == 200
    assert response.json() == {"value": value, "type": type_name}


@pytest.mark.parametrize(
    "url",
    [
        "/int/-1",
        "/int/1.5",
        "/int/abc",
        "/int/1e3",
        "/int/+1",
        "/int/%C2%B2",  # "²": a unicode digit, str.isdigit() is true for it
        "/int/%D9%A3",  # "٣": Arabic-Indic digit three
        "/int/%EF%BC%91",  # U+FF11, the fullwidth digit one
        "/int/ 1",
        "/float/-1.5",
        "/float/1.",
        "/float/.5",
        "/float/1e5",
        "/float/nan",
        "/float/inf",
        "/float/%C2%B2",
        "/uuid/not-a-uuid",
        "/uuid/12345678123456781234567812345678",  # not hyphenated
        "/uuid/12345678-1234-5678-1234-56781234567",  # one digit short
        "/uuid/12345678-1234-5678-1234-5678123456789",  # one digit too many
        "/uuid/g2345678-1234-5678-1234-567812345678",
        "/str/a/b",
        "/plain/a/b",
    ],
)
def test_converter_rejects(converter_client: TestClient, url: str) -> None:
    response = converter_client.get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_empty_str_parameter_does_not_match() -> None:
    app = App(redirect_slashes=False)

    @app.get("/users/{user_id}")
    async def user(user_id: str) -> str:
        return user_id

    client = TestClient(app)
    assert client.get("/users/").status_code == 404
    assert client.get("/users").status_code == 404
    assert client.get("/users/x").json() == "x"


def test_empty_path_parameter_matches() -> None:
    app = App()

    @app.get("/files/{rest:path}")
    async def files(rest: str) -> dict[str, str]:
        return {"rest": rest}

    client = TestClient(app)
    assert client.get("/files/").json() == {"rest": ""}
    assert client.get("/files/a/").json() == {"rest": "a/"}
    assert client.get("/files/a//b").json() == {"rest": "a//b"}


def test_mixed_segment_with_two_parameters() -> None:
    app = App()

    @app.get("/files/{name}.{ext}")
    async def file(name: str, ext: str) -> dict[str, str]:
        return {"name": name, "ext": ext}

    @app.get("/v{major:int}.{minor:int}/info")
    async def version(major: int, minor: int) -> list[int]:
        return [major, minor]

    client = TestClient(app)
    assert client.get("/files/report.pdf").json() == {"name": "report", "ext": "pdf"}
    # The first parameter is greedy, as a regex would be.
    assert client.get("/files/archive.tar.gz").json() == {"name": "archive.tar", "ext": "gz"}
    assert client.get("/files/noext").status_code == 404
    assert client.get("/v2.13/info").json() == [2, 13]
    assert client.get("/v2.x/info").status_code == 404
    assert client.get("/v2/info").status_code == 404


def test_path_parameter_is_greedy_at_the_end_and_backtracks_in_the_middle() -> None:
    app = App()

    @app.get("/a/{p:path}/edit")
    async def edit(p: str) -> dict[str, str]:
        return {"edit": p}

    @app.get("/static/{p:path}")
    async def static(p: str) -> dict[str, str]:
        return {"static": p}

    client = TestClient(app)
    assert client.get("/a/x/edit").json() == {"edit": "x"}
    assert client.get("/a/x/y/z/edit").json() == {"edit": "x/y/z"}
    # Greedy: the longest tail that still lets "/edit" match.
    assert client.get("/a/edit/x/edit").json() == {"edit": "edit/x"}
    assert client.get("/a/x/y").status_code == 404
    assert client.get("/static/css/site.css").json() == {"static": "css/site.css"}


def test_path_parameter_followed_by_another_parameter() -> None:
    app = App()

    @app.get("/repo/{tree:path}/blob/{name}")
    async def blob(tree: str, name: str) -> list[str]:
        return [tree, name]

    client = TestClient(app)
    assert client.get("/repo/a/b/blob/c.py").json() == ["a/b", "c.py"]
    assert client.get("/repo/a/blob/blob/x").json() == ["a/blob", "x"]


def test_literal_segments_are_not_regex() -> None:
    app = App()

    @app.get("/a.b/{x}")
    async def dotted(x: str) -> str:
        return x

    @app.get("/c+d/{x}.json")
    async def plus(x: str) -> str:
        return x

    client = TestClient(app)
    assert client.get("/a.b/1").json() == "1"
    assert client.get("/aXb/1").status_code == 404
    assert client.get("/c+d/z.json").json() == "z"
    assert client.get("/c+d/zXjson").status_code == 404


# -- invalid templates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/items/{x:number}", "Unknown path converter 'number'"),
        ("/items/{x}/{x}", "Duplicated parameter name 'x'"),
        ("/items/{x:int}/{x:str}", "Duplicated parameter name 'x'"),
        ("/items/{x}.{x}", "Duplicated parameter name 'x'"),
        ("items/{x}", "must start with '/'"),
        ("", "must start with '/'"),
        ("/items/{x", "Malformed"),
        ("/items/x}", "Malformed"),
        ("/items/{x}}", "Malformed"),
        ("/items/{{x}", "Malformed"),
        ("/items/{}", "Malformed"),
        ("/items/{1x}", "Malformed"),
        ("/items/{x:}", "Malformed"),
        ("/items/{x-y}", "Malformed"),
        ("/items/pre{p:path}", "whole segment"),
        ("/items/{p:path}.txt", "whole segment"),
    ],
)
def test_invalid_template_raises_at_registration(path: str, message: str) -> None:
    app = App()

    async def endpoint() -> None:
        return None

    with pytest.raises(ValueError, match=message):
        app.add_api_route(path, endpoint)
    with pytest.raises(ValueError, match=message):
        app.get(path)(endpoint)
    assert app.routes == []


def test_template_compile_reports_names_and_static() -> None:
    template = PathTemplate.compile("/a/{x:int}/b/{name}.{ext}")
    assert template.param_names == ("x", "name", "ext")
    assert not template.is_static
    assert PathTemplate.compile("/a/b").is_static
    assert PathTemplate.compile("/").param_names == ()


def test_convertor_match_directly() -> None:
    assert CONVERTORS["int"].match("12") == 12
    assert CONVERTORS["int"].match("²") is None
    assert CONVERTORS["float"].match("1.25") == 1.25
    assert CONVERTORS["float"].match("1.") is None
    assert CONVERTORS["str"].match("") is None
    assert CONVERTORS["path"].match("") == ""
    assert CONVERTORS["uuid"].match(str(uuid.UUID(int=5))) == uuid.UUID(int=5)


# -- precedence ---------------------------------------------------------------------------------


@pytest.mark.parametrize("literal_first", [True, False])
def test_literal_beats_parameter_regardless_of_order(literal_first: bool) -> None:
    app = App()

    async def me() -> str:
        return "me"

    async def user(user_id: str) -> str:
        return f"user {user_id}"

    if literal_first:
        app.add_api_route("/users/me", me)
        app.add_api_route("/users/{user_id}", user)
    else:
        app.add_api_route("/users/{user_id}", user)
        app.add_api_route("/users/me", me)
    client = TestClient(app)
    assert client.get("/users/me").json() == "me"
    assert client.get("/users/you").json() == "user you"


@pytest.mark.parametrize("literal_first", [True, False])
def test_literal_in_a_deeper_segment_beats_parameter(literal_first: bool) -> None:
    app = App()

    async def settings(user_id: str) -> str:
        return f"settings {user_id}"

    async def detail(user_id: str, item: str) -> str:
        return f"item {user_id} {item}"

    routes = [("/u/{user_id}/settings", settings), ("/u/{user_id}/{item}", detail)]
    for path, endpoint in routes if literal_first else reversed(routes):
        app.add_api_route(path, endpoint)
    client = TestClient(app)
    assert client.get("/u/1/settings").json() == "settings 1"
    assert client.get("/u/1/other").json() == "item 1 other"


@pytest.mark.parametrize("path_first", [True, False])
def test_parameter_beats_path_parameter(path_first: bool) -> None:
    app = App()

    async def one(name: str) -> str:
        return f"one {name}"

    async def rest(rest: str) -> str:
        return f"rest {rest}"

    routes = [("/f/{rest:path}", rest), ("/f/{name}", one)]
    for path, endpoint in routes if path_first else reversed(routes):
        app.add_api_route(path, endpoint)
    client = TestClient(app)
    assert client.get("/f/x").json() == "one x"
    assert client.get("/f/x/y").json() == "rest x/y"
    assert client.get("/f/").json() == "rest "


def test_among_parameters_the_first_declared_wins() -> None:
    app = App()

    @app.get("/n/{value:int}")
    async def number(value: int) -> str:
        return "int"

    @app.get("/n/{value}")
    async def text(value: str) -> str:
        return "str"

    @app.get("/m/{value}")
    async def text_first(value: str) -> str:
        return "str"

    @app.get("/m/{value:int}")
    async def number_second(value: int) -> str:
        return "int"

    client = TestClient(app)
    assert client.get("/n/5").json() == "int"
    assert client.get("/n/five").json() == "str"
    # Declared first, {value} takes every segment, digits included.
    assert client.get("/m/5").json() == "str"


def test_backtracking_finds_a_later_branch() -> None:
    app = App()

    @app.get("/a/{x}/b")
    async def param_branch(x: str) -> str:
        return f"param {x}"

    @app.get("/a/c/d")
    async def literal_branch() -> str:
        return "literal"

    client = TestClient(app)
    assert client.get("/a/c/d").json() == "literal"
    # The literal edge "c" is tried first, leads nowhere for "/b": the parameter branch answers.
    assert client.get("/a/c/b").json() == "param c"
    assert client.get("/a/z/b").json() == "param z"
    assert client.get("/a/c/e").status_code == 404


def test_backtracking_over_a_failed_converter_branch() -> None:
    app = App()

    @app.get("/p/{x:int}/int")
    async def first(x: int) -> str:
        return "int"

    @app.get("/p/{x}/str")
    async def second(x: str) -> str:
        return "str"

    client = TestClient(app)
    assert client.get("/p/1/int").json() == "int"
    assert client.get("/p/1/str").json() == "str"
    assert client.get("/p/a/str").json() == "str"
    assert client.get("/p/a/int").status_code == 404


def test_static_root_and_parameter_root() -> None:
    app = App()

    @app.get("/")
    async def root() -> str:
        return "root"

    @app.get("/{page}")
    async def page(page: str) -> str:
        return page

    client = TestClient(app)
    assert client.get("/").json() == "root"
    assert client.get("/about").json() == "about"


@pytest.mark.parametrize("count", [1, 100, 1000])
def test_many_routes_all_resolve(count: int) -> None:
    app = App()

    def make_static(i: int) -> Any:
        async def endpoint() -> dict[str, Any]:
            return {"static": i}

        endpoint.__name__ = f"static_{i}"
        return endpoint

    def make_param(i: int) -> Any:
        async def endpoint(item_id: int) -> dict[str, Any]:
            return {"param": i, "item_id": item_id}

        endpoint.__name__ = f"param_{i}"
        return endpoint

    for i in range(count):
        app.add_api_route(f"/s{i}/list", make_static(i))
        app.add_api_route(f"/s{i}/items/{{item_id:int}}", make_param(i))
    client = TestClient(app)
    probes = sorted({0, count // 3, count // 2, count - 1})
    for i in probes:
        assert client.get(f"/s{i}/list").json() == {"static": i}
        assert client.get(f"/s{i}/items/{i * 7}").json() == {"param": i, "item_id": i * 7}
        assert client.get(f"/s{i}/items/x").status_code == 404
        assert app.url_path_for(f"param_{i}", item_id=3) == f"/s{i}/items/3"
    assert client.get(f"/s{count}/list").status_code == 404
    assert len(app.routes) == 2 * count


def test_path_index_directly() -> None:
    index: PathIndex[str] = PathIndex()
    for path in ["/users/me", "/users/{id:int}", "/users/{name}", "/users/{rest:path}"]:
        index.setdefault(PathTemplate.compile(path), lambda path=path: path)
    assert index.find("/users/me") == ("/users/me", {})
    assert index.find("/users/3") == ("/users/{id:int}", {"id": 3})
    assert index.find("/users/bob") == ("/users/{name}", {"name": "bob"})
    assert index.find("/users/a/b") == ("/users/{rest:path}", {"rest": "a/b"})
    assert index.find("/nobody") is None
    matches = [value for value, _ in index.find_all("/users/3")]
    assert matches == ["/users/{id:int}", "/users/{name}", "/users/{rest:path}"]


def test_setdefault_returns_the_existing_value_for_the_same_template() -> None:
    index: PathIndex[list[str]] = PathIndex()
    first = index.setdefault(PathTemplate.compile("/a/{x}"), list)
    second = index.setdefault(PathTemplate.compile("/a/{x}"), list)
    assert first is second


# -- reversing ----------------------------------------------------------------------------------


@pytest.fixture
def reversing_app() -> App:
    app = App()

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> int:
        return item_id

    @app.get("/prices/{amount:float}")
    async def price(amount: float) -> float:
        return amount

    @app.get("/objects/{key:uuid}")
    async def obj(key: uuid.UUID) -> str:
        return str(key)

    @app.get("/files/{rest:path}")
    async def files(rest: str) -> str:
        return rest

    @app.get("/docs/{name}.{ext}")
    async def doc(name: str, ext: str) -> str:
        return name

    @app.get("/plain", name="custom-name")
    async def plain() -> None:
        return None

    @app.get("/where/{item_id:int}")
    async def where(request: Request, item_id: int) -> dict[str, str]:
        return {
            "item": str(request.url_for("item", item_id=item_id)),
            "file": str(request.url_for("files", rest="a b/c")),
            "plain": str(request.url_for("custom-name")),
        }

    return app


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("item", {"item_id": 3}, "/items/3"),
        ("item", {"item_id": "12"}, "/items/12"),
        ("price", {"amount": 1.5}, "/prices/1.5"),
        ("price", {"amount": 2.0}, "/prices/2"),
        ("price", {"amount": 0.1}, "/prices/0.1"),
        ("price", {"amount": 10.0}, "/prices/10"),
        ("price", {"amount": 0}, "/prices/0"),
        ("price", {"amount": 1e20}, "/prices/100000000000000000000"),
        ("price", {"amount": 1e-7}, "/prices/0.0000001"),
        ("obj", {"key": uuid.UUID(int=1)}, "/objects/00000000-0000-0000-0000-000000000001"),
        ("files", {"rest": "a/b/c.txt"}, "/files/a/b/c.txt"),
        ("files", {"rest": ""}, "/files/"),
        ("doc", {"name": "report", "ext": "pdf"}, "/docs/report.pdf"),
        ("custom-name", {}, "/plain"),
    ],
)
def test_url_path_for(reversing_app: App, name: str, params: dict[str, Any], expected: str) -> None:
    assert reversing_app.url_path_for(name, **params) == expected


def test_url_path_for_result_routes_back(reversing_app: App) -> None:
    client = TestClient(reversing_app)
    assert client.get(reversing_app.url_path_for("price", amount=2.25)).json() == 2.25
    key = uuid.UUID(int=99)
    assert client.get(reversing_app.url_path_for("obj", key=key)).json() == str(key)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("item", {}),  # missing
        ("item", {"item_id": 1, "extra": 2}),  # extra
        ("item", {"other": 1}),
        ("item", {"item_id": -1}),  # the int converter refuses negatives
        ("price", {"amount": -0.5}),
        ("price", {"amount": float("inf")}),
        ("doc", {"name": "a/b", "ext": "x"}),  # a str parameter cannot contain "/"
        ("doc", {"name": "", "ext": "x"}),  # nor be empty
        ("plain", {}),  # the route's name is "custom-name", not the function's
        ("custom-name", {"x": 1}),
        ("nowhere", {}),
    ],
)
def test_url_path_for_raises_no_match_found(
    reversing_app: App, name: str, params: dict[str, Any]
) -> None:
    with pytest.raises(NoMatchFound, match=name):
        reversing_app.url_path_for(name, **params)


def test_request_url_for_builds_absolute_urls(reversing_app: App) -> None:
    client = TestClient(reversing_app)
    assert client.get("/where/5").json() == {
        "item": "http://testserver/items/5",
        "file": "http://testserver/files/a%20b/c",
        "plain": "http://testserver/plain",
    }


def test_request_url_for_includes_root_path(reversing_app: App) -> None:
    client = TestClient(reversing_app, root_path="/api", base_url="https://example.org:8443")
    assert client.get("/where/5").json() == {
        "item": "https://example.org:8443/api/items/5",
        "file": "https://example.org:8443/api/files/a%20b/c",
        "plain": "https://example.org:8443/api/plain",
    }


def test_request_url_for_includes_app_root_path() -> None:
    app = App(root_path="/prefix/")

    @app.get("/here")
    async def here(request: Request) -> str:
        return str(request.url_for("here"))

    assert TestClient(app).get("/here").json() == "http://testserver/prefix/here"


def test_request_url_for_unknown_name_is_a_server_error(reversing_app: App) -> None:
    @reversing_app.get("/broken")
    async def broken(request: Request) -> str:
        return str(request.url_for("missing"))

    with pytest.raises(NoMatchFound):
        TestClient(reversing_app).get("/broken")
    response = TestClient(reversing_app, raise_server_exceptions=False).get("/broken")
    assert response.status_code == 500
