"""The references inside a template: what each resource points at, and whether that holds.

`Ref`, `Fn::GetAtt`, `Fn::Sub` and `DependsOn` name other resources; a name that is no
resource, parameter or pseudo parameter (a dangling reference), a cycle among
resources, or an intrinsic function Pylon cannot follow, is an error naming the
resource and its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from harness.cloudformation.template_io import LoadedTemplate, TemplateError

PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
        "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
    }
)  # fmt: skip
# Intrinsics that need something outside the template (another stack's exports, a
# macro): the template cannot be understood on its own.
UNSUPPORTED = frozenset({"Fn::ImportValue", "Fn::Transform"})
_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")
_RESOURCE_TYPE = re.compile(r"^(AWS|Alexa)::[A-Za-z0-9]+::[A-Za-z0-9]+$|^Custom::[A-Za-z0-9_@-]+$")


def targets(value: Any) -> Iterator[str]:
    """Every logical id or parameter `value` refers to (GetAtt's resource, Sub's names)."""
    if isinstance(value, list):
        for item in value:
            yield from targets(item)
        return
    if not isinstance(value, dict):
        return
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref" and isinstance(argument, str):
            yield argument
            return
        if key == "Fn::GetAtt":
            name = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
            yield str(name)
            return
        if key == "Fn::Sub":
            text = argument[0] if isinstance(argument, list) else argument
            if isinstance(text, str):
                yield from (m.split(".")[0] for m in _SUB_NAME.findall(text))
            if isinstance(argument, list) and len(argument) > 1:
                local = argument[1] if isinstance(argument[1], dict) else {}
                yield from (t for t in targets(list(local.values())) if t not in local)
            return
    for item in value.values():
        yield from targets(item)


def logical_id_of(value: Any) -> str | None:
    """The logical id a Ref or GetAtt names (None for anything else)."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        argument = value["Fn::GetAtt"]
        return str(argument[0] if isinstance(argument, list) else str(argument).split(".")[0])
    return None


def unsupported(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from unsupported(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in UNSUPPORTED:
                yield key
            yield from unsupported(item)


def check_references(template: LoadedTemplate) -> dict[str, set[str]]:
    """Each resource's dependencies on other resources; raises TemplateError on a
    dangling reference, an unsupported intrinsic, or a cycle."""
    resources = template.resources
    known = set(resources) | set(template.body.get("Parameters") or {}) | PSEUDO_PARAMETERS
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        if not _RESOURCE_TYPE.match(str(resource.get("Type"))):
            raise TemplateError(
                f"{template.where(logical_id)}: resource {logical_id} has type "
                f"{resource.get('Type')!r}, which is no CloudFormation resource type "
                "(AWS::Service::Resource, or Custom::Name)"
            )
        for function in unsupported(resource):
            raise TemplateError(
                f"{template.where(logical_id)}: resource {logical_id} uses {function}, which "
                "needs something outside this template; resolve it to a value first"
            )
        named = set(targets(resource.get("Properties") or {})) | _depends_on(resource)
        dangling = sorted(named - known)
        if dangling:
            raise TemplateError(
                f"{template.where(logical_id)}: resource {logical_id} refers to {dangling}, "
                "which is no resource or parameter of this template (a dangling reference)"
            )
        graph[logical_id] = {name for name in named if name in resources}
    _refuse_cycles(template, graph)
    return graph


def _depends_on(resource: dict[str, Any]) -> set[str]:
    depends = resource.get("DependsOn") or []
    return {depends} if isinstance(depends, str) else {str(d) for d in depends}


def _refuse_cycles(template: LoadedTemplate, graph: dict[str, set[str]]) -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for neighbour in sorted(graph[node]):
            if state.get(neighbour) == 1:
                cycle = [*path[path.index(neighbour) :], neighbour]
                raise TemplateError(
                    f"{template.where(neighbour)}: resources refer to each other in a circle "
                    f"({' -> '.join(cycle)}); CloudFormation cannot create them"
                )
            if neighbour not in state:
                visit(neighbour, [*path, neighbour])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
