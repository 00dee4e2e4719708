"""Service configuration, read from the environment as an operator deploys it."""

from __future__ import annotations

import os
from collections.abc import Mapping

DEFAULT_DEPENDENCY_TIMEOUT_S = 30.0  # the RAG query timeout the platform's documents name


class ConfigurationError(RuntimeError):
    pass


def required(name: str, environ: Mapping[str, str] = os.environ) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"the service needs the environment variable {name}")
    return value


def number(name: str, default: float, environ: Mapping[str, str] = os.environ) -> float:
    value = environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {value!r}") from None


def dependency_timeout_s(environ: Mapping[str, str] = os.environ) -> float:
    return number("DEPENDENCY_TIMEOUT_S", DEFAULT_DEPENDENCY_TIMEOUT_S, environ)
