"""/docs in a real browser: headless Chromium loads the example app's Swagger UI page, served
with the offline assets (the ``docs-offline`` extra) by a real uvicorn on 127.0.0.1.

Chromium is Debian's package, installed by the ``chromium`` fixture when missing; the tests are
skipped, with the reason, only where it cannot be installed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from chromium_cdp import Chromium, Page, find_or_install_chromium

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from example_server import UvicornServer

from framework.openapi.docs import offline_assets

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium's executable; installed with apt-get when missing (skips when it cannot be)."""
    return find_or_install_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornServer]:
    if offline_assets() is None:
        pytest.skip(
            "the docs-offline extra is not installed: pip install 'framework[docs-offline]'"
        )
    log_path = tmp_path_factory.mktemp("docs-server") / "server.log"
    with UvicornServer.run("examples.app:app", log_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    with Chromium.launch(chromium, tmp_path_factory.mktemp("chromium")) as running:
        yield running


@pytest.fixture(scope="module")
def docs_page(browser: Chromium, server: UvicornServer) -> Page:
    """A tab showing /docs, once Swagger UI has rendered the operations."""
    page = browser.page()
    page.navigate(server.url + "/docs")
    page.wait_for("document.querySelectorAll('.opblock').length > 0")
    return page


def operations(server: UvicornServer) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation in the served OpenAPI document."""
    document = httpx.get(server.url + "/openapi.json", trust_env=False).json()
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_every_operation_is_rendered(docs_page: Page, server: UvicornServer) -> None:
    expected = operations(server)
    assert ("GET", "/users/{username}") in expected
    rendered = docs_page.wait_for(
        f"""(() => {{
            const blocks = [...document.querySelectorAll('.opblock')];
            if (blocks.length < {len(expected)}) return null;
            return blocks.map(block => [
                block.querySelector('.opblock-summary-method').textContent.trim(),
                block.querySelector('.opblock-summary-path').dataset.path,
            ]);
        }})()"""
    )
    assert {(method, path) for method, path in rendered} == expected
    title = docs_page.evaluate("document.querySelector('.info .title').textContent")
    assert title.startswith("Shop")


def test_page_loads_nothing_from_outside_the_server(docs_page: Page, server: UvicornServer) -> None:
    urls = [url for url in docs_page.requested_urls() if not url.startswith(("data:", "blob:"))]
    origin = urlsplit(server.url)
    assert {(urlsplit(url).scheme, urlsplit(url).netloc) for url in urls} == {
        (origin.scheme, origin.netloc)
    }
    paths = {urlsplit(url).path for url in urls}
    assert {"/docs", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"} <= paths
    assert "/docs/assets/swagger-ui.css" in paths


def test_try_it_out_calls_the_live_server(docs_page: Page) -> None:
    block = ".opblock-get:has(.opblock-summary-path[data-path='/users/{username}'])"
    docs_page.click(f"{block} .opblock-summary")
    docs_page.wait_for(f'document.querySelector("{block}.is-open .opblock-body") !== null')
    docs_page.click(f"{block} .try-out__btn")
    docs_page.type_into(f"{block} .parameters input[type=text]", "ada")
    docs_page.click(f"{block} .execute")
    status = docs_page.wait_for(
        f"""(() => {{
            const cell = document.querySelector("{block} .live-responses-table tr.response .response-col_status");
            return cell ? cell.textContent.trim() : null;
        }})()"""
    )
    assert status == "200"
    body = docs_page.evaluate(
        f"""document.querySelector("{block} .live-responses-table .response-col_description pre")
            .textContent"""
    )
    assert json.loads(body) == {"username": "ada", "name": "Ada Lovelace"}
    request_url = docs_page.evaluate(
        f'document.querySelector("{block} .request-url pre").textContent.trim()'
    )
    assert request_url.endswith("/users/ada")


@pytest.mark.parametrize(
    ("flow", "query", "expected"),
    [
        ("authorizationCode", "?code=c0de&state=s1", {"code": "c0de"}),
        (
            "implicit",
            "#access_token=t0k&token_type=bearer&state=s1",
            {"token": "t0k", "valid": True},
        ),
        ("authorizationCode", "?error=access_denied&state=s1", {"error": "[access_denied]"}),
    ],
)
def test_oauth2_redirect_page_hands_the_result_to_swagger_ui(
    docs_page: Page, server: UvicornServer, flow: str, query: str, expected: dict[str, object]
) -> None:
    # What Swagger UI leaves on its window before opening the login popup.
    docs_page.evaluate(
        f"""(() => {{
            window.oauthResult = null;
            window.swaggerUIRedirectOauth2 = {{
                auth: {{name: "oauth", schema: {{flow: {json.dumps(flow)}}}}},
                state: "s1",
                redirectUrl: "unused",
                callback: (done) => {{
                    window.oauthResult = done.token
                        ? {{token: done.token.access_token, valid: done.isValid}}
                        : {{code: done.auth.code}};
                }},
                errCb: (error) => {{ window.oauthResult = {{error: error.message.split(":")[0]}}; }},
            }};
            window.open("/docs/oauth2-redirect{query}");
        }})()""",
        user_gesture=True,
    )
    assert docs_page.wait_for("window.oauthResult") == expected
