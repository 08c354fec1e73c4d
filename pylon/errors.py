"""The Pylon error hierarchy.

Every error says what was wrong, where, and what to do about it, so that a log line
is enough to fix the problem without reading Pylon's source.
"""

from __future__ import annotations


class PylonError(Exception):
    """Base of every error Pylon raises on purpose."""


class ConfigError(PylonError):
    """PYLON_CONFIG, the .env file or the environment is missing or malformed."""


class ValidationError(PylonError):
    """A model field (message attribute, body field) has a wrong or missing value."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


class MessageDecodeError(PylonError):
    """An incoming message cannot be turned into a BaseMessage; it is left in the queue."""


class PayloadError(PylonError):
    """An S3 payload cannot be stored or retrieved."""


class PublishError(PylonError):
    """Publishing or sending one or more entries failed; the input is not deleted."""


class TaskError(PylonError):
    """The user's task raised or returned something Pylon cannot publish."""
