"""Tenant keys, the operator key and the masking of secrets in log records."""

import logging

import pytest

from ai_platform.services.identity import Keys, bearer
from ai_platform.services.redaction import MASK, mask, mask_secrets_in_logs

KEYS = Keys("secret-for-tests-0123456789", "operator-for-tests-0123456789")


def test_a_tenant_key_names_its_tenant_and_no_other():
    key = KEYS.tenant_key("acme")
    assert KEYS.tenant_of(key) == "acme"
    assert KEYS.tenant_of(key.replace("acme", "globex")) is None  # the signature is acme's
    assert Keys("another-secret-0123456789", "x" * 12).tenant_of(key) is None
    assert KEYS.tenant_of("tk.acme.") is None and KEYS.tenant_of("sk-anything") is None


def test_the_operator_key_is_not_a_tenant_key():
    assert KEYS.is_operator("operator-for-tests-0123456789")
    assert KEYS.tenant_of("operator-for-tests-0123456789") is None
    assert not KEYS.is_operator(KEYS.tenant_key("acme"))


def test_keys_never_render():
    assert "secret-for-tests" not in repr(KEYS) and "operator-for" not in str(KEYS)


@pytest.mark.parametrize(("header", "key"), [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None),
                                             ("", None), (None, None), ("Bearer", None)])
def test_the_key_comes_from_a_bearer_header_only(header, key):
    assert bearer(header) == key


def test_tenant_ids_outside_the_alphabet_get_no_key():
    with pytest.raises(ValueError):
        KEYS.tenant_key("acme.*")


def test_log_records_mask_the_deployments_secrets_and_any_tenant_key(monkeypatch, caplog):
    monkeypatch.setenv("LLM_API_KEY", "sk-provider-key-0123")
    tenant_key = KEYS.tenant_key("acme")
    assert mask(f"key {tenant_key} and sk-provider-key-0123", ["sk-provider-key-0123"]) == f"key {MASK} and {MASK}"
    mask_secrets_in_logs()
    with caplog.at_level(logging.WARNING):
        logging.getLogger("provider-client").warning("Incorrect API key provided: %s", "sk-provider-key-0123")
        try:
            raise RuntimeError(f"bad key {tenant_key}")
        except RuntimeError:
            logging.getLogger("x").exception("failed")
    assert "sk-provider-key-0123" not in caplog.text and tenant_key not in caplog.text
    assert caplog.text.count(MASK) == 2
