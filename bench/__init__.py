"""Pylon's benchmarks: figures measured beside a baseline taken in the same run.

Run one with `python -m bench.<name>` (see `--help`), or all of them and regenerate
`bench/RESULTS.md` with `make bench`. Nothing here asserts on time: targets are reported
beside the figures, and a script exits non-zero only when it could not measure.
"""
