"""behave's closing counts, read from a run's output, and the one line CI prints for them.

behave ends with lines such as "483 scenarios passed, 0 failed, 8 skipped"; an error of any kind adds a count
between failed and skipped ("1 error", "1 hook_error", "1 cleanup_error"). CI counts every kind of error as a
failure:

    python -m harness.reporting.counts LABEL OUTPUT_FILE

prints "LABEL: N passed, N failed, N skipped" for the last scenario line in the file and exits 1 when something
failed or the file has no such line.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SUMMARY = re.compile(r"^(\d+) (feature|scenario|step)s? passed, (\d+) failed((?:, \d+ [a-z_]*error)*), (\d+) skipped")
ERRORS = re.compile(r"(\d+) [a-z_]*error")


def closing_counts(output: str) -> dict[str, list[int]]:
    """The last closing line of each kind in the output: [passed, failed, errors of any kind, skipped]."""
    found = {}
    for line in output.splitlines():
        match = SUMMARY.match(line)
        if match:
            errors = sum(int(count) for count in ERRORS.findall(match[4]))
            found[match[2]] = [int(match[1]), int(match[3]), errors, int(match[5])]
    return found


def main(argv: list[str]) -> int:
    label, path = argv
    scenarios = closing_counts(Path(path).read_text(errors="replace")).get("scenario")
    if scenarios is None:
        print(f"{label}: behave printed no scenario summary")
        return 1
    passed, failed, errors, skipped = scenarios
    print(f"{label}: {passed} passed, {failed + errors} failed, {skipped} skipped")
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
