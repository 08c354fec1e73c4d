"""Message bodies as JSON text: orjson's speed, the standard library's exact text.

Pylon's wire format is what `json.dumps(..., separators=(",", ":"), ensure_ascii=False)`
writes and what `json.loads` reads; every component ever deployed reads and writes that.
orjson does the same work three to five times faster, but not always to the same result:

- it writes NaN and ±Infinity as `null` (json: `NaN`, `Infinity`), floats below 1e-4 in
  positional notation (`0.00001`, json `1e-05`) and one-digit negative exponents without
  the leading zero (`1e-7`, json `1e-07`);
- it reads integers outside [-2**63, 2**64) as floats (json keeps them exact);
- it refuses what json accepts beyond strict JSON (`NaN`, lone surrogates, `1e400`,
  integers over 64 bits, non-string keys);
- it writes UUIDs and enum members itself, where json asks `default`: here both routes
  write a UUID as its text and an enum member as its value.

So each call takes orjson's answer only when it cannot differ: a refusal, a number that
might be out of range, or output that might hold one of those floats sends that call to
the standard library. At import, a few probe values check that this orjson still formats
floats the way the guards expect; if it does not, or orjson is not installed, every call
uses the standard library. Both routes give the same text, which tests/runtime/
test_json_text.py checks value by value.
"""

from __future__ import annotations

import enum
import json
import math
import re
import uuid
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

try:
    import orjson
except ImportError:  # the runtime still works, at the standard library's speed
    orjson = None  # type: ignore[assignment]

Default = Callable[[Any], Any]
Encoder = Callable[[Any], str]

# Integers of 19 or more digits may be outside orjson's 64-bit range.
_LONG_NUMBER = b"0" * 19
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
# orjson's text of floats json writes otherwise (see the module docstring).
_POSITIONAL_TINY = b"0.0000"
# In compact text a number ends at `,`, `]`, `}` or the end, which tells `1e-7` from a
# string such as a UUID's `845e-5a7e`; the digit before `e` is checked per match.
_SHORT_NEGATIVE_EXPONENT = re.compile(rb"e-[1-9](?=[,\]}]|$)")
_NULL = b"null"
_DIGIT_BYTES = frozenset(b"0123456789")


def loads(text: str) -> Any:
    """`json.loads(text)`: the same values, the same errors."""
    if ORJSON_IN_USE:
        try:
            data = text.encode()
        except UnicodeEncodeError:  # lone surrogates: only json reads them
            return json.loads(text)
        if _LONG_NUMBER not in data.translate(_DIGITS_AS_ZERO):
            try:
                return orjson.loads(data)
            except orjson.JSONDecodeError:
                pass  # json accepts more (NaN, 1e400) or raises its own error
    return json.loads(text)


def compact_encoder(default: Default) -> Encoder:
    """`json.dumps(value, default=default, separators=(",", ":"), ensure_ascii=False)`.

    The standard route's C encoder is built once, not per call. Neither route tracks
    circular references: a value that contains itself raises RecursionError.
    """
    exact = _exact_encoder(_writing_as_orjson_does(default))
    if not ORJSON_IN_USE:
        return exact
    # Subclasses, dataclasses and dates go to `default` (json would not encode them
    # natively), which refuses them unless they are bodies; the refusal sends the call
    # to json, which writes subclasses as their base type.
    option = (
        orjson.OPT_PASSTHROUGH_SUBCLASS
        | orjson.OPT_PASSTHROUGH_DATACLASS
        | orjson.OPT_PASSTHROUGH_DATETIME
    )

    def encode(value: Any) -> str:
        try:
            text = orjson.dumps(value, default=default, option=option)
        except TypeError:  # orjson.JSONEncodeError: json decides (and names the problem)
            return exact(value)
        if _may_differ(text, value, default):
            return exact(value)
        return text.decode()

    return encode


def _writing_as_orjson_does(default: Default) -> Default:
    """`default`, after the two types orjson writes itself: a UUID as its text, an enum
    member as its value. json calls `default` for them, so both routes agree."""

    def ready(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, enum.Enum):
            return value.value
        return default(value)

    return ready


def _exact_encoder(default: Default) -> Encoder:
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:  # an interpreter without json's C accelerator
        encoder = json.JSONEncoder(default=default, separators=(",", ":"), ensure_ascii=False)
        return encoder.encode
    iterencode = c_make_encoder(None, default, encode_basestring, None, ":", ",", False, False, True)
    return lambda value: "".join(iterencode(value, 0))


def _may_differ(text: bytes, value: Any, default: Default) -> bool:
    """Whether orjson's `text` of `value` may hold a float json writes otherwise."""
    if _POSITIONAL_TINY in text:
        return True
    if _SHORT_NEGATIVE_EXPONENT.search(text) and _has_short_negative_exponent(text):
        return True
    return _NULL in text and _holds_non_finite(value, default)


def _has_short_negative_exponent(text: bytes) -> bool:
    """Whether a number ends in a one-digit negative exponent (`1e-7`, json `1e-07`)."""
    return any(
        match.start() and text[match.start() - 1] in _DIGIT_BYTES
        for match in _SHORT_NEGATIVE_EXPONENT.finditer(text)
    )


def _holds_non_finite(value: Any, default: Default) -> bool:
    """Whether NaN or ±Infinity is anywhere in `value` (orjson wrote them as null)."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is float:
            if not math.isfinite(item):
                return True
        elif kind is dict:
            pending.extend(item.values())
        elif kind is list or kind is tuple:
            pending.extend(item)
        elif kind not in (str, int, bool, type(None)):
            try:
                pending.append(default(item))  # a body: its fields
            except TypeError:
                continue  # a value orjson writes itself (a UUID, an enum member)
    return False


def _orjson_agrees() -> bool:
    """Whether this orjson writes the probe floats as json does, or as the guards expect."""
    if orjson is None:
        return False
    probes = [0.1, 100.0, -0.0, 1e15, 1e16, 1e22, 1.5e300, 5e-324, 1e-4, 1e-5, 1e-7, 1e-10]
    for probe in probes:
        text = orjson.dumps(probe)
        if text != json.dumps(probe).encode() and not _may_differ(text, probe, _refuse):
            return False
    return _may_differ(orjson.dumps(math.nan), math.nan, _refuse)


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


# Whether bodies go through orjson (installed, and writing floats as the guards expect).
ORJSON_IN_USE = _orjson_agrees()
