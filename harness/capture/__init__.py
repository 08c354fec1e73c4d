"""Capture and replay: real traffic to a JSON Lines file, and back into a local pipeline."""
