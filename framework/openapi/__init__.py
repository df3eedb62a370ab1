"""The OpenAPI document: :func:`get_openapi` builds it from an app's routes.

``app.openapi()`` returns the app's document (built on first use, then kept); it is served at
``openapi_url`` (``/openapi.json``), and the ``/docs`` and ``/redoc`` pages read it: the app adds
those routes with :func:`add_documentation_routes`.

``schemas`` makes the JSON Schemas, ``operations`` gathers what each route's operations show,
``document`` renders the document, ``router`` holds :class:`DocumentationRouter` (webhooks,
callbacks), ``docs`` builds the HTML pages and ``serve`` adds the routes serving them all.
"""

from framework.openapi.document import get_openapi
from framework.openapi.operations import generate_unique_id
from framework.openapi.router import DocumentationRouter
from framework.openapi.serve import add_documentation_routes

__all__ = ["DocumentationRouter", "add_documentation_routes", "generate_unique_id", "get_openapi"]
