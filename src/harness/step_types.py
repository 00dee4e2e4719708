"""Parameter types for step sentences, so "{role:ModelRole}" matches only the names we use."""

import parse
from behave import register_type

from harness.session import SCRIPTED_MODELS


@parse.with_pattern("|".join(SCRIPTED_MODELS))
def _model_role(text: str) -> str:
    return text


@parse.with_pattern(r"[a-z][a-z0-9-]*")
def _name(text: str) -> str:
    return text


@parse.with_pattern(r'[^"]*')
def _quoted(text: str) -> str:
    return text


def register_step_types() -> None:
    register_type(ModelRole=_model_role, Name=_name, Q=_quoted)
