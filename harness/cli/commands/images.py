"""`pylon image build` and `pylon layer build`: the Docker images and the Lambda layer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.shell import console, progress, run_command
from harness.containers import engine, images
from harness.containers.images import DEFAULT_FROM_IMAGE, FROM_IMAGE_ENV_VAR
from harness.emulators.images import (
    DEFAULT_LOCALSTACK_FROM,
    LOCALSTACK_FROM_ENV_VAR,
    build_localstack_image,
    emulator_recipes,
)
from harness.packaging.layer import Architecture, BuiltLayer, LayerTarget, build_layer

image_app = typer.Typer(
    help="Docker images: the Pylon base and harness images, MiniStack's, real LocalStack's.",
    no_args_is_help=True,
)
layer_app = typer.Typer(
    help="The Lambda layer with Pylon and its dependencies.", no_args_is_help=True
)


PANEL = "Packaging"


def register(app: typer.Typer) -> None:
    app.add_typer(image_app, name="image", rich_help_panel=PANEL)
    app.add_typer(layer_app, name="layer", rich_help_panel=PANEL)


@layer_app.command("build")
def layer_build(
    python: Annotated[str, typer.Option(help="Lambda Python runtime version.")] = "3.11",
    arch: Annotated[
        Architecture, typer.Option(help="Lambda architecture the wheels must run on.")
    ] = Architecture.X86_64,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Zip to write (default: a name per target)."),
    ] = None,
    with_sdk: Annotated[
        bool, typer.Option(help="Also ship boto3/botocore (Lambda's runtimes provide them).")
    ] = False,
    find_links: Annotated[
        list[Path] | None, typer.Option(help="Also look for wheels here (repeatable).")
    ] = None,
) -> None:
    """Build a layer zip (python/...) for a Python version and architecture; print its size."""

    def action() -> BuiltLayer:
        target = LayerTarget(python, arch, with_sdk, tuple(find_links or ()))
        path = output or Path(f"pylon-layer-python{python}-{arch.value}.zip")
        with progress(f"resolving Pylon's dependencies for python{python} {arch.value}"):
            return build_layer(target, path)

    _print_layer(run_command(action), python, arch)


def _print_layer(built: BuiltLayer, python: str, arch: Architecture) -> None:
    console.print(
        f"[bold]{built.path}[/bold]: layer for python{python} {arch.value}, "
        f"{built.size_bytes / 1024:.0f} KiB zipped, {built.unzipped_bytes / 1024:.0f} KiB "
        f"unzipped, {built.entries} files"
    )
    console.print(f"  with {', '.join(built.distributions)}")


@image_app.command("build")
def image_build(
    from_image: Annotated[
        str,
        typer.Option(
            "--from",
            envvar=FROM_IMAGE_ENV_VAR,
            help="Image to build on: Debian-like with python3 and its venv module.",
        ),
    ] = DEFAULT_FROM_IMAGE,
    emulator: Annotated[
        bool, typer.Option(help="Also build pylon-ministack: MiniStack in a container.")
    ] = False,
    localstack: Annotated[
        bool,
        typer.Option(help="Also build pylon-localstack: real LocalStack, from localstack/."),
    ] = False,
    localstack_from: Annotated[
        str,
        typer.Option(
            envvar=LOCALSTACK_FROM_ENV_VAR,
            help="Image LocalStack's is built on: Debian trixie with python3 (3.13) and venv.",
        ),
    ] = DEFAULT_LOCALSTACK_FROM,
) -> None:
    """Fill the wheelhouses with pip, then build the images from them (no registry needed)."""

    def action() -> list[images.BuiltImage]:
        recipes = images.pylon_recipes(from_image)
        if emulator:
            recipes += emulator_recipes(from_image)
        docker_engine = engine.client()
        try:
            built = images.build_images(docker_engine, recipes, _log)
            if localstack:
                built.append(build_localstack_image(docker_engine, _log, localstack_from))
            return built
        finally:
            docker_engine.close()

    for built in run_command(action):
        console.print(
            f"[bold]{built.tag}[/bold] {built.image_id[7:19]} {built.size_bytes / 1e6:.0f} MB"
        )


def _log(line: str) -> None:
    console.print(f"[dim]{line}[/dim]")
