"""The interactive documentation pages: Swagger UI (``/docs``) and ReDoc (``/redoc``).

:func:`get_swagger_ui_html` and :func:`get_redoc_html` build the pages the app serves at
``docs_url`` and ``redoc_url``; call them from your own routes to serve customised pages (other
asset URLs, parameters, titles). :func:`get_swagger_ui_oauth2_redirect_html` is the page Swagger
UI's OAuth2 login returns to (``swagger_ui_oauth2_redirect_url``).

Assets come from a public CDN by default. When the optional extra ``docs-offline`` is installed
(the ``swagger-ui-bundle-v2`` package, which ships Swagger UI's ``dist`` files),
:func:`offline_assets` finds them and the app serves them itself under ``{docs_url}/assets``, so
``/docs`` works with no internet access. ReDoc has no such package: its page keeps loading
``redoc.standalone.js`` from the CDN unless you pass ``redoc_js_url``.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framework.http.responses import HTMLResponse

__all__ = [
    "SWAGGER_UI_DEFAULT_PARAMETERS",
    "OfflineAssets",
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
    "offline_assets",
]

SWAGGER_JS_CDN_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS_CDN_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
SWAGGER_FAVICON_CDN_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/favicon-32x32.png"
REDOC_JS_CDN_URL = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"
REDOC_FAVICON_CDN_URL = SWAGGER_FAVICON_CDN_URL
REDOC_FONTS_URL = (
    "https://fonts.googleapis.com/css?family=Montserrat:300,400,700|Roboto:300,400,700"
)

#: Swagger UI options every page starts from; ``swagger_ui_parameters`` override them.
SWAGGER_UI_DEFAULT_PARAMETERS: dict[str, Any] = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
}

# The oldest Swagger UI that renders OpenAPI 3.1 documents (the version the app serves).
_MIN_SWAGGER_UI_MAJOR = 5
_BUNDLE_PACKAGE = "swagger_ui_bundle"
_VERSION_DIR = re.compile(r"swagger-ui-(\d+)\.(\d+)\.(\d+)")


# Written as \u escapes inside scripts: "<", ">" and "&" could close the element or open a
# comment, and JavaScript once refused the two line separators in string literals.
_SCRIPT_ESCAPES = {ord(char): f"\\u{ord(char):04x}" for char in "<>&\u2028\u2029"}


def _script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside an inline ``<script>``."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False).translate(_SCRIPT_ESCAPES)


def _page(title: str, head: str, body: str, *, viewport: bool = True) -> HTMLResponse:
    """An HTML page; ``head`` (after the title) and ``body`` are markup, escaped already."""
    meta = '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    return HTMLResponse(f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{meta if viewport else ""}<title>{html.escape(title)}</title>
{head}</head>
<body>
{body}
</body>
</html>
""")


# -- offline assets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfflineAssets:
    """Swagger UI's files, installed with the ``docs-offline`` extra.

    ``directory`` holds them (the app mounts it with ``StaticFiles``); ``version`` is Swagger UI's.
    """

    directory: Path
    version: str
    js_file: str = "swagger-ui-bundle.js"
    css_file: str = "swagger-ui.css"
    favicon_file: str = "favicon-32x32.png"

    def urls(self, prefix: str) -> dict[str, str]:
        """The ``get_swagger_ui_html`` URL arguments for the files served under ``prefix``."""
        base = prefix.rstrip("/")
        return {
            "swagger_js_url": f"{base}/{self.js_file}",
            "swagger_css_url": f"{base}/{self.css_file}",
            "swagger_favicon_url": f"{base}/{self.favicon_file}",
        }


@functools.cache
def offline_assets() -> OfflineAssets | None:
    """Swagger UI's files when the ``docs-offline`` extra is installed, else ``None``.

    The package is located without importing it, once per process. A Swagger UI older than 5
    (the ``swagger-ui-bundle`` 1.x package uses the same import name) cannot render OpenAPI 3.1,
    so it is ignored and the pages stay on the CDN.
    """
    try:
        spec = importlib.util.find_spec(_BUNDLE_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    vendors = [Path(location) / "vendor" for location in spec.submodule_search_locations]
    found = [
        (tuple(map(int, match.groups())), candidate)
        for vendor in vendors
        if vendor.is_dir()
        for candidate in vendor.iterdir()
        if (match := _VERSION_DIR.fullmatch(candidate.name))
    ]
    if not found:
        return None
    version, directory = max(found, key=lambda pair: pair[0])  # the first of the newest
    if version[0] < _MIN_SWAGGER_UI_MAJOR:
        return None
    assets = OfflineAssets(directory=directory, version=".".join(map(str, version)))
    needed = (assets.js_file, assets.css_file, assets.favicon_file)
    if not all((directory / name).is_file() for name in needed):
        return None
    return assets


# -- pages ----------------------------------------------------------------------------------------


def get_swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str | None = None,
    swagger_css_url: str | None = None,
    swagger_favicon_url: str | None = None,
    oauth2_redirect_url: str | None = None,
    init_oauth: dict[str, Any] | None = None,
    swagger_ui_parameters: dict[str, Any] | None = None,
) -> HTMLResponse:
    """A page running Swagger UI on the OpenAPI document at ``openapi_url``.

    - ``swagger_js_url``, ``swagger_css_url``, ``swagger_favicon_url``: where the page loads
      Swagger UI from (``None``: the public CDN).
    - ``oauth2_redirect_url``: the path of the OAuth2 redirect page (made absolute in the
      browser), for the "Authorize" button's login flows.
    - ``init_oauth``: the settings passed to Swagger UI's ``initOAuth`` (``clientId``, ...).
    - ``swagger_ui_parameters``: Swagger UI options (``{"docExpansion": "none"}``, ...), laid over
      :data:`SWAGGER_UI_DEFAULT_PARAMETERS`. They must be JSON-serialisable.

    Every value is JSON-encoded with ``<``, ``>`` and ``&`` escaped, so no title, URL or
    parameter can end the page's script.
    """
    config: dict[str, Any] = {"url": openapi_url, **SWAGGER_UI_DEFAULT_PARAMETERS}
    config.update(swagger_ui_parameters or {})
    script = [
        f"const config = {_script_json(config)};",
        "config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];",
    ]
    if oauth2_redirect_url:
        script.append(
            f"config.oauth2RedirectUrl = new URL({_script_json(oauth2_redirect_url)}, "
            "window.location.href).href;"
        )
    script.append("window.ui = SwaggerUIBundle(config);")
    if init_oauth:
        script.append(f"window.ui.initOAuth({_script_json(init_oauth)});")
    script_text = "\n".join(script)
    icon = html.escape(swagger_favicon_url or SWAGGER_FAVICON_CDN_URL)
    head = f"""<link rel="icon" type="image/png" href="{icon}">
<link rel="stylesheet" href="{html.escape(swagger_css_url or SWAGGER_CSS_CDN_URL)}">
"""
    body = f"""<div id="swagger-ui"></div>
<script src="{html.escape(swagger_js_url or SWAGGER_JS_CDN_URL)}"></script>
<script>
{script_text}
</script>"""
    return _page(title, head, body)


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str | None = None,
    redoc_favicon_url: str | None = None,
    with_google_fonts: bool = True,
) -> HTMLResponse:
    """A page running ReDoc on the OpenAPI document at ``openapi_url``.

    ``redoc_js_url`` and ``redoc_favicon_url`` say where its files come from (``None``: the
    public CDN, also with the ``docs-offline`` extra, which ships no ReDoc); ``with_google_fonts``
    adds the fonts ReDoc's theme names (turn it off for a page with no outside requests).
    """
    icon = html.escape(redoc_favicon_url or REDOC_FAVICON_CDN_URL)
    fonts = (
        f'<link rel="stylesheet" href="{html.escape(REDOC_FONTS_URL)}">\n'
        if with_google_fonts
        else ""
    )
    head = f"""<link rel="icon" type="image/png" href="{icon}">
{fonts}<style>body {{ margin: 0; padding: 0; }}</style>
"""
    body = f"""<redoc spec-url="{html.escape(openapi_url)}"></redoc>
<script src="{html.escape(redoc_js_url or REDOC_JS_CDN_URL)}"></script>"""
    return _page(title, head, body)


# Hands what the authorization server sent back (in the fragment for the implicit flow, in the
# query otherwise) to the Swagger UI window that opened this one, then closes.
_OAUTH2_REDIRECT_SCRIPT = """
"use strict";
(function () {
  const pending = window.opener && window.opener.swaggerUIRedirectOauth2;
  if (!pending) {
    document.getElementById("status").textContent =
      "No Swagger UI window is waiting for this login; you can close this page.";
    return;
  }
  const auth = pending.auth;
  const fromFragment = /(^|[#&])(access_token|code|error)=/.test(window.location.hash);
  const raw = fromFragment ? window.location.hash.slice(1) : window.location.search.slice(1);
  const params = Object.fromEntries(new URLSearchParams(raw));
  const stateMatches = params.state === pending.state;
  const flow = auth.schema.get ? auth.schema.get("flow") : auth.schema.flow;
  const codeFlows = ["accessCode", "authorizationCode", "authorization_code"];
  if (codeFlows.includes(flow) && !auth.code) {
    if (!stateMatches) {
      pending.errCb({
        authId: auth.name, source: "auth", level: "warning",
        message: "The state sent back does not match the one sent: the login may be forged.",
      });
    }
    if (params.code) {
      delete pending.state;
      auth.code = params.code;
      pending.callback({auth: auth, redirectUrl: pending.redirectUrl});
    } else {
      const reason = params.error
        ? "[" + params.error + "]: " + (params.error_description || "no code received") +
          (params.error_uri ? " " + params.error_uri : "")
        : "[Authorization failed]: no code received from the server.";
      pending.errCb({authId: auth.name, source: "auth", level: "error", message: reason});
    }
  } else {
    pending.callback({
      auth: auth, token: params, isValid: stateMatches, redirectUrl: pending.redirectUrl,
    });
  }
  window.close();
})();
"""


def get_swagger_ui_oauth2_redirect_html() -> HTMLResponse:
    """The page Swagger UI's OAuth2 login flows return to: it passes the code or token the
    authorization server sent to the Swagger UI window that opened the login, and closes."""
    body = f'<p id="status">Completing the login...</p>\n<script>{_OAUTH2_REDIRECT_SCRIPT}</script>'
    return _page("Swagger UI: OAuth2 redirect", "", body, viewport=False)
