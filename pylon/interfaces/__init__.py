"""Interfaces user types implement to travel through Pylon."""

from pylon.interfaces.serializing import JsonSerializable

__all__ = ["JsonSerializable"]
