"""Value types shared by requests and responses: URL, headers, query parameters, state. They are
lazy: headers are decoded one entry at a time when asked, and nothing copies the ASGI scope."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit

from framework.types import Scope

_V = TypeVar("_V")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class Address(NamedTuple):
    """The ``(host, port)`` of a peer, as in ``request.client``."""

    host: str
    port: int


class URL:
    """An absolute or relative URL with read access to its parts: ``URL("https://e.com/a?b=1").path
    == "/a"``; ``url.replace(path="/c")`` returns a new URL."""

    __slots__ = ("_parts", "_text")

    def __init__(self, url: str = "", *, scope: Scope | None = None) -> None:
        self._text: str | None = url if scope is None else None  # built on demand from a scope
        if scope is None:
            self._parts = urlsplit(url)
            return
        scheme = scope.get("scheme", "http")
        path = scope["path"]
        root_path = scope.get("root_path", "")
        if root_path and not path.startswith(root_path):
            # uvicorn puts root_path inside path, as the spec now asks; some servers do not.
            path = root_path + path
        netloc = ""
        for key, value in scope["headers"]:
            if key == b"host":
                netloc = value.decode("latin-1")
                break
        else:
            server = scope.get("server")
            if server is not None:
                host, port = server[0], server[1]
                default = port is None or _DEFAULT_PORTS.get(scheme) == port
                netloc = host if default else f"{host}:{port}"
        query = scope.get("query_string", b"").decode("latin-1")
        self._parts = SplitResult(
            scheme if netloc else "", netloc, quote(path, _PATH_SAFE), query, ""
        )

    @property
    def scheme(self) -> str:
        """``http``, ``https``, ``ws`` or ``wss`` (empty for a relative URL)."""
        return self._parts.scheme

    @property
    def netloc(self) -> str:
        """Host and port as written, for example ``example.com:8080``."""
        return self._parts.netloc

    @property
    def path(self) -> str:
        """The decoded path, for example ``/items/a b``."""
        return unquote(self._parts.path)

    @property
    def query(self) -> str:
        """The raw query string, without the ``?``."""
        return self._parts.query

    @property
    def fragment(self) -> str:
        """The fragment, without the ``#``."""
        return self._parts.fragment

    @property
    def hostname(self) -> str | None:
        """The host name, lower-cased, without port."""
        return self._parts.hostname

    @property
    def port(self) -> int | None:
        """The explicit port, or ``None`` when the URL does not name one."""
        try:
            return self._parts.port
        except ValueError:
            return None

    @property
    def username(self) -> str | None:
        """The user name of a ``user:password@host`` URL."""
        return self._parts.username

    @property
    def password(self) -> str | None:
        """The password of a ``user:password@host`` URL."""
        return self._parts.password

    @property
    def is_secure(self) -> bool:
        """True for ``https`` and ``wss``."""
        return self.scheme in ("https", "wss")

    def replace(self, **parts: Any) -> URL:
        """A copy with some parts replaced: ``scheme``, ``netloc``, ``path``, ``query``, ``fragment``,
        or ``hostname``/``port`` (which rebuild the netloc)."""
        if "hostname" in parts or "port" in parts:
            hostname = parts.pop("hostname", None) or self.hostname or ""
            port = parts.pop("port", self.port)
            if ":" in hostname and not hostname.startswith("["):
                hostname = f"[{hostname}]"  # an IPv6 address needs its brackets back
            userinfo, at, _ = self._parts.netloc.rpartition("@")
            netloc = hostname if port is None else f"{hostname}:{port}"
            parts["netloc"] = f"{userinfo}@{netloc}" if at else netloc
        if "path" in parts:
            parts["path"] = quote(parts["path"], _PATH_SAFE + "%")
        return URL(self._parts._replace(**parts).geturl())

    def include_query_params(self, **params: Any) -> URL:
        """A copy with these query parameters set (replacing any of the same name)."""
        merged = [(k, v) for k, v in QueryParams(self.query).multi_items() if k not in params]
        merged.extend((k, str(v)) for k, v in params.items())
        return self.replace(query=urlencode(merged))

    def remove_query_params(self, keys: str | Sequence[str]) -> URL:
        """A copy without the named query parameters."""
        drop = {keys} if isinstance(keys, str) else set(keys)
        kept = [(k, v) for k, v in QueryParams(self.query).multi_items() if k not in drop]
        return self.replace(query=urlencode(kept))

    def __str__(self) -> str:
        if self._text is None:
            self._text = self._parts.geturl()
        return self._text

    def __repr__(self) -> str:
        return f"URL({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (str, URL)) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


class ImmutableMultiDict(Mapping[str, _V]):
    """A read-only mapping that keeps every value of a repeated key: ``d["k"]`` gives the last
    value (as FastAPI does for a scalar parameter), ``d.getlist("k")`` all."""

    __slots__ = ("_dict", "_list")

    def __init__(self, items: Iterable[tuple[str, _V]] | Mapping[str, _V] | None = None) -> None:
        if isinstance(items, Mapping):
            items = items.multi_items() if isinstance(items, ImmutableMultiDict) else items.items()
        self._list: list[tuple[str, _V]] = list(items or ())
        self._dict = dict(self._list)

    def getlist(self, key: str) -> list[_V]:
        """Every value given for ``key``, in order (empty when absent)."""
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, _V]]:
        """Every ``(key, value)`` pair, repeats included, in order."""
        return list(self._list)

    def __getitem__(self, key: str) -> _V:
        return self._dict[key]

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImmutableMultiDict):
            return False
        return sorted(self._list, key=repr) == sorted(other._list, key=repr)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


def parse_query(query: str | bytes) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of a query string, decoded (see :class:`QueryParams`)."""
    if isinstance(query, bytes):
        if query.isascii():
            query = query.decode("ascii")
            if "%" not in query and "+" not in query:
                # Nothing to unquote (the usual case): split, as parse_qsl would, but faster.
                pairs = []
                for piece in query.split("&"):
                    if piece:
                        key, _, value = piece.partition("=")
                        pairs.append((key, value))
                return pairs
        else:
            # Raw non-ASCII bytes are invalid in a URL but happen: read them, and %-escapes, as
            # UTF-8 and replace what does not decode, instead of failing the request.
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
            return [(latin1_as_utf8(k), latin1_as_utf8(v)) for k, v in pairs]
    return parse_qsl(query, keep_blank_values=True)


def latin1_as_utf8(text: str) -> str:
    """Bytes read as latin-1 (one character each) read again as UTF-8, U+FFFD where they do not
    decode: bodies and query strings are parsed as latin-1 so that a bad byte cannot fail them."""
    return text.encode("latin-1").decode("utf-8", "replace")


class QueryParams(ImmutableMultiDict[str]):
    """The parsed query string: ``QueryParams(b"a=1&a=2&b=")`` has ``getlist("a") == ["1", "2"]``.
    Percent-escapes are read as UTF-8; bytes that do not decode become U+FFFD, not an error."""

    __slots__ = ()

    def __init__(
        self, query: str | bytes | Iterable[tuple[str, str]] | Mapping[str, str] | None = None
    ) -> None:
        if isinstance(query, (str, bytes)):
            self._list = pairs = parse_query(query)
            self._dict = dict(pairs)
        else:
            super().__init__(query)

    def __str__(self) -> str:
        return urlencode(self._list)


_CRLF_NUL = ("\r", "\n", "\0")


def check_header(name: str, value: str) -> None:
    """Refuse a header that could split a response: CR, LF or NUL in the name or value."""
    for bad in _CRLF_NUL:
        if bad in name or bad in value:
            raise ValueError(
                f"Invalid character in header {name!r}: CR, LF and NUL are not allowed"
            )
    if not name:
        raise ValueError("Header name must not be empty")


def encode_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """The raw ASGI byte pairs of ``headers``, names lower-cased, each checked by check_header."""
    raw = []
    for name, value in headers.items():
        check_header(name, value)
        raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return raw


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued HTTP headers over the raw ASGI byte pairs, decoded when read:
    ``headers["content-type"]`` gives the first value, ``headers.getlist("set-cookie")`` all."""

    __slots__ = ("_list",)

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        *,
        raw: list[tuple[bytes, bytes]] | None = None,
        scope: Scope | None = None,
    ) -> None:
        if scope is not None:
            self._list: list[tuple[bytes, bytes]] = scope["headers"]
        elif raw is not None:
            self._list = raw
        else:
            self._list = encode_headers(headers) if headers else []

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """The underlying list of ``(name, value)`` byte pairs, names lower-case."""
        return self._list

    def get(self, key: str, default: Any = None) -> Any:
        """The first value of ``key`` (any case), or ``default``."""
        wanted = key.lower().encode("latin-1")
        for name, value in self._list:
            if name == wanted:
                return value.decode("latin-1")
        return default

    def getlist(self, key: str) -> list[str]:
        """Every value of ``key`` in order."""
        wanted = key.lower().encode("latin-1")
        return [value.decode("latin-1") for name, value in self._list if name == wanted]

    def keys(self) -> list[str]:  # type: ignore[override]
        """Header names in order, repeats included."""
        return [name.decode("latin-1") for name, _ in self._list]

    def values(self) -> list[str]:  # type: ignore[override]
        """Header values in order."""
        return [value.decode("latin-1") for _, value in self._list]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """``(name, value)`` pairs in order, repeats included."""
        return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self._list]

    def mutablecopy(self) -> MutableHeaders:
        """A mutable copy."""
        return MutableHeaders(raw=list(self._list))

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return str(value)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        wanted = key.lower().encode("latin-1")
        return any(name == wanted for name, _ in self._list)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._list)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and sorted(self._list) == sorted(other._list)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.items()!r})"


class MutableHeaders(Headers):
    """Headers that can be changed in place; every change is checked for CR, LF and NUL."""

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        """Set ``key`` to one value, replacing every existing value."""
        check_header(key, value)
        name = key.lower().encode("latin-1")
        encoded = value.encode("latin-1")
        found = [i for i, (n, _) in enumerate(self._list) if n == name]
        for index in reversed(found[1:]):
            del self._list[index]
        if found:
            self._list[found[0]] = (name, encoded)
        else:
            self._list.append((name, encoded))

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        self._list[:] = [(n, v) for n, v in self._list if n != name]

    def append(self, key: str, value: str) -> None:
        """Add a value for ``key`` after any existing ones (``Set-Cookie`` needs this)."""
        check_header(key, value)
        self._list.append((key.lower().encode("latin-1"), value.encode("latin-1")))

    def setdefault(self, key: str, value: str) -> str:
        """Set ``key`` only when it is absent; return the value now in place."""
        existing = self.get(key)
        if existing is not None:
            return str(existing)
        self.append(key, value)
        return value

    def update(self, other: Mapping[str, str] | None = None, **kwargs: str) -> None:
        """Set every key of ``other`` (and ``kwargs``), replacing existing values."""
        for key, value in {**(other or {}), **kwargs}.items():
            self[key] = value

    def add_vary_header(self, vary: str) -> None:
        """Add ``vary`` to the ``Vary`` header's list without repeating it."""
        existing = self.get("vary")
        if existing is None:
            self["vary"] = vary
        elif vary.lower() not in [v.strip().lower() for v in existing.split(",")]:
            self["vary"] = f"{existing}, {vary}"


class State:
    """A namespace for values you attach yourself (``app.state.db = ...``) over a plain dict, so
    the ASGI lifespan state and ``request.state`` can share it."""

    __slots__ = ("_state",)

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_state", {} if state is None else state)

    def __setattr__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: str) -> Any:
        try:
            return self._state[key]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute {key!r}") from None

    def __delattr__(self, key: str) -> None:
        try:
            del self._state[key]
        except KeyError:
            raise AttributeError(key) from None

    def __contains__(self, key: str) -> bool:
        return key in self._state

    def __repr__(self) -> str:
        return f"State({self._state!r})"


class URLPath(str):
    """A path produced by ``url_path_for``; :meth:`make_absolute_url` joins it to a base URL."""

    def make_absolute_url(self, base_url: str | URL) -> URL:
        """``URLPath("/items/1").make_absolute_url("http://testserver/api/")`` ->
        ``http://testserver/api/items/1``."""
        base = base_url if isinstance(base_url, URL) else URL(base_url)
        return base.replace(path=base.path.rstrip("/") + str(self))
