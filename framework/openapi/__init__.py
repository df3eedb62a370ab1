"""The OpenAPI document (:func:`get_openapi`, served at ``openapi_url``) and the ``/docs`` and
``/redoc`` pages reading it (:func:`add_documentation_routes`). Modules: ``schemas``,
``operations``, ``document``, ``router``, ``docs`` (the pages), ``serve`` (their routes)."""

from framework.openapi.document import get_openapi
from framework.openapi.operations import generate_unique_id
from framework.openapi.router import DocumentationRouter
from framework.openapi.serve import add_documentation_routes

__all__ = ["DocumentationRouter", "add_documentation_routes", "generate_unique_id", "get_openapi"]
