"""Building images without a registry: the Pylon base and harness images, and the
machinery any recipe uses (the emulators' images are recipes of `harness.emulators`).

    pylon image build                         # pylon-base and pylon-harness
    pylon image build --emulator              # ... and the emulator images
    pylon image build --from my-debian:12     # on another image with python3 + venv

Every build installs Python packages only from `docker-images/wheelhouse`, which `pip wheel`
fills on the host first (from PyPI, or pip's cache). So the builds need no registry of
any kind inside Docker, as long as the image they start FROM is present locally; CI
builds that one from a debootstrap root filesystem (`.ci/docker-setup`).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import HarnessError

if TYPE_CHECKING:
    import docker

PYLON_VERSION = importlib.metadata.version("pylon-pipelines")
BASE_IMAGE_ENV_VAR = "PYLON_BASE_IMAGE"
FROM_IMAGE_ENV_VAR = "PYLON_FROM_IMAGE"
# What the Pylon images are built FROM unless told otherwise: Debian 12 with CPython 3.11,
# the version the project is developed and tested with.
DEFAULT_FROM_IMAGE = "python:3.11-slim-bookworm"
WHEELHOUSE = Path("docker-images") / "wheelhouse"

LogSink = Callable[[str], None]


class ImageBuildError(HarnessError):
    """An image, or the wheelhouse it installs from, cannot be built."""


def base_image_tag(environ: Mapping[str, str] = os.environ) -> str:
    """The image components run from: $PYLON_BASE_IMAGE, else `pylon-base:<version>`."""
    return environ.get(BASE_IMAGE_ENV_VAR) or f"pylon-base:{PYLON_VERSION}"


def from_image(environ: Mapping[str, str] = os.environ) -> str:
    """What the Pylon images are built on: $PYLON_FROM_IMAGE, else `DEFAULT_FROM_IMAGE`."""
    return environ.get(FROM_IMAGE_ENV_VAR) or DEFAULT_FROM_IMAGE


def harness_image_tag() -> str:
    return f"pylon-harness:{PYLON_VERSION}"


@dataclass(frozen=True)
class ImageRecipe:
    """One `docker build`: which Dockerfile, which stage, which build arguments, and the
    requirements (beyond Pylon's own) its image installs from the wheelhouse."""

    tag: str
    dockerfile: str
    target: str | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    wheels: tuple[str, ...] = ()
    # The build context, relative to the checkout (the Dockerfile is relative to it).
    context: str = "."


def pylon_recipes(from_image: str, base_tag: str | None = None) -> list[ImageRecipe]:
    """The base image (the runtime) and the harness image (runtime + `pylon` CLI)."""
    args = {"BASE_IMAGE": from_image, "PIP_NO_INDEX": "1"}
    return [
        ImageRecipe(base_tag or base_image_tag(), "Dockerfile", "base", args),
        ImageRecipe(harness_image_tag(), "Dockerfile", "harness", args),
    ]


def source_checkout() -> Path:
    """The Pylon checkout the images are built from (it holds the Dockerfile)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "Dockerfile").is_file() or not (root / "pyproject.toml").is_file():
        raise ImageBuildError(
            f"no Pylon source checkout around {root} (no Dockerfile there); the images are "
            "built from a checkout of the Pylon repository: run `pylon image build` from one"
        )
    return root


# ---------------------------------------------------------------- wheelhouse


def wheel_commands(
    root: Path, wheelhouse: Path, recipes: Sequence[ImageRecipe] = ()
) -> list[list[str]]:
    """The `pip wheel` runs that fill the wheelhouse: Pylon's, then one per recipe that
    asks for more.

    Separate runs because the environments conflict (MiniStack pins botocore exactly);
    setuptools and wheel are there for building Pylon itself inside the image.
    """
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheelhouse)]
    return [
        [*pip, f"{root}[harness]", "setuptools>=69", "wheel"],
        *([*pip, *recipe.wheels] for recipe in recipes if recipe.wheels),
    ]


def make_wheelhouse(root: Path, log: LogSink, recipes: Sequence[ImageRecipe] = ()) -> Path:
    """Fill `<root>/docker-images/wheelhouse` with every wheel the images install; return it."""
    wheelhouse = root / WHEELHOUSE
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for command in wheel_commands(root, wheelhouse, recipes):
        run_pip(command, log)
    # The images build Pylon from its source; a wheel of it here would only change with
    # every edit and invalidate Docker's cache of the layers installing the dependencies.
    for own_wheel in wheelhouse.glob("pylon_pipelines-*.whl"):
        own_wheel.unlink()
    return wheelhouse


def run_pip(command: Sequence[str], log: LogSink) -> None:
    """Run a `python -m pip ...` command for a wheelhouse; its last lines if it fails."""
    log(f"$ {' '.join(command[2:])}")
    result = subprocess.run(list(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
        raise ImageBuildError(
            f"`{' '.join(command[2:5])}` for an image wheelhouse failed "
            f"(exit {result.returncode}):\n{tail}"
        )


# ---------------------------------------------------------------- docker build


def build_image(engine: docker.DockerClient, root: Path, recipe: ImageRecipe, log: LogSink) -> str:
    """Build one recipe with the engine's classic builder; return the image id.

    The builder's RUN steps use the host network: an engine without a bridge
    (`dockerd --bridge=none`) has no other, and nothing inside needs more than loopback.
    """
    import docker.errors

    log(f"building {recipe.tag} ({recipe.dockerfile}{_stage(recipe)})")
    try:
        image, lines = engine.images.build(
            path=str(root / recipe.context),
            dockerfile=recipe.dockerfile,
            target=recipe.target,
            tag=recipe.tag,
            buildargs=dict(recipe.args),
            network_mode="host",
            rm=True,
        )
    except docker.errors.BuildError as exc:
        tail = "".join(str(line.get("stream", line.get("error", ""))) for line in exc.build_log)
        raise ImageBuildError(
            f"building {recipe.tag} from {recipe.dockerfile} failed: {exc.msg}\n"
            + "\n".join(tail.strip().splitlines()[-25:])
        ) from None
    except docker.errors.APIError as exc:
        raise ImageBuildError(
            f"building {recipe.tag}: the engine refused ({exc.explanation or exc}); is the "
            f"image it starts FROM ({recipe.args.get('BASE_IMAGE', '?')}) present or pullable?"
        ) from None
    for line in lines:
        text = str(line.get("stream", "")).rstrip()
        if text.startswith("Step "):
            log(text)
    return str(image.id)


def _stage(recipe: ImageRecipe) -> str:
    return f", stage {recipe.target}" if recipe.target else ""


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    image_id: str
    size_bytes: int


def build_images(
    engine: docker.DockerClient,
    recipes: Sequence[ImageRecipe],
    log: LogSink,
    root: Path | None = None,
) -> list[BuiltImage]:
    """Fill the wheelhouse, then build every recipe in order."""
    root = root or source_checkout()
    make_wheelhouse(root, log, recipes)
    built = []
    for recipe in recipes:
        image_id = build_image(engine, root, recipe, log)
        size = int(engine.images.get(image_id).attrs.get("Size", 0))
        built.append(BuiltImage(recipe.tag, image_id, size))
    return built


def image_present(engine: docker.DockerClient, tag: str) -> bool:
    import docker.errors

    try:
        engine.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def ensure_pylon_images(engine: docker.DockerClient, log: LogSink) -> str:
    """The base image's tag, building it and the harness image first if either is missing.

    Like testcontainers pulling a missing image: the first use on a machine takes a
    minute, later ones nothing. After changing Pylon itself, rebuild with `pylon image build`.
    """
    tag = base_image_tag()
    if not all(image_present(engine, t) for t in (tag, harness_image_tag())):
        log(f"{tag} or {harness_image_tag()} not found; building them from {from_image()}")
        build_images(engine, pylon_recipes(from_image(), tag), log)
    return tag
