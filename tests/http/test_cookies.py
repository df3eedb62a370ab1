"""Cookies (Response.set_cookie / delete_cookie) as a client's cookie jar sees them, and
RedirectResponse: status codes, what clients do with them, Location quoting.

The header format of each attribute is tested in test_responses.py; here: injection, round
trips through the TestClient (an httpx cookie jar) and the redirect status choices.
"""

from __future__ import annotations

import datetime as dt
import http.cookies
from typing import Any

import pytest

from framework import App, Form, Request, Response
from framework.datastructures import URL
from framework.responses import PlainTextResponse, RedirectResponse
from framework.testclient import TestClient

# -- header injection -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"path": "/app; Domain=evil.example"},
        {"path": "/app\r\nSet-Cookie: evil=1"},
        {"path": "/app\x00"},
        {"domain": "example.com; Secure"},
        {"domain": "example.com\nX-Evil: 1"},
        {"expires": "Thu, 01 Jan 2037 00:00:00 GMT; Domain=evil.example"},
        {"expires": "Thu, 01 Jan 2037\t00:00:00 GMT"},
    ],
)
def test_attribute_values_cannot_add_attributes(options: dict[str, Any]) -> None:
    response = Response()
    with pytest.raises(ValueError, match="must not contain"):
        response.set_cookie("session", "abc", **options)
    assert response.headers.getlist("set-cookie") == []


@pytest.mark.parametrize("max_age", ["60; Domain=evil.example", "soon"])
def test_max_age_must_be_a_number(max_age: Any) -> None:
    response = Response()
    with pytest.raises(ValueError):
        response.set_cookie("session", "abc", max_age=max_age)
    assert response.headers.getlist("set-cookie") == []


def test_max_age_is_sent_as_whole_seconds() -> None:
    response = Response()
    response.set_cookie("a", "1", max_age=90.9)  # type: ignore[arg-type]
    assert "Max-Age=90" in response.headers["set-cookie"].split("; ")


@pytest.mark.parametrize("key", ["", "a b", "a;b", "a=b", "a\r\nb", 'a"b', "a,b"])
def test_invalid_cookie_names_are_refused(key: str) -> None:
    response = Response()
    with pytest.raises(http.cookies.CookieError):
        response.set_cookie(key, "v")
    assert response.headers.getlist("set-cookie") == []


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: evil=1", "x; Domain=evil.example", 'q"uo"te'])
def test_values_with_separators_are_quoted_into_one_cookie(value: str) -> None:
    response = Response()
    response.set_cookie("k", value)
    (header,) = response.headers.getlist("set-cookie")
    assert "\r" not in header and "\n" not in header
    assert header.endswith("; Path=/; SameSite=lax")
    # Parsing the header back gives one cookie with the original value and no Domain.
    parsed: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    parsed.load(header)
    assert list(parsed) == ["k"]
    assert parsed["k"].value == value
    assert parsed["k"]["domain"] == ""


# -- partitioned and delete -----------------------------------------------------------------------


def test_partitioned_cookie_and_its_deletion() -> None:
    response = Response()
    response.set_cookie("embed", "1", secure=True, samesite="none", partitioned=True)
    response.delete_cookie("embed", secure=True, samesite="none", partitioned=True)
    set_header, delete_header = response.headers.getlist("set-cookie")
    assert set_header == "embed=1; Path=/; SameSite=none; Secure; Partitioned"
    parts = delete_header.split("; ")
    assert parts[0] == 'embed=""'
    assert {"Max-Age=0", "Secure", "SameSite=none", "Partitioned"} <= set(parts)


def test_delete_cookie_is_not_partitioned_by_default() -> None:
    response = Response()
    response.delete_cookie("a")
    assert "Partitioned" not in response.headers["set-cookie"]


# -- round trips through a client's cookie jar ----------------------------------------------------


def cookie_app() -> App:
    app = App()

    @app.get("/set")
    async def set_cookies(response: Response) -> dict[str, bool]:
        response.set_cookie("plain", "1")
        response.set_cookie("tricky", 'a b;c,d"e\\f é')
        response.set_cookie("scoped", "2", path="/app")
        response.set_cookie("secure_only", "3", secure=True)
        response.set_cookie("short", "4", max_age=3600, httponly=True)
        return {"ok": True}

    @app.get("/expire")
    async def expire(response: Response) -> dict[str, bool]:
        response.delete_cookie("plain")
        past = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
        response.set_cookie("short", "", expires=past, httponly=True)
        return {"ok": True}

    @app.get("/echo")
    async def echo(request: Request) -> dict[str, str]:
        return request.cookies

    @app.get("/app/echo")
    async def app_echo(request: Request) -> dict[str, str]:
        return request.cookies

    return app


def test_cookies_set_by_a_handler_come_back_as_they_were_set() -> None:
    client = TestClient(cookie_app())
    response = client.get("/set")
    assert response.json() == {"ok": True}
    assert len(response.headers.get_list("set-cookie")) == 5
    # Over plain http the Secure cookie is not sent back, and Path=/app limits "scoped".
    assert client.get("/echo").json() == {
        "plain": "1",
        "tricky": 'a b;c,d"e\\f é',
        "short": "4",
    }
    assert client.get("/app/echo").json() == {
        "plain": "1",
        "tricky": 'a b;c,d"e\\f é',
        "short": "4",
        "scoped": "2",
    }


def test_secure_cookie_comes_back_over_https() -> None:
    client = TestClient(cookie_app(), base_url="https://testserver")
    client.get("/set")
    assert client.get("/echo").json()["secure_only"] == "3"


def test_deleted_and_expired_cookies_leave_the_jar() -> None:
    client = TestClient(cookie_app())
    client.get("/set")
    client.get("/expire")
    assert client.get("/echo").json() == {"tricky": 'a b;c,d"e\\f é'}


def test_cookie_set_on_a_response_the_handler_returns() -> None:
    app = App()

    @app.get("/")
    async def page() -> PlainTextResponse:
        response = PlainTextResponse("hi")
        response.set_cookie("theme", "dark", max_age=60, samesite="strict")
        return response

    response = TestClient(app).get("/")
    assert response.text == "hi"
    assert response.headers["set-cookie"] == "theme=dark; Max-Age=60; Path=/; SameSite=strict"


# -- redirects ------------------------------------------------------------------------------------


def redirect_app() -> App:
    app = App()

    @app.post("/go/{status:int}")
    async def go(status: int) -> RedirectResponse:
        return RedirectResponse("/landing", status_code=status)

    @app.api_route("/landing", methods=["GET", "POST"])
    async def landing(request: Request) -> dict[str, str]:
        return {"method": request.method, "body": (await request.body()).decode()}

    return app


@pytest.mark.parametrize(
    ("status", "method", "body"),
    [
        (301, "GET", ""),  # a client may turn POST into GET (browsers and httpx do)
        (302, "GET", ""),
        (303, "GET", ""),  # always GET: the answer to a form POST
        (307, "POST", "payload"),  # same method and body
        (308, "POST", "payload"),
    ],
)
def test_redirect_status_decides_what_the_client_repeats(
    status: int, method: str, body: str
) -> None:
    client = TestClient(redirect_app())
    direct = client.post(f"/go/{status}", content=b"payload", follow_redirects=False)
    assert direct.status_code == status
    assert direct.headers["location"] == "/landing"
    assert direct.headers["content-length"] == "0"
    assert direct.content == b""
    followed = client.post(f"/go/{status}", content=b"payload")
    assert followed.status_code == 200
    assert followed.json() == {"method": method, "body": body}
    assert [r.status_code for r in followed.history] == [status]


def test_redirect_defaults_to_307() -> None:
    response = RedirectResponse("/elsewhere")
    assert response.status_code == 307
    assert response.headers["location"] == "/elsewhere"


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/items?q=a b&x=1#top", "/items?q=a%20b&x=1#top"),
        ("/caf\u00e9/\u2603", "/caf%C3%A9/%E2%98%83"),
        ("/already%20encoded", "/already%20encoded"),
        ("https://user@example.com:8443/p;v=1?a=b!$'()*+,~", None),
        ('/quote"<>', "/quote%22%3C%3E"),
    ],
)
def test_redirect_location_is_quoted(url: str, location: str | None) -> None:
    response = RedirectResponse(url)
    assert response.headers["location"] == (location or url)


def test_redirect_to_a_url_object_and_with_headers() -> None:
    response = RedirectResponse(
        URL("https://example.com/next?step=2"), status_code=302, headers={"x-reason": "moved"}
    )
    assert response.headers["location"] == "https://example.com/next?step=2"
    assert response.headers["x-reason"] == "moved"


def test_login_flow_post_redirect_get_with_a_cookie() -> None:
    app = App()

    @app.post("/login")
    async def login(user: str = Form()) -> RedirectResponse:
        response = RedirectResponse("/me", status_code=303)
        response.set_cookie("user", user, httponly=True)
        return response

    @app.get("/me")
    async def me(request: Request) -> dict[str, str | None]:
        return {"user": request.cookies.get("user")}

    @app.post("/logout")
    async def logout() -> RedirectResponse:
        response = RedirectResponse("/me", status_code=303)
        response.delete_cookie("user")
        return response

    client = TestClient(app)
    response = client.post("/login", data={"user": "ada lovelace"})
    assert response.url.path == "/me"
    assert response.json() == {"user": "ada lovelace"}
    assert client.post("/logout").json() == {"user": None}
