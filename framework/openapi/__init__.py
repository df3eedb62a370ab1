"""The OpenAPI document: :func:`get_openapi` builds it from an app's routes.

``app.openapi()`` returns the app's document (built on first use, then kept); it is served at
``openapi_url`` (``/openapi.json``), and the ``/docs`` and ``/redoc`` pages read it.
"""

from framework.openapi.document import DocumentationRouter, generate_unique_id, get_openapi

__all__ = ["DocumentationRouter", "generate_unique_id", "get_openapi"]
