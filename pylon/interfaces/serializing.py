"""`JsonSerializable`: dataclass bodies that travel as JSON and validate on the way in.

Bodies arrive from other teams' components, so decoding checks every declared field
against its type hint and names the field that is wrong, instead of failing later in
the task with a KeyError.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

from pylon.errors import ValidationError

T = TypeVar("T", bound="JsonSerializable")

_MISSING = dataclasses.MISSING


class JsonSerializable:
    """Base class for message bodies that are JSON objects.

    Subclasses are dataclasses; `to_json`/`from_json` round-trip them. Unknown keys in
    incoming JSON are kept in `extra_fields` rather than dropped, so a newer producer does
    not lose data passing through an older component.
    """

    # Field names whose values must never be logged or shown in a repr.
    secret_fields: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict of this body (extra fields included)."""
        data = {f.name: _to_jsonable(getattr(self, f.name)) for f in _fields(self)}
        data.update(getattr(self, "_extra_fields", {}))
        return data

    def to_json(self) -> str:
        # The same text as dumping `to_dict()`, without first deep-copying every record:
        # json.dumps walks lists and dicts itself and calls `_json_ready` only for bodies.
        return json.dumps(self, default=_json_ready, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_dict(cls: type[T], data: Any, where: str | None = None) -> T:
        """Validate `data` against the dataclass fields and build the body."""
        where = where or cls.__name__
        if not isinstance(data, dict):
            raise ValidationError(where, f"expected a JSON object, got {type(data).__name__}")
        hints = _type_hints(cls)
        values: dict[str, Any] = {}
        for field in _fields(cls):
            if field.name in data:
                values[field.name] = _check(
                    data[field.name], hints[field.name], f"{where}.{field.name}"
                )
            elif not _has_default(field):
                raise ValidationError(f"{where}.{field.name}", "required field is missing")
        instance = cls(**values)
        known = {f.name for f in _fields(cls)}
        object.__setattr__(
            instance, "_extra_fields", {k: v for k, v in data.items() if k not in known}
        )
        instance.validate(where)
        return instance

    @classmethod
    def from_json(cls: type[T], text: str, where: str | None = None) -> T:
        where = where or cls.__name__
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(where, f"body is not valid JSON ({exc})") from None
        except RecursionError:
            raise ValidationError(where, "body is JSON nested too deeply to read") from None
        return cls.from_dict(data, where)

    def validate(self, where: str) -> None:
        """Hook for cross-field rules; raise ValidationError naming the field."""

    @property
    def extra_fields(self) -> dict[str, Any]:
        return dict(getattr(self, "_extra_fields", {}))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={'***' if f.name in self.secret_fields else repr(getattr(self, f.name))}"
            for f in _fields(self)
        )
        return f"{type(self).__name__}({shown})"


def _fields(obj: Any) -> tuple[dataclasses.Field[Any], ...]:
    return _class_fields(obj if isinstance(obj, type) else type(obj))


# Per class, once: both are fixed when the class is defined, and resolving string
# annotations (`from __future__ import annotations`) costs more than decoding a body.
_FIELDS: dict[type, tuple[dataclasses.Field[Any], ...]] = {}
_TYPE_HINTS: dict[type, dict[str, Any]] = {}


def _class_fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    if cls not in _FIELDS:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls!r} must be a dataclass to be JsonSerializable")
        _FIELDS[cls] = dataclasses.fields(cls)
    return _FIELDS[cls]


def _type_hints(cls: type) -> dict[str, Any]:
    if cls not in _TYPE_HINTS:
        _TYPE_HINTS[cls] = get_type_hints(cls)
    return _TYPE_HINTS[cls]


def _has_default(field: dataclasses.Field[Any]) -> bool:
    return field.default is not _MISSING or field.default_factory is not _MISSING


def _json_ready(value: Any) -> Any:
    """json.dumps' `default`: a body's fields, shallow (nested bodies come back here)."""
    if not isinstance(value, JsonSerializable):
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    if type(value).to_dict is not JsonSerializable.to_dict:
        return value.to_dict()  # a body with a representation of its own (LambdaEvent)
    data = {f.name: getattr(value, f.name) for f in _fields(value)}
    data.update(getattr(value, "_extra_fields", {}))
    return data


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, JsonSerializable):
        return value.to_dict()
    if isinstance(value, list):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_jsonable(v) for k, v in value.items()}
    return value


_SIMPLE = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}

# Checks `value` (at `where`) against one type hint; returns it, nested bodies built.
Checker = Callable[[Any, str], Any]
# Per type hint, once: analysing a hint (get_origin/get_args) cost more than checking a
# value, and a data asset's rows all share one hint.
_CHECKERS: dict[Any, Checker] = {}


def _check(value: Any, hint: Any, where: str) -> Any:
    """Check `value` against a type hint; return it (nested bodies built)."""
    return _checker(hint)(value, where)


def _checker(hint: Any) -> Checker:
    checker = _CHECKERS.get(hint)
    if checker is None:
        checker = _CHECKERS[hint] = _compile(hint)
    return checker


def _any(value: Any, where: str) -> Any:
    return value


def _compile(hint: Any) -> Checker:
    origin = get_origin(hint)
    if hint is Any:
        return _any
    if origin in (Union, types.UnionType):
        return _union_checker(get_args(hint))
    if origin is list:
        (item_hint,) = get_args(hint) or (Any,)
        return _list_checker(_checker(item_hint))
    if origin is dict or hint is dict:
        return _dict_checker
    if origin is typing.Literal:
        return _literal_checker(get_args(hint))
    if isinstance(hint, type) and issubclass(hint, JsonSerializable):
        return hint.from_dict
    return _simple_checker(hint)


def _list_checker(item: Checker) -> Checker:
    def check(value: Any, where: str) -> Any:
        if not isinstance(value, list):
            raise ValidationError(where, f"expected a list, got {type(value).__name__}")
        if item is _any:
            return list(value)
        # `where` of an item is only built for the one that fails.
        checked = []
        for index, entry in enumerate(value):
            try:
                checked.append(item(entry, ""))
            except ValidationError:
                item(entry, f"{where}[{index}]")  # raises again, naming the item
                raise
        return checked

    return check


def _dict_checker(value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise ValidationError(where, f"expected an object, got {type(value).__name__}")
    return value


def _literal_checker(allowed: tuple[Any, ...]) -> Checker:
    def check(value: Any, where: str) -> Any:
        if value not in allowed:
            raise ValidationError(where, f"must be one of {list(allowed)}, got {value!r}")
        return value

    return check


def _union_checker(options: tuple[Any, ...]) -> Checker:
    optional = type(None) in options
    checkers = [_checker(o) for o in options if o is not type(None)]

    def check(value: Any, where: str) -> Any:
        if value is None and optional:
            return None
        errors = []
        for checker in checkers:
            try:
                return checker(value, where)
            except ValidationError as exc:
                errors.append(exc.problem)
        raise ValidationError(where, " or ".join(errors))

    return check


def _simple_checker(hint: Any) -> Checker:
    expected = _SIMPLE.get(hint, getattr(hint, "__name__", str(hint)))

    def check(value: Any, where: str) -> Any:
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            return value
        # bool is an int subclass in Python, but not in JSON.
        if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
            return value
        raise ValidationError(where, f"expected {expected}, got {json.dumps(value)[:80]}")

    return check
