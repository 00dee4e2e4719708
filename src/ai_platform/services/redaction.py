"""No secret in a log line, at any level, from any library: every log record is masked as it is made.

The secrets are the deployment's (the provider key, the key secret, the operator key, the bus's issuer seed),
any tenant key (by its shape) and the password of any URL (a service user's, in NATS_URL), so a library
that logs a request or quotes a provider's error cannot print one.
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from collections.abc import Iterable

from ai_contract.settings import LLM_API_KEY, NATS_AUTH_ISSUER_SEED, PLATFORM_KEY_SECRET, PLATFORM_OPERATOR_KEY

MASK = "[redacted]"
TENANT_KEY_SHAPE = re.compile(r"\btk\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{20,}")
URL_PASSWORD = re.compile(r"(://[^/:@\s]+:)[^/@\s]+@")
_secrets: list[str] = []  # the values masked now; the factory is installed once per process
_installed = False


def mask(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return URL_PASSWORD.sub(rf"\g<1>{MASK}@", TENANT_KEY_SHAPE.sub(MASK, text))


def mask_secrets_in_logs(environ=os.environ) -> None:
    """Mask the secrets the environment holds now, in every log record made from here on."""
    global _installed
    named = (LLM_API_KEY, PLATFORM_KEY_SECRET, PLATFORM_OPERATOR_KEY, NATS_AUTH_ISSUER_SEED)
    _secrets[:] = [value for name in named
                   if len(value := environ.get(name, "").strip()) >= 8]  # a short value would mask ordinary words
    if _installed:
        return
    made = logging.getLogRecordFactory()

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = made(*args, **kwargs)
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: the handler reports it, as it would anyway
            return record
        if record.exc_info:  # a traceback may quote what an exception said
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            record.exc_info, record.exc_text = None, None
        record.msg, record.args = mask(text, _secrets), ()
        return record

    logging.setLogRecordFactory(masked_record)
    _installed = True
