"""Runnable example pipelines built with Pylon."""
