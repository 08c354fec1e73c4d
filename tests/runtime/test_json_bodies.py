"""`JsonSerializable.to_json`: the text of `to_dict()`, nested bodies included."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from pylon.interfaces.serializing import JsonSerializable
from pylon.models.lambda_event import LambdaEvent


@dataclass
class Reading(JsonSerializable):
    station: str
    value: float


@dataclass
class Report(JsonSerializable):
    title: str
    readings: list[Reading] = field(default_factory=list)
    latest: Reading | None = None
    tags: dict[str, list[Reading]] = field(default_factory=dict)


def _report() -> Report:
    first, second = Reading("a", 1.5), Reading("b", 2.0)
    return Report("day", [first, second], second, {"north": [first]})


def test_nested_bodies_encode_exactly_as_to_dict_does() -> None:
    report = _report()

    text = report.to_json()

    assert text == json.dumps(report.to_dict(), separators=(",", ":"), ensure_ascii=False)
    assert json.loads(text)["tags"] == {"north": [{"station": "a", "value": 1.5}]}
    again = Report.from_json(text)
    assert (again.readings, again.latest) == (report.readings, report.latest)


def test_extra_fields_of_a_nested_body_survive_encoding() -> None:
    data = {"title": "day", "latest": {"station": "a", "value": 1, "calibrated": True}}

    again = json.loads(Report.from_dict(data).to_json())

    assert again["latest"] == {"station": "a", "value": 1, "calibrated": True}


def _reordered() -> Reading:
    reading = Reading("a", 1.5)
    del reading.station  # set again below: the instance dict's order is no longer the fields'
    reading.station = "a"
    return reading


def _with_side_attribute() -> Reading:
    reading = Reading("a", 1.5)
    reading.note = "not a field"  # type: ignore[attr-defined]
    return reading


@pytest.mark.parametrize(
    "body",
    [
        Reading("a", 1.5),
        Reading.from_dict({"station": "a", "value": 1.5}),
        Reading.from_dict({"station": "a", "value": 1.5, "calibrated": True}),
        _reordered(),
        _with_side_attribute(),
        Report(
            "day",
            [_reordered(), _with_side_attribute()],
            Reading.from_dict({"station": "b", "value": 2, "x": 1}),
        ),
    ],
    ids=["built", "decoded", "extra fields", "reordered", "side attribute", "nested"],
)
def test_the_text_is_to_dicts_whatever_the_instance_dict_holds(body: JsonSerializable) -> None:
    # Fast route: a body whose instance dict is exactly its fields is written as that dict.
    assert body.to_json() == json.dumps(body.to_dict(), separators=(",", ":"), ensure_ascii=False)


def test_a_body_with_its_own_to_dict_is_encoded_through_it() -> None:
    assert LambdaEvent({"source": "aws.events"}).to_json() == '{"source":"aws.events"}'


def test_a_value_json_cannot_encode_is_a_type_error_naming_its_type() -> None:
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        Report("day", tags={"x": {1, 2}}).to_json()  # type: ignore[dict-item]


class Label(str):
    """A str subclass, as a task may hand over."""


@dataclass
class Anything(JsonSerializable):
    value: object


# Values where JSON writers commonly differ: json.dumps' text is the wire format.
AWKWARD_VALUES = [
    float("nan"),
    float("inf"),
    -float("inf"),
    1e16,
    1e-7,
    -0.0,
    0.1 + 0.2,
    2**70,
    -(2**63),
    True,
    None,
    "é ü 漢字 🚀",
    'quote " backslash \\ newline \n tab \t nul \x00 del \x7f',
    "\u2028 line separator",
    Label("sub"),
    {1: "int key", 2.5: "float key", False: "bool key", None: "none key"},
    [(1, 2), []],
    {"nested": [{"deep": [1.5, {"x": None}]}]},
]


@pytest.mark.parametrize("value", AWKWARD_VALUES, ids=repr)
def test_body_text_is_byte_for_byte_what_json_dumps_writes(value: object) -> None:
    expected = json.dumps({"value": value}, separators=(",", ":"), ensure_ascii=False)

    assert Anything(value).to_json() == expected


def test_a_body_that_contains_itself_is_a_value_error_not_a_crash() -> None:
    loop: list[object] = []
    loop.append(loop)

    with pytest.raises(ValueError, match="refers to itself"):
        Anything(loop).to_json()
