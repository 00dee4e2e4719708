"""Parameter types for step sentences. Every field in a step pattern names one of these (or
parse's own `d` and `g` for numbers), so a sentence matches only the values it is written for
and steps do not swallow each other's text."""

import json
import re

import parse
from behave import register_type

from harness.session import SCRIPTED_MODELS


def _typed(pattern: str, convert=None):
    def typed(text: str):  # a function of its own per type: with_pattern marks the function it gets
        return convert(text) if convert else text
    return parse.with_pattern(pattern)(typed)


def _quoted(text: str) -> list[str]:
    """The words between double quotes: '"END", "STOP"' -> ['END', 'STOP']."""
    return re.findall(r'"([^"]+)"', text)


# A generation option as a spec says it, and the request field it sets (the gateway's completion body).
GENERATION_OPTIONS = {
    r'the model "([^"]+)"': ("model", str),
    r"a temperature of (\d+(?:\.\d+)?)": ("temperature", float),
    r"a top_p of (\d+(?:\.\d+)?)": ("top_p", float),
    r"at most (\d+) tokens?": ("max_tokens", int),
    r'the stop word "([^"]+)"': ("stop", lambda word: [word]),
    r'the stop words ("[^"]+"(?:, "[^"]+")*)': ("stop", _quoted),
}
# In a step pattern the groups must not capture (parse numbers the fields by them).
_OPTION = "|".join(re.sub(r"\((?!\?)", "(?:", pattern) for pattern in GENERATION_OPTIONS)


def _generation_options(text: str) -> dict:
    options = {}
    for said in text.split(" and "):
        for pattern, (field, convert) in GENERATION_OPTIONS.items():
            matched = re.fullmatch(pattern, said)
            if matched:
                options[field] = convert(matched.group(1))
    return options


TYPES = {
    # a model role in the specs: primary, backup, embedding
    "ModelRole": _typed("|".join(SCRIPTED_MODELS)),
    # a tenant, agent or worker name: lower case, digits and dashes
    "Name": _typed(r"[a-z][a-z0-9-]*"),
    # the text between double quotes
    "Q": _typed(r'[^"]*'),
    # a few plain words with no quotes: a reason, a description, a sample's name
    "Phrase": _typed(r"[^\"]+?"),
    # the name of a sample in the driver's words, which may quote a value: a request "for the model "x""
    "Sample": _typed(r".+"),
    # a schema version, MAJOR.MINOR
    "Version": _typed(r"\d+\.\d+"),
    # versions listed in prose: "0.9 and 1.0", "1.0"
    "Versions": _typed(r"\d+\.\d+(?:(?:, | and )\d+\.\d+)*",
                       lambda text: tuple(text.replace(" and ", ", ").split(", "))),
    # a codec message type name, such as agent_message
    "MessageType": _typed(r"[a-z][a-z_]*"),
    # a short reason code, such as unsupported_version
    "Reason": _typed(r"[a-z][a-z_]*"),
    # a wire format of the codec
    "WireFormat": _typed(r"json|msgpack"),
    # a field path such as data.chunks[0].embedding
    "FieldPath": _typed(r"[A-Za-z_][A-Za-z0-9_.\[\]]*"),
    # how a caller limits the model's answer: no limit, the stop word "END", at most 3 tokens
    "Limit": _typed(r'no limit|the stop word "[^"]+"|at most \d+ tokens?'),
    # generation options in words, joined by "and": the model "chat-backup" and a temperature of 0.2 and at most
    # 50 tokens (also a top_p of 0.5, the stop word "END", the stop words "END", "STOP")
    "GenerationOptions": _typed(rf"(?:{_OPTION})(?: and (?:{_OPTION}))*", _generation_options),
    # quoted words listed with commas: "END", "STOP", "###"
    "QuotedList": _typed(r'"[^"]+"(?:, "[^"]+")*', lambda text: tuple(_quoted(text))),
    # a JSON value written in the sentence: 42, "high", [], {"top_k": 5}
    "Json": _typed(r".+", json.loads),
}


def register_step_types() -> None:
    register_type(**TYPES)
