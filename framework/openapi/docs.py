"""The documentation pages: Swagger UI (``/docs``), ReDoc (``/redoc``), Swagger UI's OAuth2 redirect
page; call these from your own routes for customised pages. Assets come from a CDN, or Swagger UI's
from the app itself with the ``docs-offline`` extra (:func:`offline_assets`)."""

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

_VERSION_DIR = re.compile(r"swagger-ui-(\d+)\.(\d+)\.(\d+)")

# Written as \u escapes inside scripts: "<", ">" and "&" could close the element or open a
# comment, and JavaScript once refused the two line separators in string literals.
_SCRIPT_ESCAPES = {ord(char): f"\\u{ord(char):04x}" for char in "<>&\u2028\u2029"}


def _script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside an inline ``<script>``."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False).translate(_SCRIPT_ESCAPES)


def _page(title: str, icon: str | None, head: str, body: str) -> HTMLResponse:
    """An HTML page, with a viewport when it has an ``icon``; ``head`` and ``body`` are markup."""
    meta = '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    link = f'<link rel="icon" type="image/png" href="{html.escape(icon)}">\n' if icon else ""
    return HTMLResponse(f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{meta if icon else ""}<title>{html.escape(title)}</title>
{link}{head}</head>
<body>
{body}
</body>
</html>
""")


@dataclass(frozen=True)
class OfflineAssets:
    """Swagger UI's files from the ``docs-offline`` extra: ``directory`` holds them (the app
    mounts it with ``StaticFiles``), ``version`` is Swagger UI's."""

    directory: Path
    version: str
    js_file: str = "swagger-ui-bundle.js"
    css_file: str = "swagger-ui.css"
    favicon_file: str = "favicon-32x32.png"

    def urls(self, prefix: str) -> dict[str, str]:
        """The ``get_swagger_ui_html`` URL arguments for the files served under ``prefix``."""
        files = {"js": self.js_file, "css": self.css_file, "favicon": self.favicon_file}
        base = prefix.rstrip("/")
        return {f"swagger_{kind}_url": f"{base}/{name}" for kind, name in files.items()}


@functools.cache
def offline_assets() -> OfflineAssets | None:
    """Swagger UI's files when the ``docs-offline`` extra is installed (Swagger UI 5 or later),
    else ``None``. Looked up once, not imported."""
    try:
        spec = importlib.util.find_spec("swagger_ui_bundle")
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
    # The first of the newest; before 5, Swagger UI cannot render OpenAPI 3.1 (the app's).
    version, directory = max(found, key=lambda pair: pair[0], default=((0,), Path()))
    if version[0] < 5:
        return None
    assets = OfflineAssets(directory=directory, version=".".join(map(str, version)))
    files = (assets.js_file, assets.css_file, assets.favicon_file)
    return assets if all((directory / name).is_file() for name in files) else None


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
    """A page running Swagger UI on the OpenAPI document at ``openapi_url``, its files from
    ``swagger_*_url`` (``None``: the CDN). ``oauth2_redirect_url``: the OAuth2 redirect page's
    path; ``init_oauth``: Swagger UI's ``initOAuth`` settings; ``swagger_ui_parameters``: options
    laid over :data:`SWAGGER_UI_DEFAULT_PARAMETERS` (escaped: none can end the page's script)."""
    options = {"url": openapi_url, **SWAGGER_UI_DEFAULT_PARAMETERS, **(swagger_ui_parameters or {})}
    config, redirect = _script_json(options), ""
    if oauth2_redirect_url:
        url = _script_json(oauth2_redirect_url)
        redirect = f"\nconfig.oauth2RedirectUrl = new URL({url}, window.location.href).href;"
    init = f"\nwindow.ui.initOAuth({_script_json(init_oauth)});" if init_oauth else ""
    head = f'<link rel="stylesheet" href="{html.escape(swagger_css_url or SWAGGER_CSS_CDN_URL)}">\n'
    body = f"""<div id="swagger-ui"></div>
<script src="{html.escape(swagger_js_url or SWAGGER_JS_CDN_URL)}"></script>
<script>
const config = {config};
config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];{redirect}
window.ui = SwaggerUIBundle(config);{init}
</script>"""
    return _page(title, swagger_favicon_url or SWAGGER_FAVICON_CDN_URL, head, body)


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str | None = None,
    redoc_favicon_url: str | None = None,
    with_google_fonts: bool = True,
) -> HTMLResponse:
    """A page running ReDoc on the OpenAPI document at ``openapi_url``: its files come from
    ``redoc_js_url`` and ``redoc_favicon_url`` (``None``: the CDN, even with ``docs-offline``);
    ``with_google_fonts=False`` leaves out the theme's fonts (no outside requests)."""
    fonts = f'<link rel="stylesheet" href="{html.escape(REDOC_FONTS_URL)}">\n'
    head = (fonts if with_google_fonts else "") + "<style>body { margin: 0; padding: 0; }</style>\n"
    body = f"""<redoc spec-url="{html.escape(openapi_url)}"></redoc>
<script src="{html.escape(redoc_js_url or REDOC_JS_CDN_URL)}"></script>"""
    return _page(title, redoc_favicon_url or REDOC_FAVICON_CDN_URL, head, body)


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
    return _page("Swagger UI: OAuth2 redirect", None, "", body)
