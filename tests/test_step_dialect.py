"""The step dialect, checked: every step has a one-line docstring and every field a registered type.
(What the steps may import of the platform is import-linter's to check: `lint-imports`.)"""

import re
import runpy
from pathlib import Path

import pytest
from behave import step_registry

from harness.step_types import TYPES, register_step_types

STEPS = sorted((Path(__file__).parent.parent / "steps").glob("*_steps.py"))
FIELD = re.compile(r"\{(\w+)(?::(\w+))?\}")
PARSE_TYPES = {"d", "g"}  # parse's own integer and number types


@pytest.fixture(scope="module")
def registered():
    register_step_types()
    registry = step_registry.registry = step_registry.StepRegistry()
    for path in STEPS:
        runpy.run_path(str(path))
    return [matcher for matchers in registry.steps.values() for matcher in matchers]


def test_every_step_has_a_one_line_docstring(registered):
    missing = [m.pattern for m in registered if not (m.func.__doc__ or "").strip()]
    assert not missing, f"steps without a docstring: {missing}"


def test_every_field_uses_a_registered_type(registered):
    untyped = [(m.pattern, name, kind) for m in registered for name, kind in FIELD.findall(m.pattern)
               if kind not in TYPES and kind not in PARSE_TYPES]
    assert not untyped, f"fields without a registered type: {untyped}"


def test_every_scenario_and_outline_row_has_a_name_of_its_own():
    """Outline rows are named by their values alone (pyproject's annotation schema): the terminal, JUnit and
    Allure tell rows apart only if each outline's placeholders make every row's name unique."""
    import subprocess
    from collections import Counter

    listed = subprocess.run(["behave", "--dry-run", "--no-summary", "-f", "plain", "-D", "allure=off", "features/"],
                            cwd=Path(__file__).parent.parent, capture_output=True, text=True, check=True).stdout
    names = Counter(re.sub(r"^\s*Scenario(?: Outline)?: ", "", line) for line in listed.splitlines()
                    if re.match(r"^\s*Scenario", line))
    assert len(names) > 200, f"expected the whole suite listed, found {len(names)} scenarios"
    shared = [name for name, count in names.items() if count > 1]
    assert not shared, f"scenarios sharing a name: {shared}"
