"""The emulators' own images, built like the Pylon images (`harness.containers.images`).

pylon image build --emulator      # pylon-ministack:<version>: MiniStack, same gateway
                                  # and health endpoint as LocalStack's
"""

from __future__ import annotations

from harness.containers.images import ImageRecipe
from harness.emulators.ministack import MINISTACK_VERSION


def ministack_image_tag() -> str:
    return f"pylon-ministack:{MINISTACK_VERSION}"


def ministack_recipe(from_image: str) -> ImageRecipe:
    """MiniStack in an image: a stand-in where a LocalStack-compatible container is wanted."""
    args = {"BASE_IMAGE": from_image, "PIP_NO_INDEX": "1", "MINISTACK_VERSION": MINISTACK_VERSION}
    return ImageRecipe(
        ministack_image_tag(),
        "docker-images/ministack.Dockerfile",
        None,
        args,
        wheels=(f"ministack=={MINISTACK_VERSION}",),
    )


def emulator_recipes(from_image: str) -> list[ImageRecipe]:
    """Every emulator image `pylon image build --emulator` builds."""
    return [ministack_recipe(from_image)]
