"""Path templates and the index (a dict, and a segment trie for templates with parameters) that
matches request paths against them. Precedence is segment by segment: a literal beats a
parameter, which beats ``{x:path}``; at the same place, the first declared wins."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

_T = TypeVar("_T")


class Convertor:
    """Turns one path segment into a value and back: :meth:`match` tests a whole segment, ``regex``
    is used inside segments that mix text and parameters (``{name}.{ext}``)."""

    name = ""
    regex = ""

    def __init__(self) -> None:
        self._compiled = re.compile(self.regex)

    def match(self, segment: str) -> Any:
        """The converted value of ``segment``, or None when it does not match."""
        if self._compiled.fullmatch(segment) is None:
            return None
        return self.convert(segment)

    def convert(self, text: str) -> Any:
        """The value of a segment already known to match ``regex``."""
        return text

    def to_string(self, value: Any) -> str:
        """The segment text for ``value`` (used by ``url_for``)."""
        text = str(value)
        if not text or "/" in text:
            raise ValueError(f"{value!r} is not a valid value for a {self.name!r} path parameter")
        return text


class StringConvertor(Convertor):
    """``{x}`` or ``{x:str}``: any non-empty segment without ``/``."""

    name = "str"
    regex = "[^/]+"

    def match(self, segment: str) -> Any:
        return segment or None


class IntegerConvertor(Convertor):
    """``{x:int}``: ASCII digits, converted to ``int`` (no sign, as in Starlette)."""

    name = "int"
    regex = "[0-9]+"

    def match(self, segment: str) -> Any:
        return int(segment) if segment.isascii() and segment.isdigit() else None

    def convert(self, text: str) -> Any:
        return int(text)

    def to_string(self, value: Any) -> str:
        number = int(value)
        if number < 0:
            raise ValueError("Negative integers are not supported by the int path converter")
        return str(number)


class FloatConvertor(Convertor):
    """``{x:float}``: ``12`` or ``12.5``, converted to ``float``."""

    name = "float"
    regex = r"[0-9]+(?:\.[0-9]+)?"

    def convert(self, text: str) -> Any:
        return float(text)

    def to_string(self, value: Any) -> str:
        number = float(value)
        if number < 0 or not math.isfinite(number):
            raise ValueError("The float path converter takes finite, non-negative numbers")
        # repr() is the shortest text that reads back as the same float (0.1, not
        # 0.10000000000000000555); the regex has no exponent, so write those out in full.
        text = repr(number)
        if "e" in text:
            text = f"{number:0.20f}"
        return text.rstrip("0").rstrip(".") or "0"


class UUIDConvertor(Convertor):
    """``{x:uuid}``: a hyphenated UUID, converted to :class:`uuid.UUID`."""

    name = "uuid"
    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def convert(self, text: str) -> Any:
        return uuid.UUID(text)


class PathConvertor(Convertor):
    """``{x:path}``: the rest of the path, slashes included (may be empty)."""

    name = "path"
    regex = ".*"

    def to_string(self, value: Any) -> str:
        return str(value)


CONVERTORS: dict[str, Convertor] = {kind.name: kind() for kind in Convertor.__subclasses__()}
"""The converters a template can name, by name (``{x:int}``)."""

_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z_][a-zA-Z0-9_]*))?}")


@dataclass(frozen=True)
class Segment:
    """One ``/``-separated piece of a template: literal text, one parameter, or a mix."""

    literal: str | None = None  # set for a segment without parameters
    names: tuple[str, ...] = ()
    convertors: tuple[Convertor, ...] = ()
    pattern: re.Pattern[str] | None = None  # set for a segment that mixes text and parameters

    @property
    def is_path(self) -> bool:
        return self.literal is None and self.pattern is None and self.convertors[0].name == "path"

    def match(self, text: str) -> Any:
        """The converted values of ``text`` (a tuple), or None when it does not match."""
        if self.pattern is None:
            value = self.convertors[0].match(text)
            return None if value is None else (value,)
        found = self.pattern.fullmatch(text)
        if found is None:
            return None
        return tuple(c.convert(v) for c, v in zip(self.convertors, found.groups()))

    @property
    def key(self) -> tuple[Any, ...]:
        """What makes two parameter segments the same trie edge."""
        regex = self.pattern.pattern if self.pattern is not None else self.convertors[0].name
        return (regex, self.names)


@dataclass(frozen=True)
class PathTemplate:
    """A compiled path template: ``PathTemplate.compile("/items/{id:int}").param_names == ("id",)``;
    ``is_static`` for a template without parameters."""

    path: str
    segments: tuple[Segment, ...]
    param_names: tuple[str, ...]
    convertors: dict[str, Convertor]

    @property
    def is_static(self) -> bool:
        return not self.param_names

    @classmethod
    def compile(cls, path: str) -> PathTemplate:
        """Parse ``path``; raises ``ValueError`` for an unknown converter, a repeated name, or a
        ``{x:path}`` that does not take a whole segment."""
        if not path.startswith("/"):
            raise ValueError(f"Route paths must start with '/': {path!r}")
        segments: list[Segment] = []
        names: list[str] = []
        convertors: dict[str, Convertor] = {}
        for text in path.split("/")[1:]:
            segment = _compile_segment(text, path)
            for name, convertor in zip(segment.names, segment.convertors):
                if name in convertors:
                    raise ValueError(f"Duplicated parameter name {name!r} in path {path!r}")
                convertors[name] = convertor
                names.append(name)
            segments.append(segment)
        return cls(path, tuple(segments), tuple(names), convertors)

    def format(self, params: dict[str, Any]) -> str:
        """Fill the template with ``params`` (every parameter, nothing else)."""
        if set(params) != set(self.param_names):
            raise KeyError(sorted(set(self.param_names) ^ set(params)))

        def replace(found: re.Match[str]) -> str:
            return self.convertors[found.group(1)].to_string(params[found.group(1)])

        return _PARAM.sub(replace, self.path)


def _compile_segment(text: str, path: str) -> Segment:
    found = list(_PARAM.finditer(text))
    if not found:
        if "{" in text or "}" in text:
            raise ValueError(f"Malformed parameter in path {path!r}")
        return Segment(literal=text)
    convertors = []
    for match in found:
        kind = match.group(2) or "str"
        if kind not in CONVERTORS:
            raise ValueError(f"Unknown path converter {kind!r} in {path!r}")
        convertors.append(CONVERTORS[kind])
    names = tuple(m.group(1) for m in found)
    if len(found) == 1 and found[0].group(0) == text:
        return Segment(names=names, convertors=(convertors[0],))
    if any(c.name == "path" for c in convertors):
        raise ValueError(f"A {{name:path}} parameter must take a whole segment: {path!r}")
    pattern, position = "", 0
    for match, convertor in zip(found, convertors):
        pattern += re.escape(text[position : match.start()]) + f"({convertor.regex})"
        position = match.end()
    pattern += re.escape(text[position:])
    leftover = _PARAM.sub("", text)
    if "{" in leftover or "}" in leftover:
        raise ValueError(f"Malformed parameter in path {path!r}")
    return Segment(names=names, convertors=tuple(convertors), pattern=re.compile(pattern))


_Edge = tuple[Segment, Callable[[str], Any] | None, "_Node[_T]"]


@dataclass(eq=False)
class _Node(Generic[_T]):
    static: dict[str, _Node[_T]] = field(default_factory=dict)
    # Parameter edges: (segment, the convertor's match for a one-parameter segment or None, child)
    params: list[_Edge[_T]] = field(default_factory=list)
    paths: list[_Edge[_T]] = field(default_factory=list)  # {x:path} edges
    value: _T | None = None
    template: PathTemplate | None = None


Match = tuple[_T, dict[str, Any]]
"""What a lookup found: the value stored for the template and the converted parameters."""


class PathIndex(Generic[_T]):
    """Maps path templates to values (here: per-method route tables) and finds them for a path:
    ``setdefault(template, factory)`` stores or returns a template's value."""

    def __init__(self) -> None:
        self._static: dict[str, _T] = {}
        self._root: _Node[_T] = _Node()

    def setdefault(self, template: PathTemplate, factory: Callable[[], _T]) -> _T:
        if template.is_static:
            if template.path not in self._static:
                self._static[template.path] = factory()
            return self._static[template.path]
        node = self._root
        for segment in template.segments:
            node = self._child(node, segment)
        if node.value is None:
            node.value = factory()
            node.template = template
        return node.value

    @staticmethod
    def _child(node: _Node[_T], segment: Segment) -> _Node[_T]:
        if segment.literal is not None:
            return node.static.setdefault(segment.literal, _Node())
        edges = node.paths if segment.is_path else node.params
        for existing_segment, _, existing in edges:
            if existing_segment.key == segment.key:
                return existing
        child: _Node[_T] = _Node()
        one = segment.pattern is None and not segment.is_path
        edges.append((segment, segment.convertors[0].match if one else None, child))
        return child

    def find(self, path: str) -> Match[_T] | None:
        """The best match for ``path`` (a decoded path starting with ``/``)."""
        value = self._static.get(path)
        if value is not None:
            return value, {}
        found: list[Match[_T]] = []
        _search(self._root, path.split("/"), 1, [], found, True)
        return found[0] if found else None

    def find_all(self, path: str) -> list[Match[_T]]:
        """Every match for ``path``, best first."""
        value = self._static.get(path)
        found: list[Match[_T]] = [] if value is None else [(value, {})]
        _search(self._root, path.split("/"), 1, [], found, False)
        return found


def _search(
    node: _Node[_T],
    parts: list[str],
    index: int,
    values: list[Any],
    found: list[Match[_T]],
    first: bool,
) -> bool:
    """Add the matches below ``node`` to ``found``, best first; True once one is, if ``first``."""
    end = len(parts)
    while index < end:
        part = parts[index]
        literal = node.static.get(part)
        params, paths = node.params, node.paths
        if not params and not paths:
            if literal is None:
                return False
            node, index = literal, index + 1
            continue
        if literal is None and not paths and len(params) == 1 and params[0][1] is not None:
            value = params[0][1](part)
            if value is None:
                return False
            values.append(value)
            node, index = params[0][2], index + 1
            continue
        mark = len(values)
        if literal is not None and _search(literal, parts, index + 1, values, found, first):
            return True
        for segment, single, child in params:
            del values[mark:]
            if single is not None:
                value = single(part)
                if value is None:
                    continue
                values.append(value)
            else:
                matched = segment.match(part)
                if matched is None:
                    continue
                values.extend(matched)
            if _search(child, parts, index + 1, values, found, first):
                return True
        for _, _, child in paths:
            for stop in range(end, index, -1):  # the longest tail first, as ``.*`` would take it
                del values[mark:]
                values.append("/".join(parts[index:stop]))
                if _search(child, parts, stop, values, found, first):
                    return True
        return False
    if node.value is None or node.template is None:
        return False
    names = node.template.param_names
    params_found = {names[0]: values[0]} if len(names) == 1 else dict(zip(names, values))
    found.append((node.value, params_found))
    return first
