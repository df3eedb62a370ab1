"""Start-up cost: ``python -m benchmarks.startup [--routes N] [--rounds R] [--fastapi]``.

Builds an app with N routes (1,000 by default), each with a typed path parameter, query
parameters with constraints (one differs on every route), a header, a JSON body model and a
response model (shared by the routes, as in most apps), then times:

- ``construct``: ``App()`` plus adding the N routes (every route's plan compiled);
- ``first openapi()``: building the OpenAPI document the first time it is asked for;
- ``cached openapi()``: asking again (the document is kept);
- ``first GET /openapi.json``: a request to a fresh app's document URL, document built inside.

Each figure is the best of R rounds, each in a fresh app. ``--fastapi`` times FastAPI on the
same routes for comparison.
"""

import argparse
import gc
import time
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, Field


class Address(BaseModel):
    street: str
    city: str
    zip_code: str = Field(pattern=r"^\d{5}$")


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    price: float = Field(gt=0)
    tags: list[str] = []
    address: Address | None = None


class ItemOut(BaseModel):
    id: int
    name: str
    price: float
    tags: list[str]


def _add_routes(app: Any, count: int, query: Any, header: Any) -> None:
    """``count`` routes on ``app`` (ours or FastAPI's: same decorators, same markers)."""
    for index in range(count):

        def create(
            item_id: int,
            item: ItemIn,
            q: Annotated[str | None, query(max_length=20)] = None,
            limit: Annotated[int, query(ge=1, le=100 + index)] = 10,
            x_request_id: Annotated[str | None, header()] = None,
        ) -> ItemOut:
            return ItemOut(id=item_id, name=item.name, price=item.price, tags=item.tags)

        create.__name__ = f"create_{index}"
        app.post(f"/group{index}/items/{{item_id}}")(create)


def _ours(count: int) -> Any:
    import framework.handlers.validators
    from framework import App, Header, Query

    # Start from nothing, as a fresh process does: routes share the location models and
    # adapters they have in common, and a later round must not find them already built.
    framework.handlers.validators.clear_caches()

    app = App(title="Startup", version="1.0")
    _add_routes(app, count, Query, Header)
    return app


def _fastapi(count: int) -> Any:
    from fastapi import FastAPI, Header, Query

    app = FastAPI(title="Startup", version="1.0")
    _add_routes(app, count, Query, Header)
    return app


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of this process spent in ``action`` (wall time would count the other
    processes of a busy machine), and its result."""
    gc.collect()
    start = time.process_time()
    result = action()
    return time.process_time() - start, result


def _first_request(app: Any) -> float:
    """Seconds for the first GET of the document URL through the ASGI interface."""
    import anyio

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/openapi.json",
        "raw_path": b"/openapi.json",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        await app(scope, receive, send)

    elapsed, _ = _timed(lambda: anyio.run(run))
    status = sent[0]["status"]
    if status != 200:
        raise RuntimeError(f"GET /openapi.json answered {status}")
    return elapsed


def measure(build: Callable[[int], Any], count: int, rounds: int) -> dict[str, float]:
    """Best-of-``rounds`` seconds for each phase (see the module docstring)."""
    best: dict[str, float] = {}

    def keep(name: str, seconds: float) -> None:
        best[name] = min(seconds, best.get(name, float("inf")))

    for _ in range(rounds):
        elapsed, app = _timed(lambda: build(count))
        keep("construct", elapsed)
        elapsed, document = _timed(app.openapi)
        keep("first openapi()", elapsed)
        if len(document["paths"]) != count:
            raise RuntimeError(f"expected {count} paths, got {len(document['paths'])}")
        elapsed, _ = _timed(app.openapi)
        keep("cached openapi()", elapsed)
        keep("first GET /openapi.json", _first_request(build(count)))
    return best


def main(argv: list[str] | None = None) -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fastapi", action="store_true", help="time FastAPI too")
    options = parser.parse_args(argv)
    contenders: list[tuple[str, Callable[[int], Any]]] = [("framework", _ours)]
    if options.fastapi:
        contenders.append(("fastapi", _fastapi))
    print(f"{options.routes} routes, best of {options.rounds} rounds")
    for name, build in contenders:
        figures = measure(build, options.routes, options.rounds)
        print(f"\n{name}")
        for phase, seconds in figures.items():
            print(f"  {phase:<26} {seconds * 1000:10.1f} ms")


if __name__ == "__main__":
    main()
