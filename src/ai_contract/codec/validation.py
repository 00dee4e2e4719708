"""Report every bad field at once, using msgspec for each check.

msgspec stops at the first error, which is what the hot path wants. When a message fails,
this module walks the target Struct's fields and asks msgspec to convert each value on its
own, so a producer learns about all its mistakes in one round. The walk only decides
*where* to look; every verdict still comes from msgspec.
"""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec

from .errors import FieldError

_AT = re.compile(r"^(?P<text>.*?) - at `(?P<loc>.*)`$", re.DOTALL)
_WRONG_TYPE = re.compile(r"^Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`$")
_RANGE = re.compile(r"^Expected `[^`]+` (?P<length>of length )?(?P<bound>(?:>=|<=|>|<) \S+)$")
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")


def collect_errors(value: Any, target: Any, path: str = "") -> list[FieldError]:
    """Every problem that stops ``value`` from converting to ``target``, with field paths."""
    errors: list[FieldError] = []
    _walk(value, target, path, errors)
    return errors


def from_msgspec(error: msgspec.ValidationError, path: str = "") -> FieldError:
    """Translate one msgspec error into a FieldError whose path is rooted at ``path``."""
    text, in_key = str(error), False
    match = _AT.match(text)
    if match:
        text, loc = match["text"], match["loc"]
        if "` in `" in loc:  # a bad mapping key: "key` in `$.metadata"
            loc, in_key = loc.split("` in `", 1)[1], True
        path = _join(path, loc.removeprefix("$"))
    found = _classify(text, path)
    return found._replace(problem=f"{found.problem} for a key") if in_key else found


def _classify(text: str, path: str) -> FieldError:
    if m := _MISSING.match(text):
        return FieldError(_join(path, "." + m["name"]), "missing required field", "missing")
    if m := _WRONG_TYPE.match(text):
        return FieldError(path or "$", f"expected {m['want']}, got {m['got']}", "wrong_type")
    if m := _RANGE.match(text):
        subject = "length must be" if m["length"] else "must be"
        return FieldError(path or "$", f"{subject} {m['bound']}", "out_of_range")
    problem = text.replace("`", "")
    return FieldError(path or "$", problem[:1].lower() + problem[1:], "invalid_value")


def _walk(value: Any, target: Any, path: str, errors: list[FieldError]) -> None:
    found = len(errors)
    nested = _nested(target, value)
    if nested is not None and isinstance(nested, type) and isinstance(value, dict):
        for field in msgspec.structs.fields(nested):
            here = _join(path, "." + field.encode_name)
            if field.encode_name in value:
                _walk(value[field.encode_name], field.type, here, errors)
            elif field.required:
                errors.append(FieldError(here, "missing required field", "missing"))
    elif nested is not None and not isinstance(nested, type) and isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, nested[0], f"{path}[{index}]", errors)
    if len(errors) == found:
        # Nothing found below: let msgspec judge the whole value, which also covers list
        # lengths, cross-field rules (__post_init__) and every leaf type.
        try:
            msgspec.convert(value, target)
        except msgspec.ValidationError as error:
            errors.append(from_msgspec(error, path))


def _nested(target: Any, value: Any) -> type | tuple[Any] | None:
    """The Struct class, or ``(item_type,)`` of a list of Structs, worth walking into."""
    target = _strip(target, value)
    if isinstance(target, type) and issubclass(target, msgspec.Struct):
        return target
    if get_origin(target) is list:
        (item,) = get_args(target) or (Any,)
        item = _strip(item, None)
        if isinstance(item, type) and issubclass(item, msgspec.Struct):
            return (item,)
    return None


def _strip(target: Any, value: Any) -> Any:
    """Peel Annotated, and pick the Optional member a non-None value is meant for."""
    while True:
        origin = get_origin(target)
        if origin is Annotated:
            target = get_args(target)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(target) if a is not type(None)]
            if value is None or len(members) != 1:
                return target
            target = members[0]
        else:
            return target


def _join(path: str, suffix: str) -> str:
    if not suffix:
        return path or "$"
    if not path or path == "$":
        return suffix.removeprefix(".")
    return path + suffix
