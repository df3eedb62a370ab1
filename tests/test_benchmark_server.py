"""The real-server benchmark (benchmarks/server.py) still works: every app, served by uvicorn and
by granian the way the harness serves it, gives every endpoint's expected answer through the
harness's own check; the servers are stopped, their workers included; wrk's scripts and counters
are read as meant. No wrk is run and no timing is asserted."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

# The benchmarks are a package at the project root, not an installed one.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import server as harness  # noqa: E402
from benchmarks.apps import APP_NAMES  # noqa: E402
from benchmarks.endpoints import BY_NAME, ENDPOINTS, Endpoint  # noqa: E402
from benchmarks.serving import (  # noqa: E402
    SERVER_KINDS,
    Server,
    ServerError,
    WrongAnswer,
    check,
    choose_pinning,
    granian_missing,
    running,
    wait_until_answering,
)
from benchmarks.wrk import WrkResult, lua_script, lua_string, parse, wrk_command  # noqa: E402


def _skip_without(kind: str) -> None:
    if kind == "granian" and (why := granian_missing()):
        pytest.skip(why)


def _group_gone(pid: int) -> bool:
    """True when no process of the group that ``pid`` led is left."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module", params=SERVER_KINDS)
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Server]]:
    """Every app served by one server kind, started (and afterwards stopped) as the harness
    does: all at once, pinned as the harness would pin them."""
    kind: str = request.param
    _skip_without(kind)
    with running(kind, APP_NAMES, tmp_path_factory.mktemp(kind), choose_pinning()) as started:
        yield started
    for server in started.values():
        assert server.process.returncode is not None
        assert _group_gone(server.process.pid), f"{server.label} left a process running"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("app", APP_NAMES)
def test_every_app_answers_every_endpoint(
    servers: dict[str, Server], app: str, endpoint: Endpoint
) -> None:
    check(servers[app], endpoint)


def test_the_check_refuses_a_wrong_body_or_status(servers: dict[str, Server]) -> None:
    json = BY_NAME["json"]
    with pytest.raises(WrongAnswer, match=r"answered GET /json \(json\) with 200"):
        check(servers["ours"], replace(json, expected=b'{"message":"Goodbye"}'))
    with pytest.raises(WrongAnswer, match="expected 201"):
        check(servers["raw"], replace(json, status=201))
    # The 404 body is each app's own: Starlette's is not ours.
    with pytest.raises(WrongAnswer, match="expected 404 b'Not Found'"):
        check(replace(servers["ours"], not_found=b"Not Found"), BY_NAME["404"])


def test_a_server_is_stopped_when_the_body_fails(tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError, match="failed"),
        running("uvicorn", ["raw"], tmp_path, choose_pinning()) as started,
    ):
        process = started["raw"].process
        raise RuntimeError("failed")
    assert process.returncode is not None
    assert _group_gone(process.pid)


def test_a_server_that_exits_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "dead.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", "print('cannot import the app'); raise SystemExit(3)"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    dead = Server("uvicorn", "ours", 9, process, log, b"")
    with pytest.raises(ServerError, match=r"(?s)exited with code 3.*cannot import the app"):
        wait_until_answering(dead, timeout=10)


def test_the_harness_runs_through_with_a_stand_in_for_wrk(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Everything but wrk: servers started and checked, warm-up, rounds, the table."""
    commands: list[list[str]] = []

    def fake_wrk(command: list[str], duration: int) -> WrkResult:
        commands.append(command)
        rate = 1000 * (len(commands) % 7 + 1)  # varies, so the best round is a real choice
        return WrkResult(rate, 1_000_000, 0, 0, 0, 0, 0)

    monkeypatch.setattr(harness, "run_wrk", fake_wrk)
    monkeypatch.setattr(harness, "wrk_version", lambda: "stand-in")
    argv = ["--servers=uvicorn", "--apps=ours,raw", "--endpoints=json,404", "--rounds=2"]
    assert harness.main(argv) == 1  # the stand-in answers 404 with 2xx statuses: reported
    out = capsys.readouterr().out
    assert len(commands) == 2 * 2 * (1 + 2)  # apps x endpoints x (warm-up + rounds)
    assert all("--script" in command and "--threads" in command for command in commands)
    assert "wrk stand-in" in out and "granian " in out
    assert "== uvicorn: requests/s, best of 2 rounds of 1 s" in out
    for label in ("json", "404", "geometric mean", "ours/raw"):
        assert label in out
    assert "WRK REPORTED ERRORS under uvicorn" in out
    assert "uvicorn serving ours, 404, round 1: " in out


# -- wrk's script and counters (no wrk needed) ---------------------------------------------------


def test_lua_strings_escape_every_byte_lua_would_read_otherwise() -> None:
    assert lua_string(b"secret") == '"secret"'
    assert lua_string(b'{"a":"\\n"}\n') == '"{\\034a\\034:\\034\\092n\\034}\\010"'
    assert lua_string(bytes([0, 255])) == '"\\000\\255"'


def test_the_scripts_set_method_headers_and_body() -> None:
    post = lua_script(BY_NAME["post body"])
    assert 'wrk.method = "POST"' in post
    assert 'wrk.headers["content-type"] = "application/json"' in post
    assert "wrk.body = " + lua_string(BY_NAME["post body"].body) in post
    depends = lua_script(BY_NAME["depends x3"])
    assert 'wrk.headers["x-token"] = "secret"' in depends and "wrk.body" not in depends
    for script in (post, depends):
        assert "function done(summary, latency, requests)" in script
        assert "function response" not in script  # it would make wrk parse every response


def test_wrk_command_loads_the_endpoint_with_one_thread(tmp_path: Path) -> None:
    command = wrk_command(
        8000,
        BY_NAME["path+query"],
        tmp_path / "s.lua",
        duration=2,
        connections=64,
        prefix=["taskset", "--cpu-list", "1"],
    )
    assert command[:4] == ["taskset", "--cpu-list", "1", "wrk"]
    assert command[-1] == "http://127.0.0.1:8000/items/42?q=abc"
    assert "--duration" in command and command[command.index("--duration") + 1] == "2s"


def test_wrk_counters_are_parsed_and_judged() -> None:
    output = "Running 1s test\nBENCHMARK-RESULT requests=5000 duration=1000000 connect=0 "
    output += "read=2 write=0 status=5000 timeout=0\n"
    result = parse(output)
    assert result.rate == 5000.0
    assert result.problems(BY_NAME["404"]) == ["2 socket read errors"]
    assert result.problems(BY_NAME["json"]) == [
        "2 socket read errors",
        "5000 non-2xx/3xx responses (expected 200)",
    ]
    clean = WrkResult(100, 1_000_000, 0, 0, 0, 0, 0)
    assert clean.problems(BY_NAME["json"]) == []
    assert clean.problems(BY_NAME["404"]) == ["100 of 100 responses below 400 (expected 404)"]
    with pytest.raises(RuntimeError, match="no BENCHMARK-RESULT line"):
        parse("unable to connect to 127.0.0.1:1 Connection refused\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["--rounds=0"],
        ["--duration=0"],
        ["--servers=nginx"],
        ["--apps=ours,flask"],
        ["--endpoints=x"],
    ],
)
def test_the_command_line_refuses_bad_options(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        harness.parse_args(argv)
    assert exited.value.code == 2


def test_the_command_line_keeps_the_tables_order() -> None:
    args = harness.parse_args(["--apps=raw,ours", "--endpoints=404,json", "--servers=granian"])
    assert args.apps == ["ours", "raw"]
    assert [e.name for e in args.endpoints] == ["json", "404"]
    assert args.servers == ["granian"]
    defaults = harness.parse_args([])
    assert defaults.servers == list(SERVER_KINDS) and defaults.apps == list(APP_NAMES)
    assert (defaults.rounds, defaults.duration, defaults.warmup, defaults.connections) == (
        4,
        1,
        1,
        64,
    )


def test_the_run_stops_when_wrk_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(harness, "wrk_version", lambda: None)
    assert harness.main([]) == 2
    assert "wrk is not installed" in capsys.readouterr().out
