"""The routes serving an app's document and pages, added by :func:`add_documentation_routes` when
the app is set up. Each builds what it sends on its first request and follows the request's
``root_path``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from framework.http.requests import Request
from framework.http.responses import JSONResponse, Response
from framework.openapi import docs
from framework.routing import BaseRoute

if TYPE_CHECKING:
    from framework.app import App


def add_documentation_routes(app: App) -> list[BaseRoute]:
    """Add and return the routes ``app``'s options ask for: the document at ``openapi_url``
    (``None``: none), Swagger UI at ``docs_url`` with its OAuth2 redirect page (and its files
    under ``{docs_url}/assets`` with the ``docs-offline`` extra), ReDoc at ``redoc_url``."""
    before, openapi_url = len(app.router.routes), app.openapi_url
    if not openapi_url:
        return []
    app.add_api_route(openapi_url, _document_endpoint(app), include_in_schema=False)
    if app.docs_url:
        _add_swagger_ui(app, openapi_url, app.docs_url)
    if app.redoc_url:

        async def redoc_html(request: Request) -> Response:
            url = _root_path(request) + openapi_url
            return docs.get_redoc_html(openapi_url=url, title=f"{app.title} - ReDoc")

        app.add_api_route(app.redoc_url, redoc_html, include_in_schema=False)
    return app.router.routes[before:]


def _root_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _document_endpoint(app: App) -> Any:
    """The endpoint of ``app.openapi()`` (``root_path`` first in servers), encoded once per root."""
    encoded: tuple[Any, str, bytes] | None = None

    async def openapi(request: Request) -> Response:
        nonlocal encoded
        document, root_path = app.openapi(), _root_path(request)
        if encoded is None or encoded[0] is not document or encoded[1] != root_path:
            served, servers = document, document.get("servers", [])
            prefixed = bool(root_path) and app.root_path_in_servers
            if prefixed and root_path not in {server.get("url") for server in servers}:
                served = {**document, "servers": [{"url": root_path}, *servers]}
            encoded = (document, root_path, JSONResponse(served).body)
        return Response(encoded[2], media_type="application/json")

    return openapi


def _add_swagger_ui(app: App, openapi_url: str, docs_url: str) -> None:
    # With the docs-offline extra, Swagger UI's files are served here, not from a CDN.
    assets = docs.offline_assets()
    assets_url = docs_url.rstrip("/") + "/assets"
    if assets is not None:
        from framework.staticfiles import StaticFiles  # only apps with the extra need it

        app.mount(assets_url, StaticFiles(directory=assets.directory))

    async def swagger_ui_html(request: Request) -> Response:
        root_path, redirect = _root_path(request), app.swagger_ui_oauth2_redirect_url
        urls: dict[str, Any] = assets.urls(root_path + assets_url) if assets is not None else {}
        return docs.get_swagger_ui_html(
            openapi_url=root_path + openapi_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=root_path + redirect if redirect else None,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
            **urls,
        )

    app.add_api_route(docs_url, swagger_ui_html, include_in_schema=False)
    if redirect_url := app.swagger_ui_oauth2_redirect_url:

        async def swagger_ui_redirect() -> Response:
            return docs.get_swagger_ui_oauth2_redirect_html()

        app.add_api_route(redirect_url, swagger_ui_redirect, include_in_schema=False)
