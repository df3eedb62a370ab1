"""jsonable_encoder (framework/encoders.py): Python values to plain JSON-compatible data."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import decimal
import enum
import ipaddress
import json
import pathlib
import re
import uuid
from typing import Any

import pydantic
import pytest

from framework import App
from framework.encoders import jsonable_encoder
from framework.responses import JSONResponse
from framework.testclient import TestClient


class Colour(enum.Enum):
    RED = "red"
    DATE = dt.date(2030, 1, 1)


class Level(enum.IntEnum):
    HIGH = 3


class Address(pydantic.BaseModel):
    street: str
    city: str = "Paris"


class User(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(populate_by_name=True)

    name: str = pydantic.Field(alias="userName")
    age: int | None = None
    address: Address | None = None
    tags: set[str] = set()
    joined: dt.datetime | None = None
    secret: pydantic.SecretStr | None = None


@dataclasses.dataclass
class Point:
    x: int
    y: int
    label: str | None = None
    when: dt.datetime | None = None


@dataclasses.dataclass
class Shape:
    points: list[Point]
    colour: Colour


class Plain:
    def __init__(self) -> None:
        self.a = 1
        self.b = dt.date(2020, 2, 2)
        self._sa_instance_state = "state"  # what SQLAlchemy adds to ORM objects (an object)


# -- scalars --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("text", "text"),
        (0, 0),
        (True, True),
        (1.5, 1.5),
        (dt.datetime(2030, 1, 2, 3, 4, 5, 6), "2030-01-02T03:04:05.000006"),
        (
            dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
            "2030-01-02T03:04:05+00:00",
        ),
        (dt.date(2030, 1, 2), "2030-01-02"),
        (dt.time(13, 14, 15), "13:14:15"),
        (dt.timedelta(hours=1, microseconds=500000), 3600.5),
        (decimal.Decimal("1.25"), 1.25),
        (decimal.Decimal("10"), 10),
        (decimal.Decimal("1E+2"), 100),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (Colour.RED, "red"),
        (Colour.DATE, "2030-01-01"),
        (Level.HIGH, 3),
        (pathlib.PurePosixPath("/etc/hosts"), "/etc/hosts"),
        (pathlib.Path("relative/file.txt"), str(pathlib.Path("relative/file.txt"))),
        (b"bytes", "bytes"),
        (ipaddress.ip_address("192.168.0.1"), "192.168.0.1"),
        (ipaddress.ip_network("10.0.0.0/8"), "10.0.0.0/8"),
        (re.compile(r"a+b"), "a+b"),
        (pydantic.SecretStr("hunter2"), "**********"),
        (pydantic.AnyUrl("https://example.com/a?b=1"), "https://example.com/a?b=1"),
    ],
)
def test_scalars(value: Any, expected: Any) -> None:
    result = jsonable_encoder(value)
    assert result == expected
    assert type(result) is type(expected)


def test_results_survive_json_dumps() -> None:
    value = {
        "when": dt.datetime(2030, 1, 1),
        "ids": {uuid.UUID(int=2)},
        "price": decimal.Decimal("9.99"),
        "path": pathlib.PurePath("a"),
    }
    assert json.loads(json.dumps(jsonable_encoder(value))) == {
        "when": "2030-01-01T00:00:00",
        "ids": ["00000000-0000-0000-0000-000000000002"],
        "price": 9.99,
        "path": "a",
    }


# -- containers ---------------------------------------------------------------------------------


def test_sequences_become_lists() -> None:
    assert jsonable_encoder((1, "a")) == [1, "a"]
    assert sorted(jsonable_encoder({3, 1, 2})) == [1, 2, 3]
    assert jsonable_encoder(frozenset({"x"})) == ["x"]
    assert jsonable_encoder(collections.deque([dt.date(2020, 1, 1)])) == ["2020-01-01"]
    assert jsonable_encoder(n * 2 for n in range(3)) == [0, 2, 4]
    assert jsonable_encoder([[Colour.RED], ()]) == [["red"], []]


def test_dict_keys_and_values_are_encoded() -> None:
    value = {dt.date(2020, 1, 1): Colour.RED, uuid.UUID(int=3): [decimal.Decimal("0.5")], 1: None}
    assert jsonable_encoder(value) == {
        "2020-01-01": "red",
        "00000000-0000-0000-0000-000000000003": [0.5],
        1: None,
    }


def test_dict_include_and_exclude_select_top_level_keys() -> None:
    value = {"a": 1, "b": {"a": 2, "c": 3}, "c": 4}
    assert jsonable_encoder(value, include={"a", "b"}) == {"a": 1, "b": {"a": 2, "c": 3}}
    assert jsonable_encoder(value, exclude={"c"}) == {"a": 1, "b": {"a": 2, "c": 3}}
    assert jsonable_encoder(value, include={"a", "c"}, exclude={"c"}) == {"a": 1}
    assert jsonable_encoder(value, include=set()) == {}


def test_include_and_exclude_apply_to_each_item_of_a_list() -> None:
    rows = [{"id": 1, "secret": "x"}, {"id": 2, "secret": "y"}]
    assert jsonable_encoder(rows, exclude={"secret"}) == [{"id": 1}, {"id": 2}]


def test_exclude_none_works_at_every_level() -> None:
    value = {"a": None, "b": {"c": None, "d": 1}, "e": [{"f": None}], "g": [None]}
    assert jsonable_encoder(value, exclude_none=True) == {"b": {"d": 1}, "e": [{}], "g": [None]}
    assert jsonable_encoder(value)["a"] is None


# -- models and dataclasses -----------------------------------------------------------------------


def test_pydantic_model_uses_aliases_and_json_mode() -> None:
    user = User(
        name="ada",
        address=Address(street="Rue 1"),
        tags={"x"},
        joined=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc),
        secret=pydantic.SecretStr("pw"),
    )
    assert jsonable_encoder(user) == {
        "userName": "ada",
        "age": None,
        "address": {"street": "Rue 1", "city": "Paris"},
        "tags": ["x"],
        "joined": "2030-01-01T00:00:00Z",  # pydantic's own format inside models, as in FastAPI
        "secret": "**********",
    }
    assert "name" in jsonable_encoder(user, by_alias=False)


def test_pydantic_model_options() -> None:
    user = User(userName="ada", address=Address(street="Rue 1"))
    assert jsonable_encoder(user, exclude_unset=True) == {
        "userName": "ada",
        "address": {"street": "Rue 1"},
    }
    assert jsonable_encoder(user, exclude_none=True) == {
        "userName": "ada",
        "address": {"street": "Rue 1", "city": "Paris"},
        "tags": [],
    }
    assert jsonable_encoder(user, exclude_defaults=True) == {
        "userName": "ada",
        "address": {"street": "Rue 1"},
    }
    assert jsonable_encoder(user, include={"name", "age"}) == {"userName": "ada", "age": None}
    assert jsonable_encoder(user, exclude={"address": {"city"}, "tags": True}) == {
        "userName": "ada",
        "age": None,
        "address": {"street": "Rue 1"},
        "joined": None,
        "secret": None,
    }


def test_models_inside_containers_get_the_options() -> None:
    users = {"first": User(userName="a"), "second": [User(userName="b", age=3)]}
    assert jsonable_encoder(users, exclude_unset=True) == {
        "first": {"userName": "a"},
        "second": [{"userName": "b", "age": 3}],
    }


def test_root_model() -> None:
    Tags = pydantic.RootModel[list[dt.date]]
    assert jsonable_encoder(Tags([dt.date(2020, 1, 1)])) == ["2020-01-01"]


def test_dataclasses_become_dicts() -> None:
    shape = Shape([Point(1, 2, when=dt.datetime(2030, 1, 1))], Colour.RED)
    assert jsonable_encoder(shape) == {
        "points": [{"x": 1, "y": 2, "label": None, "when": "2030-01-01T00:00:00"}],
        "colour": "red",
    }
    assert jsonable_encoder(Point(1, 2), exclude_none=True) == {"x": 1, "y": 2}
    assert jsonable_encoder(Point(1, 2), include={"x"}) == {"x": 1}


def test_pydantic_dataclass() -> None:
    @pydantic.dataclasses.dataclass
    class Item:
        name: str
        price: decimal.Decimal

    assert jsonable_encoder(Item("pen", decimal.Decimal("1.50"))) == {"name": "pen", "price": 1.5}


# -- other objects --------------------------------------------------------------------------------


def test_plain_objects_are_read_through_vars_without_sqlalchemy_state() -> None:
    assert jsonable_encoder(Plain()) == {"a": 1, "b": "2020-02-02"}
    assert jsonable_encoder(Plain(), exclude={"a"}) == {"b": "2020-02-02"}
    with_state = jsonable_encoder(Plain(), sqlalchemy_safe=False)
    assert with_state == {"a": 1, "b": "2020-02-02", "_sa_instance_state": "state"}


def test_mapping_like_objects_are_read_with_dict() -> None:
    class Pairs:
        def keys(self) -> list[str]:
            return ["k"]

        def __getitem__(self, key: str) -> Any:
            return dt.date(2021, 1, 1)

    assert jsonable_encoder(Pairs()) == {"k": "2021-01-01"}


def test_unconvertible_object_raises_value_error() -> None:
    with pytest.raises(ValueError, match="object"):
        jsonable_encoder(object())
    with pytest.raises(ValueError, match="Slotted"):

        class Slotted:
            __slots__ = ("a",)

        jsonable_encoder(Slotted())


def test_custom_encoder_wins_by_exact_type_then_by_subclass() -> None:
    encoders: dict[Any, Any] = {
        dt.datetime: lambda value: value.strftime("%d/%m/%Y"),
        dt.date: lambda value: "a date",
        int: lambda value: value * 10,
    }
    when = dt.datetime(2030, 1, 2)
    assert jsonable_encoder(
        {"w": when, "d": dt.date(2030, 1, 2), "n": 4}, custom_encoder=encoders
    ) == {
        "w": "02/01/2030",
        "d": "a date",
        "n": 40,
    }
    # bool is an int: the isinstance match applies to it too.
    assert jsonable_encoder(True, custom_encoder={int: lambda value: "int"}) == "int"


def test_custom_encoder_for_an_otherwise_unknown_type() -> None:
    class Money:
        def __init__(self, cents: int) -> None:
            self.cents = cents

    result = jsonable_encoder(
        [Money(150)], custom_encoder={Money: lambda m: f"{m.cents / 100:.2f}"}
    )
    assert result == ["1.50"]


def test_in_a_handler_with_json_response() -> None:
    app = App()

    @app.get("/user")
    async def read_user() -> JSONResponse:
        user = User(userName="ada", joined=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
        data = jsonable_encoder(user, exclude_none=True)
        data["fetched"] = jsonable_encoder(dt.date(2030, 1, 2))
        return JSONResponse(data)

    response = TestClient(app).get("/user")
    assert response.json() == {
        "userName": "ada",
        "tags": [],
        "joined": "2030-01-01T00:00:00Z",
        "fetched": "2030-01-02",
    }
