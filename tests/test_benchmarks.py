"""The benchmark suite still measures what it claims (benchmarks/): every app gives the right
answers through the driver, the driver refuses wrong ones, the sections print their tables, and
the soak runs against a real uvicorn and stops it. No timing is asserted."""

from __future__ import annotations

import asyncio
import gzip
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

# The benchmarks are a package at the project root, not an installed one.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import run  # noqa: E402
from benchmarks.apps import (  # noqa: E402
    APP_NAMES,
    BATTERIES_APP_NAMES,
    BenchApp,
    load,
    load_batteries,
)
from benchmarks.batteries import (  # noqa: E402
    BATTERIES,
    BIG_JSON,
    NO_MIDDLEWARE,
    NO_OP,
    STATIC_CONTENT,
    UPLOAD_CONTENT,
)
from benchmarks.driver import (  # noqa: E402
    WrongResponse,
    body_messages,
    call_once,
    measure,
    measure_memory,
    prepare,
    run_requests,
)
from benchmarks.endpoints import BY_NAME, ENDPOINTS, Endpoint, last_route  # noqa: E402
from benchmarks.soak import rss_kb, run_soak, uvicorn_server  # noqa: E402

# Written out here rather than taken from benchmarks.endpoints, so a change there has to agree.
EXPECTED = {
    "plaintext": (200, b"Hello, World!"),
    "json": (200, b'{"message":"Hello, World!"}'),
    "path+query": (200, b'{"item_id":42,"q":"abc"}'),
    "post body": (200, b'{"name":"Widget","price":9.5,"tags":["a","b"]}'),
    "depends x3": (200, b'{"user":"alice","plan":"pro","token":"secret"}'),
    "query model": (
        200,
        b'{"q":"widget","min_price":1.5,"max_price":20.0,"limit":25,"order":"price"}',
    ),
    "response_model": (
        200,
        b'{"username":"alice","email":"alice@example.com","full_name":"Alice Liddell",'
        b'"addresses":[{"street":"1 Main St","city":"Springfield","postcode":"12345"},'
        b'{"street":"7 Elm Rd","city":"Shelbyville","postcode":"54321"}]}',
    ),
    "route 100/100": (200, b'{"route":99,"x":"abc"}'),
}
NOT_FOUND = {
    "ours": b'{"detail":"Not Found"}',
    "starlette": b"Not Found",
    "fastapi": b'{"detail":"Not Found"}',
    "raw": b'{"detail":"Not Found"}',
}


@pytest.fixture(scope="module")
def apps() -> dict[str, BenchApp]:
    return {name: load(name) for name in APP_NAMES}


def test_the_endpoint_list_is_the_one_tested() -> None:
    assert [e.name for e in ENDPOINTS] == [*EXPECTED, "404"]


@pytest.mark.parametrize("endpoint", [e.name for e in ENDPOINTS])
@pytest.mark.parametrize("app_name", APP_NAMES)
def test_every_app_answers_every_endpoint(
    apps: dict[str, BenchApp], app_name: str, endpoint: str
) -> None:
    case = prepare(apps[app_name], BY_NAME[endpoint])
    expected = EXPECTED.get(endpoint, (404, NOT_FOUND[app_name]))
    assert asyncio.run(call_once(case)) == expected
    # The checked loop the timings use accepts the same answers, request after request.
    assert asyncio.run(run_requests(case, 3)) > 0


@pytest.mark.parametrize("app_name", ["ours", "starlette", "fastapi", "raw"])
@pytest.mark.parametrize("route_count", [1, 1000])
def test_apps_answer_the_last_of_many_routes(app_name: str, route_count: int) -> None:
    case = prepare(load(app_name, route_count), last_route(route_count))
    last = route_count - 1
    assert asyncio.run(call_once(case)) == (200, b'{"route":%d,"x":"abc"}' % last)
    # One route past the last is a 404 (the app really has route_count routes, not more).
    beyond = Endpoint("beyond", "GET", f"/r{route_count}/abc", status=404)
    assert asyncio.run(call_once(prepare(load(app_name, route_count), beyond)))[0] == 404


# The peers of the type-driven endpoints do the same checks by hand: a request the frameworks
# refuse is refused by every app (Starlette and raw with the same status), so the timings compare
# the same work.
REFUSED = [
    pytest.param(
        Endpoint("no token", "GET", "/account", status=422), 422, id="depends: header missing"
    ),
    pytest.param(
        Endpoint("bad token", "GET", "/account", headers=((b"x-token", b"guess"),), status=401),
        401,
        id="depends: wrong token",
    ),
    pytest.param(
        Endpoint("limit", "GET", "/search", query_string=b"q=widget&limit=1000", status=422),
        422,
        id="query model: limit above le",
    ),
    pytest.param(
        Endpoint("order", "GET", "/search", query_string=b"q=widget&order=size", status=422),
        422,
        id="query model: order not a literal",
    ),
    pytest.param(
        Endpoint("no q", "GET", "/search", query_string=b"limit=5", status=422),
        422,
        id="query model: required q missing",
    ),
    pytest.param(
        Endpoint("empty q", "GET", "/search", query_string=b"q=&min_price=-1", status=422),
        422,
        id="query model: min_length and ge",
    ),
]


@pytest.mark.parametrize(("endpoint", "status"), REFUSED)
@pytest.mark.parametrize("app_name", APP_NAMES)
def test_every_app_refuses_what_the_declarations_refuse(
    apps: dict[str, BenchApp], app_name: str, endpoint: Endpoint, status: int
) -> None:
    assert asyncio.run(call_once(prepare(apps[app_name], endpoint)))[0] == status


def test_query_model_defaults_and_percent_escapes_agree(apps: dict[str, BenchApp]) -> None:
    endpoint = Endpoint("defaults", "GET", "/search", query_string=b"q=blue+widget%21")
    answers = {name: asyncio.run(call_once(prepare(apps[name], endpoint))) for name in APP_NAMES}
    expected = b'{"q":"blue widget!","min_price":0.0,"max_price":1000.0,"limit":10,"order":"name"}'
    assert answers == dict.fromkeys(APP_NAMES, (200, expected))


def test_response_model_leaves_out_what_it_does_not_declare(apps: dict[str, BenchApp]) -> None:
    for name in APP_NAMES:
        _, body = asyncio.run(call_once(prepare(apps[name], BY_NAME["response_model"])))
        assert b"password" not in body and b"geocode" not in body
        assert body.count(b'"postcode"') == 2


def _app(
    *messages: dict[str, Any],
) -> Callable[[dict[str, Any], Any, Any], Awaitable[None]]:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["touched"] = True  # frameworks write into the scope
        for message in messages:
            await send(message)

    return app


def _start(status: int) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": []}


def _case(app: Any) -> Any:
    return prepare(BenchApp("test", app, b"nf"), BY_NAME["plaintext"])


@pytest.mark.parametrize(
    "messages",
    [
        (_start(200), {"type": "http.response.body", "body": b"Hello, World?"}),
        (_start(201), {"type": "http.response.body", "body": b"Hello, World!"}),
        (_start(200),),
        (
            _start(200),
            {"type": "http.response.body", "body": b"Hello, World!", "more_body": True},
        ),
    ],
    ids=["wrong body", "wrong status", "no body", "unfinished body"],
)
def test_driver_refuses_a_wrong_answer(messages: tuple[dict[str, Any], ...]) -> None:
    with pytest.raises(WrongResponse, match="test answered GET /plaintext with"):
        asyncio.run(run_requests(_case(_app(*messages)), 3))


def test_driver_accepts_a_body_sent_in_pieces_and_gives_each_request_a_fresh_scope() -> None:
    case = _case(
        _app(
            _start(200),
            {"type": "http.response.body", "body": b"Hello, ", "more_body": True},
            {"type": "http.response.body", "body": b"World!"},
        )
    )
    assert asyncio.run(run_requests(case, 3)) > 0
    assert asyncio.run(call_once(case)) == (200, b"Hello, World!")
    assert "touched" not in case.scope


def test_driver_hands_the_body_to_receive_then_a_disconnect() -> None:
    received: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        received.extend([await receive(), await receive()])
        await send(_start(200))
        await send({"type": "http.response.body", "body": b""})

    case = prepare(BenchApp("test", app, b""), BY_NAME["post body"])
    asyncio.run(call_once(case))
    assert received == [
        {"type": "http.request", "body": BY_NAME["post body"].body, "more_body": False},
        {"type": "http.disconnect"},
    ]
    assert (b"content-type", b"application/json") in case.scope["headers"]


def test_measure_times_every_case_every_round(apps: dict[str, BenchApp]) -> None:
    cases = [prepare(apps[name], BY_NAME["json"]) for name in APP_NAMES]
    timings = asyncio.run(measure(cases, rounds=2, requests=4))
    assert [t.case for t in timings] == cases
    for timing in timings:
        assert timing.requests == 4
        assert len(timing.rounds) == 2
        assert 0 < timing.best <= timing.median


def test_memory_per_request_is_measured(apps: dict[str, BenchApp]) -> None:
    use = asyncio.run(measure_memory(prepare(apps["ours"], BY_NAME["json"]), 20, warmup=5))
    assert use.peak > 0
    assert use.peak >= use.retained


def test_run_prints_the_in_process_tables(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--only=compare,scaling,memory", "--rounds=1", "--requests=3"]
    assert run.main([*argv, "--memory-requests=5"]) == 0
    out = capsys.readouterr().out
    assert "pydantic 2." in out and "starlette " in out and "fastapi " in out
    assert "In-process driver: µs per request (cpu time), best of 1 rounds" in out
    for label in [*EXPECTED, "404", "geometric mean", "1000 vs 1", "Peak:", "Left over:"]:
        assert label in out
    assert "x faster" in out or "x slower" in out
    assert "x raw" in out
    assert "Soak" not in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--only=compare,nonsense"],
        ["--rounds=0"],
        ["--soak-requests=10"],
        ["--clock=gpu"],
        ["--endpoints=json,nonsense"],
    ],
)
def test_run_refuses_bad_options(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run.parse_args(argv)
    assert exited.value.code == 2


def test_run_times_on_the_wall_clock_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--only=compare", "--rounds=1", "--requests=2", "--clock=wall"]) == 0
    assert "µs per request (wall time)" in capsys.readouterr().out


def test_run_compares_only_the_endpoints_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--only=compare,memory", "--rounds=1", "--requests=2", "--memory-requests=2"]
    assert run.main([*argv, "--endpoints=json, depends x3"]) == 0
    rows = [line.split("  ")[0] for line in capsys.readouterr().out.splitlines()]
    assert rows.count("json") == 3  # compare, peak, left over
    assert rows.count("depends x3") == 3
    assert "plaintext" not in rows and "404" not in rows


def test_run_no_soak_flag() -> None:
    args = run.parse_args(["--no-soak", "--soak-requests=500", "--soak-warmup=50"])
    assert args.no_soak and args.soak_requests == 500 and args.soak_warmup == 50


def test_soak_against_uvicorn_reports_rss_and_all_200() -> None:
    result = run_soak(300, warmup=100, connections=4)
    assert result.statuses == {200: 300}
    assert result.mismatches == 0
    assert result.ok
    assert result.rss_after_warmup_kb > 0 and result.rss_end_kb > 0
    assert [done for done, _ in result.rss_samples] == [100 + 20 * i for i in range(11)]
    assert result.growth_kb == result.rss_end_kb - result.rss_after_warmup_kb
    assert result.stopped_by == "SIGTERM"
    assert result.server_exit_code is not None


def test_soak_server_is_stopped_when_the_client_fails() -> None:
    stopped: list[str] = []
    with (
        pytest.raises(RuntimeError, match="client failed"),
        uvicorn_server(stopped=stopped) as (
            process,
            _,
        ),
    ):
        assert rss_kb(process.pid) > 0
        raise RuntimeError("client failed")
    assert process.poll() is not None
    assert stopped == ["SIGTERM"]


# -- batteries -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def batteries() -> dict[tuple[str, bool], BenchApp]:
    return {
        (name, middleware): load_batteries(name, middleware)
        for name in BATTERIES_APP_NAMES
        for middleware in (True, False)
    }


def _exchange(app: Any, endpoint: Endpoint) -> tuple[int, dict[bytes, bytes], bytes]:
    """Status, headers and (whole) body of one request through the driver's scope and body."""
    case = prepare(BenchApp("test", app, b""), endpoint)
    sent: list[dict[str, Any]] = []
    messages = iter(case.messages)

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({**case.scope, "state": {}}, receive, send))
    assert sent[0]["type"] == "http.response.start"
    assert not sent[-1].get("more_body", False)
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], dict(sent[0]["headers"]), body


ORIGIN = b"https://app.example.com"


def test_the_batteries_list_is_the_one_tested() -> None:
    assert [e.name for e in BATTERIES] == [
        "gzip 10 KiB json",
        "cors simple",
        "static 1 MiB",
        "upload 1 MiB",
    ]
    assert 10_000 <= len(BIG_JSON) <= 11_000
    assert len(STATIC_CONTENT) == len(UPLOAD_CONTENT) == 1024 * 1024


@pytest.mark.parametrize("app_name", BATTERIES_APP_NAMES)
def test_batteries_apps_compress_the_big_json(
    batteries: dict[tuple[str, bool], BenchApp], app_name: str
) -> None:
    status, headers, body = _exchange(batteries[app_name, True].app, BATTERIES[0])
    assert status == 200
    assert headers[b"content-encoding"] == b"gzip"
    assert int(headers[b"content-length"]) == len(body) < len(BIG_JSON) // 3
    assert gzip.decompress(body) == BIG_JSON
    assert b'"name":"Widget 0"' in BIG_JSON
    # Without the middleware the same request gets the body as it is.
    assert _exchange(batteries[app_name, False].app, BATTERIES[0])[2] == BIG_JSON


@pytest.mark.parametrize("app_name", BATTERIES_APP_NAMES)
def test_batteries_apps_answer_cors_only_with_the_middleware(
    batteries: dict[tuple[str, bool], BenchApp], app_name: str
) -> None:
    status, headers, body = _exchange(batteries[app_name, True].app, BATTERIES[1])
    assert (status, body) == (200, b'{"message":"Hello, World!"}')
    assert headers[b"access-control-allow-origin"] == ORIGIN
    assert b"content-encoding" not in headers  # below minimum_size
    status, headers, body = _exchange(batteries[app_name, False].app, BATTERIES[1])
    assert (status, body) == (200, b'{"message":"Hello, World!"}')
    assert b"access-control-allow-origin" not in headers


@pytest.mark.parametrize("app_name", BATTERIES_APP_NAMES)
def test_batteries_apps_serve_the_whole_static_file(
    batteries: dict[tuple[str, bool], BenchApp], app_name: str
) -> None:
    status, headers, body = _exchange(batteries[app_name, True].app, BATTERIES[2])
    assert status == 200
    assert headers[b"content-length"] == b"1048576"
    assert b"content-encoding" not in headers  # the request did not accept gzip
    assert body == STATIC_CONTENT


@pytest.mark.parametrize("middleware", [True, False])
@pytest.mark.parametrize("app_name", BATTERIES_APP_NAMES)
def test_batteries_apps_read_the_whole_upload(
    batteries: dict[tuple[str, bool], BenchApp], app_name: str, middleware: bool
) -> None:
    status, _, body = _exchange(batteries[app_name, middleware].app, BATTERIES[3])
    assert (status, body) == (200, b'{"filename":"upload.bin","size":1048576}')
    # A shorter file gives another size: the answer comes from what was received.
    short = BATTERIES[3].body.replace(UPLOAD_CONTENT, UPLOAD_CONTENT[:1000])
    endpoint = Endpoint(
        "short", "POST", "/upload", body=short, content_type=BATTERIES[3].content_type
    )
    assert _exchange(batteries[app_name, middleware].app, endpoint)[2] == (
        b'{"filename":"upload.bin","size":1000}'
    )


@pytest.mark.parametrize("app_name", BATTERIES_APP_NAMES)
def test_the_no_op_request_is_left_alone_by_gzip_and_cors(
    batteries: dict[tuple[str, bool], BenchApp], app_name: str
) -> None:
    answers = [
        _exchange(batteries[app_name, True].app, NO_OP),
        _exchange(batteries[app_name, False].app, NO_MIDDLEWARE),
    ]
    for status, headers, body in answers:
        assert (status, body) == (200, b'{"message":"Hello, World!"}')
        assert (b"accept-encoding", b"gzip, deflate, br") in NO_OP.headers
        assert not any(name.startswith(b"access-control-") for name in headers)
        assert b"content-encoding" not in headers


@pytest.mark.parametrize("endpoint", [*BATTERIES, NO_OP], ids=lambda e: e.name)
@pytest.mark.parametrize("app_name", BATTERIES_APP_NAMES)
def test_the_driver_accepts_every_batteries_answer(
    batteries: dict[tuple[str, bool], BenchApp], app_name: str, endpoint: Endpoint
) -> None:
    assert asyncio.run(run_requests(prepare(batteries[app_name, True], endpoint), 2)) > 0


def test_the_driver_refuses_a_batteries_answer_without_what_it_requires(
    batteries: dict[tuple[str, bool], BenchApp],
) -> None:
    bare = batteries["ours", False]
    with pytest.raises(WrongResponse, match="not gzipped"):
        asyncio.run(run_requests(prepare(bare, BATTERIES[0]), 1))
    with pytest.raises(WrongResponse, match="no access-control-allow-origin"):
        asyncio.run(run_requests(prepare(bare, BATTERIES[1]), 1))
    # A gzipped answer whose content differs is refused after decompressing it.
    other = Endpoint(
        "other", "GET", "/big", headers=BATTERIES[0].headers, expected=b"{}", gzipped=True
    )
    with pytest.raises(WrongResponse, match="gunzipped"):
        asyncio.run(run_requests(prepare(batteries["ours", True], other), 1))


def test_the_driver_hands_a_large_body_over_in_64_kib_messages() -> None:
    body = bytes(range(256)) * 1000  # 256,000 bytes: three whole pieces and a partial one
    messages = body_messages(body)
    assert [len(m["body"]) for m in messages] == [65536, 65536, 65536, 59392]
    assert [m["more_body"] for m in messages] == [True, True, True, False]
    assert b"".join(m["body"] for m in messages) == body
    assert body_messages(b"") == ({"type": "http.request", "body": b"", "more_body": False},)
    upload = prepare(BenchApp("test", None, b""), BATTERIES[3])
    assert len(upload.messages) == 17  # 1 MiB of file plus the multipart framing
    assert (b"content-type", BATTERIES[3].content_type) in upload.scope["headers"]
    assert "extensions" not in upload.scope  # no pathsend: files come as body messages


def test_run_prints_the_batteries_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--only=batteries", "--rounds=1", "--requests=2"]) == 0
    out = capsys.readouterr().out
    assert "Batteries: µs per request (cpu time), best of 1 rounds" in out
    lines = out.splitlines()
    for label in [*(e.name for e in BATTERIES), NO_MIDDLEWARE.name, NO_OP.name]:
        row = next(line for line in lines if line.startswith(label + " "))
        assert row.count("x faster") + row.count("x slower") == 2
    overhead = next(line for line in lines if line.startswith("gzip+cors no-op overhead"))
    assert len(overhead.split()) == 3 + len(BATTERIES_APP_NAMES)
    assert "In-process driver" not in out
