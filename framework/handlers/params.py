"""The markers handlers use to say where a parameter comes from: declarations only.

Both forms FastAPI accepts work: ``q: Annotated[str, Query(max_length=50)]`` and
``q: str = Query(max_length=50)``. The constraints are pydantic's ``Field`` options;
:mod:`framework.handlers.compile` turns each marker into a pydantic field when the route is added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import Field
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = [
    "Body",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "Header",
    "Param",
    "Path",
    "Query",
    "Security",
    "SecurityScopes",
]

_Undefined: Any = PydanticUndefined
# Param's own settings: its other arguments are pydantic ``Field`` options, passed on when given.
_OWN = {"self", "default", "default_factory", "alias", "openapi_examples", "include_in_schema"}


class Param:
    """A request value with pydantic constraints; use a subclass (:class:`Query`, :class:`Path`,
    :class:`Header`, :class:`Cookie`, :class:`Body`, :class:`Form` or :class:`File`).

    ``default`` (or ``default_factory``) makes it optional; ``alias`` is the name on the wire; the
    ``Field`` options constrain it, ``openapi_examples`` and ``include_in_schema`` document it.
    """

    location = ""

    def __init__(
        self,
        default: Any = _Undefined,
        *,
        default_factory: Callable[[], Any] | None = None,
        alias: str | None = None,
        title: str | None = None,
        description: str | None = None,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        multiple_of: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        strict: bool | None = None,
        allow_inf_nan: bool | None = None,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        examples: list[Any] | None = None,
        openapi_examples: dict[str, Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        json_schema_extra: dict[str, Any] | None = None,
    ) -> None:
        given = dict(locals())  # the arguments alone
        if default is ...:
            default = _Undefined  # FastAPI's spelling of "required"
        self.default = default
        self.default_factory = default_factory
        self.alias = alias
        self.description = description
        self.examples = examples
        self.openapi_examples = openapi_examples
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.constraints: dict[str, Any] = {
            key: value for key, value in given.items() if key not in _OWN and value is not None
        }

    @property
    def required(self) -> bool:
        """True when the request must carry the value."""
        return self.default is _Undefined and self.default_factory is None

    def field_info(self, alias: str | None, default: Any = _Undefined) -> FieldInfo:
        """The pydantic field for this parameter (``default`` is the signature's, if any)."""
        if default is _Undefined:
            default = self.default
        if self.default_factory is not None:
            result: FieldInfo = Field(
                default_factory=self.default_factory, alias=alias, **self.constraints
            )
        else:
            result = Field(default, alias=alias, **self.constraints)
        return result

    def __repr__(self) -> str:
        shown = "" if self.required else repr(self.default)
        return f"{type(self).__name__}({shown})"


class Path(Param):
    """A path parameter (the name must appear in the route's template). Always required."""

    location = "path"


class Query(Param):
    """A query-string parameter; ``list[...]`` annotations take every repeated value."""

    location = "query"


class Header(Param):
    """A request header. ``convert_underscores`` (default) reads ``user_agent`` from the
    ``user-agent`` header; header names are case-insensitive."""

    location = "header"

    def __init__(
        self, default: Any = _Undefined, *, convert_underscores: bool = True, **options: Any
    ) -> None:
        super().__init__(default, **options)
        self.convert_underscores = convert_underscores


class Cookie(Param):
    """A cookie sent by the client."""

    location = "cookie"


class Body(Param):
    """A JSON body, or a key of it: ``embed=True`` (or several body parameters) reads the value
    from the key named after the parameter (or its alias)."""

    location = "body"

    def __init__(
        self,
        default: Any = _Undefined,
        *,
        embed: bool | None = None,
        media_type: str = "application/json",
        **options: Any,
    ) -> None:
        super().__init__(default, **options)
        self.embed, self.media_type = embed, media_type


class Form(Body):
    """A field of a urlencoded or multipart form body."""

    def __init__(
        self,
        default: Any = _Undefined,
        *,
        media_type: str = "application/x-www-form-urlencoded",
        **options: Any,
    ) -> None:
        super().__init__(default, embed=True, media_type=media_type, **options)


class File(Form):
    """An uploaded file of a multipart form (annotate it ``UploadFile`` or ``bytes``)."""

    def __init__(
        self, default: Any = _Undefined, *, media_type: str = "multipart/form-data", **options: Any
    ) -> None:
        super().__init__(default, media_type=media_type, **options)


class Depends:
    """A value computed by another callable, per request: ``db: Session = Depends(get_db)``.

    ``dependency`` (a function, ``async def``, class or callable instance; by default the annotated
    class) has its own parameters resolved the same way. A ``yield`` dependency's code after
    ``yield`` runs once the response is sent. Each runs once per request unless ``use_cache=False``.
    """

    def __init__(
        self, dependency: Callable[..., Any] | None = None, *, use_cache: bool = True
    ) -> None:
        self.dependency = dependency
        self.use_cache = use_cache
        self.scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__name__", type(self.dependency).__name__)
        cache = "" if self.use_cache else ", use_cache=False"
        return f"{type(self).__name__}({name}{cache})"


class Security(Depends):
    """A dependency that also requires OAuth2 ``scopes``; dependencies below it receive them all
    through a parameter annotated :class:`SecurityScopes`."""

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        use_cache: bool = True,
    ) -> None:
        super().__init__(dependency, use_cache=use_cache)
        self.scopes = tuple(scopes or ())


class SecurityScopes:
    """The OAuth2 scopes required by every :class:`Security` above a dependency; ``scope_str``
    is them space-separated, as in a ``WWW-Authenticate`` header."""

    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes or [])
        self.scope_str = " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"
