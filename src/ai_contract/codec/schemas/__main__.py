"""``python -m ai_contract.codec.schemas <outdir>``: publish the message JSON Schemas."""

from __future__ import annotations

import argparse
import sys

from . import write_json_schemas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ai_contract.codec.schemas",
        description="Write the JSON Schema of every message type and version to a folder.",
    )
    parser.add_argument("outdir", help="folder to write <type>-<version>.schema.json files into")
    args = parser.parse_args(argv)
    for path in write_json_schemas(args.outdir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
