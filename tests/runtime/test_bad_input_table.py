"""The README's "What bad input gets" table is exactly the bad-input tests' cases."""

from __future__ import annotations

from tests.runtime.bad_input_table import README, TABLES, readme_table, render, rows


def test_the_readme_table_is_the_tests_table() -> None:
    assert readme_table(README.read_text()) == render(), (
        "README.md's bad-input table is out of date: run `python -m tests.runtime.bad_input_table`"
    )


def test_the_table_has_at_least_forty_distinct_tested_cases() -> None:
    ids = [param.id for table in TABLES for param in table.params]
    assert len(ids) == len(set(ids)) == len(rows())
    assert len(ids) >= 40
