"""URL, Headers, MutableHeaders, QueryParams, State, UploadFile and FormData
(framework/http/datastructures.py, framework/http/forms.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from framework.datastructures import (
    URL,
    Address,
    FormData,
    Headers,
    ImmutableMultiDict,
    MutableHeaders,
    QueryParams,
    State,
    UploadFile,
    URLPath,
)


def http_scope(**overrides: Any) -> dict[str, Any]:
    """A minimal HTTP scope; ``overrides`` replace or add keys."""
    scope: dict[str, Any] = {
        "type": "http",
        "scheme": "http",
        "method": "GET",
        "path": "/",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "server": ("127.0.0.1", 8000),
    }
    scope.update(overrides)
    return scope


# -- URL from a string ------------------------------------------------------------------------


def test_url_parts_from_string() -> None:
    url = URL("https://user:secret@Example.COM:8443/a%20b/c?x=1&y=2#frag")
    assert url.scheme == "https"
    assert url.netloc == "user:secret@Example.COM:8443"
    assert url.hostname == "example.com"
    assert url.port == 8443
    assert url.username == "user"
    assert url.password == "secret"
    assert url.path == "/a b/c"
    assert url.query == "x=1&y=2"
    assert url.fragment == "frag"
    assert url.is_secure
    assert str(url) == "https://user:secret@Example.COM:8443/a%20b/c?x=1&y=2#frag"


def test_url_relative_and_defaults() -> None:
    url = URL("/only/a/path")
    assert url.scheme == ""
    assert url.netloc == ""
    assert url.hostname is None
    assert url.port is None
    assert url.path == "/only/a/path"
    assert not url.is_secure
    assert URL("http://example.com/").port is None


def test_url_invalid_port_reads_as_none() -> None:
    assert URL("http://example.com:notaport/").port is None


@pytest.mark.parametrize(
    ("text", "secure"),
    [("http://a/", False), ("https://a/", True), ("ws://a/", False), ("wss://a/", True)],
)
def test_url_is_secure(text: str, secure: bool) -> None:
    assert URL(text).is_secure is secure


def test_url_equality_and_hash() -> None:
    url = URL("http://example.com/a?b=1")
    assert url == "http://example.com/a?b=1"
    assert url == URL("http://example.com/a?b=1")
    assert url != URL("http://example.com/a?b=2")
    assert url != 42
    assert hash(url) == hash(URL("http://example.com/a?b=1"))
    assert {url, URL("http://example.com/a?b=1")} == {url}
    assert repr(url) == "URL('http://example.com/a?b=1')"


# -- URL from a scope -------------------------------------------------------------------------


def test_url_from_scope_uses_host_header() -> None:
    scope = http_scope(
        path="/items/1",
        query_string=b"q=2",
        headers=[(b"accept", b"*/*"), (b"host", b"api.example.com:9000")],
    )
    url = URL(scope=scope)
    assert str(url) == "http://api.example.com:9000/items/1?q=2"
    assert url.hostname == "api.example.com"
    assert url.port == 9000


def test_url_from_scope_falls_back_to_server() -> None:
    url = URL(scope=http_scope(path="/x", server=("10.0.0.1", 8080)))
    assert str(url) == "http://10.0.0.1:8080/x"


@pytest.mark.parametrize(
    ("scheme", "port", "expected"),
    [
        ("http", 80, "http://example.org/p"),
        ("https", 443, "https://example.org/p"),
        ("ws", 80, "ws://example.org/p"),
        ("wss", 443, "wss://example.org/p"),
        ("https", 80, "https://example.org:80/p"),
        ("http", 443, "http://example.org:443/p"),
        ("http", None, "http://example.org/p"),
    ],
)
def test_url_from_scope_leaves_out_default_ports(
    scheme: str, port: int | None, expected: str
) -> None:
    url = URL(scope=http_scope(scheme=scheme, path="/p", server=("example.org", port)))
    assert str(url) == expected


def test_url_from_scope_without_host_or_server_is_relative() -> None:
    url = URL(scope=http_scope(path="/p", server=None, query_string=b"a=1"))
    assert str(url) == "/p?a=1"
    assert url.scheme == ""


def test_url_from_scope_scheme_defaults_to_http() -> None:
    scope = http_scope(path="/p", headers=[(b"host", b"h")])
    del scope["scheme"]
    assert str(URL(scope=scope)) == "http://h/p"


def test_url_from_scope_root_path_inside_path() -> None:
    # uvicorn's behaviour: root_path is already part of path.
    scope = http_scope(path="/api/items", root_path="/api", headers=[(b"host", b"h")])
    assert str(URL(scope=scope)) == "http://h/api/items"


def test_url_from_scope_root_path_outside_path() -> None:
    # Older servers: path is relative to root_path.
    scope = http_scope(path="/items", root_path="/api", headers=[(b"host", b"h")])
    assert str(URL(scope=scope)) == "http://h/api/items"


def test_url_from_scope_quotes_path() -> None:
    scope = http_scope(path="/a b/ü/%", headers=[(b"host", b"h")])
    url = URL(scope=scope)
    assert str(url) == "http://h/a%20b/%C3%BC/%25"
    assert url.path == "/a b/ü/%"


def test_url_from_scope_keeps_raw_query() -> None:
    scope = http_scope(query_string=b"a=1&b=%20x", headers=[(b"host", b"h")])
    url = URL(scope=scope)
    assert url.query == "a=1&b=%20x"


# -- URL.replace and query editing ------------------------------------------------------------


def test_url_replace_parts() -> None:
    url = URL("http://example.com/a?b=1#f")
    assert str(url.replace(scheme="https")) == "https://example.com/a?b=1#f"
    assert str(url.replace(path="/new place")) == "http://example.com/new%20place?b=1#f"
    assert str(url.replace(path="/already%20quoted")) == "http://example.com/already%20quoted?b=1#f"
    assert str(url.replace(query="")) == "http://example.com/a#f"
    assert str(url.replace(fragment="")) == "http://example.com/a?b=1"
    assert str(url.replace(netloc="other:1")) == "http://other:1/a?b=1#f"
    assert str(url) == "http://example.com/a?b=1#f"  # the original is untouched


def test_url_replace_hostname_and_port() -> None:
    url = URL("http://example.com:8000/a")
    assert str(url.replace(port=9000)) == "http://example.com:9000/a"
    assert str(url.replace(port=None)) == "http://example.com/a"
    assert str(url.replace(hostname="other.org")) == "http://other.org:8000/a"
    assert str(url.replace(hostname="other.org", port=1)) == "http://other.org:1/a"


def test_url_replace_port_keeps_userinfo() -> None:
    url = URL("http://user:pw@example.com:8000/a")
    replaced = url.replace(port=9000)
    assert str(replaced) == "http://user:pw@example.com:9000/a"
    assert replaced.username == "user"
    assert replaced.password == "pw"


def test_url_replace_port_of_ipv6_host() -> None:
    replaced = URL("http://[::1]:8000/a").replace(port=9000)
    assert str(replaced) == "http://[::1]:9000/a"
    assert replaced.hostname == "::1"
    assert replaced.port == 9000


def test_include_query_params_sets_and_replaces() -> None:
    url = URL("http://example.com/p?a=1&b=2&a=3")
    result = url.include_query_params(a=5, c="x y")
    assert QueryParams(result.query).multi_items() == [("b", "2"), ("a", "5"), ("c", "x y")]
    assert result.path == "/p"
    assert result.hostname == "example.com"


def test_include_query_params_on_url_without_query() -> None:
    assert str(URL("/p").include_query_params(page=2)) == "/p?page=2"


def test_remove_query_params() -> None:
    url = URL("http://example.com/p?a=1&b=2&a=3&c=4")
    assert str(url.remove_query_params("a")) == "http://example.com/p?b=2&c=4"
    assert str(url.remove_query_params(["a", "c"])) == "http://example.com/p?b=2"
    assert str(url.remove_query_params(["a", "b", "c"])) == "http://example.com/p"
    assert str(url.remove_query_params("missing")) == "http://example.com/p?a=1&b=2&a=3&c=4"


def test_url_path_make_absolute_url() -> None:
    path = URLPath("/items/1")
    assert isinstance(path, str)
    assert str(path.make_absolute_url("http://testserver/api/")) == "http://testserver/api/items/1"
    assert str(path.make_absolute_url(URL("https://h"))) == "https://h/items/1"


# -- Headers ----------------------------------------------------------------------------------


def test_headers_from_mapping_is_case_insensitive() -> None:
    headers = Headers({"Content-Type": "text/plain", "X-Thing": "1"})
    assert headers["content-type"] == "text/plain"
    assert headers["CONTENT-TYPE"] == "text/plain"
    assert headers.get("x-thing") == "1"
    assert "X-THING" in headers
    assert "missing" not in headers
    assert 3 not in headers
    assert headers.get("missing") is None
    assert headers.get("missing", "d") == "d"
    with pytest.raises(KeyError):
        headers["missing"]
    assert headers.raw == [(b"content-type", b"text/plain"), (b"x-thing", b"1")]


def test_headers_multi_valued() -> None:
    raw = [(b"set-cookie", b"a=1"), (b"x", b"y"), (b"set-cookie", b"b=2")]
    headers = Headers(raw=raw)
    assert headers["set-cookie"] == "a=1"  # the first one
    assert headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert headers.getlist("missing") == []
    assert headers.keys() == ["set-cookie", "x", "set-cookie"]
    assert headers.values() == ["a=1", "y", "b=2"]
    assert headers.items() == [("set-cookie", "a=1"), ("x", "y"), ("set-cookie", "b=2")]
    assert list(headers) == ["set-cookie", "x", "set-cookie"]
    assert len(headers) == 3
    assert headers.raw is raw


def test_headers_from_scope_reads_scope_list() -> None:
    scope = http_scope(headers=[(b"host", b"example.com"), (b"accept", b"a"), (b"accept", b"b")])
    headers = Headers(scope=scope)
    assert headers["host"] == "example.com"
    assert headers.getlist("accept") == ["a", "b"]
    assert headers.raw is scope["headers"]


def test_headers_empty() -> None:
    headers = Headers()
    assert len(headers) == 0
    assert headers.items() == []
    assert dict(headers) == {}


def test_headers_decode_non_utf8_bytes_as_latin1() -> None:
    headers = Headers(raw=[(b"x-name", b"caf\xe9"), (b"x-utf8", "ü".encode())])
    assert headers["x-name"] == "café"
    # UTF-8 bytes are read byte by byte, as latin-1, never failing.
    assert headers["x-utf8"] == "Ã¼"
    assert headers["x-utf8"].encode("latin-1").decode("utf-8") == "ü"


def test_headers_equality_ignores_order() -> None:
    first = Headers(raw=[(b"a", b"1"), (b"b", b"2")])
    second = Headers(raw=[(b"b", b"2"), (b"a", b"1")])
    assert first == second
    assert first != Headers(raw=[(b"a", b"1")])
    assert first != {"a": "1", "b": "2"}
    assert repr(first) == "Headers([('a', '1'), ('b', '2')])"


@pytest.mark.parametrize("bad", ["a\rb", "a\nb", "a\0b"])
def test_headers_from_mapping_refuse_control_characters(bad: str) -> None:
    with pytest.raises(ValueError):
        Headers({"x-ok": bad})
    with pytest.raises(ValueError):
        Headers({bad: "ok"})


def test_mutablecopy_is_independent() -> None:
    original = Headers(raw=[(b"a", b"1")])
    copy = original.mutablecopy()
    assert isinstance(copy, MutableHeaders)
    copy["a"] = "2"
    copy["b"] = "3"
    assert original.raw == [(b"a", b"1")]
    assert copy.raw == [(b"a", b"2"), (b"b", b"3")]


# -- MutableHeaders ---------------------------------------------------------------------------


def test_mutable_headers_set_replaces_every_value() -> None:
    headers = MutableHeaders(raw=[(b"x", b"1"), (b"y", b"a"), (b"x", b"2"), (b"x", b"3")])
    headers["X"] = "new"
    assert headers.raw == [(b"x", b"new"), (b"y", b"a")]
    headers["Z-New"] = "z"
    assert headers.raw == [(b"x", b"new"), (b"y", b"a"), (b"z-new", b"z")]


def test_mutable_headers_append_keeps_existing() -> None:
    headers = MutableHeaders()
    headers.append("Set-Cookie", "a=1")
    headers.append("set-cookie", "b=2")
    assert headers.getlist("set-cookie") == ["a=1", "b=2"]


def test_mutable_headers_delete_removes_every_value() -> None:
    headers = MutableHeaders(raw=[(b"x", b"1"), (b"y", b"a"), (b"x", b"2")])
    del headers["X"]
    assert headers.raw == [(b"y", b"a")]
    del headers["absent"]  # deleting a missing header is not an error
    assert headers.raw == [(b"y", b"a")]


def test_mutable_headers_edit_underlying_list_in_place() -> None:
    raw: list[tuple[bytes, bytes]] = [(b"a", b"1")]
    headers = MutableHeaders(raw=raw)
    headers["b"] = "2"
    del headers["a"]
    assert raw == [(b"b", b"2")]


def test_mutable_headers_update() -> None:
    headers = MutableHeaders(raw=[(b"a", b"1"), (b"a", b"2"), (b"b", b"x")])
    headers.update({"A": "9"}, c="3")
    assert headers.raw == [(b"a", b"9"), (b"b", b"x"), (b"c", b"3")]
    headers.update()
    assert headers.raw == [(b"a", b"9"), (b"b", b"x"), (b"c", b"3")]


def test_mutable_headers_setdefault() -> None:
    headers = MutableHeaders(raw=[(b"a", b"1")])
    assert headers.setdefault("A", "2") == "1"
    assert headers.setdefault("b", "3") == "3"
    assert headers.raw == [(b"a", b"1"), (b"b", b"3")]


def test_mutable_headers_add_vary_header() -> None:
    headers = MutableHeaders()
    headers.add_vary_header("Origin")
    assert headers["vary"] == "Origin"
    headers.add_vary_header("Accept-Encoding")
    assert headers["vary"] == "Origin, Accept-Encoding"
    headers.add_vary_header("origin")  # already there, in another case
    headers.add_vary_header("ACCEPT-ENCODING")
    assert headers["vary"] == "Origin, Accept-Encoding"
    assert headers.getlist("vary") == ["Origin, Accept-Encoding"]


@pytest.mark.parametrize("bad", ["\r", "\n", "\0", "\r\nX-Injected: 1"])
def test_mutable_headers_refuse_control_characters(bad: str) -> None:
    headers = MutableHeaders(raw=[(b"a", b"1")])
    with pytest.raises(ValueError):
        headers["x"] = f"value{bad}"
    with pytest.raises(ValueError):
        headers[f"x{bad}"] = "value"
    with pytest.raises(ValueError):
        headers.append("x", f"v{bad}")
    with pytest.raises(ValueError):
        headers.append(f"x{bad}", "v")
    with pytest.raises(ValueError):
        headers.setdefault("new", f"v{bad}")
    with pytest.raises(ValueError):
        headers.update({"x": f"v{bad}"})
    with pytest.raises(ValueError):
        headers.add_vary_header(f"Origin{bad}")
    assert headers.raw == [(b"a", b"1")]  # nothing was changed


def test_mutable_headers_refuse_empty_name() -> None:
    with pytest.raises(ValueError):
        MutableHeaders()[""] = "x"


# -- QueryParams ------------------------------------------------------------------------------


def test_query_params_repeated_keys() -> None:
    params = QueryParams("a=1&b=2&a=3")
    assert params["a"] == "3"  # the last value
    assert params.getlist("a") == ["1", "3"]
    assert params.getlist("missing") == []
    assert params.multi_items() == [("a", "1"), ("b", "2"), ("a", "3")]
    assert list(params) == ["a", "b"]
    assert len(params) == 2
    assert "a" in params
    assert "z" not in params
    assert params.get("z") is None
    assert dict(params) == {"a": "3", "b": "2"}
    with pytest.raises(KeyError):
        params["z"]


@pytest.mark.parametrize("query", ["a=1&b=2&a=3", b"a=1&b=2&a=3"])
def test_query_params_from_str_and_bytes_agree(query: str | bytes) -> None:
    assert QueryParams(query).multi_items() == [("a", "1"), ("b", "2"), ("a", "3")]


@pytest.mark.parametrize("query", ["a=&b&c=1", b"a=&b&c=1"])
def test_query_params_keep_blank_values(query: str | bytes) -> None:
    params = QueryParams(query)
    assert params.multi_items() == [("a", ""), ("b", ""), ("c", "1")]


@pytest.mark.parametrize("query", ["", b"", "&&", b"&&"])
def test_query_params_empty(query: str | bytes) -> None:
    assert QueryParams(query).multi_items() == []


@pytest.mark.parametrize("query", ["q=a+b%20c%26d&x%3D=%2B", b"q=a+b%20c%26d&x%3D=%2B"])
def test_query_params_plus_and_escapes(query: str | bytes) -> None:
    params = QueryParams(query)
    assert params["q"] == "a b c&d"
    assert params["x="] == "+"


@pytest.mark.parametrize("query", ["name=caf%C3%A9", b"name=caf%C3%A9"])
def test_query_params_utf8_escapes(query: str | bytes) -> None:
    assert QueryParams(query)["name"] == "café"


@pytest.mark.parametrize("query", ["a=%ff&%fe=1", b"a=%ff&%fe=1"])
def test_query_params_invalid_utf8_becomes_replacement_character(query: str | bytes) -> None:
    assert QueryParams(query).multi_items() == [("a", "\ufffd"), ("\ufffd", "1")]


def test_query_params_raw_non_ascii_bytes() -> None:
    params = QueryParams(b"name=caf\xc3\xa9&bad=\xff")
    assert params["name"] == "café"
    assert params["bad"] == "\ufffd"


def test_query_params_raw_non_ascii_bytes_with_escapes_and_plus() -> None:
    params = QueryParams("k=é+%C3%A9&ü=%ff".encode())
    assert params.multi_items() == [("k", "é é"), ("ü", "\ufffd")]


def test_query_params_from_pairs_and_mapping() -> None:
    assert QueryParams([("a", "1"), ("a", "2")]).getlist("a") == ["1", "2"]
    assert QueryParams({"a": "1"}).multi_items() == [("a", "1")]
    assert QueryParams().multi_items() == []
    copied = QueryParams(QueryParams("a=1&a=2"))
    assert copied.getlist("a") == ["1", "2"]


def test_query_params_str_reencodes() -> None:
    assert str(QueryParams("a=1&a=2&b=x y&c=é")) == "a=1&a=2&b=x+y&c=%C3%A9"


def test_query_params_equality_ignores_order() -> None:
    assert QueryParams("a=1&b=2") == QueryParams("b=2&a=1")
    assert QueryParams("a=1&a=2") != QueryParams("a=2")
    assert QueryParams("a=1") != {"a": "1"}
    assert repr(QueryParams("a=1")) == "QueryParams([('a', '1')])"


def test_immutable_multidict_is_read_only() -> None:
    data = ImmutableMultiDict([("a", 1)])
    with pytest.raises(TypeError):
        data["a"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        hash(data)


# -- State ------------------------------------------------------------------------------------


def test_state_attributes() -> None:
    state = State()
    state.db = "conn"
    assert state.db == "conn"
    assert "db" in state
    assert "other" not in state
    del state.db
    assert "db" not in state
    with pytest.raises(AttributeError, match="other"):
        _ = state.other
    with pytest.raises(AttributeError):
        del state.db


def test_state_shares_the_given_dict() -> None:
    backing: dict[str, Any] = {"ready": True}
    state = State(backing)
    assert state.ready is True
    state.count = 3
    assert backing == {"ready": True, "count": 3}
    backing["late"] = "x"
    assert state.late == "x"
    assert repr(state) == "State({'ready': True, 'count': 3, 'late': 'x'})"


def test_address_is_a_named_pair() -> None:
    address = Address("127.0.0.1", 5000)
    assert address.host == "127.0.0.1"
    assert address.port == 5000
    assert tuple(address) == ("127.0.0.1", 5000)


# -- UploadFile and FormData ------------------------------------------------------------------


@pytest.mark.anyio
async def test_upload_file_write_seek_read_close() -> None:
    upload = UploadFile(
        filename="a.txt",
        size=0,
        headers=Headers(raw=[(b"content-type", b"text/plain")]),
    )
    assert upload.filename == "a.txt"
    assert upload.content_type == "text/plain"
    await upload.write(b"hello ")
    await upload.write(b"world")
    assert upload.size == 11
    await upload.seek(0)
    assert await upload.read(5) == b"hello"
    assert await upload.read() == b" world"
    await upload.seek(6)
    assert await upload.read() == b"world"
    await upload.close()
    assert upload.file.closed
    assert "a.txt" in repr(upload)


@pytest.mark.anyio
async def test_upload_file_without_size_does_not_count() -> None:
    upload = UploadFile()
    await upload.write(b"abc")
    assert upload.size is None
    assert upload.content_type is None
    assert upload.filename is None
    await upload.close()


@pytest.mark.anyio
async def test_upload_file_stays_in_memory_up_to_one_mib() -> None:
    upload = UploadFile(size=0)
    await upload.write(b"x" * UploadFile.spool_max_size)
    assert upload.file._rolled is False  # type: ignore[attr-defined]
    await upload.close()


@pytest.mark.anyio
async def test_upload_file_spools_to_disk_past_one_mib() -> None:
    upload = UploadFile(size=0)
    first = b"a" * (UploadFile.spool_max_size - 10)
    second = b"b" * 100
    await upload.write(first)
    await upload.write(second)
    assert upload.file._rolled is True  # type: ignore[attr-defined]
    assert upload.size == len(first) + len(second)
    # Reads, seeks and writes now go through the worker thread and still see the same file.
    await upload.write(b"tail")
    await upload.seek(len(first) - 2)
    assert await upload.read(4) == b"aabb"
    await upload.seek(0)
    assert await upload.read() == first + second + b"tail"
    await upload.close()
    assert upload.file.closed


@pytest.mark.anyio
async def test_upload_file_wraps_given_file() -> None:
    buffer = io.BytesIO(b"given")
    upload = UploadFile(buffer, filename="g.bin")
    assert upload.file is buffer
    assert await upload.read() == b"given"
    await upload.close()
    assert buffer.closed


@pytest.mark.anyio
async def test_form_data_close_closes_every_upload() -> None:
    first, second = UploadFile(filename="1"), UploadFile(filename="2")
    form = FormData([("a", first), ("text", "value"), ("a", second)])
    assert form["a"] is second
    assert form.getlist("a") == [first, second]
    assert form["text"] == "value"
    await form.close()
    assert first.file.closed
    assert second.file.closed
