"""The OpenAPI document (framework/openapi, App.openapi) and the routes that serve it.

The document's exact shape against FastAPI's is checked in test_openapi_reference.py; these
tests cover the app options, caching and serving, and each piece of an operation.
"""

import warnings
from typing import Annotated, Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, Field, computed_field

from framework import (
    App,
    Body,
    Depends,
    File,
    Form,
    Header,
    HTMLResponse,
    PlainTextResponse,
    Query,
    RedirectResponse,
    Response,
    Router,
    Security,
    UploadFile,
)
from framework.openapi import DocumentationRouter, get_openapi
from framework.testclient import TestClient

ERROR_422 = {
    "description": "Validation Error",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    },
}


class Item(BaseModel):
    name: str
    price: float


class Message(BaseModel):
    message: str


def operation(app: App, path: str, method: str = "get") -> dict[str, Any]:
    result: dict[str, Any] = app.openapi()["paths"][path][method]
    return result


# -- the app's document and its routes ----------------------------------------------------------


def test_openapi_json_serves_the_document() -> None:
    app = App(title="Shop", version="1.2.3")

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> Item:
        return Item(name="pen", price=1)

    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document == app.openapi()
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Shop", "version": "1.2.3"}
    assert list(document["paths"]) == ["/items/{item_id}"]
    validate(document)


def test_document_is_built_on_first_use_and_kept() -> None:
    app = App()

    @app.get("/a")
    async def a(q: int = 0) -> dict[str, int]:
        return {"q": q}

    client = TestClient(app)
    assert client.get("/a", params={"q": 3}).json() == {"q": 3}
    assert app.openapi_schema is None  # serving other routes never builds it
    first = app.openapi()
    assert app.openapi() is first
    assert client.get("/openapi.json").json() == first

    @app.get("/b")
    async def b() -> None:
        return None

    assert "/b" not in app.openapi()["paths"]  # kept as built
    app.openapi_schema = None
    assert list(app.openapi()["paths"]) == ["/a", "/b"]


def test_a_replaced_document_is_served() -> None:
    app = App(title="Shop")

    @app.get("/items")
    async def items() -> list[Item]:
        return []

    client = TestClient(app)
    assert client.get("/openapi.json").json()["info"]["title"] == "Shop"
    custom = get_openapi(title="Custom", version="9", routes=app.routes)
    custom["info"]["x-logo"] = {"url": "https://example.com/logo.png"}
    app.openapi_schema = custom
    served = client.get("/openapi.json").json()
    assert served["info"] == {
        "title": "Custom",
        "version": "9",
        "x-logo": {"url": "https://example.com/logo.png"},
    }
    assert list(served["paths"]) == ["/items"]


def test_info_tags_servers_options() -> None:
    app = App(
        title="T",
        version="1",
        summary="S",
        description="D",
        terms_of_service="https://example.com/tos",
        contact={"name": "Ann", "url": "https://example.com"},
        license_info={"name": "MIT", "url": "https://opensource.org/licenses/MIT"},
        openapi_tags=[{"name": "items", "description": "Items"}],
        servers=[{"url": "https://api.example.com"}],
    )
    document = app.openapi()
    assert document["info"] == {
        "title": "T",
        "summary": "S",
        "description": "D",
        "termsOfService": "https://example.com/tos",
        "contact": {"name": "Ann", "url": "https://example.com/"},
        "license": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"},
        "version": "1",
    }
    assert document["tags"] == [{"name": "items", "description": "Items"}]
    assert document["servers"] == [{"url": "https://api.example.com"}]
    assert document["paths"] == {}
    validate(document)


def test_openapi_url_none_disables_the_document_and_the_pages() -> None:
    app = App(openapi_url=None)
    client = TestClient(app)
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404
    assert app.openapi()["paths"] == {}  # still available in code


def test_documentation_pages_point_at_the_document() -> None:
    app = App(openapi_url="/api/schema.json", title="Shop")
    client = TestClient(app)
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/api/schema.json").status_code == 200
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "/api/schema.json" in page.text
        assert "Shop" in page.text
    assert client.get("/docs/oauth2-redirect").status_code == 200


def test_each_page_can_be_turned_off() -> None:
    client = TestClient(App(docs_url=None, redoc_url="/reference"))
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert client.get("/reference").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_documentation_routes_are_not_listed_nor_documented() -> None:
    app = App()

    @app.get("/status")
    async def status() -> str:
        return "ok"

    assert [route.path for route in app.routes] == ["/status"]  # only the routes you added
    paths = {route.path for route in app.router.routes}
    assert {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/status"} <= paths
    assert list(app.openapi()["paths"]) == ["/status"]


def test_root_path_is_added_to_servers() -> None:
    app = App(servers=[{"url": "https://api.example.com"}])
    client = TestClient(app, root_path="/prefix")
    document = client.get("/openapi.json").json()
    assert document["servers"] == [{"url": "/prefix"}, {"url": "https://api.example.com"}]
    assert app.openapi()["servers"] == [{"url": "https://api.example.com"}]  # not changed
    page = client.get("/docs").text
    assert "/prefix/openapi.json" in page
    plain = TestClient(App(root_path_in_servers=False), root_path="/prefix")
    assert "servers" not in plain.get("/openapi.json").json()


# -- operations ---------------------------------------------------------------------------------


def test_summary_description_and_operation_id() -> None:
    app = App()

    @app.get("/items/{item_id:int}")
    async def read_item(item_id: int) -> None:
        """Read one item.

        With details.
        \f
        Not for the document.
        """

    @app.post("/items", summary="Create", description="Makes one", operation_id="make")
    async def create_item() -> None:
        return None

    @app.get("/named", name="custom_name")
    async def named() -> None:
        return None

    read = operation(app, "/items/{item_id}")
    assert read["summary"] == "Read Item"
    assert read["description"] == "Read one item.\n\nWith details."
    assert read["operationId"] == "read_item_items__item_id__get"
    assert read["parameters"][0]["schema"] == {"type": "integer", "title": "Item Id"}
    create = operation(app, "/items", "post")
    assert (create["summary"], create["description"], create["operationId"]) == (
        "Create",
        "Makes one",
        "make",
    )
    named_op = operation(app, "/named")
    assert (named_op["summary"], named_op["operationId"]) == (
        "Custom Name",
        "custom_name_named_get",
    )


def test_generate_unique_id_function() -> None:
    app = App()

    @app.get("/items", generate_unique_id_function=lambda route: f"items-{route.name}")
    async def list_items(q: int = 0) -> None:
        return None

    listed = operation(app, "/items")
    assert listed["operationId"] == "items-list_items"


def test_duplicate_operation_ids_warn() -> None:
    app = App()
    router = Router()

    @router.get("/items")
    async def items() -> None:
        return None

    app.include_router(router)
    app.include_router(router)
    with pytest.warns(UserWarning, match="Duplicate Operation ID items_items_get"):
        app.openapi()


def test_only_declared_methods_are_documented() -> None:
    app = App()

    @app.get("/page")
    async def page() -> None:
        return None

    @app.head("/probe")
    async def probe() -> None:
        return None

    assert list(app.openapi()["paths"]["/page"]) == ["get"]  # HEAD answered, not documented
    assert list(app.openapi()["paths"]["/probe"]) == ["head"]


def test_routes_left_out_of_the_document() -> None:
    app = App()
    hidden = Router(include_in_schema=False)

    @hidden.get("/internal")
    async def internal() -> None:
        return None

    @app.get("/secret", include_in_schema=False)
    async def secret() -> None:
        return None

    @app.get("/visible")
    async def visible(q: Annotated[str | None, Query(include_in_schema=False)] = None) -> None:
        return None

    @app.websocket("/ws")
    async def ws(websocket: Any) -> None:
        return None

    app.include_router(hidden)
    app.mount("/sub", App())
    document = app.openapi()
    assert list(document["paths"]) == ["/visible"]
    visible_op = document["paths"]["/visible"]["get"]
    assert "parameters" not in visible_op
    assert visible_op["responses"]["422"] == ERROR_422  # the parameter is still validated


def test_parameters_of_every_location() -> None:
    app = App()

    def paging(limit: Annotated[int, Query(ge=1, le=100)] = 10) -> int:
        return limit

    @app.get("/items/{item_id}")
    async def read(
        item_id: int,
        page: Annotated[int, Depends(paging)],
        tags: Annotated[list[str] | None, Query(alias="tag", description="Repeatable")] = None,
        x_token: Annotated[str, Header(deprecated=True, examples=["abc"])] = "",
    ) -> None:
        return None

    params = operation(app, "/items/{item_id}")["parameters"]
    assert [(p["in"], p["name"], p["required"]) for p in params] == [
        ("path", "item_id", True),
        ("query", "tag", False),
        ("query", "limit", False),
        ("header", "x-token", False),
    ]
    assert params[1]["description"] == "Repeatable"
    assert params[1]["schema"]["anyOf"][0] == {"type": "array", "items": {"type": "string"}}
    assert params[2]["schema"] == {
        "type": "integer",
        "maximum": 100,
        "minimum": 1,
        "default": 10,
        "title": "Limit",
    }
    assert params[3]["deprecated"] is True
    assert params[3]["schema"]["examples"] == ["abc"]


def test_request_bodies() -> None:
    app = App()

    @app.post("/json")
    async def json_body(item: Item) -> None:
        return None

    @app.post("/embedded")
    async def embedded(item: Annotated[Item, Body(embed=True)], n: Annotated[int, Body()] = 1):
        return None

    @app.post("/form")
    async def form(user: Annotated[str, Form()], upload: UploadFile) -> None:
        return None

    @app.post("/optional")
    async def optional(item: Item | None = None) -> None:
        return None

    assert operation(app, "/json", "post")["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
    }
    embedded_body = operation(app, "/embedded", "post")["requestBody"]
    ref = embedded_body["content"]["application/json"]["schema"]["$ref"]
    schemas = app.openapi()["components"]["schemas"]
    assert schemas[ref.rsplit("/", 1)[1]]["required"] == ["item"]
    form_body = operation(app, "/form", "post")["requestBody"]["content"]
    form_schema = schemas["Body_form_form_post"]
    assert list(form_body) == ["multipart/form-data"]
    assert form_schema["properties"]["upload"] == {
        "type": "string",
        "contentMediaType": "application/octet-stream",
        "title": "Upload",
    }
    assert "required" not in operation(app, "/optional", "post")["requestBody"]
    validate(app.openapi())


def test_files_as_bytes() -> None:
    app = App()

    @app.post("/upload")
    async def upload(data: Annotated[bytes, File()], note: Annotated[str, Form()] = "") -> None:
        return None

    schema = app.openapi()["components"]["schemas"]["Body_upload_upload_post"]
    assert schema["properties"]["data"]["contentMediaType"] == "application/octet-stream"
    assert schema["required"] == ["data"]


def test_responses() -> None:
    app = App()

    @app.get("/model", responses={404: {"model": Message}, "5XX": {"description": "Oops"}})
    async def model() -> Item:
        return Item(name="a", price=1)

    @app.post("/created", status_code=201, response_description="Made")
    async def created() -> None:
        return None

    @app.delete("/gone", status_code=204)
    async def gone() -> None:
        return None

    @app.get("/html", response_class=HTMLResponse)
    async def html() -> str:
        return ""

    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> str:
        return ""

    @app.get("/redirect", response_class=RedirectResponse)
    async def redirect() -> str:
        return "/"

    @app.get("/raw", response_class=Response)
    async def raw() -> None:
        return None

    responses = operation(app, "/model")["responses"]
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Item"
    }
    assert responses["404"] == {
        "description": "Not Found",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}},
    }
    assert responses["5XX"] == {"description": "Oops"}
    assert "422" not in responses  # no parameters, no body
    assert operation(app, "/created", "post")["responses"] == {
        "201": {"description": "Made", "content": {"application/json": {"schema": {}}}}
    }
    assert operation(app, "/gone", "delete")["responses"] == {
        "204": {"description": "Successful Response"}
    }
    assert operation(app, "/html")["responses"]["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}}
    }
    assert operation(app, "/text")["responses"]["200"]["content"] == {
        "text/plain": {"schema": {"type": "string"}}
    }
    assert operation(app, "/redirect")["responses"] == {
        "307": {"description": "Successful Response"}
    }
    assert operation(app, "/raw")["responses"] == {"200": {"description": "Successful Response"}}
    validate(app.openapi())


def test_validation_error_response_and_components() -> None:
    app = App()

    @app.get("/q")
    async def q(n: int) -> None:
        return None

    @app.get("/custom", responses={422: {"description": "Bad"}})
    async def custom(n: int) -> None:
        return None

    assert operation(app, "/q")["responses"]["422"] == ERROR_422
    assert operation(app, "/custom")["responses"]["422"] == {"description": "Bad"}
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["HTTPValidationError"]["properties"]["detail"]["items"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    assert schemas["ValidationError"]["required"] == ["loc", "msg", "type"]


def test_router_tags_responses_and_deprecation() -> None:
    app = App()
    router = Router(prefix="/users", tags=["users"], responses={418: {"description": "Tea"}})

    @router.get("/{uid}", tags=["one"], deprecated=True)
    async def get_user(uid: int) -> None:
        return None

    app.include_router(router, prefix="/v1", tags=["v1"])
    op = operation(app, "/v1/users/{uid}")
    assert op["tags"] == ["v1", "users", "one"]
    assert op["deprecated"] is True
    assert op["operationId"] == "get_user_v1_users__uid__get"
    assert op["responses"]["418"] == {"description": "Tea"}


def test_openapi_extra_is_merged() -> None:
    app = App()

    @app.get(
        "/x",
        openapi_extra={
            "x-internal": True,
            "responses": {"200": {"headers": {"X-Rate": {"schema": {"type": "integer"}}}}},
        },
    )
    async def x() -> None:
        return None

    op = operation(app, "/x")
    assert op["x-internal"] is True
    assert op["responses"]["200"] == {
        "description": "Successful Response",
        "content": {"application/json": {"schema": {}}},
        "headers": {"X-Rate": {"schema": {"type": "integer"}}},
    }


class _Scheme:
    """A security dependency as the document sees one: ``model`` and ``scheme_name``."""

    def __init__(self, scheme_name: str, model: dict[str, Any]) -> None:
        self.scheme_name = scheme_name
        self.model = model

    async def __call__(self) -> str:
        return "token"


OAUTH2 = {
    "type": "oauth2",
    "flows": {"password": {"tokenUrl": "token", "scopes": {"read": "R", "write": "W"}}},
}


def test_security_schemes_and_scopes() -> None:
    oauth2 = _Scheme("OAuth2", OAUTH2)
    key = _Scheme("Key", {"type": "apiKey", "in": "header", "name": "X-Key"})

    def user(token: Annotated[str, Depends(oauth2)]) -> str:
        return token

    def admin(name: Annotated[str, Security(user, scopes=["write"])]) -> str:
        return name

    app = App()

    @app.get("/me")
    async def me(name: Annotated[str, Security(user, scopes=["read"])]) -> str:
        return name

    @app.get("/admin", dependencies=[Depends(key)])
    async def admin_page(
        a: Annotated[str, Security(admin, scopes=["read"])],
        b: Annotated[str, Security(user, scopes=["read"])],
    ) -> str:
        return a

    @app.get("/open")
    async def open_page() -> str:
        return ""

    assert TestClient(app).get("/me").json() == "token"
    document = app.openapi()
    assert document["components"]["securitySchemes"] == {
        "OAuth2": OAUTH2,
        "Key": {"type": "apiKey", "in": "header", "name": "X-Key"},
    }
    assert operation(app, "/me")["security"] == [{"OAuth2": ["read"]}]
    assert operation(app, "/admin")["security"] == [{"Key": []}, {"OAuth2": ["read", "write"]}]
    assert "security" not in operation(app, "/open")
    validate(document)


def test_security_model_given_as_a_pydantic_model() -> None:
    class Scheme(BaseModel):
        type: str = "http"
        scheme: str = "bearer"
        bearer_format: str | None = Field(None, alias="bearerFormat")
        description: str | None = None

    bearer = _Scheme("Bearer", {})
    bearer.model = Scheme(bearerFormat="JWT")  # type: ignore[assignment]
    app = App()

    @app.get("/x")
    async def x(token: Annotated[str, Depends(bearer)]) -> str:
        return token

    assert app.openapi()["components"]["securitySchemes"] == {
        "Bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }


class Rectangle(BaseModel):
    width: int
    height: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def area(self) -> int:
        return self.width * self.height


class Note(BaseModel):
    text: str
    tags: list[str] = []


@pytest.mark.parametrize("separate", [True, False])
def test_input_and_output_schemas(separate: bool) -> None:
    app = App(separate_input_output_schemas=separate)

    @app.post("/rectangles")
    async def rectangle(r: Rectangle) -> Rectangle:
        return r

    @app.post("/notes")
    async def note(n: Note) -> Note:
        return n

    schemas = app.openapi()["components"]["schemas"]
    # A computed field is output only: its model always has two schemas.
    assert "area" not in schemas["Rectangle-Input"]["properties"]
    assert "area" in schemas["Rectangle-Output"]["required"]
    assert "Note" in schemas
    assert "Note-Input" not in schemas
    validate(app.openapi())


def test_webhooks_and_callbacks() -> None:
    class Event(BaseModel):
        kind: str

    app = App()
    callbacks = DocumentationRouter()

    @callbacks.post("{$request.query.callback_url}/events")
    def event_sent(body: Event) -> None:
        return None

    @app.post("/subscribe", callbacks=callbacks.routes)
    async def subscribe(callback_url: str) -> None:
        return None

    @app.webhooks.post("new-event")
    def new_event(body: Event) -> None:
        """An event happened."""

    document = app.openapi()
    callback = document["paths"]["/subscribe"]["post"]["callbacks"]["event_sent"]
    assert list(callback) == ["{$request.query.callback_url}/events"]
    assert callback["{$request.query.callback_url}/events"]["post"]["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Event"}}},
    }
    webhook = document["webhooks"]["new-event"]["post"]
    assert webhook["description"] == "An event happened."
    assert webhook["operationId"] == "new_eventnew_event_post"  # FastAPI's: name + path
    validate(document)
    client = TestClient(app)
    assert client.post("/new-event", json={"kind": "x"}).status_code == 404  # never served


def test_get_openapi_on_routes_of_a_router() -> None:
    router = Router(prefix="/api")

    @router.get("/ping")
    async def ping() -> Message:
        return Message(message="pong")

    document = get_openapi(
        title="Part",
        version="0",
        routes=router.routes,
        description="Only the router",
        external_docs={"url": "https://example.com/docs"},
    )
    assert document["info"] == {"title": "Part", "description": "Only the router", "version": "0"}
    assert document["externalDocs"] == {"url": "https://example.com/docs"}
    assert list(document["paths"]) == ["/api/ping"]
    assert list(document["components"]["schemas"]) == ["Message"]
    validate(document)


def test_no_warning_for_a_usual_app() -> None:
    app = App()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None) -> Item:
        return Item(name="a", price=1)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app.openapi()


class Opaque:
    """A class pydantic has no schema for (accepted as an arbitrary type)."""

    def __init__(self, value: str) -> None:
        self.value = value


def test_a_type_without_json_schema_is_left_open() -> None:
    app = App()

    @app.get("/odd")
    async def odd(x: Opaque | None = None, n: int = 0) -> None:
        return None

    params = operation(app, "/odd")["parameters"]
    assert params[0]["schema"] == {"anyOf": [{}, {"type": "null"}], "title": "X"}
    assert params[1]["schema"] == {"type": "integer", "default": 0, "title": "N"}
    validate(app.openapi())


class Secret(BaseModel):
    password: str


def test_models_of_hidden_routes_stay_out() -> None:
    app = App()

    @app.post("/internal", include_in_schema=False)
    async def internal(secret: Secret) -> Secret:
        return secret

    @app.get("/public")
    async def public() -> Message:
        return Message(message="hi")

    assert list(app.openapi()["components"]["schemas"]) == ["Message"]
