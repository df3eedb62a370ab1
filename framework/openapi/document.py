"""The OpenAPI 3.1 document of an app, :func:`get_openapi`: the routes' operations are gathered
(registering the types they show), their schemas generated in one call, then each operation is
written out per method. The result is the document FastAPI produces for the same app."""

from __future__ import annotations

import contextlib
import functools
import http.client
import inspect
import typing
import warnings
from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from pydantic import AnyUrl, TypeAdapter, ValidationError

from framework.encoders import jsonable_encoder
from framework.http.responses import JSONResponse, Response
from framework.openapi.operations import Operations, declared_methods, gather, path_format
from framework.openapi.schemas import (
    HTTP_VALIDATION_ERROR_SCHEMA,
    REF_PREFIX,
    VALIDATION_ERROR_SCHEMA,
    SchemaRegistry,
)
from framework.routing import BaseRoute, Route

METHODS_WITH_BODY = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"})
"""Methods whose operations describe a request body (as FastAPI: GET and DELETE included)."""

_STATUS_RANGES = {"1XX": "Information", "2XX": "Success", "3XX": "Redirection"}
_STATUS_RANGES.update({"4XX": "Client Error", "5XX": "Server Error", "DEFAULT": "Default Response"})
# The OpenAPI Operation Object's keys in its order, which every operation is written in.
_OPERATION_KEYS = (  # noqa: SIM905 - a list literal would take a line per key
    "tags summary description externalDocs operationId parameters requestBody responses "
    "callbacks deprecated security servers"
).split()


def get_openapi(
    *,
    title: str,
    version: str,
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    routes: Sequence[BaseRoute],
    webhooks: Sequence[BaseRoute] | None = None,
    tags: list[dict[str, Any]] | None = None,
    servers: list[dict[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: dict[str, Any] | None = None,
    license_info: dict[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
    external_docs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The OpenAPI document (a JSON-ready dict) of ``routes`` and ``webhooks``, as ``app.openapi()``
    builds it (to customise it, set ``app.openapi_schema``). Hidden routes, WebSocket routes and
    mounts are left out. ``separate_input_output_schemas=False`` describes every model by its
    input schema (``Model``, not ``Model-Input`` and ``Model-Output``)."""
    info = {
        "title": title,
        "summary": summary or None,  # None values are left out of the document
        "description": description or None,
        "termsOfService": terms_of_service or None,
        "contact": _with_url(contact) if contact else None,
        "license": _with_url(license_info) if license_info else None,
        "version": version,
    }
    schemas = SchemaRegistry(separate_input_output_schemas)
    route_plans = [gather(route, schemas) for route in _api_routes(routes)]
    webhook_plans = [gather(route, schemas) for route in _api_routes(webhooks)]
    schemas.generate()
    components: dict[str, dict[str, Any]] = {"schemas": schemas.definitions, "securitySchemes": {}}
    operation_ids: set[str] = set()
    paths = _paths(route_plans, schemas, operation_ids, components)
    webhook_paths = _paths(webhook_plans, schemas, operation_ids, components)
    components["schemas"] = dict(sorted(components["schemas"].items()))
    document = {
        "openapi": openapi_version,
        "info": info,
        "servers": jsonable_encoder(servers) if servers else None,
        "paths": paths,
        "webhooks": webhook_paths or None,
        "components": {key: value for key, value in components.items() if value} or None,
        "tags": _tags(tags) if tags else None,
        "externalDocs": _with_url(external_docs) if external_docs else None,
    }
    return typing.cast(dict[str, Any], _without_none(document))


def _api_routes(routes: Sequence[BaseRoute] | None) -> list[Route]:
    """The HTTP routes to describe (hidden ones left out, their models with them)."""
    return [route for route in routes or () if isinstance(route, Route) and route.include_in_schema]


def _paths(
    plans: list[Operations],
    schemas: SchemaRegistry,
    operation_ids: set[str],
    components: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The ``paths`` (or ``webhooks``); the schemes and error schemas used go to ``components``."""
    section: dict[str, Any] = {}
    for plan in plans:
        item, needs_errors = _path_item(plan, schemas, operation_ids)
        if item:
            section.setdefault(path_format(plan.route.path), {}).update(item)
            components["securitySchemes"].update(plan.security_schemes)
        if needs_errors:
            components["schemas"].setdefault("ValidationError", VALIDATION_ERROR_SCHEMA)
            components["schemas"].setdefault("HTTPValidationError", HTTP_VALIDATION_ERROR_SCHEMA)
    return section


def _path_item(
    plan: Operations, schemas: SchemaRegistry, operation_ids: set[str]
) -> tuple[dict[str, Any], bool]:
    """One route's path item (method -> operation), and whether it answers 422."""
    route, unique_id = plan.route, plan.operation["operationId"]
    path_item: dict[str, Any] = {}
    needs_errors = False
    for method in declared_methods(route):
        if unique_id in operation_ids:
            endpoint = getattr(route.endpoint, "__name__", "<unnamed endpoint>")
            message = f"Duplicate Operation ID {unique_id} for function {endpoint}"
            warnings.warn(message, stacklevel=4)  # at get_openapi's caller: where it was asked
        operation_ids.add(unique_id)
        operation = schemas.fill(plan.operation)
        if method not in METHODS_WITH_BODY:
            operation.pop("requestBody", None)
        if plan.callbacks:
            # The callback's own schemes and error schemas are not added, as in FastAPI.
            operation["callbacks"] = {
                callback.route.name: {
                    callback.route.path: _path_item(callback, schemas, operation_ids)[0]
                }
                for callback in plan.callbacks
            }
        responses = operation["responses"] = _responses(plan, schemas)
        if plan.validated and not any(key in responses for key in ("422", "4XX", "default")):
            schema = {"$ref": REF_PREFIX + "HTTPValidationError"}
            content = {"application/json": {"schema": schema}}
            responses["422"] = {"description": "Validation Error", "content": content}
            needs_errors = True
        if route.options.get("openapi_extra"):
            deep_update(operation, jsonable_encoder(route.options["openapi_extra"]))
        ordered = {key: operation[key] for key in _OPERATION_KEYS if key in operation}
        path_item[method.lower()] = {**ordered, **operation}  # extensions after OpenAPI's keys
    return path_item, needs_errors


def _responses(plan: Operations, schemas: SchemaRegistry) -> dict[str, Any]:
    """The route's own answer (and response model), with its declared ``responses`` merged over."""
    route, response_class = plan.route, plan.route.response_class
    media_type = response_class.media_type
    status_code: Any = route.options.get("status_code")
    if isinstance(status_code, IntEnum):
        status_code = int(status_code)
    key = str(status_code) if status_code is not None else _default_status(response_class)
    responses: dict[str, Any] = {}
    if key is not None:
        description = route.options.get("response_description", "Successful Response")
        main = responses[key] = {"description": description}
        if body_allowed(status_code) and media_type:
            schema: dict[str, Any] = {"type": "string"}
            if issubclass(response_class, JSONResponse):
                schema = {} if plan.response is None else schemas.fill(plan.response)
            main["content"] = {media_type: {"schema": schema}}
    for code, answer in route.responses.items():
        extra = jsonable_encoder({key: value for key, value in answer.items() if key != "model"})
        code_key = str(code).upper()
        target = responses.setdefault("default" if code_key == "DEFAULT" else code_key, {})
        slot = plan.extra_responses.get(code)
        if slot is not None:
            media = extra.setdefault("content", {}).setdefault(media_type or "application/json", {})
            deep_update(media.setdefault("schema", {}), schemas.fill(slot))
        description = extra.get("description") or target.get("description")
        deep_update(target, extra)
        target["description"] = description or _status_text(code) or "Additional Response"
    return responses


def _default_status(response_class: type[Response]) -> str | None:
    """The status code a response class answers with when none is given."""
    try:
        parameter = inspect.signature(response_class.__init__).parameters.get("status_code")
    except (TypeError, ValueError):  # pragma: no cover
        return None
    default = getattr(parameter, "default", None)
    return str(default) if isinstance(default, int) else None


def body_allowed(status_code: int | str | None) -> bool:
    """Whether a response with this status (``None``, a number, ``"4XX"`` or ``"default"``)
    may have a body."""
    if status_code is None or str(status_code).upper() in _STATUS_RANGES:
        return True
    code = int(status_code)
    return not (code < 200 or code in (204, 205, 304))


def _status_text(code: Any) -> str | None:
    with contextlib.suppress(ValueError):
        return _STATUS_RANGES.get(str(code).upper()) or http.client.responses.get(int(code))
    return None


def deep_update(target: dict[Any, Any], update: dict[Any, Any]) -> None:
    """Merge ``update`` into ``target``: dicts merged key by key, lists concatenated, other
    values replaced (how ``openapi_extra`` and ``responses`` extend an operation)."""
    for key, value in update.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            deep_update(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            target[key] = current + value
        else:
            target[key] = value


def _tags(tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**tag, "externalDocs": _with_url(tag["externalDocs"])}
        if isinstance(tag.get("externalDocs"), dict)
        else tag
        for tag in jsonable_encoder(tags)
    ]


@functools.cache
def _url_adapter() -> TypeAdapter[AnyUrl]:
    return TypeAdapter(AnyUrl)


def _with_url(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` with its ``url`` normalised as FastAPI's models write it (a trailing ``/``)."""
    result: dict[str, Any] = jsonable_encoder(entry)
    url = result.get("url")
    if isinstance(url, str):
        with contextlib.suppress(ValidationError):  # not a URL: kept as written
            result["url"] = str(_url_adapter().validate_python(url))
    return result


def _without_none(value: Any) -> Any:
    """``value`` with every ``None`` dict value left out, at any depth (list items stay)."""
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value
