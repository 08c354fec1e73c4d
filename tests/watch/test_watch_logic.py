"""Hot reload's pure logic: which files make a component, the spec diff, crash reports."""

from __future__ import annotations

from pathlib import Path

from harness.spec import spec_from_dict
from harness.watch.health import QuietRetries, backoff_seconds
from harness.watch.sources import code_version, source_files
from harness.watch.spec_changes import diff_specs


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_component_is_its_module_and_the_project_modules_it_imports(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/parser.py": "import json\nfrom . import rows\nfrom .util import helper\nimport pylon\n",
        "app/fetcher.py": "from app.util import helper\n",
        "app/rows.py": "from .deep.leaf import x\n",
        "app/deep/__init__.py": "",
        "app/deep/leaf.py": "x = 1\n",
        "app/util.py": "helper = 1\n",
        "app/unrelated.py": "",
    })  # fmt: skip

    parser = {p.relative_to(tmp_path).as_posix() for p in source_files("app.parser:f", tmp_path)}
    fetcher = {p.relative_to(tmp_path).as_posix() for p in source_files("app.fetcher:f", tmp_path)}

    assert parser == {"app/__init__.py", "app/parser.py", "app/rows.py", "app/util.py",
                      "app/deep/__init__.py", "app/deep/leaf.py"}  # fmt: skip
    assert fetcher == {"app/__init__.py", "app/fetcher.py", "app/util.py"}
    assert source_files("missing.module:f", tmp_path) == frozenset()


def test_a_file_mid_edit_does_not_break_the_reading(tmp_path: Path) -> None:
    write(tmp_path, {"m.py": "def broken(:\n"})
    assert source_files("m:f", tmp_path) == frozenset({tmp_path / "m.py"})


def test_the_code_version_changes_with_the_code_only(tmp_path: Path) -> None:
    write(tmp_path, {"m.py": "x = 1\n"})
    files = [tmp_path / "m.py"]
    first = code_version(files, tmp_path)
    assert code_version(files, tmp_path) == first and len(first) == 8
    (tmp_path / "m.py").write_text("x = 2\n")
    assert code_version(files, tmp_path) != first


SPEC = {
    "name": "p",
    "topics": ["in"],
    "components": {
        "a": {"type": "pipeline", "entrypoint": "m:a", "subscribe": ["in"], "output_topic": "mid",
              "config": {"TOKEN": "secret-1"}},
        "b": {"type": "sink", "entrypoint": "m:b", "subscribe": ["mid"]},
    },
}  # fmt: skip


def test_the_spec_diff_says_what_changed_and_what_restarts_without_config_values() -> None:
    old = spec_from_dict(SPEC)
    changed = {**SPEC, "components": {
        "a": {**SPEC["components"]["a"], "config": {"TOKEN": "secret-2"}, "visibility_timeout": 60},
        "c": {"type": "sink", "entrypoint": "m:c", "subscribe": [{"topic": "in", "filter": {"k": ["v"]}}]},
    }}  # fmt: skip

    change = diff_specs(old, spec_from_dict(changed))
    text = "\n".join(change.lines(prune=False))

    assert (change.added, change.removed, change.restart) == (["c"], ["b"], ["a"])
    assert (
        "~ component a: config keys ['TOKEN'] changed; visibility_timeout 30 -> 60 (restarted)"
        in text
    )
    assert "- component b: stopped (resources kept; --prune removes them)" in text
    assert "secret" not in text
    assert "- component b: stopped\n" in "\n".join(change.lines(prune=True)) + "\n"
    assert diff_specs(old, spec_from_dict(SPEC)).empty


def test_a_filter_change_applies_in_place() -> None:
    changed = {**SPEC, "components": {**SPEC["components"], "b": {
        "type": "sink", "entrypoint": "m:b", "subscribe": [{"topic": "mid", "filter": {"k": ["v"]}}]}}}  # fmt: skip
    change = diff_specs(spec_from_dict(SPEC), spec_from_dict(changed))
    assert (
        change.restart == []
        and "subscribe [mid] -> [mid {'k': ['v']}] (applied in place)" in change.lines(False)[0]
    )


def test_backoff_doubles_up_to_thirty_seconds() -> None:
    assert [backoff_seconds(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


TRACEBACK = ["error: component m:a failed to load:", '  File "m.py", line 1', "    def broken(:",
             "               ^", "SyntaxError: invalid syntax"]  # fmt: skip


def test_a_crash_report_is_shown_once_and_log_lines_still_flow() -> None:
    shown: list[str] = []
    output = QuietRetries(lambda name, line: shown.append(line))

    for line in TRACEBACK[:2]:
        output("a", line)
    output("a", "06:20:03,932 INFO pylon timed_execution total 0.3 ms")  # the old process
    for line in TRACEBACK[2:]:
        output("a", line)
    assert output.crashed("a") is True
    for line in TRACEBACK:  # the retry fails the same way
        output("a", line)
    assert output.crashed("a") is False
    output("a", "a line of its own")

    assert shown == [
        "06:20:03,932 INFO pylon timed_execution total 0.3 ms",
        *TRACEBACK,
        "a line of its own",
    ]
    output.stable("a")
    for line in TRACEBACK:  # after running well, the same crash is news again
        output("a", line)
    assert shown[-5:] == TRACEBACK


def test_an_unfinished_report_is_settled_when_the_process_ends() -> None:
    shown: list[str] = []
    output = QuietRetries(lambda name, line: shown.append(line))
    output("a", "error: entrypoint 'm:a': cannot import module 'm'")
    assert shown == []
    assert output.crashed("a") is True
    assert shown == ["error: entrypoint 'm:a': cannot import module 'm'"]
