"""Each service's OpenAPI document as the contract a client reads: the key every route but the probes
needs, the id headers, every status a route can answer with its envelope, and the streaming content type.

Routes declare what is theirs (success status, 404, a dependency's 502/503/504) with `answers`; what every
route shares is added here, so no route can forget it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ai_contract.headers import CORRELATION_ID, REQUEST_ID, TENANT, USER
from ai_contract.ids import ID_PATTERN

STATUS_TEXT = {
    200: "Done: the success envelope", 201: "Created", 202: "Accepted: it will be done", 204: "Done, nothing to say",
    400: "VALIDATION_ERROR: a field, header or value the contract does not allow, named in `error.details`",
    401: "UNAUTHENTICATED: no API key, or not a valid one",
    403: "FORBIDDEN (a tenant key on an operator route, or the operator key on a tenant route) or TENANT_MISMATCH",
    404: "NOT_FOUND: the addressed resource does not exist for the caller's tenant",
    408: "REQUEST_TIMEOUT: the body did not arrive in time",
    413: "PAYLOAD_TOO_LARGE: the body is larger than the limit, whether or not its length was given",
    422: "MALFORMED_BODY: the body is not JSON",
    500: "INTERNAL_ERROR: an unexpected failure, with the ids an operator needs",
    502: "DEPENDENCY_ERROR: a service or model this one called failed; `error.details` names it",
    503: "DEPENDENCY_UNAVAILABLE: a dependency cannot be reached; `error.details` names it",
    504: "DEPENDENCY_TIMEOUT: a dependency did not answer in time; `error.details` names it",
}
SHARED = (400, 401, 403, 408, 413, 422, 500)
DEPENDENCIES = (502, 503, 504)
EVENT_STREAM = "text/event-stream"
_ID_HEADER_TEXT = {TENANT: "Optional; must be the API key's tenant (403 TENANT_MISMATCH otherwise).",
                   USER: "The end user on whose behalf the tenant asks; passed on to other services.",
                   REQUEST_ID: "Generated when absent; echoed in the response and passed on.",
                   CORRELATION_ID: "Generated when absent; echoed in the response and passed on."}
_ECHOED = (REQUEST_ID, CORRELATION_ID)


def answers(*statuses: int, success: int = 200, streams: bool | str = False) -> dict[str, Any]:
    """A route decorator's arguments for the statuses that are the route's own. `streams="also"`: the success
    may be JSON or, when the body asks for a stream, server-sent events; `streams=True`: only events."""
    responses: dict[int | str, dict] = {status: {"description": STATUS_TEXT[status]} for status in statuses}
    if streams:
        content = {EVENT_STREAM: {"schema": {}}}  # each event's data: a JSON piece (or OpenAI's "[DONE]")
        if streams == "also":
            content["application/json"] = {"schema": {}}
        responses[success] = {"description": STATUS_TEXT[success], "content": content}
    return {"status_code": success, "responses": responses}


def contract_openapi(app: FastAPI, *, body_timeout_s: float, max_body_bytes: int, open_paths: frozenset[str]):
    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = _contract(get_openapi(
                title=app.title, version="1.0", routes=app.routes,
                description=f"Every route but {', '.join(sorted(open_paths & {'/health', '/ready'}))} needs "
                            f"`Authorization: Bearer <key>`. A body is at most {max_body_bytes} bytes (413 past it, "
                            f"chunked or not) and must arrive within {body_timeout_s:g} s (408). Text fields hold "
                            "no control characters but tab, line feed and carriage return, and no unpaired "
                            "surrogates; numbers are finite; ids are the contract's alphabet."),
                open_paths)
            # The same limits for a program to read.
            app.openapi_schema["info"].update({"x-body-timeout-s": body_timeout_s, "x-max-body-bytes": max_body_bytes})
        return app.openapi_schema
    return openapi


def _contract(document: dict, open_paths: frozenset[str]) -> dict:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(_ENVELOPES)
    components["securitySchemes"] = {"apiKey": {"type": "http", "scheme": "bearer",
                                                "description": "A tenant's key, or the operator's on operator routes"}}
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            _complete(operation, path, open_paths)
    return document


def _complete(operation: dict, path: str, open_paths: frozenset[str]) -> None:
    openai_format = path.startswith("/v1/")
    error_schema = {"$ref": "#/components/schemas/" + ("OpenAIError" if openai_format else "ErrorEnvelope")}
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)  # FastAPI's validation error: ours is a 400 envelope, 422 a body that is not JSON
    if path in open_paths:
        shared = (503, 500) if path == "/ready" else (500,)
    else:
        shared = SHARED
        operation["security"] = [{"apiKey": []}]
        operation.setdefault("parameters", []).extend(
            {"name": name, "in": "header", "required": False, "description": text,
             "schema": {"type": "string", "pattern": ID_PATTERN}} for name, text in _ID_HEADER_TEXT.items())
    for status in shared:
        responses.setdefault(str(status), {"description": STATUS_TEXT[status]})
    for status, response in responses.items():
        code = int(status)
        if code >= 400:
            response["content"] = {"application/json": {"schema": error_schema}}
        elif code != 204:
            content = response.setdefault("content", {"application/json": {"schema": {}}})
            if "application/json" in content and not openai_format:
                content["application/json"]["schema"] = {"$ref": "#/components/schemas/SuccessEnvelope"}
        response["headers"] = {name: {"description": _ID_HEADER_TEXT[name], "schema": {"type": "string"}}
                               for name in _ECHOED}


_IDS = {"correlation_id": {"type": "string"}, "request_id": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"}}
_ENVELOPES = {
    "SuccessEnvelope": {
        "type": "object", "required": ["success", "data", "message", *_IDS],
        "properties": {"success": {"const": True}, "data": {}, "message": {"type": "string"}, **_IDS}},
    "ErrorEnvelope": {
        "type": "object", "required": ["success", "error", *_IDS],
        "properties": {"success": {"const": False}, **_IDS, "error": {
            "type": "object", "required": ["code", "message", "details"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "details": {"type": "object"}}}}},
    "OpenAIError": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["message", "type", "param", "code"],
            "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                           "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}}},
}
