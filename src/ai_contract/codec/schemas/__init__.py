"""Message shapes per type and version, the envelope around them, and their JSON Schemas.

``python -m ai_contract.codec.schemas <outdir>`` writes one JSON Schema file per message
type and version, so producers in other teams can validate before they publish.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from . import v0, v1

# "(?!\n)$" is the end of the text in both regex dialects: Python's "$" alone (re.search, as
# Python JSON Schema validators use it) also matches before a final line break.
VERSION_PATTERN = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?!\n)$"
_VERSION_RE = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")  # used with fullmatch

MESSAGE_TYPES: tuple[str, ...] = tuple(v1.SHAPES)
CURRENT_VERSIONS: dict[str, str] = {name: v1.VERSION for name in v1.SHAPES}

# Every shape this codec knows, current and legacy, by (message_type, version).
SHAPES: dict[tuple[str, str], type[msgspec.Struct]] = {
    **{(name, v1.VERSION): shape for name, shape in v1.SHAPES.items()},
    **{(name, v0.VERSION): shape for name, shape in v0.SHAPES.items()},
}

# No pattern here: a regex check costs half the decode time of a small message, so readers
# check the version themselves (parse_version) and the published schemas pin it per major.
Version = Annotated[str, Meta(description="Version of the data shape, MAJOR.MINOR.")]


def parse_version(version: str) -> tuple[int, int] | None:
    """``"1.2"`` -> ``(1, 2)``; None when the text is not exactly MAJOR.MINOR (no spaces, no
    line break, ASCII digits only)."""
    match = _VERSION_RE.fullmatch(version) if isinstance(version, str) else None
    return (int(match[1]), int(match[2])) if match else None


def versions_of(message_type: str) -> list[str]:
    """Known versions of a message type, oldest first."""
    found = [version for (name, version) in SHAPES if name == message_type]
    return sorted(found, key=parse_version)


@cache
def envelope_type(message_type: str, version: str) -> type[msgspec.Struct]:
    """The envelope Struct carrying ``message_type`` data of ``version``.

    ``message_type`` is the Struct tag, so a Union of envelope types decodes any message
    in one typed pass.
    """
    return _define_envelope(message_type, version, Version)


def _define_envelope(message_type: str, version: str, version_type: Any) -> type[msgspec.Struct]:
    shape = SHAPES[(message_type, version)]
    return msgspec.defstruct(
        f"{shape.__name__}Envelope",
        [
            ("schema_version", version_type),
            ("message_id", Annotated[v1.Id, Meta(description="Unique per message.")]),
            ("created_at", v1.Timestamp),
            ("data", shape),
        ],
        tag_field="message_type",
        tag=message_type,
        kw_only=True,
        gc=False,  # short-lived wrappers that never form cycles; skip GC tracking
        module=__name__,
    )


def json_schema(message_type: str, version: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a whole envelope of this type and version.

    ``schema_version`` is pinned to the version's major: a reader of that major accepts any
    minor, ignoring fields it does not know.
    """
    major = version.split(".", 1)[0]
    pinned = Annotated[
        str,
        Meta(
            pattern=rf"^{major}\.(0|[1-9][0-9]*)(?!\n)$",
            examples=[version],
            description=f"Version of the data shape; major {major}, any minor.",
        ),
    ]
    schema = msgspec.json.schema(_define_envelope(message_type, version, pinned))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"ai-platform/codec/{message_type}/{version}",
        "title": f"{message_type} {version} envelope",
        **schema,
    }


def json_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """JSON Schemas of every known message type and version, keyed by (type, version)."""
    return {
        (name, version): json_schema(name, version)
        for name in MESSAGE_TYPES
        for version in versions_of(name)
    }


def schema_filename(message_type: str, version: str) -> str:
    return f"{message_type}-{version}.schema.json"


def write_json_schemas(outdir: str | Path) -> list[Path]:
    """Write every schema as ``<type>-<version>.schema.json`` into ``outdir``; return paths."""
    target = Path(outdir)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for (name, version), schema in json_schemas().items():
        path = target / schema_filename(name, version)
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
