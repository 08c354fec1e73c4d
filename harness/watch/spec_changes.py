"""What changed between the spec that is running and the spec just saved.

The diff drives the reload: provisioning applies every change to the running emulator
(it is idempotent and updates in place); components whose process environment changed
(entrypoint, config, env, output topic, mode) restart; removed components stop, and their
resources go only with `--prune`. It prints as one line per change. Config values never
appear in it (they may be secrets): only the keys that changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from harness.spec import ComponentSpec, PipelineSpec

# Fields whose change needs a new process: they are in its environment or its code path.
_RESTART_FIELDS = (
    "kind",
    "entrypoint",
    "output_topic",
    "config",
    "env",
    "mode",
    "config_in_ssm",
    "input_queue",
)
_SECRET_FIELDS = ("config", "env")


@dataclass
class SpecChange:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # component -> what
    restart: list[str] = field(default_factory=list)  # components needing a new process
    topics_added: list[str] = field(default_factory=list)
    topics_removed: list[str] = field(default_factory=list)
    buckets_added: list[str] = field(default_factory=list)
    buckets_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def lines(self, prune: bool) -> list[str]:
        """The diff as it is printed: `+` added, `-` removed, `~` changed."""
        kept = "" if prune else " (resources kept; --prune removes them)"
        out = [f"+ component {name}" for name in self.added]
        out += [f"- component {name}: stopped{kept}" for name in self.removed]
        for name, what in self.changed.items():
            action = "restarted" if name in self.restart else "applied in place"
            out.append(f"~ component {name}: {'; '.join(what)} ({action})")
        out += [f"+ topic {t}" for t in self.topics_added]
        out += [f"- topic {t}{kept}" for t in self.topics_removed]
        out += [f"+ bucket {b}" for b in self.buckets_added]
        out += [
            f"- bucket {b}{' (kept: buckets hold data; delete it by hand)'}"
            for b in self.buckets_removed
        ]
        return out


def diff_specs(old: PipelineSpec, new: PipelineSpec) -> SpecChange:
    change = SpecChange(
        added=[n for n in new.components if n not in old.components],
        removed=[n for n in old.components if n not in new.components],
        topics_added=[t for t in new.all_topics if t not in old.all_topics],
        topics_removed=[t for t in old.all_topics if t not in new.all_topics],
        buckets_added=[b for b in new.buckets if b not in old.buckets],
        buckets_removed=[b for b in old.buckets if b not in new.buckets],
    )
    for name, component in new.components.items():
        before = old.components.get(name)
        if before is None or before == component:
            continue
        change.changed[name] = _differences(before, component)
        if any(getattr(before, f) != getattr(component, f) for f in _RESTART_FIELDS):
            change.restart.append(name)
    return change


def _differences(old: ComponentSpec, new: ComponentSpec) -> list[str]:
    out = []
    for spec_field in fields(ComponentSpec):
        name = spec_field.name
        before, after = getattr(old, name), getattr(new, name)
        if before == after:
            continue
        if name in _SECRET_FIELDS:
            out.append(f"{name} keys {_changed_keys(before, after)} changed")
        elif name == "subscriptions":
            out.append(
                f"subscribe {_describe_subscriptions(before)} -> {_describe_subscriptions(after)}"
            )
        else:
            out.append(f"{name} {before!s} -> {after!s}")
    return out


def _changed_keys(before: Any, after: Any) -> list[str]:
    keys = set(before) | set(after)
    return sorted(k for k in keys if before.get(k) != after.get(k))


def _describe_subscriptions(subscriptions: Any) -> str:
    parts = []
    for s in subscriptions:
        text = s.topic
        if s.filter_policy:
            text += f" {s.filter_policy}"
        if not s.raw:
            text += " (enveloped)"
        parts.append(text)
    return "[" + ", ".join(parts) + "]"
