"""examples/hello.py: the smallest app."""

import pytest

from examples.hello import app
from framework.testclient import TestClient


@pytest.fixture
def client() -> TestClient:
    return TestClient(app)


def test_root_says_hello_world(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "Hello, World!"}


@pytest.mark.parametrize(
    ("path", "name"),
    [("/hello/Ada", "Ada"), ("/hello/J%C3%BCrgen", "Jürgen"), ("/hello/two%20words", "two words")],
)
def test_hello_greets_the_name_from_the_path(client: TestClient, path: str, name: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == {"message": f"Hello, {name}!"}


def test_hello_without_a_name_is_not_found(client: TestClient) -> None:
    assert client.get("/hello/", follow_redirects=False).status_code == 404
    assert client.get("/nowhere").status_code == 404


def test_head_and_wrong_method(client: TestClient) -> None:
    head = client.head("/hello/Ada")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(client.get("/hello/Ada").content))

    response = client.post("/")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
