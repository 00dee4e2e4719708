"""Which image each container of the suite runs, and the one sentence when none can run.

The settings name the official public images (`nats`, `pgvector/pgvector`); a machine with a registry pulls them
as usual. Where the official image is neither present nor pullable, the look-alike that docker/build-images builds
from Debian's packages and the wheels the suite already depends on takes its place, when it has been built.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from harness.infra.errors import InfrastructureUnavailable

BUILD_COMMAND = "docker/build-images"  # builds every look-alike that is missing; fast when they exist
LOCAL_REPOSITORY = "llm-acceptance"
LOCAL_TAG = "local"
# Every container, network and volume of the suite carries this label; its value is the run that made it.
RUN_LABEL = "org.llm-acceptance.run"


@dataclass(frozen=True)
class ImageSetting:
    """One server's image: the -D key and variable that choose it, the official default and its look-alike."""

    server: str
    userdata_key: str
    variable: str
    default: str
    lookalike: str


NATS = ImageSetting("NATS", "nats_image", "NATS_IMAGE", "nats:2.10", f"{LOCAL_REPOSITORY}/nats:{LOCAL_TAG}")
POSTGRES = ImageSetting("PostgreSQL with pgvector", "postgres_image", "POSTGRES_IMAGE", "pgvector/pgvector:pg17",
                        f"{LOCAL_REPOSITORY}/pgvector:{LOCAL_TAG}")
PLATFORM = ImageSetting("the platform's services", "platform_image", "PLATFORM_IMAGE",
                        f"{LOCAL_REPOSITORY}/platform:{LOCAL_TAG}", f"{LOCAL_REPOSITORY}/platform:{LOCAL_TAG}")
SETTINGS = (NATS, POSTGRES)


def chosen(setting: ImageSetting, userdata: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> str | None:
    """The image the run's settings name (-D first, then the variable), or None for the default."""
    value = userdata.get(setting.userdata_key) or environ.get(setting.variable, "")
    return value.strip() or None


def resolve(setting: ImageSetting, named: str | None, present: Callable[[str], bool],
            pull: Callable[[str], str | None]) -> str:
    """The image to run: the named one, else the official default, else the look-alike built here.

    `present(image)` says whether the engine has the image; `pull(image)` pulls it and returns None, or returns
    why it could not. An image named in the settings is used as named, never replaced.
    """
    wanted = named or setting.default
    if present(wanted):
        return wanted
    why = pull(wanted)
    if why is None:
        return wanted
    if named is None and present(setting.lookalike):
        return setting.lookalike
    if named is None:
        raise InfrastructureUnavailable(
            f"the {setting.server} image {wanted} is not on this Docker engine and cannot be pulled ({why}); "
            f"build the local look-alike with {BUILD_COMMAND}, or name an image with -D {setting.userdata_key}=...")
    raise InfrastructureUnavailable(
        f"the {setting.server} image {wanted} (from -D {setting.userdata_key} or {setting.variable}) is not on this "
        f"Docker engine and cannot be pulled ({why}); load or build it, or drop the setting to use {setting.default}")


def short_reason(error: BaseException) -> str:
    """The engine's answer without its HTTP wrapping, first line only, for a one-sentence message."""
    text = getattr(error, "explanation", None) or str(error)
    text = str(text).strip().splitlines()[0] if str(text).strip() else type(error).__name__
    return text.rstrip(".")[:200]
