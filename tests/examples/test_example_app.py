"""examples/app.py: the showcase app that ``make serve`` runs."""

import gzip
import hashlib
import logging
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from example_server import UvicornServer
from openapi_spec_validator import validate

from examples.app import MAX_UPLOAD_SIZE, STATIC_DIRECTORY, Inventory, app, cors_origins
from framework import Route
from framework.testclient import TestClient

HAMMER = {"id": 1, "name": "Hammer", "price": 9.5}
SCREWDRIVER = {"id": 2, "name": "Screwdriver", "price": 4.25}
FRONT_END = "http://localhost:5173"  # the origin CORS allows by default
IDENTITY = {"accept-encoding": "identity"}
GZIP = {"accept-encoding": "gzip"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app) as test_client:  # runs the lifespan: a fresh inventory each test
        yield test_client


def test_index_links_are_absolute_urls_built_with_url_for(client: TestClient) -> None:
    assert client.get("/").json() == {
        "message": "Welcome to the Shop API",
        "items": "http://testserver/items",
        "example_user": "http://testserver/users/ada",
    }


def test_items_come_from_the_lifespan_state(client: TestClient) -> None:
    assert isinstance(client.app_state["inventory"], Inventory)
    response = client.get("/items")
    assert response.status_code == 200
    assert response.json() == [HAMMER, SCREWDRIVER]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?q=ham", [HAMMER]),
        ("?q=SCREW", [SCREWDRIVER]),
        ("?q=", [HAMMER, SCREWDRIVER]),
        ("?q=x", []),
    ],
)
def test_items_filtered_by_query(client: TestClient, query: str, expected: list[object]) -> None:
    assert client.get("/items" + query).json() == expected


def test_item_by_int_id(client: TestClient) -> None:
    assert client.get("/items/2").json() == SCREWDRIVER
    missing = client.get("/items/99")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Item 99 not found"}
    assert client.get("/items/two").status_code == 404  # not an int: no route matches


def test_create_item_then_read_it(client: TestClient) -> None:
    created = client.post("/items", json={"name": "Saw", "price": 12})
    assert created.status_code == 201
    assert created.json() == {"id": 3, "name": "Saw", "price": 12.0}
    assert client.get("/items/3").json() == created.json()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b'{"name": "", "price": -1}', [["body", "name"], ["body", "price"]]),
        (b'{"price": 3}', [["body", "name"]]),
        (b'{"name": "Saw", "price": "cheap"}', [["body", "price"]]),
        (b"not json", [["body", 0]]),
        (b"", [["body"]]),
    ],
)
def test_invalid_item_is_logged_then_answered_with_422(
    client: TestClient, caplog: pytest.LogCaptureFixture, body: bytes, fields: list[list[object]]
) -> None:
    with caplog.at_level(logging.WARNING, logger="examples.app"):
        response = client.post("/items", content=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert [error["loc"] for error in response.json()["detail"]] == fields
    assert [record.getMessage() for record in caplog.records] == [
        "invalid request POST /items: " + ", ".join(".".join(map(str, loc)) for loc in fields)
    ]
    assert client.get("/items").json() == [HAMMER, SCREWDRIVER]  # nothing stored


def test_validation_errors_have_the_default_shape(client: TestClient) -> None:
    response = client.post("/items", json={"name": "Saw", "price": 0})
    assert response.json() == {
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


def test_latest_redirects_to_the_newest_item(client: TestClient) -> None:
    client.post("/items", json={"name": "Saw", "price": 12})
    redirect = client.get("/items/latest", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "http://testserver/items/3"
    assert client.get("/items/latest").json()["name"] == "Saw"


def test_latest_without_items_is_404(client: TestClient) -> None:
    assert client.delete("/items/1").status_code == 204
    assert client.delete("/items/2").status_code == 204
    response = client.get("/items/latest")
    assert response.status_code == 404
    assert response.json() == {"detail": "No items yet"}


def test_delete_item(client: TestClient) -> None:
    response = client.delete("/items/1")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/items").json() == [SCREWDRIVER]
    assert client.delete("/items/1").status_code == 404


def test_csv_export_streams_quoted_rows(client: TestClient) -> None:
    client.post("/items", json={"name": 'Saw, "big"', "price": 12})
    response = client.get("/items.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="items.csv"'
    assert "content-length" not in response.headers
    assert response.text.splitlines() == [
        "id,name,price",
        "1,Hammer,9.5",
        "2,Screwdriver,4.25",
        '3,"Saw, ""big""",12.0',
    ]


def test_users_router_with_prefix_and_tags(client: TestClient) -> None:
    assert client.get("/users").json() == ["ada", "grace"]
    assert client.get("/users/grace").json() == {"username": "grace", "name": "Grace Hopper"}
    missing = client.get("/users/bob")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No user 'bob'"}
    user_routes = [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/users")]
    assert {r.path for r in user_routes} == {"/users", "/users/{username}"}
    assert all(r.tags == ["users"] for r in user_routes)


def test_head_comes_free_with_get(client: TestClient) -> None:
    get = client.get("/items/1")
    head = client.head("/items/1")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == "application/json"


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.put("/items/1", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, HEAD"
    assert client.post("/users").headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/", "/items", "/items/99", "/items.csv", "/users/bob"])
def test_every_answer_has_the_process_time_header(client: TestClient, path: str) -> None:
    assert re.fullmatch(r"\d+\.\d{6}", client.get(path).headers["x-process-time"])


def test_openapi_document_is_valid_and_describes_the_new_routes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    validate(document)
    assert not any(path.startswith("/static") for path in document["paths"])
    uploads = document["paths"]["/uploads"]["post"]["requestBody"]["content"]
    assert set(uploads) == {"multipart/form-data"}
    counter = document["paths"]["/events/counter"]["get"]
    assert "text/event-stream" in counter["responses"]["200"]["content"]
    assert {p["name"]: p["in"] for p in counter["parameters"]} == {
        "start": "query",
        "limit": "query",
        "interval": "query",
        "last-event-id": "header",
    }
    items = document["paths"]["/items"]
    assert [p["name"] for p in items["get"]["parameters"]] == ["q"]
    assert "application/json" in items["post"]["requestBody"]["content"]


# -- the front end: static files ------------------------------------------------------------------


class _Links(HTMLParser):
    """The href and src attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls.extend(value for name, value in attrs if name in ("href", "src") and value)


def test_front_end_index_is_served_for_the_directory(client: TestClient) -> None:
    redirect = client.get("/static", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "http://testserver/static/"
    page = client.get("/static/", headers=IDENTITY)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.content == (STATIC_DIRECTORY / "index.html").read_bytes()
    assert app.url_path_for("static", path="app.js") == "/static/app.js"


def test_every_link_of_the_front_end_resolves(client: TestClient) -> None:
    parser = _Links()
    parser.feed(client.get("/static/").text)
    linked = [url for url in parser.urls if not url.startswith("data:")]
    assert {"app.css", "app.js", "../docs"} <= set(linked)
    for url in linked:  # relative to /static/, as the browser resolves them
        response = client.get(str(httpx.URL("http://testserver/static/").join(url)))
        assert response.status_code == 200, url


@pytest.mark.parametrize(
    ("name", "content_types"),
    [
        ("app.css", ("text/css; charset=utf-8",)),
        ("app.js", ("text/javascript; charset=utf-8", "application/javascript")),
    ],
)
def test_front_end_assets_with_content_type_and_etag(
    client: TestClient, name: str, content_types: tuple[str, ...]
) -> None:
    response = client.get(f"/static/{name}", headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["content-type"] in content_types
    assert response.content == (STATIC_DIRECTORY / name).read_bytes()
    etag = response.headers["etag"]
    again = client.get(f"/static/{name}", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    changed = client.get(f"/static/{name}", headers={"if-none-match": '"other"', **IDENTITY})
    assert changed.status_code == 200
    assert changed.content == response.content


def test_missing_static_file_is_404(client: TestClient) -> None:
    response = client.get("/static/missing.js")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    outside = client.get("/static/%2e%2e/app.py")  # the example's own source stays private
    assert outside.status_code == 404
    assert outside.json() == {"detail": "Not Found"}
    assert client.post("/static/app.js").status_code == 405


# -- CORS -----------------------------------------------------------------------------------------


def test_cors_origins_come_from_a_comma_separated_value() -> None:
    assert cors_origins(None) == [FRONT_END]
    assert cors_origins(" https://a.example , http://b.example:8080/,") == [
        "https://a.example",
        "http://b.example:8080",
    ]
    assert cors_origins("") == []


def test_cors_preflight_from_the_front_end(client: TestClient) -> None:
    response = client.options(
        "/items",
        headers={
            "origin": FRONT_END,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONT_END
    assert response.headers["access-control-allow-credentials"] == "true"
    assert {m.strip() for m in response.headers["access-control-allow-methods"].split(",")} == {
        "GET",
        "POST",
        "DELETE",
    }
    assert "content-type" in response.headers["access-control-allow-headers"].lower()
    assert client.get("/items").json() == [HAMMER, SCREWDRIVER]  # the preflight changed nothing


def test_cors_simple_request_from_the_front_end(client: TestClient) -> None:
    response = client.get("/items", headers={"origin": FRONT_END})
    assert response.status_code == 200
    assert response.json() == [HAMMER, SCREWDRIVER]
    assert response.headers["access-control-allow-origin"] == FRONT_END
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"].lower() == "x-process-time"
    assert "origin" in response.headers["vary"].lower()


def test_cors_refuses_other_origins(client: TestClient) -> None:
    evil = "https://evil.example"
    preflight = client.options(
        "/items", headers={"origin": evil, "access-control-request-method": "POST"}
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    simple = client.get("/items", headers={"origin": evil})
    assert simple.status_code == 200  # the browser, not the server, withholds the answer
    assert not any(name.startswith("access-control-") for name in simple.headers)
    plain = client.get("/items")  # same origin: no Origin header, no CORS headers
    assert not any(name.startswith("access-control-") for name in plain.headers)


# -- gzip -----------------------------------------------------------------------------------------


def raw_get(client: TestClient, path: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """GET ``path``: the response and its body as sent (still encoded)."""
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def add_many_items(client: TestClient, count: int = 30) -> None:
    for n in range(count):
        assert (
            client.post("/items", json={"name": f"Widget {n}", "price": n + 1}).status_code == 201
        )


@pytest.mark.parametrize("path", ["/items", "/items.csv"])
def test_big_answers_are_gzipped_for_clients_that_accept_it(client: TestClient, path: str) -> None:
    add_many_items(client)
    plain, plain_body = raw_get(client, path, IDENTITY)
    assert len(plain_body) >= 500
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    compressed, body = raw_get(client, path, GZIP)
    assert compressed.status_code == 200
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.headers["vary"] == "Accept-Encoding"
    assert compressed.headers["content-type"] == plain.headers["content-type"]
    assert len(body) < len(plain_body)
    assert gzip.decompress(body) == plain_body


@pytest.mark.parametrize("path", ["/items", "/items/1", "/users/ada", "/"])
def test_small_answers_are_not_compressed(client: TestClient, path: str) -> None:
    response, body = raw_get(client, path, GZIP)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert len(body) < 500
    assert int(response.headers["content-length"]) == len(body)


# -- server-sent events ---------------------------------------------------------------------------


def parse_events(text: str) -> list[dict[str, str]]:
    """The events of a ``text/event-stream`` body, each as its fields."""
    events = []
    for block in re.split(r"\r\n\r\n|\n\n", text):
        fields = {}
        for line in block.splitlines():
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        if fields:
            events.append(fields)
    return events


def test_counter_streams_limit_ticks_from_start(client: TestClient) -> None:
    response = client.get("/events/counter?start=5&limit=3&interval=0", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert "content-encoding" not in response.headers  # events must not wait in a compressor
    assert parse_events(response.text) == [
        {"id": str(n), "event": "tick", "data": str(n)} for n in (5, 6, 7)
    ]


def test_counter_defaults_to_ten_ticks_from_zero(client: TestClient) -> None:
    events = parse_events(client.get("/events/counter?interval=0").text)
    assert [event["data"] for event in events] == [str(n) for n in range(10)]


def test_counter_resumes_after_last_event_id(client: TestClient) -> None:
    response = client.get(
        "/events/counter?start=0&limit=2&interval=0", headers={"last-event-id": "41"}
    )
    assert [event["id"] for event in parse_events(response.text)] == ["42", "43"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("start=-1", "start"),
        ("interval=-0.5", "interval"),
        ("interval=10.5", "interval"),
        ("limit=many", "limit"),
    ],
)
def test_counter_bounds_are_validated(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/events/counter?{query}")
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


# -- uploads --------------------------------------------------------------------------------------


def test_upload_answers_with_size_and_sha256(client: TestClient) -> None:
    content = bytes(range(256)) * 1000  # 256,000 bytes: more than one read chunk
    response = client.post(
        "/uploads",
        files={"file": ("data.bin", content, "application/octet-stream")},
        data={"description": "test pattern"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "filename": "data.bin",
        "content_type": "application/octet-stream",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "description": "test pattern",
    }


def test_upload_description_is_optional(client: TestClient) -> None:
    response = client.post("/uploads", files={"file": ("notes.txt", b"hello\n", "text/plain")})
    assert response.status_code == 200
    assert response.json()["description"] == ""
    assert response.json()["sha256"] == hashlib.sha256(b"hello\n").hexdigest()


def test_upload_limit(client: TestClient) -> None:
    largest = b"x" * MAX_UPLOAD_SIZE
    accepted = client.post("/uploads", files={"file": ("max.bin", largest)})
    assert accepted.status_code == 200
    assert accepted.json()["size"] == MAX_UPLOAD_SIZE
    refused = client.post("/uploads", files={"file": ("big.bin", largest + b"x")})
    assert refused.status_code == 413
    assert refused.json() == {"detail": "Uploaded file 'big.bin' is too large"}


@pytest.mark.parametrize(
    ("request_options", "locations"),
    [
        ({"data": {"description": "no file"}}, [["body", "file"]]),
        ({}, [["body", "file"]]),
        (
            {"files": {"file": ("a.txt", b"a")}, "data": {"description": "d" * 201}},
            [["body", "description"]],
        ),
    ],
)
def test_upload_without_a_file_or_with_a_long_description_is_422(
    client: TestClient, request_options: dict[str, object], locations: list[list[str]]
) -> None:
    response = client.post("/uploads", **request_options)  # type: ignore[arg-type]
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == locations


def test_under_uvicorn(tmp_path: Path) -> None:
    log_path = tmp_path / "uvicorn.log"
    with (
        UvicornServer.run("examples.app:app", log_path) as server,
        httpx.Client(base_url=server.url, timeout=10.0) as http,
    ):
        index = http.get("/")
        assert index.status_code == 200
        assert index.json()["items"] == f"{server.url}/items"  # url_for uses the Host

        created = http.post("/items", json={"name": "Saw", "price": 12})
        assert created.status_code == 201, server.output()
        assert created.json() == {"id": 3, "name": "Saw", "price": 12.0}

        redirect = http.get("/items/latest")
        assert redirect.status_code == 307
        assert redirect.headers["location"] == f"{server.url}/items/3"
        assert http.get(redirect.headers["location"]).json()["name"] == "Saw"

        assert http.get("/items/99").status_code == 404
        assert http.post("/items", content=b"{}").status_code == 422
        assert http.patch("/items/1").status_code == 405

        head = http.head("/items/1")
        assert (head.status_code, head.content) == (200, b"")
        assert "x-process-time" in head.headers

        with http.stream("GET", "/items.csv") as csv_response:
            assert csv_response.headers["transfer-encoding"] == "chunked"
            lines = csv_response.read().decode().splitlines()
        assert lines == ["id,name,price", "1,Hammer,9.5", "2,Screwdriver,4.25", "3,Saw,12.0"]
    assert server.stopped_gracefully(), server.output()


def test_front_end_features_under_uvicorn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = "https://shop.example"
    monkeypatch.setenv("SHOP_CORS_ORIGINS", f"{FRONT_END}, {shop}")  # the server inherits it
    with (
        UvicornServer.run("examples.app:app", tmp_path / "uvicorn.log") as server,
        httpx.Client(base_url=server.url, timeout=10.0) as http,
    ):
        # The front end, with a cache validator.
        page = http.get("/static/")
        assert page.status_code == 200, server.output()
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.content == (STATIC_DIRECTORY / "index.html").read_bytes()
        script = http.get("/static/app.js")
        assert script.content == (STATIC_DIRECTORY / "app.js").read_bytes()
        cached = http.get("/static/app.js", headers={"if-none-match": script.headers["etag"]})
        assert (cached.status_code, cached.content) == (304, b"")

        # CORS, for both origins named in SHOP_CORS_ORIGINS and for no other.
        preflight = http.options(
            "/uploads", headers={"origin": shop, "access-control-request-method": "POST"}
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == shop
        simple = http.get("/items", headers={"origin": FRONT_END})
        assert simple.headers["access-control-allow-origin"] == FRONT_END
        assert simple.headers["access-control-allow-credentials"] == "true"
        other = http.get("/items", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers

        # gzip on the streamed CSV export, decompressing to what an identity request gets.
        for n in range(20):
            http.post("/items", json={"name": f"Widget {n}", "price": n + 1}).raise_for_status()
        with http.stream("GET", "/items.csv", headers=IDENTITY) as response:
            plain = b"".join(response.iter_raw())
        with http.stream("GET", "/items.csv", headers=GZIP) as response:
            assert response.headers["content-encoding"] == "gzip"
            compressed = b"".join(response.iter_raw())
        assert gzip.decompress(compressed) == plain
        assert plain.decode().splitlines()[-1] == "22,Widget 19,20.0"

        # A long counter: the first ticks arrive while it runs; then the client leaves.
        with http.stream("GET", "/events/counter?start=3&limit=1000&interval=0.05") as stream:
            assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
            ticks = []
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    ticks.append(int(line.removeprefix("data: ")))
                if len(ticks) == 3:
                    break
        assert ticks == [3, 4, 5]
        # The server keeps serving, streams included.
        assert http.get("/items/1").json() == HAMMER
        short = http.get("/events/counter?limit=2&interval=0")
        assert [e["data"] for e in parse_events(short.text)] == ["0", "1"]

        # Uploads: a digest, and 413 past the limit.
        content = b"uvicorn upload\n" * 1000
        uploaded = http.post(
            "/uploads",
            files={"file": ("log.txt", content, "text/plain")},
            data={"description": "x"},
        )
        assert uploaded.status_code == 200, server.output()
        assert uploaded.json()["sha256"] == hashlib.sha256(content).hexdigest()
        assert uploaded.json()["size"] == len(content)
        too_big = http.post("/uploads", files={"file": ("big.bin", b"x" * (MAX_UPLOAD_SIZE + 1))})
        assert too_big.status_code == 413
    # A graceful stop also shows the abandoned counter ended: uvicorn waits for running tasks.
    assert server.stopped_gracefully(), server.output()
