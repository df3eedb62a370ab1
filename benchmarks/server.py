"""Real-server benchmark: ``python -m benchmarks.server [options]`` (``make bench-server``).

Every benchmark app (ours, Starlette, FastAPI, the raw ASGI app) is served by uvicorn and by
granian, one worker each, and loaded with wrk over loopback on every endpoint of
:mod:`benchmarks.endpoints`. The apps are interleaved over several rounds and the best round of
each (server, app, endpoint) is kept. Prints, per server, requests per second for each app and
endpoint, with ours against the others and a geometric mean row.

See the "bench-server" section of benchmarks/README.md for what the numbers mean.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.apps import APP_NAMES
from benchmarks.endpoints import BY_NAME, ENDPOINTS, Endpoint
from benchmarks.run import LABELS, _print, _table, _version
from benchmarks.serving import (
    SERVER_KINDS,
    Pinning,
    Server,
    ServerError,
    WrongAnswer,
    check,
    choose_pinning,
    describe,
    granian_missing,
    running,
)
from benchmarks.wrk import WrkError, WrkResult, lua_script, run_wrk, wrk_command, wrk_version

VERSIONED = ("framework", "pydantic", "starlette", "fastapi", "uvicorn", "granian", "uvloop")
VERSIONED += ("httptools",)
"""The distributions whose versions head the output (wrk's comes after them)."""

SERVER_OVERHEAD_SECONDS = 5
"""Rough seconds per server kind for starting, checking and stopping its servers (estimate)."""


@dataclass
class Outcome:
    """What one server kind's runs gave: wrk's counters per app and endpoint, every round."""

    kind: str
    rounds: dict[tuple[str, str], list[WrkResult]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """wrk's error counts, one line per run that had any."""

    def best(self, app: str, endpoint: str) -> WrkResult:
        """The round with the highest rate: noise only ever lowers a rate."""
        return max(self.rounds[app, endpoint], key=lambda result: result.rate)


# -- measuring ----------------------------------------------------------------------------------


class Load:
    """Runs wrk against the servers of one kind, per the command-line options."""

    def __init__(self, args: argparse.Namespace, pinning: Pinning, scripts: dict[str, Path]):
        self.args = args
        self.pinning = pinning
        self.scripts = scripts

    def once(self, server: Server, endpoint: Endpoint, duration: int) -> WrkResult:
        """Load ``server`` on ``endpoint`` for ``duration`` seconds; wrk's counters."""
        command = wrk_command(
            server.port,
            endpoint,
            self.scripts[endpoint.name],
            duration=duration,
            connections=self.args.connections,
            prefix=self.pinning.prefix(self.pinning.client_cpu),
        )
        result = run_wrk(command, duration)
        # A server that died under load shows as socket errors; say so plainly instead.
        server.ensure_alive()
        return result

    def serve(self, servers: dict[str, Server], outcome: Outcome) -> None:
        """Check every answer, warm every app up, then the timed rounds, apps interleaved."""
        endpoints, apps = self.args.endpoints, self.args.apps
        for app in apps:
            for endpoint in endpoints:
                check(servers[app], endpoint)
        if self.args.warmup:
            for endpoint in endpoints:
                for app in apps:
                    self._record(outcome, servers[app], endpoint, "warm-up", self.args.warmup)
        for number in range(self.args.rounds):
            start = time.perf_counter()
            # Rotated every round, so no app is always the one loaded right after another.
            order = apps[number % len(apps) :] + apps[: number % len(apps)]
            for endpoint in endpoints:
                for app in order:
                    result = self._record(
                        outcome, servers[app], endpoint, f"round {number + 1}", self.args.duration
                    )
                    outcome.rounds.setdefault((app, endpoint.name), []).append(result)
            _print(
                f"  {outcome.kind}: round {number + 1} of {self.args.rounds} done "
                f"({time.perf_counter() - start:.0f} s)"
            )

    def _record(
        self, outcome: Outcome, server: Server, endpoint: Endpoint, when: str, duration: int
    ) -> WrkResult:
        """:meth:`once`, noting in ``outcome`` anything wrk counted as an error."""
        result = self.once(server, endpoint, duration)
        problems = result.problems(endpoint)
        if problems:
            outcome.problems.append(
                f"{server.label}, {endpoint.name}, {when}: {'; '.join(problems)} "
                f"(of {result.requests:,} responses)"
            )
        return result


def measure_kind(kind: str, args: argparse.Namespace, pinning: Pinning, workdir: Path) -> Outcome:
    """Serve every chosen app with ``kind``, check, warm up and load them; servers stopped after."""
    scripts = {}
    for endpoint in args.endpoints:
        scripts[endpoint.name] = workdir / f"endpoint-{len(scripts)}.lua"
        scripts[endpoint.name].write_text(lua_script(endpoint))
    outcome = Outcome(kind)
    with running(kind, args.apps, workdir, pinning) as servers:
        _print(f"  {kind}: {len(servers)} servers answering, checking every endpoint once")
        Load(args, pinning, scripts).serve(servers, outcome)
    return outcome


# -- the tables ---------------------------------------------------------------------------------


def _geomean(values: Sequence[float]) -> float:
    if min(values) <= 0:  # a run without a single response, listed among the errors
        return 0.0
    return math.exp(sum(math.log(value) for value in values) / len(values))


def _versus(ours: float, theirs: float) -> str:
    """Our rate against theirs, in words: "1.5x faster" (ours serves 1.5 times as many)."""
    if not (ours and theirs):
        return "-"
    ratio = ours / theirs
    return f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"


def _ratio_columns(apps: Sequence[str]) -> list[str]:
    """The comparison columns the chosen apps allow: ours against each other app."""
    if "ours" not in apps:
        return []
    columns = [f"vs {LABELS[app]}" for app in ("starlette", "fastapi") if app in apps]
    return [*columns, "ours/raw"] if "raw" in apps else columns


def _row(label: str, rates: dict[str, float], apps: Sequence[str], flags: set[str]) -> list[str]:
    """One table row: the rates (``!`` after those of the apps in ``flags``), then ours against
    the others."""
    cells = [label, *(f"{rates[app]:,.0f}" + ("!" if app in flags else "") for app in apps)]
    if "ours" in apps:
        ours = rates["ours"]
        cells += [_versus(ours, rates[app]) for app in ("starlette", "fastapi") if app in apps]
        if "raw" in apps:
            cells.append(f"{ours / rates['raw']:.2f}" if rates["raw"] else "-")
    return cells


def report(outcome: Outcome, args: argparse.Namespace) -> None:
    """Print one server kind's table, the noise line and wrk's errors."""
    apps = args.apps
    rows, columns = [], {app: [] for app in apps}
    for endpoint in args.endpoints:
        best = {app: outcome.best(app, endpoint.name) for app in apps}
        for app in apps:
            columns[app].append(best[app].rate)
        flags = {app for app in apps if best[app].problems(endpoint)}
        rows.append(_row(endpoint.name, {a: b.rate for a, b in best.items()}, apps, flags))
    rows.append(_row("geometric mean", {a: _geomean(v) for a, v in columns.items()}, apps, set()))
    header = ["endpoint", *(LABELS[app] for app in apps), *_ratio_columns(apps)]
    warmup = f"{args.warmup} s warm-up first" if args.warmup else "no warm-up"
    _print(
        "",
        f"== {outcome.kind}: requests/s, best of {args.rounds} rounds of {args.duration} s "
        f"(wrk: 1 thread, {args.connections} connections; {warmup}) ==",
        *_table(header, rows),
    )
    if "ours" in apps and len(apps) > 1:
        _print(
            'vs X: our requests/s divided by X\'s ("1.50x faster": ours serves 1.5 times as '
            "many); ours/raw: our requests/s divided by the raw app's."
        )
    _print(_noise(outcome))
    if outcome.problems:
        _print(
            f"WRK REPORTED ERRORS under {outcome.kind} (cells marked ! had them in their best "
            "round):",
            *(f"  {line}" for line in outcome.problems),
        )
    else:
        _print("wrk reported no errors: no socket errors, and every status as expected.")


def _noise(outcome: Outcome) -> str:
    """How far below the best round the median one was, on average and at worst."""
    spreads = []
    for results in outcome.rounds.values():
        rates = [result.rate for result in results]
        spreads.append(1 - statistics.median(rates) / max(rates) if max(rates) else 1.0)
    return (
        f"Noise: the median round is on average {sum(spreads) / len(spreads):.1%} below the best "
        f"(worst case {max(spreads):.1%})."
    )


def print_header(args: argparse.Namespace, pinning: Pinning, wrk: str) -> None:
    """Versions, pinning, server command lines and the expected duration of the run."""
    runs = len(args.servers) * len(args.apps) * len(args.endpoints)
    seconds = runs * (args.warmup + args.rounds * args.duration)
    seconds += len(args.servers) * SERVER_OVERHEAD_SECONDS
    _print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        ", ".join(f"{name} {_version(name)}" for name in VERSIONED) + f", wrk {wrk}",
        f"CPU: {pinning.note}",
        *(f"{kind}: {describe(kind)}" for kind in args.servers),
        f"{runs} server/app/endpoint cases; expect about {seconds / 60:.1f} minutes.",
    )


# -- command line -------------------------------------------------------------------------------


def _choices(kind: str, allowed: Sequence[str]) -> Callable[[str], list[str]]:
    """An argparse type for a comma-separated subset of ``allowed``, kept in ``allowed``'s
    order (the order of the tables)."""

    def parse(text: str) -> list[str]:
        chosen = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [part for part in chosen if part not in allowed]
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(
                f"unknown {kind} {', '.join(unknown) or '(none)'}; choose from {', '.join(allowed)}"
            )
        return [name for name in allowed if name in chosen]

    return parse


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options; ``endpoints`` becomes a list of :class:`Endpoint` in the tables' order."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.server", description=__doc__.split("\n\n")[1]
    )
    add = parser.add_argument
    add("--rounds", type=int, default=4, help="timed rounds per case (default 4)")
    add("--duration", type=int, default=1, help="seconds per timed wrk run (default 1)")
    add("--warmup", type=int, default=1, help="seconds of warm-up per case, 0 for none (1)")
    add("--connections", type=int, default=64, help="wrk keep-alive connections (default 64)")
    parser.add_argument(
        "--servers",
        type=_choices("server", SERVER_KINDS),
        default=list(SERVER_KINDS),
        help=f"comma-separated, of {', '.join(SERVER_KINDS)} (default: both)",
    )
    parser.add_argument(
        "--apps",
        type=_choices("app", APP_NAMES),
        default=list(APP_NAMES),
        help=f"comma-separated, of {', '.join(APP_NAMES)} (default: all)",
    )
    parser.add_argument(
        "--endpoints",
        type=_choices("endpoint", list(BY_NAME)),
        default=list(BY_NAME),
        help='comma-separated endpoint names (default: all), e.g. "json,depends x3"',
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin the servers and wrk to CPUs (taskset)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration < 1 or args.connections < 1 or args.warmup < 0:
        parser.error("--rounds, --duration and --connections must be positive, --warmup >= 0")
    args.endpoints = [endpoint for endpoint in ENDPOINTS if endpoint.name in args.endpoints]
    return args


class Terminated(Exception):
    """This process was sent SIGTERM."""


@contextlib.contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while running, so the servers are stopped on the
    way out (the default action would end this process at once and leave them running)."""

    def leave(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the exit status is 0, or 1 when an answer was wrong, a server failed or
    wrk reported errors, 2 when wrk or granian is missing, 130/143 when interrupted."""
    args = parse_args(argv)
    wrk = wrk_version()
    if wrk is None:
        _print("wrk is not installed: apt-get install wrk (make bench-server installs it)")
        return 2
    if "granian" in args.servers and (why := granian_missing()):
        _print(f"{why}; or leave it out with --servers=uvicorn")
        return 2
    pinning = choose_pinning(not args.no_pin)
    print_header(args, pinning, wrk)
    started = time.perf_counter()
    try:
        failed = _run(args, pinning)
    except (WrongAnswer, ServerError, WrkError) as error:
        _print("", f"STOPPED: {error}")
        return 1
    except (KeyboardInterrupt, Terminated) as signal_:
        _print("", f"Interrupted ({type(signal_).__name__}); every server was stopped.")
        return 130 if isinstance(signal_, KeyboardInterrupt) else 143
    _print("", f"(bench-server: {time.perf_counter() - started:.0f} s)")
    return 1 if failed else 0


def _run(args: argparse.Namespace, pinning: Pinning) -> bool:
    """Measure and report every chosen server kind in turn; true if wrk reported errors."""
    failed = False
    with _stopped_by_sigterm(), tempfile.TemporaryDirectory(prefix="bench-server-") as workdir:
        for kind in args.servers:
            outcome = measure_kind(kind, args, pinning, Path(workdir))
            report(outcome, args)
            failed = failed or bool(outcome.problems)
    return failed


if __name__ == "__main__":
    sys.exit(main())
