"""FIFO topics and queues: which message group an output goes to, and its de-duplication id.

AWS keeps order per message group and drops a message whose de-duplication id it saw in
the last five minutes. Pylon gives every output published to a FIFO topic:

- **its group**, the first of: the component's `message_group` function of the output
  (`@pylon.PipelineComponent(message_group=lambda m: m.attributes["station"])`); the
  output's attribute named by `MESSAGE_GROUP_ATTRIBUTE` in its config; the group of the
  input it came from (so a group stays a group through every stage); for a source, the
  component's name (one group: total order). The step record goes with its outputs.
- **its de-duplication id**, `<ingestionId>-<n>`: the step's deterministic id and the
  output's position. A message processed again (redelivered after a crash) publishes the
  same ids, so SNS drops the repeats: downstream sees each output once.

A group id is 1 to 128 characters of letters, digits and ASCII punctuation; anything else
fails the message with an error naming the group and the rule (AWS would refuse it).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from pylon.errors import PublishError
from pylon.execution import Execution
from pylon.hooks import Hook
from pylon.models.messages import BaseMessage, ObjectType

FIFO_SUFFIX = ".fifo"
MAX_GROUP_ID_CHARACTERS = 128
_GROUP_ID = re.compile(r"""[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]+""")

GroupOf = Callable[[BaseMessage], str]


def is_fifo(name_or_address: str) -> bool:
    """A FIFO topic or queue, by its name, ARN or URL (AWS requires the `.fifo` suffix)."""
    return name_or_address.rstrip("/").endswith(FIFO_SUFFIX)


def check_group_id(group_id: object, where: str) -> str:
    """`group_id` if AWS would take it as a MessageGroupId; else a PublishError saying why."""
    if group_id is None or group_id == "":
        raise PublishError(f"{where}: a FIFO topic or queue needs a message group id, and none was given")
    text = str(group_id)
    if len(text) > MAX_GROUP_ID_CHARACTERS:
        raise PublishError(
            f"{where}: message group id {text[:40]!r}… is {len(text)} characters; "
            f"AWS takes at most {MAX_GROUP_ID_CHARACTERS}"
        )
    if not _GROUP_ID.fullmatch(text):
        raise PublishError(
            f"{where}: message group id {text!r} may hold only letters, digits and ASCII "
            "punctuation (no spaces or other characters)"
        )
    return text


class FifoHook(Hook):
    """Before publishing to a FIFO topic: each wire gets its group and de-duplication id."""

    def __init__(
        self, default_group: str, group_of: GroupOf | None = None, group_attribute: str | None = None
    ) -> None:
        self._default = default_group
        self._group_of = group_of
        self._attribute = group_attribute

    def before_publish(self, execution: Execution) -> None:
        step = execution.ingestion_step
        base = step.ingestionId if step is not None else execution.label
        inherited = execution.inbound.group_id if execution.inbound is not None else None
        groups = self._groups(execution, inherited)
        execution.wires = [
            dataclasses.replace(wire, group_id=group, deduplication_id=f"{base}-{index}")
            for index, (wire, group) in enumerate(zip(execution.wires, groups, strict=True))
        ]

    def _groups(self, execution: Execution, inherited: str | None) -> list[str]:
        groups: list[str] = []
        for index, message in enumerate(execution.outputs):
            where = f"{execution.label}: output {index}"
            if message.objectType is ObjectType.INGESTION_STEP:
                group = groups[-1] if groups else inherited or self._default
            else:
                group = self._chosen(message, where) or inherited or self._default
            groups.append(check_group_id(group, where))
        return groups

    def _chosen(self, message: BaseMessage, where: str) -> str | None:
        if self._group_of is not None:
            try:
                return str(self._group_of(message))
            except Exception as error:
                raise PublishError(f"{where}: message_group raised {type(error).__name__}: {error}") from error
        if self._attribute is not None:
            value = message.attributes.get(self._attribute)
            if value is None:
                raise PublishError(
                    f"{where}: MESSAGE_GROUP_ATTRIBUTE is {self._attribute!r} but the output has "
                    f"no such attribute (it has {sorted(message.attributes)})"
                )
            return str(value)
        return None
