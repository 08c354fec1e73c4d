"""Reading and writing CloudFormation templates, YAML or JSON, with the line of each resource.

YAML templates may use the short intrinsic tags (`!Ref Queue`, `!GetAtt Queue.Arn`,
`!Sub ...`); they are read into the long form (`{"Ref": "Queue"}`) that the rest of
Pylon works on. Errors name the file and the line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError


class TemplateError(HarnessError):
    """A template cannot be read, or says something Pylon cannot use; names file and line."""


@dataclass(frozen=True)
class LoadedTemplate:
    path: str
    body: dict[str, Any]
    # logical id -> line of its definition (1-based), for error messages
    lines: dict[str, int] = field(default_factory=dict)

    def where(self, logical_id: str) -> str:
        line = self.lines.get(logical_id)
        return f"{self.path}:{line}" if line else self.path

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.body.get("Resources") or {})


_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join",
            "Select", "Split", "Sub", "Transform", "And", "Equals", "If", "Not", "Or",
            "ToJsonString", "Length",
        )
    },
}  # fmt: skip


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short intrinsic tags."""


def _intrinsic(long_name: str) -> Any:
    def construct(loader: _Loader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if long_name == "Fn::GetAtt" and isinstance(value, str):
                value = value.split(".", 1)  # !GetAtt Queue.Arn
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {long_name: value}

    return construct


for _short, _long in _SHORT_TAGS.items():
    _Loader.add_constructor(f"!{_short}", _intrinsic(_long))


def load_template(path: Path) -> LoadedTemplate:
    """Read a template file; a clear error for what is not one."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read the template ({exc.strerror})") from None
    return parse_template(text, str(path))


def parse_template(text: str, source: str) -> LoadedTemplate:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        body = _parse_json(text, source)
        lines = _json_lines(text, body)
    else:
        body, lines = _parse_yaml(text, source)
    if not isinstance(body, dict):
        raise TemplateError(f"{source}: a template is a mapping, got {type(body).__name__}")
    if not isinstance(body.get("Resources"), dict) or not body["Resources"]:
        raise TemplateError(f"{source}: the template has no Resources section (or it is empty)")
    for logical_id, resource in body["Resources"].items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            line = lines.get(str(logical_id))
            where = f"{source}:{line}" if line else source
            raise TemplateError(f"{where}: resource {logical_id} has no Type")
    return LoadedTemplate(source, body, lines)


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(
            f"{source}:{exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno})"
        ) from None


def _json_lines(text: str, body: Any) -> dict[str, int]:
    """Where each resource's key appears (the first `"LogicalId":` after "Resources")."""
    start = text.find('"Resources"')
    lines = {}
    for logical_id in (body.get("Resources") or {}) if isinstance(body, dict) else {}:
        match = re.compile(rf'"{re.escape(str(logical_id))}"\s*:').search(text, max(start, 0))
        if match:
            lines[str(logical_id)] = text.count("\n", 0, match.start()) + 1
    return lines


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    try:
        node = yaml.compose(text, Loader=_Loader)
        body = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise TemplateError(f"{source}{line}: not valid YAML ({problem})") from None
    return body, _yaml_lines(node)


def _yaml_lines(node: yaml.Node | None) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    for key, value in node.value:
        if key.value == "Resources" and isinstance(value, yaml.MappingNode):
            return {k.value: k.start_mark.line + 1 for k, _ in value.value}
    return {}


def dump_template(template: dict[str, Any], as_json: bool = False) -> str:
    if as_json:
        return json.dumps(template, indent=2) + "\n"
    return yaml.safe_dump(template, sort_keys=False, width=100, allow_unicode=True)
