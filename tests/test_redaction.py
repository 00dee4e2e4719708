from harness.reporting import redact, register_secret


def test_secret_fields_and_registered_values_never_survive():
    register_secret("sk-live-1234567890")
    payload = {"api_key": "abc", "headers": {"Authorization": "Bearer x"},
               "note": "called with sk-live-1234567890", "usage": {"total_tokens": 5}}
    assert redact(payload) == {"api_key": "[redacted]", "headers": {"Authorization": "[redacted]"},
                               "note": "called with [redacted]", "usage": {"total_tokens": 5}}
