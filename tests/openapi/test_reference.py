"""The OpenAPI document of a reference app, compared key by key with FastAPI's.

``tests/openapi_expected.json`` is the document FastAPI 0.165.0 (pydantic 2.14) produced for
this very module: a script ran this file's source with the block between the ``imports`` markers
replaced by FastAPI's imports (``FastAPI as App``, ``APIRouter as Router`` and
``DocumentationRouter``, the ``fastapi`` markers and responses, and the real
``OAuth2PasswordBearer``/``APIKeyHeader`` for the two security dependencies), called
``app.openapi()`` and stored the result. To regenerate it after changing the app, do the same.

The app covers what client generators read: parameters of every location with constraints,
aliases, examples and deprecation; parameter models; JSON bodies (single, embedded, several, with
examples), forms and file uploads, dataclasses; response models, status codes, response classes
and extra responses; nested routers with tags, deprecation and hidden routes; dependencies with
parameters and OAuth2 scopes; ``openapi_extra``, callbacks and webhooks; models split into input
and output schemas; two models of the same name from different modules.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import pathlib
import uuid
from typing import Annotated, Any, Literal

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, Field, computed_field

# -- imports: framework (the generation script put FastAPI's here) ------------------------------
from framework import (
    App,
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Router,
    Security,
    UploadFile,
)
from framework.openapi import DocumentationRouter
from framework.responses import HTMLResponse, PlainTextResponse
from framework.security import SecurityScopes


class _Scheme:
    """Stands in for a security class: what the document reads is ``model`` and
    ``scheme_name`` (the real classes are tested with the security utilities)."""

    def __init__(self, scheme_name: str, model: dict[str, Any]) -> None:
        self.scheme_name = scheme_name
        self.model = model

    async def __call__(self) -> str:
        return "token"


oauth2_scheme = _Scheme(
    "OAuth2PasswordBearer",
    {
        "type": "oauth2",
        "flows": {
            "password": {
                "scopes": {"items:read": "Read items", "items:write": "Change items"},
                "tokenUrl": "token",
            }
        },
    },
)
api_key = _Scheme("APIKeyHeader", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
# -- end of imports ------------------------------------------------------------------------------

EXPECTED_FILE = pathlib.Path(__file__).with_name("openapi_expected.json")


# -- models ---------------------------------------------------------------------------------------


class Color(str, enum.Enum):
    red = "red"
    green = "green"


class Message(BaseModel):
    message: str


class Image(BaseModel):
    url: str = Field(pattern="^https?://")
    name: str


class Item(BaseModel):
    """An item of the catalogue.

    \f
    Internal notes that the document leaves out.
    """

    name: str = Field(min_length=1, examples=["pen"])
    price: float = Field(gt=0, description="Price in euros")
    tax: float | None = None
    color: Color = Color.red
    tags: list[str] = []
    images: list[Image] | None = None
    created: datetime.datetime | None = None


class ItemOut(BaseModel):
    id: uuid.UUID
    name: str
    price: float
    tags: list[str]


class Rectangle(BaseModel):
    width: int
    height: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def area(self) -> int:
        return self.width * self.height


class User(BaseModel):
    username: str
    full_name: str | None = None


class Filters(BaseModel):
    limit: int = Field(100, gt=0, le=100)
    order_by: Literal["created", "updated"] = "created"
    labels: list[str] = []


@dataclasses.dataclass
class Point:
    x: float
    y: float
    label: str = "origin"


class Tag(BaseModel):
    __module__ = "shop.catalog"
    name: str


CatalogTag = Tag


class Tag(BaseModel):  # type: ignore[no-redef]
    __module__ = "shop.orders"
    code: int


OrderTag = Tag


class Invoice(BaseModel):
    id: str
    customer: str
    total: float


class InvoiceEvent(BaseModel):
    description: str
    paid: bool


class InvoiceEventReceived(BaseModel):
    ok: bool


class Subscription(BaseModel):
    username: str
    monthly_fee: float
    start_date: datetime.date


# -- dependencies ---------------------------------------------------------------------------------


def pagination(skip: int = 0, limit: Annotated[int, Query(le=1000)] = 100) -> dict[str, int]:
    return {"skip": skip, "limit": limit}


def current_user(
    security_scopes: SecurityScopes, token: Annotated[str, Depends(oauth2_scheme)]
) -> User:
    return User(username=token)


def tenant(x_tenant: Annotated[str, Header()]) -> str:
    return x_tenant


# -- the app --------------------------------------------------------------------------------------

app = App(
    title="Reference shop",
    version="2.1.0",
    summary="A shop to compare documents with",
    description="Everything **client generators** read.",
    terms_of_service="https://example.com/terms",
    contact={"name": "Shop team", "url": "https://example.com", "email": "team@example.com"},
    license_info={"name": "MIT", "identifier": "MIT"},
    openapi_tags=[
        {"name": "items", "description": "The catalogue"},
        {"name": "users", "externalDocs": {"url": "https://example.com/users"}},
    ],
    servers=[{"url": "https://api.example.com", "description": "Production"}],
)


@app.get("/")
async def root() -> Message:
    return Message(message="hello")


items = Router(prefix="/items", tags=["items"], responses={404: {"model": Message}})


@items.get("/{item_id}", response_model=ItemOut)
async def read_item(
    item_id: Annotated[int, Path(title="The item's id", ge=1)],
    q: Annotated[str | None, Query(alias="item-query", max_length=50, deprecated=True)] = None,
    fields: Annotated[list[str] | None, Query(description="Fields to return")] = None,
    short: bool = False,
    user_agent: Annotated[str | None, Header()] = None,
    session: Annotated[str | None, Cookie(examples=["abc"])] = None,
) -> Any:
    """Read one item.

    Answers 404 when there is none.
    \f
    :param item_id: not shown.
    """


@items.get("/")
async def list_items(
    page: Annotated[dict[str, int], Depends(pagination)],
    filters: Annotated[Filters, Query()],
    color: Color | None = None,
) -> list[ItemOut]:
    return []


@items.post(
    "/",
    status_code=201,
    response_model=ItemOut,
    summary="Create an item",
    response_description="The item, created",
    responses={409: {"description": "Already there", "model": Message}},
)
async def create_item(
    item: Annotated[
        Item,
        Body(
            openapi_examples={
                "normal": {"summary": "A pen", "value": {"name": "pen", "price": 1.5}},
                "invalid": {"summary": "No price", "value": {"name": "pen"}},
            }
        ),
    ],
    x_tenant: Annotated[str, Depends(tenant)],
) -> Any:
    pass


@items.put("/{item_id}", dependencies=[Depends(tenant)])
async def update_item(
    item_id: int,
    item: Item,
    user: User,
    importance: Annotated[int, Body(gt=0, le=5)],
    note: Annotated[str | None, Body(max_length=200)] = None,
) -> dict[str, Any]:
    return {}


@items.patch("/{item_id}/image", deprecated=True)
async def set_image(item_id: int, image: Annotated[Image, Body(embed=True)]) -> Image:
    return image


@items.delete("/{item_id}", status_code=204, operation_id="remove_item")
async def delete_item(item_id: int) -> None:
    return None


users = Router(prefix="/users", tags=["users"])


@users.get("/me")
async def read_me(user: Annotated[User, Security(current_user, scopes=["items:read"])]) -> User:
    return user


@users.post("/me/items", dependencies=[Depends(api_key)])
async def add_my_item(
    user: Annotated[User, Security(current_user, scopes=["items:write"])],
    item: Item,
) -> Item:
    return item


@users.post("/login")
async def login(
    username: Annotated[str, Form()],
    password: Annotated[str, Form(min_length=8)],
    remember: Annotated[bool, Form()] = False,
) -> Message:
    return Message(message=username)


@users.post("/avatar")
async def upload_avatar(
    avatar: UploadFile,
    thumbnail: Annotated[bytes | None, File(description="A small one")] = None,
    caption: Annotated[str, Form()] = "",
) -> Message:
    return Message(message=caption)


@users.post("/photos")
async def upload_photos(photos: list[UploadFile]) -> list[str]:
    return []


@users.get("/hidden", include_in_schema=False)
async def hidden() -> None:
    return None


admin = Router(prefix="/admin", deprecated=True)


@admin.post("/reset", tags=["danger"])
async def reset() -> Message:
    return Message(message="done")


api = Router(prefix="/api")
api.include_router(items)
api.include_router(users)
app.include_router(api, prefix="/v1")
app.include_router(admin, tags=["admin"])


@app.get("/page", response_class=HTMLResponse, tags=["pages"])
async def page() -> str:
    return "<p>hi</p>"


@app.get("/robots.txt", response_class=PlainTextResponse, include_in_schema=True)
async def robots() -> str:
    return "User-agent: *"


@app.post("/points")
async def add_point(point: Point) -> Point:
    return point


@app.post("/rectangles")
async def add_rectangle(rectangle: Rectangle) -> Rectangle:
    return rectangle


@app.post("/tags")
async def add_tags(catalog: CatalogTag, order: OrderTag) -> CatalogTag:
    return catalog


@app.get(
    "/reports/{year}",
    openapi_extra={
        "x-rate-limit": 10,
        "parameters": [{"name": "format", "in": "query", "schema": {"type": "string"}}],
    },
    responses={"default": {"description": "Anything else", "model": Message}},
)
async def report(year: int) -> dict[str, int]:
    return {"year": year}


invoice_callbacks = DocumentationRouter()


@invoice_callbacks.post(
    "{$callback_url}/invoices/{$request.body.id}", response_model=InvoiceEventReceived
)
def invoice_notification(body: InvoiceEvent) -> None:
    pass


@app.post("/invoices", callbacks=invoice_callbacks.routes)
async def create_invoice(invoice: Invoice, callback_url: str | None = None) -> Message:
    """Create an invoice; its payment is reported to ``callback_url``."""
    return Message(message="received")


@app.webhooks.post("new-subscription")
def new_subscription(body: Subscription) -> None:
    """A user subscribed: the shop sends this to your webhook URL."""


# -- the comparison -------------------------------------------------------------------------------


def differences(ours: Any, expected: Any, where: str = "$") -> list[str]:
    """Every place where ``ours`` and ``expected`` differ, as ``path: got ..., expected ...``."""
    if isinstance(ours, dict) and isinstance(expected, dict):
        found = []
        for key in [*ours, *(k for k in expected if k not in ours)]:
            here = f"{where}.{key}"
            if key not in expected:
                found.append(f"{here}: unexpected {json.dumps(ours[key])[:200]}")
            elif key not in ours:
                found.append(f"{here}: missing, expected {json.dumps(expected[key])[:200]}")
            else:
                found.extend(differences(ours[key], expected[key], here))
        return found
    if isinstance(ours, list) and isinstance(expected, list) and len(ours) == len(expected):
        return [
            line
            for index, (mine, theirs) in enumerate(zip(ours, expected))
            for line in differences(mine, theirs, f"{where}[{index}]")
        ]
    if ours != expected:
        return [f"{where}: got {json.dumps(ours)[:200]}, expected {json.dumps(expected)[:200]}"]
    return []


EXPECTED: dict[str, Any] = json.loads(EXPECTED_FILE.read_text())


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return app.openapi()


def _assert_same(ours: Any, expected: Any, where: str) -> None:
    found = differences(ours, expected, where)
    assert not found, f"{len(found)} difference(s) from FastAPI's document:\n" + "\n".join(
        found[:40]
    )


@pytest.mark.parametrize("key", ["openapi", "info", "servers", "tags"])
def test_top_level_entries_match(document: dict[str, Any], key: str) -> None:
    _assert_same(document.get(key), EXPECTED[key], f"$.{key}")


def test_same_paths_in_the_same_order(document: dict[str, Any]) -> None:
    assert list(document["paths"]) == list(EXPECTED["paths"])
    assert list(document) == list(EXPECTED)


@pytest.mark.parametrize("path", list(EXPECTED["paths"]))
def test_path_matches(document: dict[str, Any], path: str) -> None:
    _assert_same(document["paths"].get(path), EXPECTED["paths"][path], f"$.paths.{path}")


def test_webhooks_match(document: dict[str, Any]) -> None:
    _assert_same(document.get("webhooks"), EXPECTED["webhooks"], "$.webhooks")


def test_component_schema_names_match(document: dict[str, Any]) -> None:
    assert list(document["components"]["schemas"]) == list(EXPECTED["components"]["schemas"])


@pytest.mark.parametrize("name", list(EXPECTED["components"]["schemas"]))
def test_component_schema_matches(document: dict[str, Any], name: str) -> None:
    ours = document["components"]["schemas"].get(name)
    _assert_same(ours, EXPECTED["components"]["schemas"][name], f"$.components.schemas.{name}")


def test_security_schemes_match(document: dict[str, Any]) -> None:
    expected = EXPECTED["components"]["securitySchemes"]
    _assert_same(
        document["components"].get("securitySchemes"), expected, "$.components.securitySchemes"
    )


def test_whole_document_matches_and_is_valid_openapi(document: dict[str, Any]) -> None:
    _assert_same(document, EXPECTED, "$")
    validate(document)
