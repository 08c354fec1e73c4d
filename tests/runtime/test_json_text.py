"""`pylon.json_text`: orjson's route gives exactly the standard library's text and values.

The wire format is json's text; orjson is only a faster way to the same bytes. Each test
compares the route Pylon takes with json itself, over the values where JSON libraries
are known to differ and over values Hypothesis generates.
"""

from __future__ import annotations

import enum
import json
import math
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylon import json_text
from pylon.interfaces.serializing import JsonSerializable

PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


ENCODE = json_text.compact_encoder(refuse)


def as_documented(value: Any) -> Any:
    """json's `default` for Pylon's text: UUIDs as text, enum members as value."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return refuse(value)


def json_dumps(value: Any) -> str:
    return json.dumps(value, default=as_documented, separators=(",", ":"), ensure_ascii=False)


def same_value(left: Any, right: Any) -> bool:
    """Equal, of the same types all the way down (1 is not 1.0), NaN equal to NaN."""
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        return (math.isnan(left) and math.isnan(right)) or (
            left == right and math.copysign(1, left) == math.copysign(1, right)
        )
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same_value, left, right))
    if isinstance(left, dict):
        return list(left) == list(right) and all(same_value(left[k], right[k]) for k in left)
    return bool(left == right)


def test_orjson_is_in_use() -> None:
    """The speed is not silently lost: orjson (a runtime dependency) is installed and
    passes the float probes."""
    assert json_text.ORJSON_IN_USE


class Label(str):
    pass


class Count(int):
    pass


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


# Where orjson's text differs from json's, or where it refuses what json writes.
AWKWARD = [
    math.nan,
    math.inf,
    -math.inf,
    [1.0, None, math.nan],
    1e16,
    1e22,
    1e-4,
    1e-5,
    2.5e-5,
    1e-7,
    -3.1e-9,
    1e-10,
    5e-324,
    -0.0,
    0.1 + 0.2,
    2**63,
    2**64 - 1,
    2**64,
    -(2**63) - 1,
    2**70,
    "é ü 漢字 🚀",
    'quote " backslash \\ newline \n tab \t nul \x00 unit \x1f del \x7f',
    "\u2028 \u2029",
    "\ud800 lone surrogate",
    Label("str subclass"),
    Count(7),
    Level.HIGH,
    Colour.RED,
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    {1: "int key", 2.5: "float key", False: "bool key", None: "none key"},
    OrderedDict([("b", 1), ("a", 2)]),
    (1, (2, 3)),
    {"id": "845e-5a7e", "note": "1e-5 in text", "tiny": "0.00001"},
    {"nested": [{"deep": [1.5, {"x": None}]}]},
]


@pytest.mark.parametrize("value", AWKWARD, ids=repr)
def test_awkward_values_encode_to_json_dumps_text(value: object) -> None:
    assert ENCODE({"value": value}) == json_dumps({"value": value})


def test_an_ordered_dict_reordered_in_place_keeps_json_order() -> None:
    ordered = OrderedDict([("a", 1), ("b", 2)])
    ordered.move_to_end("a")

    assert ENCODE(ordered) == '{"b":2,"a":1}'


def test_bodies_write_uuids_as_text_and_enum_members_as_value_on_either_route() -> None:
    @dataclass
    class Tagged(JsonSerializable):
        id: Any
        colour: Any

    identifier = uuid.UUID("12345678-1234-5678-1234-567812345678")
    expected = '{"id":"12345678-1234-5678-1234-567812345678","colour":"red"}'

    assert Tagged(identifier, Colour.RED).to_json() == expected
    # The same text where a float sends the body to json's route.
    assert Tagged([identifier, math.nan], Colour.RED).to_json() == (
        '{"id":["12345678-1234-5678-1234-567812345678",NaN],"colour":"red"}'
    )


def test_a_value_neither_route_can_write_is_json_dumps_type_error() -> None:
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        ENCODE({"value": {1, 2}})


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=5) | st.dictionaries(
        st.text(max_size=8), children, max_size=5
    )


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.floats(min_value=-1e-3, max_value=1e-3)
    | st.text(max_size=12),
    containers,
    max_leaves=25,
)


@PROPERTY
@given(values)
def test_any_value_encodes_to_json_dumps_text(value: Any) -> None:
    assert ENCODE(value) == json_dumps(value)


@PROPERTY
@given(values)
def test_json_text_reads_to_json_loads_values(value: Any) -> None:
    text = json_dumps(value)

    assert same_value(json_text.loads(text), json.loads(text))


# Texts json reads that orjson refuses or reads otherwise, and texts both refuse.
TEXTS = [
    "NaN",
    "[Infinity, -Infinity]",
    "1e400",
    "-1e400",
    "1e-400",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890",
    '{"a": 1, "b": 2, "a": 3}',
    '"\\ud800"',
    "0.1000000000000000055511151231257827",
    "-0",
    "-0.0",
    "1E2",
    ' {"a" : [ 1 , 2 ] } ',
]
INVALID = ["[1,]", "01", "1.", ".5", '"\x01"', "[1] x", "\ufeff[1]", "{'a': 1}", ""]


@pytest.mark.parametrize("text", TEXTS)
def test_texts_read_to_json_loads_values(text: str) -> None:
    assert same_value(json_text.loads(text), json.loads(text))


@pytest.mark.parametrize("text", INVALID)
def test_invalid_text_raises_json_loads_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as raised:
        json_text.loads(text)

    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    assert str(raised.value) == str(expected.value)


@PROPERTY
@given(st.text(alphabet=st.sampled_from(list('{}[]",:0123456789.eE+-nultrfsa \\'))))
def test_any_text_reads_as_json_loads_reads_it(text: str) -> None:
    try:
        expected: Any = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        with pytest.raises(type(error)):
            json_text.loads(text)
    else:
        assert same_value(json_text.loads(text), expected)


def test_without_orjson_the_standard_route_writes_the_same_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(json_text, "ORJSON_IN_USE", False)
    standard = json_text.compact_encoder(refuse)
    value = {"id": uuid.UUID(int=1), "level": Level.HIGH, "x": [1e-7, math.nan, 2**70]}

    assert standard(value) == ENCODE(value) == json_dumps(value)
    assert same_value(json_text.loads('{"a": [1, 2.5]}'), {"a": [1, 2.5]})


README = Path(__file__).parents[2] / "README.md"


def test_the_readme_body_json_example_runs() -> None:
    """The README's example under "Body JSON" is this test's code, run as written."""
    section = README.read_text().split("**Body JSON.**", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]

    code = compile(example, "README.md (Body JSON)", "exec", dont_inherit=True)
    exec(code, {"__name__": "readme_example"})
