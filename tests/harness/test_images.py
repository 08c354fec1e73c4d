"""The images `pylon image build` makes: what is asked of pip and docker, and what comes out."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.containers.images import (
    harness_image_tag,
    pylon_recipes,
    source_checkout,
    wheel_commands,
)
from harness.emulators.images import ministack_recipe
from harness.emulators.ministack import MINISTACK_VERSION


def test_images_install_from_the_wheelhouse_only() -> None:
    recipes = [*pylon_recipes("debian-with-python"), ministack_recipe("debian-with-python")]

    assert {r.args["PIP_NO_INDEX"] for r in recipes} == {"1"}
    assert {r.args["BASE_IMAGE"] for r in recipes} == {"debian-with-python"}
    assert [r.target for r in recipes] == ["base", "harness", None]
    assert recipes[2].args["MINISTACK_VERSION"] == MINISTACK_VERSION


def test_wheelhouse_holds_pylons_dependencies_and_the_pinned_ministack() -> None:
    root = source_checkout()
    pylon_run, ministack_run = wheel_commands(
        root, root / "wheels", [*pylon_recipes("x"), ministack_recipe("x")]
    )

    assert f"{root}[harness]" in pylon_run
    assert {"setuptools>=69", "wheel"} <= set(pylon_run)
    assert ministack_run[-1] == f"ministack=={MINISTACK_VERSION}"


@pytest.mark.docker
@pytest.mark.slow
def test_image_build_makes_a_non_root_base_image_with_pylon(docker_engine: Any) -> None:
    result = CliRunner().invoke(app, ["image", "build"])  # --from: $PYLON_FROM_IMAGE or default

    assert result.exit_code == 0, result.output
    base = pylon_recipes("unused")[0].tag
    assert base in result.output and harness_image_tag() in result.output
    output = docker_engine.containers.run(
        base,
        ["python", "-c", "import os, pylon; print(os.getuid(), os.getcwd(), pylon.__file__)"],
        network_mode="host",
        remove=True,
    ).decode()
    uid, workdir, module = output.split()
    assert (uid, workdir) == ("10001", "/app")  # not root
    assert module.startswith("/opt/pylon/lib/") and module.endswith("site-packages/pylon/__init__.py")
    cli = docker_engine.containers.run(
        harness_image_tag(), ["pylon", "--help"], network_mode="host", remove=True
    ).decode()
    assert "provision" in cli
