"""`make help` says what `make ci` runs: every part .ci/run times (its "ci time:" lines), in order, with how long
it takes, and a total that adds up."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def ci_parts() -> list[str]:
    """The parts .ci/run times, by the label of their "ci time:" line without its parenthesis."""
    labels = re.findall(r'^\s*took "([^"]+)"', (ROOT / ".ci" / "run").read_text(), re.M)
    return [label.split(" (")[0] for label in labels]


def test_make_help_names_every_part_of_make_ci_with_its_time():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    listing = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout
    ci = next((line for line in listing.splitlines() if line.startswith("ci\t")), "")
    assert ci, f"make help lists no ci target:\n{listing}"

    parts = ci_parts()
    assert len(parts) >= 5, f"expected .ci/run to time its parts, found {parts}"
    pattern = r"; ".join(rf"{re.escape(part)} ~(\d+) s[^;]*" for part in parts)
    timed = re.search(pattern, ci)
    assert timed, f"expected make help's ci line to give, in order, '<part> ~N s' for each of {parts}:\n{ci}"

    total_s = sum(int(seconds) for seconds in timed.groups())
    said = re.search(r"about (\d+) min", ci)
    assert said and abs(int(said.group(1)) - total_s / 60) <= 1, (
        f"expected the ci line to say about {total_s / 60:.0f} min in all (its parts add up to {total_s} s):\n{ci}")
