"""The emulators' own images, built like the Pylon images (`harness.containers.images`).

pylon image build --emulator      # pylon-ministack:<version>: MiniStack in a container
pylon image build --localstack    # pylon-localstack:2026.3.0: real LocalStack, from
                                  # localstack/ (Dockerfile, hash-locked requirements)
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from harness.containers.images import (
    BuiltImage,
    ImageBuildError,
    ImageRecipe,
    LogSink,
    build_image,
    image_present,
    run_pip,
    source_checkout,
)
from harness.emulators.localstack import BUILT_IMAGE
from harness.emulators.ministack import MINISTACK_VERSION

if TYPE_CHECKING:
    import docker


def ministack_image_tag() -> str:
    return f"pylon-ministack:{MINISTACK_VERSION}"


def ministack_recipe(from_image: str) -> ImageRecipe:
    """MiniStack in an image: the embedded emulator's twin, in a container."""
    args = {"BASE_IMAGE": from_image, "PIP_NO_INDEX": "1", "MINISTACK_VERSION": MINISTACK_VERSION}
    return ImageRecipe(
        ministack_image_tag(),
        "docker-images/ministack.Dockerfile",
        None,
        args,
        wheels=(f"ministack=={MINISTACK_VERSION}",),
    )


def emulator_recipes(from_image: str) -> list[ImageRecipe]:
    """The images `pylon image build --emulator` builds on the Pylon images' base."""
    return [ministack_recipe(from_image)]


# ---------------------------------------------------------------- LocalStack

LOCALSTACK_DIR = Path("localstack")
LOCALSTACK_FROM_ENV_VAR = "PYLON_LOCALSTACK_FROM_IMAGE"
# A Debian trixie root filesystem with python3 (3.13) and python3-venv, made offline by
# `docker-images/debian-rootfs-image trixie` (debootstrap + docker import).
DEFAULT_LOCALSTACK_FROM = "pylon-debian:trixie"
# The interpreter and platform requirements.txt was resolved for (see its header).
_TARGET = [
    "--python-version", "3.13", "--implementation", "cp",
    "--abi", "cp313", "--abi", "abi3", "--abi", "none",
    "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_17_x86_64",
    "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_5_x86_64",
    "--platform", "manylinux1_x86_64", "--platform", "any",
]  # fmt: skip


def localstack_from_image(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get(LOCALSTACK_FROM_ENV_VAR) or DEFAULT_LOCALSTACK_FROM


def localstack_recipe(from_image: str) -> ImageRecipe:
    """Real LocalStack from `localstack/Dockerfile`, installed from its own wheelhouse."""
    return ImageRecipe(
        BUILT_IMAGE, "Dockerfile", None, {"BASE_IMAGE": from_image}, context=str(LOCALSTACK_DIR)
    )


def localstack_wheel_commands(root: Path) -> list[list[str]]:
    """`pip download` runs that fill localstack/wheelhouse for Python 3.13 on x86_64.

    `--no-deps` with the hash-locked list: exactly the pinned files, hash-checked, and
    source archives for the three dependencies that publish no wheel (pure Python,
    built inside the image with the setuptools and wheel fetched alongside).
    """
    wheelhouse = root / LOCALSTACK_DIR / "wheelhouse"
    pip = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--dest",
        str(wheelhouse),
    ]
    return [
        [*pip, *_TARGET, "--require-hashes", "-r", str(root / LOCALSTACK_DIR / "requirements.txt")],
        [*pip, "--only-binary=:all:", *_TARGET, "setuptools", "wheel"],
    ]


def fill_localstack_wheelhouse(root: Path, log: LogSink) -> None:
    if platform.machine() not in ("x86_64", "AMD64"):
        raise ImageBuildError(
            f"localstack/requirements.txt is resolved for x86_64; this machine is "
            f"{platform.machine()}: re-lock it for this platform (`make localstack-lock`)"
        )
    (root / LOCALSTACK_DIR / "wheelhouse").mkdir(parents=True, exist_ok=True)
    for command in localstack_wheel_commands(root):
        run_pip(command, log)


def build_localstack_image(
    docker_engine: docker.DockerClient, log: LogSink, from_image: str | None = None
) -> BuiltImage:
    """Fill LocalStack's wheelhouse, then build `pylon-localstack:<version>`; say how long."""
    root = source_checkout()
    started = time.monotonic()
    base = from_image or localstack_from_image()
    if not image_present(docker_engine, base):
        raise ImageBuildError(
            f"LocalStack's image is built FROM {base}, which this engine does not have: make "
            "it offline with `docker-images/debian-rootfs-image trixie` (debootstrap), or "
            f"name a Debian trixie image with python3 and python3-venv in ${LOCALSTACK_FROM_ENV_VAR}"
        )
    fill_localstack_wheelhouse(root, log)
    recipe = localstack_recipe(base)
    image_id = build_image(docker_engine, root, recipe, log)
    log(f"built {recipe.tag} in {time.monotonic() - started:.0f} s")
    size = int(docker_engine.images.get(image_id).attrs.get("Size", 0))
    return BuiltImage(recipe.tag, image_id, size)
