"""`JsonSerializable`: dataclass bodies that travel as JSON and validate on the way in.

Bodies arrive from other teams' components, so decoding checks every declared field
against its type hint and names the field that is wrong, instead of failing later in
the task with a KeyError.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

from pylon import json_text
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
        # the encoder walks lists and dicts itself and calls `_json_ready` only for bodies.
        # A body whose instance dict is exactly its fields goes as that dict: the encoder
        # then needs no call back into Python for it.
        return compact_json(_own_fields_dict(self) or self)

    @classmethod
    def from_dict(cls: type[T], data: Any, where: str | None = None) -> T:
        """Validate `data` against the dataclass fields and build the body."""
        where = where or cls.__name__
        if not isinstance(data, dict):
            raise ValidationError(where, f"expected a JSON object, got {type(data).__name__}")
        plan = _plan(cls)
        values: dict[str, Any] = {}
        for name, checker, required, unchanged, items in plan.fields:
            if name in data:
                value = data[name]
                kind = type(value)
                # A value of a type its checker returns as is needs no call (most fields),
                # nor does a list whose items all are (a data asset's records and keys).
                if kind in unchanged:
                    values[name] = value
                elif kind is list and items and set(map(type, value)) <= items:
                    values[name] = list(value)
                else:
                    values[name] = _checked(checker, value, where, name)
            elif required:
                raise ValidationError(f"{where}.{name}", "required field is missing")
        instance = cls(**values)
        if not data.keys() <= plan.known:
            # Only when there are some: an instance dict of fields alone encodes faster.
            extra = {k: v for k, v in data.items() if k not in plan.known}
            object.__setattr__(instance, "_extra_fields", extra)
        instance.validate(where)
        return instance

    @classmethod
    def from_json(cls: type[T], text: str, where: str | None = None) -> T:
        where = where or cls.__name__
        try:
            data = json_text.loads(text)
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


@dataclasses.dataclass(frozen=True)
class _Plan:
    """How `from_dict` reads one class: per field its name, checker, whether it is
    required, the exact types its checker passes unchanged and, for a list field, the
    exact item types it passes unchanged; and the known names (the rest of an object is
    extra fields)."""

    fields: tuple[tuple[str, Checker, bool, frozenset[type], frozenset[type]], ...]
    known: frozenset[str]


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        hints = _type_hints(cls)
        fields = tuple(
            (
                f.name,
                checker,
                not _has_default(f),
                _PASSING_TYPES.get(checker, frozenset()),
                _LIST_ITEMS_PASSING.get(checker, frozenset()),
            )
            for f in _class_fields(cls)
            for checker in (_checker(hints[f.name]),)
        )
        plan = _PLANS[cls] = _Plan(fields, frozenset(field[0] for field in fields))
    return plan


def _checked(checker: Checker, value: Any, where: str, name: str) -> Any:
    """`checker(value)`; the field's location is built only when the value fails."""
    try:
        return checker(value, name)
    except ValidationError:
        checker(value, f"{where}.{name}")  # raises again, naming the field in full
        raise


def compact_json(value: Any) -> str:
    """The body's JSON text: compact, UTF-8 characters unescaped, NaN written as NaN."""
    try:
        return _ENCODE(value)
    except RecursionError:
        raise ValueError(
            "the body refers to itself, or nests deeper than JSON text can be written"
        ) from None


def _json_ready(value: Any) -> Any:
    """json.dumps' `default`: a body's fields, shallow (nested bodies come back here)."""
    ready = _READY.get(type(value))
    if ready is None:
        if not isinstance(value, JsonSerializable):
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        ready = _READY[type(value)] = _ready_for(type(value))
    return ready(value)


# Per body class, once: how `_json_ready` turns one of its bodies into a dict.
_READY: dict[type, Callable[[Any], dict[str, Any]]] = {}


def _ready_for(cls: type) -> Callable[[Any], dict[str, Any]]:
    """The class's own `to_dict` (LambdaEvent); or its instance dict, when that holds
    exactly its fields in field order; or its fields read by one C-level getter, in
    field order, then its extra fields."""
    if cls.to_dict is not JsonSerializable.to_dict:  # type: ignore[attr-defined]
        return cls.to_dict  # type: ignore[attr-defined, no-any-return]
    names = tuple(f.name for f in _class_fields(cls))
    getter = operator.attrgetter(*names)
    read = getter if len(names) > 1 else lambda value: (getter(value),)

    def ready(value: Any) -> dict[str, Any]:
        own = _fields_only_dict(value, names)
        if own is not None:
            return own
        data = dict(zip(names, read(value), strict=False))  # same length: one value per name
        extra = getattr(value, "_extra_fields", None)
        if extra:
            data.update(extra)
        return data

    return ready


# Per body class, once: the field names its instance dict holds when it holds nothing
# else, or None when the class writes itself (its own `to_dict`).
_OWN_FIELDS: dict[type, tuple[str, ...] | None] = {}
_UNSEEN = ("",)  # no field is named "": the class is not in _OWN_FIELDS yet


def _own_fields_dict(body: Any) -> dict[str, Any] | None:
    """`body.__dict__` when it is exactly what `to_dict` returns: the class's fields, in
    field order, and nothing else (no extra fields, no attribute set on the side)."""
    cls = type(body)
    names = _OWN_FIELDS.get(cls, _UNSEEN)
    if names is _UNSEEN:
        names = _OWN_FIELDS[cls] = _own_field_names(cls)
    return None if names is None else _fields_only_dict(body, names)


def _fields_only_dict(body: Any, names: tuple[str, ...]) -> dict[str, Any] | None:
    """`body.__dict__` when it holds exactly `names`, in that order."""
    own: dict[str, Any] | None = getattr(body, "__dict__", None)
    return own if own is not None and tuple(own) == names else None


def _own_field_names(cls: type) -> tuple[str, ...] | None:
    if cls.to_dict is not JsonSerializable.to_dict:  # type: ignore[attr-defined]
        return None
    return tuple(f.name for f in _class_fields(cls))


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
    passing = _PASSING_TYPES.get(item)

    def check(value: Any, where: str) -> Any:
        if not isinstance(value, list):
            raise ValidationError(where, f"expected a list, got {type(value).__name__}")
        if item is _any or (passing is not None and set(map(type, value)) <= passing):
            return list(value)  # every item of a type the item checker passes unchanged
        # `where` of an item is only built for the one that fails.
        checked = []
        for index, entry in enumerate(value):
            try:
                checked.append(item(entry, ""))
            except ValidationError:
                item(entry, f"{where}[{index}]")  # raises again, naming the item
                raise
        return checked

    if passing is not None:
        _LIST_ITEMS_PASSING[check] = passing
    return check


def _dict_checker(value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise ValidationError(where, f"expected an object, got {type(value).__name__}")
    return value


# Per checker, the exact types it returns unchanged: a list whose items are all of them
# needs no call per item (a data asset's records are all plain dicts).
_PASSING_TYPES: dict[Checker, frozenset[type]] = {_dict_checker: frozenset((dict,))}
# Per list checker, the exact item types its item checker returns unchanged: such a list
# is copied as it is (`from_dict` checks that without calling the list checker).
_LIST_ITEMS_PASSING: dict[Checker, frozenset[type]] = {}


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

    # Options that each return their passing types unchanged: so does the union.
    passing = [_PASSING_TYPES.get(checker) for checker in checkers]
    if all(types is not None for types in passing):
        optional_types = {type(None)} if optional else set()
        _PASSING_TYPES[check] = frozenset().union(optional_types, *passing)  # type: ignore[arg-type]
    return check


def _simple_checker(hint: Any) -> Checker:
    expected = _SIMPLE.get(hint, getattr(hint, "__name__", str(hint)))
    passing = {str: (str,), int: (int,), float: (float, int), bool: (bool,)}.get(hint)

    def check(value: Any, where: str) -> Any:
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            return value
        # bool is an int subclass in Python, but not in JSON.
        if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
            return value
        raise ValidationError(where, f"expected {expected}, got {json.dumps(value)[:80]}")

    if passing:
        _PASSING_TYPES[check] = frozenset(passing)
    return check


_ENCODE = json_text.compact_encoder(_json_ready)
