"""The endpoints every benchmark app serves, with the request to send and the answer to expect.

Each app in :mod:`benchmarks.apps` implements these routes; the driver checks every response
against :attr:`Endpoint.body` (or the app's own 404 body, the one thing frameworks disagree on).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

ROUTE_COUNT = 100
"""How many parametrised routes ``/r0/{x}`` ... ``/r99/{x}`` the apps register."""


class Item(BaseModel):
    """The body model of ``POST /items``, shared by all four apps."""

    name: str
    price: float
    tags: list[str] = []


@dataclass(frozen=True)
class Endpoint:
    """One benchmarked request and the response every app must give to it."""

    name: str
    method: str
    path: str
    query_string: bytes = b""
    body: bytes = b""
    status: int = 200
    expected: bytes | None = None
    """The exact response body; ``None`` when each app has its own (the 404)."""

    @property
    def target(self) -> str:
        """Path and query as they appear on the HTTP request line."""
        if self.query_string:
            return f"{self.path}?{self.query_string.decode('ascii')}"
        return self.path


ITEM_BODY = b'{"name":"Widget","price":9.5,"tags":["a","b"]}'

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("plaintext", "GET", "/plaintext", expected=b"Hello, World!"),
    Endpoint("json", "GET", "/json", expected=b'{"message":"Hello, World!"}'),
    Endpoint(
        "path+query",
        "GET",
        "/items/42",
        query_string=b"q=abc",
        expected=b'{"item_id":42,"q":"abc"}',
    ),
    Endpoint("post body", "POST", "/items", body=ITEM_BODY, expected=ITEM_BODY),
    Endpoint(
        f"route {ROUTE_COUNT}/{ROUTE_COUNT}",
        "GET",
        f"/r{ROUTE_COUNT - 1}/abc",
        expected=b'{"route":%d,"x":"abc"}' % (ROUTE_COUNT - 1),
    ),
    Endpoint("404", "GET", "/does-not-exist", status=404),
)
"""The endpoints of the comparison, in the order the tables show them."""

BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}


def last_route(route_count: int) -> Endpoint:
    """A hit on the last of ``route_count`` parametrised routes (the routing worst case for a
    router that tries routes in order)."""
    last = route_count - 1
    return Endpoint(
        f"route {route_count}/{route_count}",
        "GET",
        f"/r{last}/abc",
        expected=b'{"route":%d,"x":"abc"}' % last,
    )
