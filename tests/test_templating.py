"""Jinja2 templates (framework/templating.py): TemplateResponse, url_for, context processors.

The templates are in tests/templates/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import jinja2
import pytest

from framework import App, BackgroundTask, Request
from framework.routing import NoMatchFound
from framework.templating import Jinja2Templates, TemplateResponse
from framework.testclient import TestClient
from framework.types import Message

TEMPLATES = Path(__file__).resolve().parent / "templates"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def site_name(request: Request) -> dict[str, Any]:
    return {"site": f"Shop on {request.url.hostname}"}


def make_app(templates: Jinja2Templates) -> App:
    app = App()

    @app.get("/")
    async def home(request: Request) -> TemplateResponse:
        return templates.TemplateResponse(request, "note.txt", {"name": "you"})

    @app.get("/items/{item_id:int}")
    async def item_page(request: Request, item_id: int, name: str = "Pen") -> TemplateResponse:
        return templates.TemplateResponse(request, "item.html", {"item_id": item_id, "name": name})

    return app


@pytest.fixture
def templates() -> Jinja2Templates:
    return Jinja2Templates(directory=TEMPLATES, context_processors=[site_name])


@pytest.fixture
def client(templates: Jinja2Templates) -> TestClient:
    return TestClient(make_app(templates))


def test_template_response_renders_html(client: TestClient) -> None:
    response = client.get("/items/7")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-length"] == str(len(response.content))
    assert "<title>Item 7 - Shop on testserver</title>" in response.text
    assert "<h1>Pen</h1>" in response.text
    assert '<p id="path">/items/7</p>' in response.text


def test_url_for_gives_absolute_urls_of_named_routes(client: TestClient) -> None:
    response = client.get("/items/7")
    assert '<a id="self" href="http://testserver/items/7">' in response.text
    assert '<a id="next" href="http://testserver/items/8">' in response.text


def test_url_for_follows_the_host_and_root_path(templates: Jinja2Templates) -> None:
    client = TestClient(make_app(templates), base_url="https://shop.example", root_path="/api")
    response = client.get("/items/1")
    assert '<a id="next" href="https://shop.example/api/items/2">' in response.text
    assert "Shop on shop.example" in response.text


def test_url_for_unknown_route_fails(templates: Jinja2Templates) -> None:
    app = App()

    @app.get("/broken")
    async def broken(request: Request) -> TemplateResponse:
        return templates.TemplateResponse(request, "broken_link.html")

    with pytest.raises(NoMatchFound):
        TestClient(app).get("/broken")
    assert TestClient(app, raise_server_exceptions=False).get("/broken").status_code == 500


def test_html_is_autoescaped(client: TestClient) -> None:
    response = client.get("/items/1", params={"name": "<script>alert(1)</script>"})
    assert "<script>" not in response.text
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in response.text


def test_text_templates_are_not_escaped(client: TestClient) -> None:
    # .txt is not an HTML extension: no escaping (the media type is still text/html unless set).
    response = client.get("/")
    assert response.text == "Dear you, see http://testserver/"


def test_response_options(templates: Jinja2Templates) -> None:
    done: list[str] = []
    app = App()

    @app.get("/note")
    async def note(request: Request) -> TemplateResponse:
        return templates.TemplateResponse(
            request,
            "note.txt",
            {"name": "<b>"},
            status_code=202,
            headers={"x-template": "note"},
            media_type="text/plain",
            background=BackgroundTask(done.append, "sent"),
        )

    @app.get("/")
    async def home() -> dict[str, str]:
        return {}

    response = TestClient(app).get("/note")
    assert response.status_code == 202
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-template"] == "note"
    assert response.text == "Dear <b>, see http://testserver/"
    assert done == ["sent"]


def test_head_sends_no_body(client: TestClient) -> None:
    get = client.get("/items/3")
    head = client.head("/items/3")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


def test_context_processors_and_request_in_context(templates: Jinja2Templates) -> None:
    seen: list[Request] = []

    def remember(request: Request) -> dict[str, Any]:
        seen.append(request)
        return {"site": "overridden by a later processor"}

    processors = Jinja2Templates(directory=TEMPLATES, context_processors=[remember, site_name])
    app = App()
    context: dict[str, Any] = {"item_id": 1, "name": "x"}

    @app.get("/items/{item_id:int}")
    async def item_page(request: Request) -> TemplateResponse:
        response = processors.TemplateResponse(request, "item.html", context)
        assert response.context["request"] is request
        assert response.template.name == "item.html"
        return response

    response = TestClient(app).get("/items/1")
    assert "Shop on testserver" in response.text
    assert len(seen) == 1
    assert seen[0].url.path == "/items/1"
    # The caller's dict is left as it was.
    assert context == {"item_id": 1, "name": "x"}


def test_context_processors_override_the_callers_values() -> None:
    # Processors run after the caller's context is copied in, as in Starlette: they win.
    templates = Jinja2Templates(
        env=jinja2.Environment(loader=jinja2.DictLoader({"t.html": "{{ site }}"})),
        context_processors=[lambda request: {"site": "from processor"}],
    )
    app = App()

    @app.get("/")
    async def page(request: Request) -> TemplateResponse:
        return templates.TemplateResponse(request, "t.html", {"site": "from caller"})

    assert TestClient(app).get("/").text == "from processor"


def test_env_instead_of_directory() -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"hello.html": "Hi {{ who }} at {{ url_for('page') }}"}),
        autoescape=True,
    )
    templates = Jinja2Templates(env=env)
    assert templates.env is env
    app = App()

    @app.get("/page")
    async def page(request: Request) -> TemplateResponse:
        return templates.TemplateResponse(request, "hello.html", {"who": "<you>"})

    assert TestClient(app).get("/page").text == "Hi &lt;you&gt; at http://testserver/page"


def test_own_url_for_global_is_kept() -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"a.html": "{{ url_for('x') }}"}))
    env.globals["url_for"] = lambda name: f"/custom/{name}"
    templates = Jinja2Templates(env=env)
    app = App()

    @app.get("/")
    async def page(request: Request) -> TemplateResponse:
        return templates.TemplateResponse(request, "a.html")

    assert TestClient(app).get("/").text == "/custom/x"


def test_several_directories_are_searched_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "page.html").write_text("first page")
    (second / "page.html").write_text("second page")
    (second / "other.html").write_text("only in second")
    templates = Jinja2Templates(directory=[first, str(second)])
    assert templates.get_template("page.html").render() == "first page"
    assert templates.get_template("other.html").render() == "only in second"
    with pytest.raises(jinja2.TemplateNotFound):
        templates.get_template("missing.html")


def test_missing_template_is_a_server_error(templates: Jinja2Templates) -> None:
    app = App()

    @app.get("/")
    async def page(request: Request) -> TemplateResponse:
        return templates.TemplateResponse(request, "nope.html")

    with pytest.raises(jinja2.TemplateNotFound):
        TestClient(app).get("/")
    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500


def test_directory_or_env_is_required() -> None:
    with pytest.raises(TypeError, match="directory"):
        Jinja2Templates()
    with pytest.raises(TypeError, match="directory"):
        Jinja2Templates(directory=TEMPLATES, env=jinja2.Environment())


def test_old_argument_order_gets_a_clear_error(templates: Jinja2Templates) -> None:
    with pytest.raises(TypeError, match=r"TemplateResponse\(request, name, context\)"):
        templates.TemplateResponse("item.html", {"request": None})  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_debug_extension_reports_template_and_context(templates: Jinja2Templates) -> None:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/items/5",
        "raw_path": b"/items/5",
        "query_string": b"",
        "headers": [(b"host", b"example.org")],
        "scheme": "http",
        "server": ("example.org", 80),
        "root_path": "",
        "extensions": {"http.response.debug": {}},
    }
    app = make_app(templates)
    sent: list[Message] = []

    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert [message["type"] for message in sent] == [
        "http.response.debug",
        "http.response.start",
        "http.response.body",
    ]
    info = sent[0]["info"]
    assert info["template"].name == "item.html"
    assert info["context"]["item_id"] == 5
    assert info["context"]["site"] == "Shop on example.org"
    assert b"http://example.org/items/6" in sent[2]["body"]


def test_test_client_exposes_the_rendered_template_and_context(client: TestClient) -> None:
    response = client.get("/items/5")
    assert response.status_code == 200
    assert response.template.name == "item.html"  # type: ignore[attr-defined]
    assert response.context["item_id"] == 5  # type: ignore[attr-defined]
    plain = client.get("/missing-page")
    assert not hasattr(plain, "template")
