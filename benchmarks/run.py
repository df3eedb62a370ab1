"""Run the benchmarks and print their tables: ``python -m benchmarks.run [options]``.

Sections (all by default; pick some with ``--only=compare,scaling``):

- ``compare``: the in-process driver over every endpoint, for ours, Starlette, FastAPI and the raw
  ASGI app, with ratios;
- ``batteries``: the same driver on GZip, CORS, a static file and an upload, ours, Starlette and
  FastAPI, with what GZip and CORS cost a request they do not apply to;
- ``scaling``: a hit on the last of 1, 100 and 1000 parametrised routes, ours and Starlette;
- ``memory``: tracemalloc's view of one request, per app and endpoint;
- ``soak``: our app under a real uvicorn for ``--soak-requests`` requests, watching its RSS
  (``--no-soak`` leaves it out).

See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence

from benchmarks.apps import APP_NAMES, BATTERIES_APP_NAMES, BenchApp, load, load_batteries
from benchmarks.batteries import BATTERIES, NO_MIDDLEWARE, NO_OP
from benchmarks.driver import CLOCKS, Timing, measure, measure_memory, prepare
from benchmarks.endpoints import BY_NAME, ENDPOINTS, Endpoint, last_route

SECTIONS = ("compare", "batteries", "scaling", "memory", "soak")
SCALING_COUNTS = (1, 100, 1000)
SCALING_APPS = ("ours", "starlette")
LABELS = {"ours": "ours", "starlette": "Starlette", "fastapi": "FastAPI", "raw": "raw ASGI"}


def _print(*lines: str) -> None:
    for line in lines:
        print(line, flush=True)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as text, the first column left-aligned and the others right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        return "  ".join(cells).rstrip()

    return [line(header), "  ".join("-" * width for width in widths), *map(line, rows)]


def _geomean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(value) for value in values) / len(values))


def _faster(ours: float, other: float) -> str:
    """``other``'s time against ours, in words: "2.5x faster" or "1.3x slower"."""
    ratio = other / ours
    return f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f}"


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def print_versions() -> None:
    packages = ["framework", "pydantic", "pydantic-core", "starlette", "fastapi", "uvicorn"]
    packages += ["uvloop", "httptools"]
    _print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        ", ".join(f"{name} {_version(name)}" for name in packages),
    )


# -- compare ------------------------------------------------------------------------------------


async def compare(apps: dict[str, BenchApp], args: argparse.Namespace) -> None:
    endpoints = _chosen(args)
    cases = [prepare(apps[name], endpoint) for endpoint in endpoints for name in APP_NAMES]
    timings = await measure(
        cases, args.rounds, requests=args.requests, budget=args.budget, clock=CLOCKS[args.clock]
    )
    by_key = {(t.case.endpoint.name, t.case.app_name): t for t in timings}

    rows = []
    columns: dict[str, list[float]] = {name: [] for name in APP_NAMES}
    for endpoint in endpoints:
        best = {name: by_key[endpoint.name, name].best for name in APP_NAMES}
        for name in APP_NAMES:
            columns[name].append(best[name])
        rows.append(_compare_row(endpoint.name, best))
    rows.append(_compare_row("geometric mean", {n: _geomean(v) for n, v in columns.items()}))

    sizing = (
        f"{args.requests} requests per app, endpoint and round"
        if args.requests
        else f"requests per app, endpoint and round sized to ~{args.budget} s"
    )
    _print(
        "",
        f"== In-process driver: µs per request ({args.clock} time), best of "
        f"{args.rounds} rounds ({sizing}; warm-up first) ==",
        *_table(
            ["endpoint", *(LABELS[n] for n in APP_NAMES), "vs Starlette", "vs FastAPI", "vs raw"],
            rows,
        ),
        'vs Starlette / vs FastAPI: their time divided by ours ("2.0x faster": ours takes half '
        "the time).",
        'vs raw: our time divided by the raw app\'s ("1.5x raw": ours takes 1.5 times as long).',
        _spread(timings),
    )


def _chosen(args: argparse.Namespace) -> list[Endpoint]:
    """The endpoints ``--endpoints`` names, in the tables' order (all by default)."""
    return [e for e in ENDPOINTS if args.endpoints is None or e.name in args.endpoints]


def _compare_row(label: str, best: dict[str, float]) -> list[str]:
    ours = best["ours"]
    return [
        label,
        *(_us(best[name]) for name in APP_NAMES),
        _faster(ours, best["starlette"]),
        _faster(ours, best["fastapi"]),
        f"{ours / best['raw']:.1f}x raw",
    ]


def _spread(timings: Sequence[Timing]) -> str:
    spreads = [t.median / t.best - 1 for t in timings]
    return (
        f"Noise: the median round is on average {sum(spreads) / len(spreads):.1%} slower than "
        f"the best (worst case {max(spreads):.1%})."
    )


# -- batteries ----------------------------------------------------------------------------------

BATTERIES_WARMUP = 30
"""Warm-up requests per batteries case (a 1 MiB request takes milliseconds)."""
BATTERIES_MINIMUM = 10
"""The fewest requests per batteries case and round."""


NO_OP_ROUNDS = 3
"""The no-op pair runs this many times ``--rounds`` rounds ..."""
NO_OP_BUDGET = 4
"""... each this many times shorter: the overhead is a difference of two small times, and more,
shorter rounds give both more chances at a quiet moment of the machine."""


async def batteries(args: argparse.Namespace) -> dict[str, float]:
    """Time the batteries endpoints and print their table; returns each app's no-op overhead of
    GZip and CORS in seconds per request."""
    cases, no_op_cases = [], []
    for name in BATTERIES_APP_NAMES:
        full, bare = load_batteries(name), load_batteries(name, middleware=False)
        cases += [prepare(full, endpoint) for endpoint in BATTERIES]
        no_op_cases += [prepare(bare, NO_MIDDLEWARE), prepare(full, NO_OP)]
    clock = CLOCKS[args.clock]
    timings = await measure(
        cases,
        args.rounds,
        requests=args.requests,
        budget=args.budget,
        clock=clock,
        warmup=BATTERIES_WARMUP,
        minimum=BATTERIES_MINIMUM,
    )
    # The no-op pair on its own, away from the megabyte requests and their worker threads.
    timings += await measure(
        no_op_cases,
        args.rounds * NO_OP_ROUNDS,
        requests=args.requests,
        budget=args.budget / NO_OP_BUDGET,
        clock=clock,
    )
    best = {(t.case.endpoint.name, t.case.app_name): t.best for t in timings}

    rows = []
    for endpoint in (*BATTERIES, NO_MIDDLEWARE, NO_OP):
        row = {name: best[endpoint.name, name] for name in BATTERIES_APP_NAMES}
        rows.append(_batteries_row(endpoint.name, row, ratios=True))
    overhead = {
        name: best[NO_OP.name, name] - best[NO_MIDDLEWARE.name, name]
        for name in BATTERIES_APP_NAMES
    }
    rows.append(_batteries_row("gzip+cors no-op overhead", overhead, ratios=False))
    _print(
        "",
        f"== Batteries: µs per request ({args.clock} time), best of {args.rounds} rounds (the "
        f"small json pair: of {args.rounds * NO_OP_ROUNDS} rounds {NO_OP_BUDGET} times "
        "shorter); GZip and CORS installed unless stated ==",
        *_table(
            ["endpoint", *(LABELS[n] for n in BATTERIES_APP_NAMES), "vs Starlette", "vs FastAPI"],
            rows,
        ),
        "gzip 10 KiB json: sent with Accept-Encoding: gzip; the body is checked after gunzip.",
        "cors simple: an allowed Origin; Access-Control-Allow-Origin is checked.",
        "static 1 MiB: StaticFiles; the whole body is received (no pathsend offered).",
        "upload 1 MiB: multipart, handed over in 16 messages of 64 KiB; the handler answers "
        "the size.",
        "gzip+cors no-op overhead: the small json request (no Origin, a body below GZip's "
        "minimum_size),",
        "on the app with GZip and CORS minus the same on the app without them.",
        _spread(timings),
    )
    return overhead


def _batteries_row(label: str, best: dict[str, float], *, ratios: bool) -> list[str]:
    ours = best["ours"]
    cells = [label, *(_us(best[name]) for name in BATTERIES_APP_NAMES)]
    if ratios:
        return [*cells, _faster(ours, best["starlette"]), _faster(ours, best["fastapi"])]
    return [*cells, "", ""]


# -- scaling ------------------------------------------------------------------------------------


async def scaling(args: argparse.Namespace) -> None:
    cases = []
    for count in SCALING_COUNTS:
        endpoint = last_route(count)
        cases += [prepare(load(name, count), endpoint) for name in SCALING_APPS]
    timings = await measure(
        cases, args.rounds, requests=args.requests, budget=args.budget, clock=CLOCKS[args.clock]
    )
    best = {(t.case.app_name, t.case.endpoint.name): t.best for t in timings}

    rows = []
    for count in SCALING_COUNTS:
        name = last_route(count).name
        ours, theirs = best["ours", name], best["starlette", name]
        rows.append([str(count), _us(ours), _us(theirs), _faster(ours, theirs)])
    first, last = last_route(SCALING_COUNTS[0]).name, last_route(SCALING_COUNTS[-1]).name
    rows.append(
        [
            f"{SCALING_COUNTS[-1]} vs {SCALING_COUNTS[0]}",
            f"{best['ours', last] / best['ours', first]:.2f}x",
            f"{best['starlette', last] / best['starlette', first]:.2f}x",
            "",
        ]
    )
    _print(
        "",
        f"== Route-count scaling: µs per hit on the last of N routes /r{{i}}/{{x}} ({args.clock} "
        "time), best of "
        f"{args.rounds} rounds ==",
        *_table(["routes", "ours", "Starlette", "ours vs Starlette"], rows),
        f"Last row: time with {SCALING_COUNTS[-1]} routes divided by time with "
        f"{SCALING_COUNTS[0]} (1.00x: the hit costs the same however many routes there are).",
    )


# -- memory -------------------------------------------------------------------------------------


async def memory(apps: dict[str, BenchApp], args: argparse.Namespace) -> None:
    peak_rows, left_rows = [], []
    for endpoint in _chosen(args):
        use = {
            name: await measure_memory(prepare(apps[name], endpoint), args.memory_requests)
            for name in APP_NAMES
        }
        peak_rows.append([endpoint.name, *(f"{use[n].peak:,.0f}" for n in APP_NAMES)])
        peak_rows[-1].append(f"{use['starlette'].peak / use['ours'].peak:.1f}x")
        left_rows.append([endpoint.name, *(f"{use[n].retained:,.0f}" for n in APP_NAMES)])
    header = ["endpoint", *(LABELS[n] for n in APP_NAMES)]
    _print(
        "",
        "== Memory per request (tracemalloc; bytes, mean over "
        f"{args.memory_requests} requests after warm-up; GC paused while measuring) ==",
        "Peak: the highest traced memory while handling one request, minus the traced memory "
        "just before it.",
        *_table([*header, "Starlette / ours"], peak_rows),
        "",
        "Left over: traced memory just after the request minus just before it (garbage in "
        "reference cycles, which only the GC frees, plus anything cached).",
        *_table(header, left_rows),
        "Both include the driver's own per-request objects (scope copy, receive, send and the "
        "list of sent messages), the same for every app; pydantic-core's Rust buffers are not "
        "traced.",
    )


# -- soak ---------------------------------------------------------------------------------------


def soak(args: argparse.Namespace) -> bool:
    from benchmarks.soak import APP, run_soak

    result = run_soak(
        args.soak_requests,
        warmup=args.soak_warmup,
        connections=args.soak_connections,
    )
    statuses = ", ".join(f"{status} x {n:,}" for status, n in sorted(result.statuses.items()))
    growth = result.growth_kb
    samples = ", ".join(f"{done:,}: {kb:,}" for done, kb in result.rss_samples)
    _print(
        "",
        f"== Soak: uvicorn (--loop {result.loop} --http {result.http} --no-access-log) serving "
        f"{APP} on 127.0.0.1 ==",
        f"{result.requests:,} requests over {result.connections} keep-alive connections "
        f"(one request in flight each, endpoints in turn) in {result.seconds:.1f} s: "
        f"{result.requests / result.seconds:,.0f} requests/s, client included",
        f"responses: {statuses}; wrong bodies: {result.mismatches}",
        f"server RSS after {result.warmup:,} warm-up requests: {result.rss_after_warmup_kb:,} kB",
        f"server RSS after all {result.requests:,} requests:  {result.rss_end_kb:,} kB",
        f"growth: {growth:+,} kB ({growth / result.rss_after_warmup_kb:+.1%}) over "
        f"{result.requests - result.warmup:,} requests",
        f"RSS in kB by requests done: {samples}",
        f"server stopped by {result.stopped_by}, exit status {result.server_exit_code}"
        + (
            " (uvicorn shuts down gracefully on SIGTERM, then re-raises the signal)"
            if result.server_exit_code == -15
            else ""
        ),
    )
    return result.ok


# -- command line -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds (default 20)")
    parser.add_argument(
        "--requests",
        type=int,
        default=None,
        help="in-process requests per app, endpoint and round (default: as many as fill --budget)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=0.0625,
        help="seconds per app, endpoint and round when --requests is not given (default 0.0625)",
    )
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="time read from: cpu, this process's CPU time (not the time other work on the "
        "machine held the CPU), or wall, elapsed time (default cpu)",
    )
    parser.add_argument(
        "--memory-requests",
        type=int,
        default=300,
        help="requests traced per app and endpoint in the memory section (default 300)",
    )
    parser.add_argument(
        "--endpoints",
        type=_endpoint_names,
        default=None,
        help="comma-separated endpoints for compare and memory (default: all), e.g. "
        '"json,depends x3"',
    )
    parser.add_argument("--no-soak", action="store_true", help="leave out the soak test")
    parser.add_argument(
        "--soak-requests",
        type=int,
        default=100_000,
        help="requests the soak sends, warm-up included (default 100000)",
    )
    parser.add_argument(
        "--soak-warmup",
        type=int,
        default=10_000,
        help="soak requests before the first RSS reading (default 10000)",
    )
    parser.add_argument(
        "--soak-connections", type=int, default=8, help="soak keep-alive connections (default 8)"
    )
    parser.add_argument(
        "--only",
        type=_sections,
        default=SECTIONS,
        help=f"comma-separated sections to run, of {', '.join(SECTIONS)} (default: all)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or (args.requests is not None and args.requests < 1):
        parser.error("--rounds and --requests must be positive")
    if not 0 < args.soak_warmup < args.soak_requests:
        parser.error("--soak-warmup must be positive and below --soak-requests")
    return args


def _sections(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in chosen if part not in SECTIONS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(SECTIONS)}"
        )
    return chosen


def _endpoint_names(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in chosen if part not in BY_NAME]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown endpoint(s) {', '.join(unknown) or '(none)'}; choose from "
            f"{', '.join(BY_NAME)}"
        )
    return chosen


def _timed(name: str, run: Callable[[], object]) -> object:
    start = time.perf_counter()
    outcome = run()
    _print(f"({name}: {time.perf_counter() - start:.0f} s)")
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sections = [s for s in args.only if not (s == "soak" and args.no_soak)]
    print_versions()
    apps = {name: load(name) for name in APP_NAMES}
    if "compare" in sections:
        _timed("compare", lambda: asyncio.run(compare(apps, args)))
    if "batteries" in sections:
        _timed("batteries", lambda: asyncio.run(batteries(args)))
    if "scaling" in sections:
        _timed("scaling", lambda: asyncio.run(scaling(args)))
    if "memory" in sections:
        _timed("memory", lambda: asyncio.run(memory(apps, args)))
    if "soak" in sections and not _timed("soak", lambda: soak(args)):
        _print("SOAK FAILED: some responses were not 200 with the expected body")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
