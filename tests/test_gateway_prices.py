"""The operator's price list: parsed from GATEWAY_PRICES, refused in one sentence when it is wrong."""

import pytest

from ai_platform.gateway import Price
from ai_platform.services.gateway import prices_from

MODELS = ("chat", "embedding")


def test_prices_are_read_per_model_in_usd_per_million_tokens():
    prices = prices_from("chat=2.5/10, embedding=0.02", MODELS)
    assert prices == {"chat": Price(2.5, 10.0), "embedding": Price(0.02, 0.0)}
    assert prices["chat"].of(1_000, 200) == pytest.approx(0.0045)


@pytest.mark.parametrize(("listed", "named"), [
    ("chat=cheap", "'chat=cheap'"),
    ("chat=1/2/3", "'chat=1/2/3'"),
    ("gpt-9=1/2", "'gpt-9'"),
])
def test_a_wrong_price_list_is_refused_naming_the_entry(listed, named):
    with pytest.raises(ValueError) as refused:
        prices_from(listed, MODELS)
    assert named in str(refused.value) and "GATEWAY_PRICES" in str(refused.value)


def test_no_price_list_costs_nothing():
    assert prices_from("", MODELS) == {}
