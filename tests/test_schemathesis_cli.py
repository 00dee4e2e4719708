"""The fuzzing's schemathesis command folds short length bounds into patterns and leaves long ones in maxLength."""

from harness.drivers.schemathesis_cli import FOLDED_UP_TO, fold_short_bounds

TEXT = "^[^\\x00-\\x08]*$"


def test_a_short_bound_is_folded_into_the_pattern():
    folded = fold_short_bounds(TEXT, 1, 64)
    assert folded != TEXT and "64" in folded, folded


def test_a_bound_above_the_limit_stays_out_of_the_pattern():
    assert fold_short_bounds(TEXT, 1, FOLDED_UP_TO + 1) == TEXT
    assert fold_short_bounds(TEXT, 0, 1_000_000) == TEXT
