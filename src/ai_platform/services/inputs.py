"""The types of the services' request bodies: strict JSON types, the contract's text rule and id alphabet,
and lengths bounded by what storage accepts. Every limit is in the OpenAPI documents, so a request the
document allows is served and one it forbids is a 400 naming the field."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ai_contract.ids import ID_PATTERN
from ai_contract.text import NON_BLANK_PATTERN, TEXT_PATTERN

MAX_TEXT = 1_000_000  # no longer than a body may be
MAX_NAME = 1_000  # titles, names, models, stop words
MAX_TOKENS = 1_000_000  # more than any model writes; the model answers what it can


class Strict(BaseModel):
    """A request body: `true` is not a number, `0` is not a boolean, NaN is no number, an unknown field is
    an error (a misspelt option is not silently ignored)."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


def one_of(first: str, second: str) -> type[Strict]:
    """A body that takes exactly one of two fields, saying so in its JSON schema (oneOf) and refusing both or
    neither by name."""

    class OneOf(Strict):
        model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": [first]}, {"required": [second]}]})

        @model_validator(mode="after")
        def exactly_one(self) -> Strict:
            if (getattr(self, first) is None) == (getattr(self, second) is None):
                raise ValueError(f"give either {first} or {second}, not both and not neither")
            return self

    return OneOf


def _integral(value):
    """JSON Schema's integer: 36.0 is one, true is not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def integer(ge: int, le: int) -> type[int]:
    """An integer in [ge, le] (the validator goes last, or the bounds drop out of the JSON schema)."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_integral)]


def text(max_length: int = MAX_TEXT, min_length: int = 0) -> type[str]:
    return Annotated[str, Field(min_length=min_length, max_length=max_length, pattern=TEXT_PATTERN)]


def non_blank(max_length: int = MAX_TEXT) -> type[str]:
    return Annotated[str, Field(min_length=1, max_length=max_length, pattern=NON_BLANK_PATTERN)]


Id = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]  # tenants, documents, agents, sessions
PathId = Annotated[str, Path(pattern=ID_PATTERN)]  # the same in a route's path
Text = text()
NonBlank = non_blank()
Name = non_blank(MAX_NAME)
SafeInt = integer(-(2**53), 2**53)  # exact in every JSON reader and in the codec
MetadataValue = text(MAX_NAME) | SafeInt | float | bool | None
# Flat: a key names one value a search result can show.
Metadata = Annotated[dict[text(MAX_NAME, 1), MetadataValue],
                     Field(max_length=100, json_schema_extra={"additionalProperties": False})]
