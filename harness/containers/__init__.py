"""Docker for the harness: the engine, the images Pylon builds, components as containers.

Everything here needs the `docker` extra (`pip install 'pylon-pipelines[docker]'`) and a
reachable Docker engine; `engine.unavailable_reason()` says why one cannot be used.
"""
