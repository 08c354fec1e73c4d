"""Tools for developing Pylon itself (not shipped): custom import-linter contracts."""
