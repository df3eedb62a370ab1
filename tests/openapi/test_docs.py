"""The interactive documentation pages: Swagger UI at /docs, ReDoc at /redoc, the OAuth2
redirect page, and Swagger UI's files served by the app with the ``docs-offline`` extra."""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from framework import App
from framework.openapi import docs
from framework.openapi.docs import (
    OfflineAssets,
    get_redoc_html,
    get_swagger_ui_html,
    offline_assets,
)
from framework.testclient import TestClient

CDN_JS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
CDN_CSS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
REDOC_CDN_JS = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"


def needs_offline_assets() -> OfflineAssets:
    assets = offline_assets()
    if assets is None:
        pytest.skip(
            "the docs-offline extra is not installed: pip install 'framework[docs-offline]'"
        )
    return assets


@pytest.fixture
def cdn_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps built in the test see no offline assets, as without the extra."""
    monkeypatch.setattr(docs, "offline_assets", lambda: None)


def swagger_config(page: str) -> dict[str, Any]:
    """The options the page hands to SwaggerUIBundle."""
    match = re.search(r"^const config = (.*);$", page, re.MULTILINE)
    assert match is not None, page
    config: dict[str, Any] = json.loads(match[1])
    return config


def asset_urls(page: str) -> dict[str, str]:
    """Where the page loads Swagger UI's script, stylesheet and icon from."""
    found = {}
    for kind, pattern in (
        ("js", r'<script src="([^"]*)"'),
        ("css", r'<link rel="stylesheet" href="([^"]*)"'),
        ("favicon", r'<link rel="icon" type="image/png" href="([^"]*)"'),
    ):
        match = re.search(pattern, page)
        assert match is not None, (kind, page)
        found[kind] = match[1]
    return found


# -- the Swagger UI page ----------------------------------------------------------------------


def test_docs_page_runs_swagger_ui_on_the_document() -> None:
    client = TestClient(App(title="Shop"))
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "<title>Shop - Swagger UI</title>" in page
    assert '<div id="swagger-ui"></div>' in page
    assert swagger_config(page) == {
        "url": "/openapi.json",
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
    }
    assert 'config.oauth2RedirectUrl = new URL("/docs/oauth2-redirect", ' in page
    assert "window.ui = SwaggerUIBundle(config);" in page
    assert "initOAuth" not in page
    assert "/docs" not in client.get("/openapi.json").json()["paths"]


def test_swagger_ui_parameters_are_laid_over_the_defaults() -> None:
    app = App(
        swagger_ui_parameters={
            "deepLinking": False,
            "docExpansion": "none",
            "tryItOutEnabled": True,
        }
    )
    config = swagger_config(TestClient(app).get("/docs").text)
    assert config["deepLinking"] is False
    assert config["docExpansion"] == "none"
    assert config["tryItOutEnabled"] is True
    assert config["dom_id"] == "#swagger-ui"
    assert config["url"] == "/openapi.json"


def test_init_oauth_is_passed_to_swagger_ui() -> None:
    settings = {
        "clientId": "docs-client",
        "scopes": "read write",
        "usePkceWithAuthorizationCodeGrant": True,
    }
    page = TestClient(App(swagger_ui_init_oauth=settings)).get("/docs").text
    match = re.search(r"^window\.ui\.initOAuth\((.*)\);$", page, re.MULTILINE)
    assert match is not None
    assert json.loads(match[1]) == settings


def test_titles_and_parameters_cannot_break_out_of_the_script() -> None:
    hostile = "</script><script>alert(1)</script><!--"
    app = App(
        title=hostile,
        swagger_ui_parameters={"filter": hostile, "x\u2028": "a\u2029b & c"},
        swagger_ui_init_oauth={"appName": hostile},
    )
    page = TestClient(app).get("/docs").text
    # Only the page's own two scripts open and close; the title is escaped text.
    assert page.count("<script") == 2
    assert page.count("</script>") == 2
    assert "<!--" not in page
    assert "\u2028" not in page and "\u2029" not in page
    assert (
        f"<title>{hostile.replace('<', '&lt;').replace('>', '&gt;')} - Swagger UI</title>" in page
    )
    config = swagger_config(page)
    assert config["filter"] == hostile
    assert config["x\u2028"] == "a\u2029b & c"
    oauth = re.search(r"^window\.ui\.initOAuth\((.*)\);$", page, re.MULTILINE)
    assert oauth is not None
    assert json.loads(oauth[1]) == {"appName": hostile}


def test_urls_are_escaped_in_attributes() -> None:
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="API",
        swagger_js_url='/js?a=1&b="><img src=x>',
        swagger_css_url="/style.css",
        swagger_favicon_url="/icon.png",
    ).body.decode()
    assert '<script src="/js?a=1&amp;b=&quot;&gt;&lt;img src=x&gt;"></script>' in page
    assert "<img" not in page
    assert asset_urls(page)["css"] == "/style.css"
    assert asset_urls(page)["favicon"] == "/icon.png"


def test_parameters_that_are_not_json_are_refused() -> None:
    with pytest.raises(TypeError):
        get_swagger_ui_html(openapi_url="/o", title="t", swagger_ui_parameters={"f": object()})
    with pytest.raises(ValueError):
        get_swagger_ui_html(openapi_url="/o", title="t", swagger_ui_parameters={"n": float("nan")})


def test_helper_builds_custom_pages_for_your_own_routes() -> None:
    app = App(docs_url=None)

    @app.get("/custom-docs", include_in_schema=False)
    async def custom_docs() -> Any:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Custom",
            swagger_js_url="/static/ui.js",
            swagger_css_url="/static/ui.css",
            swagger_ui_parameters={"syntaxHighlight": False},
        )

    client = TestClient(app)
    assert client.get("/docs").status_code == 404
    page = client.get("/custom-docs").text
    assert asset_urls(page)["js"] == "/static/ui.js"
    assert asset_urls(page)["css"] == "/static/ui.css"
    assert swagger_config(page)["syntaxHighlight"] is False
    assert "oauth2RedirectUrl" not in page  # none was asked for


# -- the OAuth2 redirect page -------------------------------------------------------------------


def test_oauth2_redirect_page_is_served() -> None:
    response = TestClient(App()).get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "window.opener.swaggerUIRedirectOauth2" in response.text
    assert "window.close();" in response.text


def test_oauth2_redirect_url_can_move_or_go() -> None:
    moved = TestClient(App(swagger_ui_oauth2_redirect_url="/auth/callback"))
    assert moved.get("/auth/callback").status_code == 200
    assert moved.get("/docs/oauth2-redirect").status_code == 404
    assert 'new URL("/auth/callback", ' in moved.get("/docs").text

    gone = TestClient(App(swagger_ui_oauth2_redirect_url=None))
    assert gone.get("/docs/oauth2-redirect").status_code == 404
    assert "oauth2RedirectUrl" not in gone.get("/docs").text


# -- CDN or offline assets ----------------------------------------------------------------------


@pytest.mark.usefixtures("cdn_only")
def test_without_the_extra_assets_come_from_the_cdn() -> None:
    client = TestClient(App())
    urls = asset_urls(client.get("/docs").text)
    assert urls == {
        "js": CDN_JS,
        "css": CDN_CSS,
        "favicon": "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/favicon-32x32.png",
    }
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 404


def test_with_the_extra_the_app_serves_swagger_ui_itself() -> None:
    assets = needs_offline_assets()
    assert int(assets.version.split(".")[0]) >= 5
    client = TestClient(App())
    page = client.get("/docs").text
    assert "cdn.jsdelivr.net" not in page
    urls = asset_urls(page)
    assert urls == {
        "js": "/docs/assets/swagger-ui-bundle.js",
        "css": "/docs/assets/swagger-ui.css",
        "favicon": "/docs/assets/favicon-32x32.png",
    }
    expected_types = {
        "js": ("text/javascript; charset=utf-8", "application/javascript"),
        "css": ("text/css; charset=utf-8",),
        "favicon": ("image/png",),
    }
    files = {"js": assets.js_file, "css": assets.css_file, "favicon": assets.favicon_file}
    for kind, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"] in expected_types[kind]
        assert response.content == (assets.directory / files[kind]).read_bytes()
        assert "etag" in response.headers
        again = client.get(url, headers={"if-none-match": response.headers["etag"]})
        assert again.status_code == 304
    assert b"SwaggerUIBundle" in client.get(urls["js"]).content
    assert client.get("/docs/assets/no-such-file.js").status_code == 404
    assert not any(path.startswith("/docs") for path in client.get("/openapi.json").json()["paths"])


def test_offline_assets_follow_docs_url_and_root_path() -> None:
    needs_offline_assets()
    client = TestClient(App(docs_url="/api-docs"), root_path="/v1")
    page = client.get("/api-docs").text
    assert asset_urls(page)["js"] == "/v1/api-docs/assets/swagger-ui-bundle.js"
    assert swagger_config(page)["url"] == "/v1/openapi.json"
    assert 'new URL("/v1/docs/oauth2-redirect", ' in page
    assert client.get("/api-docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/docs/assets/swagger-ui.css").status_code == 404


# -- finding the offline assets -----------------------------------------------------------------


def fake_bundle(root: Path, *versions: str, files: tuple[str, ...] | None = None) -> None:
    """A ``swagger_ui_bundle`` package under ``root`` shipping the given Swagger UI versions."""
    package = root / "swagger_ui_bundle"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for version in versions:
        folder = package / "vendor" / f"swagger-ui-{version}"
        folder.mkdir(parents=True)
        for name in files or ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
            (folder / name).write_text(version)


@pytest.fixture
def find_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Look for the offline assets with only ``tmp_path`` on the import path, uncached."""
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    monkeypatch.delitem(sys.modules, "swagger_ui_bundle", raising=False)

    def find() -> OfflineAssets | None:
        importlib.invalidate_caches()
        found: OfflineAssets | None = offline_assets.__wrapped__()
        return found

    return find


def test_no_package_means_no_offline_assets(find_in: Any) -> None:
    assert find_in() is None


def test_the_newest_swagger_ui_5_is_used(find_in: Any, tmp_path: Path) -> None:
    fake_bundle(tmp_path, "5.2.0", "5.31.0", "4.15.5")
    assets = find_in()
    assert assets is not None
    assert assets.version == "5.31.0"
    assert assets.directory == tmp_path / "swagger_ui_bundle" / "vendor" / "swagger-ui-5.31.0"
    assert assets.urls("/docs/assets/") == {
        "swagger_js_url": "/docs/assets/swagger-ui-bundle.js",
        "swagger_css_url": "/docs/assets/swagger-ui.css",
        "swagger_favicon_url": "/docs/assets/favicon-32x32.png",
    }


def test_swagger_ui_4_is_ignored(find_in: Any, tmp_path: Path) -> None:
    # swagger-ui-bundle 1.x ships Swagger UI 4, which cannot render OpenAPI 3.1.
    fake_bundle(tmp_path, "4.15.5")
    assert find_in() is None


def test_a_bundle_missing_files_is_ignored(find_in: Any, tmp_path: Path) -> None:
    fake_bundle(tmp_path, "5.31.0", files=("swagger-ui.css",))
    assert find_in() is None


# -- ReDoc --------------------------------------------------------------------------------------


def test_redoc_page_loads_the_document() -> None:
    response = TestClient(App(title="Shop")).get("/redoc")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "<title>Shop - ReDoc</title>" in page
    assert '<redoc spec-url="/openapi.json"></redoc>' in page
    assert f'<script src="{REDOC_CDN_JS}"></script>' in page
    assert "fonts.googleapis.com" in page


def test_redoc_helper_options_and_escaping() -> None:
    page = get_redoc_html(
        openapi_url='/openapi.json?x="><script>',
        title="</title><script>",
        redoc_js_url="/static/redoc.js",
        redoc_favicon_url="/static/icon.png",
        with_google_fonts=False,
    ).body.decode()
    assert '<redoc spec-url="/openapi.json?x=&quot;&gt;&lt;script&gt;"></redoc>' in page
    assert "<title>&lt;/title&gt;&lt;script&gt;</title>" in page
    assert page.count("<script") == 1
    assert '<script src="/static/redoc.js"></script>' in page
    assert 'href="/static/icon.png"' in page
    assert "fonts.googleapis.com" not in page


def test_redoc_under_a_root_path() -> None:
    page = TestClient(App(), root_path="/v1").get("/redoc").text
    assert '<redoc spec-url="/v1/openapi.json"></redoc>' in page


# -- turning the pages off ----------------------------------------------------------------------


def test_docs_url_none_turns_swagger_ui_off() -> None:
    client = TestClient(App(docs_url=None))
    assert client.get("/docs").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 404
    assert client.get("/redoc").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_redoc_url_none_turns_redoc_off() -> None:
    client = TestClient(App(redoc_url=None))
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs").status_code == 200


def test_openapi_url_none_turns_every_page_off() -> None:
    client = TestClient(App(openapi_url=None))
    for path in (
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/docs/assets/swagger-ui.css",
        "/redoc",
    ):
        assert client.get(path).status_code == 404, path
