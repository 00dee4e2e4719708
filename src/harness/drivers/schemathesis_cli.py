"""`python -m harness.drivers.schemathesis_cli`: schemathesis's command line, with long length bounds kept out
of patterns.

Schemathesis folds a string's minLength and maxLength into its pattern's quantifiers, so that generated text
meets both at once. For a text field bounded only by the body limit (a million characters) that makes
`[^...]{0,999999}`, and compiling each such regex costs about 0.9 s of CPU: two thirds of a fuzzing run went
there. Above FOLDED_UP_TO the bound stays where the document put it, in maxLength, which schemathesis still
checks and still exceeds in its negative cases; shorter bounds (ids, names) are folded as before. Measured on
the four services' documents: each run takes a third to a half of the time and generates more test cases.

Hypothesis keeps the Unicode tables its character strategies start from (every code point's category, and what
UTF-8 encodes: ~2 s of CPU to compute) under `.hypothesis` in the working directory, and each run has a fresh one
(harness.drivers.fuzzing): here they are kept in the suite's state dir instead, computed once per machine.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

from hypothesis.internal import charmap
from schemathesis.cli import schemathesis
from schemathesis.core.jsonschema import patterns
from schemathesis.generation.jsonschema import strategy
from schemathesis.specs.openapi import converter
from schemathesis.specs.openapi.coverage import _operation

from harness.infra.processes import STATE_DIR

FOLDED_UP_TO = 10_000
_fold = patterns.update_quantifier


def fold_short_bounds(pattern: str, min_length: int | None, max_length: int | None) -> str:
    if max_length is not None and max_length > FOLDED_UP_TO:
        return pattern
    return _fold(pattern, min_length, max_length)


# The modules that call it by the name they imported (schemathesis is pinned to the version these are read from).
for module in (converter, strategy, _operation):
    if not hasattr(module, "update_quantifier"):
        raise SystemExit(f"schemathesis changed: {module.__name__} no longer calls update_quantifier")
    module.update_quantifier = fold_short_bounds

UNICODE_TABLES = STATE_DIR / "hypothesis-unicode"


def unicode_table(name: str = "charmap") -> Path:
    """Where hypothesis reads (and, once, writes) a Unicode table: the state dir, for every run on this machine."""
    return UNICODE_TABLES / unicodedata.unidata_version / f"{name}.json.gz"


if hasattr(charmap, "charmap_file"):  # a speed-up only: a hypothesis without it computes the tables itself
    charmap.charmap_file = unicode_table

if __name__ == "__main__":
    sys.argv[0] = "schemathesis"
    schemathesis()
