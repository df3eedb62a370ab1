"""The endpoints every benchmark app serves, with the request to send and the answer to expect.

Each app in :mod:`benchmarks.apps` implements these routes; the driver checks every response
against :attr:`Endpoint.body` (or the app's own 404 body, the one thing frameworks disagree on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

ROUTE_COUNT = 100
"""How many parametrised routes ``/r0/{x}`` ... ``/r99/{x}`` the apps register."""


class Item(BaseModel):
    """The body model of ``POST /items``, shared by all four apps."""

    name: str
    price: float
    tags: list[str] = []


TOKEN = "secret"
"""The ``x-token`` header value the "depends x3" endpoint accepts (others get a 401)."""


class Filters(BaseModel):
    """The query model of ``GET /search``: five query parameters, each constrained."""

    q: str = Field(min_length=1, max_length=50)
    min_price: float = Field(0, ge=0)
    max_price: float = Field(1000, gt=0, le=10_000)
    limit: int = Field(10, ge=1, le=100)
    order: Literal["name", "price"] = "name"


class StoredAddress(BaseModel):
    """An address as the application keeps it, with a field that is not for clients."""

    street: str
    city: str
    postcode: str
    geocode: str


class StoredUser(BaseModel):
    """A user as the application keeps it: with the password hash and internal addresses."""

    username: str
    email: str
    full_name: str | None = None
    password_hash: str
    addresses: list[StoredAddress] = []


class Address(BaseModel):
    """An address as clients see it (no ``geocode``)."""

    street: str
    city: str
    postcode: str = Field(pattern=r"^[0-9]{5}$")


class PublicUser(BaseModel):
    """The ``response_model`` of ``GET /users/me``: no password hash, public addresses."""

    username: str = Field(min_length=3)
    email: str
    full_name: str | None = None
    addresses: list[Address] = []


STORED_USER = StoredUser(
    username="alice",
    email="alice@example.com",
    full_name="Alice Liddell",
    password_hash="$2b$12$KIX0PDVxL1yCJpqz4CYa3eKXjDq5Y4Ww2Ty.0U0bZJ0ZgqvzOx1rK",
    addresses=[
        StoredAddress(street="1 Main St", city="Springfield", postcode="12345", geocode="u4pru"),
        StoredAddress(street="7 Elm Rd", city="Shelbyville", postcode="54321", geocode="u4prv"),
    ],
)
"""What the ``GET /users/me`` handlers return (a stored user, as from a cache), the same object in
every app; the response model filters it."""


@dataclass(frozen=True)
class Endpoint:
    """One benchmarked request and the response every app must give to it."""

    name: str
    method: str
    path: str
    query_string: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()
    """Request headers besides ``host``, ``user-agent`` and ``accept`` (names lower-case)."""
    body: bytes = b""
    content_type: bytes = b"application/json"
    """The request's ``Content-Type`` when it has a body."""
    status: int = 200
    expected: bytes | None = None
    """The exact response body; ``None`` when each app has its own (the 404)."""
    gzipped: bool = False
    """The answer must be gzip-compressed (``Content-Encoding: gzip``); ``expected`` is the body
    after decompressing it."""
    response_headers: tuple[tuple[bytes, bytes], ...] = ()
    """Headers the answer must carry, with these exact values (names lower-case)."""

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
        "depends x3",
        "GET",
        "/account",
        headers=((b"x-token", TOKEN.encode()),),
        expected=b'{"user":"alice","plan":"pro","token":"secret"}',
    ),
    Endpoint(
        "query model",
        "GET",
        "/search",
        query_string=b"q=widget&min_price=1.5&max_price=20&limit=25&order=price",
        expected=b'{"q":"widget","min_price":1.5,"max_price":20.0,"limit":25,"order":"price"}',
    ),
    Endpoint(
        "response_model",
        "GET",
        "/users/me",
        expected=b'{"username":"alice","email":"alice@example.com","full_name":"Alice Liddell",'
        b'"addresses":[{"street":"1 Main St","city":"Springfield","postcode":"12345"},'
        b'{"street":"7 Elm Rd","city":"Shelbyville","postcode":"54321"}]}',
    ),
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
