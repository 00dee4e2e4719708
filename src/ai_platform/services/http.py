"""What every platform service shares: the contract's headers, envelopes and status codes.

Success: {success: true, data, message, correlation_id, request_id, timestamp}.
Error:   {success: false, error: {code, message, details}, correlation_id, request_id, timestamp}.
Bad input is a 4xx envelope, never a 500; a dependency's failure is 502, 503 or 504 with the
dependency named in `error.details`.
"""

from __future__ import annotations

import functools
import logging
import os
import ssl
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ai_contract.errors import FORBIDDEN, TENANT_MISMATCH, UNAUTHENTICATED
from ai_contract.headers import AUTHORIZATION, CORRELATION_ID, REQUEST_ID, TENANT, USER
from ai_contract.ids import ID_PATTERN, is_valid_id
from ai_contract.routes import TENANTS
from ai_contract.settings import HTTP_BODY_TIMEOUT_S
from ai_contract.text import NON_BLANK_PATTERN, text_problem
from ai_platform.services.bodies import BodyGuard
from ai_platform.services.config import number
from ai_platform.services.identity import Keys, bearer, keys_from_env
from ai_platform.services.inputs import PathId
from ai_platform.services.openapi import answers, contract_openapi
from ai_platform.services.redaction import mask_secrets_in_logs
from ai_platform.telemetry import capture_content, for_tenant
from ai_platform.telemetry.setup import instrument_http, setup_telemetry, shutdown_telemetry

MAX_BODY_BYTES = 1024 * 1024
DEFAULT_BODY_TIMEOUT_S = 10.0
ID_HEADERS = (TENANT, USER, REQUEST_ID, CORRELATION_ID)  # passed on to other services: the contract's id alphabet
log = logging.getLogger(__name__)
OPERATOR_PREFIX = TENANTS + "/"
OPEN_PATHS = frozenset({"/health", "/ready", "/docs", "/openapi.json"})  # no key needed: probes and the contract
HTTP_CODES = {400: "VALIDATION_ERROR", 401: UNAUTHENTICATED, 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
              408: "REQUEST_TIMEOUT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 422: "MALFORMED_BODY"}


class ServiceError(Exception):
    """A failure the caller is told about, with the contract's status and code."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


@dataclass(frozen=True)
class Caller:
    """Who is asking, and the ids that travel along every hop."""

    tenant_id: str
    user_id: str | None
    request_id: str
    correlation_id: str
    key: str | None = field(default=None, repr=False)  # the tenant's key, passed on to the services it calls

    def headers(self) -> dict[str, str]:
        """The headers a call to another service carries on the caller's behalf (the httpx
        instrumentation adds the trace context)."""
        headers = {TENANT: self.tenant_id, REQUEST_ID: self.request_id, CORRELATION_ID: self.correlation_id}
        if self.key:
            headers[AUTHORIZATION] = f"Bearer {self.key}"
        if self.user_id:
            headers[USER] = self.user_id
        return headers


def caller(request: Request) -> Caller:
    return request.state.caller


def ok(request: Request, data: Any, message: str = "", status: int = 200) -> JSONResponse:
    ids = _ids(request)
    return JSONResponse({"success": True, "data": data, "message": message, **ids, "timestamp": _now()},
                        status_code=status, headers=_id_headers(ids))


# OpenAI's error types by status, for the OpenAI-format routes: what its clients turn into their exceptions.
OPENAI_PREFIX = "/v1/"
OPENAI_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                      404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error",
                      422: "invalid_request_error", 429: "rate_limit_error"}


def error(request: Request, status: int, code: str, message: str, details: dict | None = None) -> JSONResponse:
    ids = _ids(request)
    if request.url.path.startswith(OPENAI_PREFIX):  # the shape OpenAI clients parse; the ids are in the headers
        fields = [e.get("field") for e in (details or {}).get("errors", [])] or [(details or {}).get("field")]
        body = {"error": {"message": message, "type": OPENAI_ERROR_TYPES.get(status, "api_error"),
                          "param": next(filter(None, fields), None), "code": code}}
        return JSONResponse(body, status_code=status, headers=_id_headers(ids))
    body = {"success": False, "error": {"code": code, "message": message, "details": details or {}}, **ids,
            "timestamp": _now()}
    return JSONResponse(body, status_code=status, headers=_id_headers(ids))


def create_service(name: str, ready: Callable[[], Awaitable[dict[str, str | None]]],
                   lifespan: Callable[[FastAPI], AbstractAsyncContextManager] | None = None) -> FastAPI:
    """A FastAPI app with the contract's middleware, error envelopes, /health and /ready.

    `ready()` returns every dependency the service checked, by name, with what is wrong with it or None;
    a 503 names each one that is wrong, a 200 lists what was checked.
    """
    mask_secrets_in_logs()
    setup_telemetry(f"{name}-service")
    keys = keys_from_env()
    body_timeout_s = number(HTTP_BODY_TIMEOUT_S, DEFAULT_BODY_TIMEOUT_S)
    app = FastAPI(title=f"{name} service", lifespan=_flushing_telemetry(lifespan))
    app.state.keys = keys

    async def refuse_body(scope, send, status: int, code: str, message: str, details: dict) -> None:
        response = error(Request(scope), status, code, message, details)
        if status in (408, 413):  # the rest of that body is not read: it must not be taken for the next request
            response.headers["Connection"] = "close"
        await response(scope, _nothing, send)

    # Added first, so it runs inside the Contract: after the caller is known, before the route.
    app.add_middleware(BodyGuard, max_bytes=MAX_BODY_BYTES, timeout_s=body_timeout_s, refuse=refuse_body)

    app.add_middleware(Contract, keys=keys)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError):
        return error(request, exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        problems = [{"field": ".".join(str(p) for p in e["loc"][1:]) or "body", "problem": _problem(e),
                     **({"got": e["input"]} if _short_scalar(e.get("input")) else {})}
                    for e in exc.errors()]
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return error(request, 422, "MALFORMED_BODY", "The body is not valid JSON.", {"errors": problems})
        said = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return error(request, 400, "VALIDATION_ERROR", f"The request has invalid fields: {said}.",
                     {"errors": problems})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        message = {404: f"There is no route {request.url.path}.",
                   405: f"{request.method} is not allowed on {request.url.path}."}.get(exc.status_code, str(exc.detail))
        response = error(request, exc.status_code, code, message)
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405:  # every method of the path, not only those of the first route that matched it
            response.headers["Allow"] = ", ".join(_methods_of(app, request.scope))
        return response

    @app.post(TENANTS + "/{tenant_id}/keys", **answers(success=201))
    async def issue_key(request: Request, tenant_id: PathId):
        """Operator route: the tenant's API key (every service issues the same one for a tenant)."""
        return ok(request, {"tenant_id": tenant_id, "key": keys.tenant_key(tenant_id)}, "Key issued.", 201)

    @app.get("/health")
    async def health(request: Request):
        return ok(request, {"service": name, "status": "up"})

    @app.get("/ready", **answers(503))
    async def readiness(request: Request):
        checked = await ready()
        problems = {dependency: problem for dependency, problem in checked.items() if problem}
        if problems:
            return error(request, 503, "DEPENDENCY_UNAVAILABLE", f"The {name} service is not ready: "
                         f"{', '.join(sorted(problems))} cannot be used.", {"dependencies": problems})
        return ok(request, {"service": name, "status": "ready", "dependencies": sorted(checked)})

    app.openapi = contract_openapi(app, body_timeout_s=body_timeout_s, max_body_bytes=MAX_BODY_BYTES,
                                   open_paths=OPEN_PATHS)
    instrument_http(app)
    return app


class Contract:
    """Every request's gate: the caller's ids (bad ones refused), the length it declares, its key and tenant; the
    ids on every answer, and the contract's 500 envelope for a route that fails. Pure ASGI: as a
    BaseHTTPMiddleware (`@app.middleware`) it cost ~0.2 ms of CPU a request, a task and streams per request."""

    def __init__(self, app, *, keys: Keys) -> None:
        self.app, self.keys = app, keys

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope, receive)
        refused = self._admit(request)
        if refused is not None:
            return await refused(scope, receive, send)
        ids = [(name.lower().encode(), value.encode()) for name, value in _id_headers(request.state.ids).items()]
        started = False

        async def send_with_ids(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                message = {**message, "headers": headers + [h for h in ids if h[0] not in present]}
            await send(message)

        with for_tenant(request.state.caller.tenant_id):  # the route's spans, metric points and calls are the tenant's
            try:
                await self.app(scope, receive, send_with_ids)
            except Exception:
                if started:  # too late for an envelope: the server closes the connection
                    raise
                log.exception("%s %s failed", request.method, request.url.path)  # still the contract's envelope
                failed = error(request, 500, "INTERNAL_ERROR", "The service failed unexpectedly; the ids of this "
                               "request let an operator find out why.")
                await failed(scope, receive, send_with_ids)

    def _admit(self, request: Request) -> JSONResponse | None:
        """The refusal the request gets, or None once its ids and caller are on request.state."""
        headers = request.headers
        bad_ids = [h for h in ID_HEADERS if h in headers and not is_valid_id(headers[h])]
        request.state.ids = {"correlation_id": _valid(headers.get(CORRELATION_ID)) or uuid.uuid4().hex,
                             "request_id": _valid(headers.get(REQUEST_ID)) or uuid.uuid4().hex}
        if bad_ids:
            return error(request, 400, "VALIDATION_ERROR", f"The header {bad_ids[0]} must be 1 to 64 letters, digits, "
                         "'-' or '_'.", {"field": bad_ids[0]})
        length = headers.get("content-length", "0")
        if not length.isdigit():
            return error(request, 400, "VALIDATION_ERROR", "Content-Length must be a number of bytes.")
        if int(length) > MAX_BODY_BYTES:
            return error(request, 413, "PAYLOAD_TOO_LARGE",
                         f"The body has {length} bytes; at most {MAX_BODY_BYTES} are accepted.",
                         {"limit_bytes": MAX_BODY_BYTES})
        key, tenant = bearer(headers.get(AUTHORIZATION)), ""
        if request.url.path not in OPEN_PATHS and _served(request.scope["app"], request.scope):
            refused = _refusal(self.keys, key, request.url.path.startswith(OPERATOR_PREFIX), headers.get(TENANT))
            if refused:
                return error(request, *refused)
            tenant = self.keys.tenant_of(key) or ""  # the operator acts on a tenant, for none of them
        ids = request.state.ids
        request.state.caller = Caller(tenant, headers.get(USER), ids["request_id"], ids["correlation_id"],
                                      key if tenant else None)
        return None


def _served(app: FastAPI, scope: dict) -> bool:
    """Whether a route serves this method and path: a wrong method is 405 and an unknown path 404, whoever asks."""
    return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)


def _methods_of(app: FastAPI, scope: dict) -> list[str]:
    methods = set()
    for route in app.router.routes:
        if route.matches(scope)[0] != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods - {"HEAD"})


async def _nothing() -> dict:
    return {"type": "http.disconnect"}


def _valid(value: str | None) -> str | None:
    return value if is_valid_id(value) else None


def _refusal(keys: Keys, key: str | None, operator_route: bool, claimed: str | None) -> tuple | None:
    """Why the caller may not use the route (status, code, message), or None. Neither the key nor its
    tenant is echoed: a caller learns only what it did wrong."""
    if key is None:
        return 401, UNAUTHENTICATED, f"An API key is required: {AUTHORIZATION}: Bearer <key>."
    tenant = keys.tenant_of(key)
    if operator_route:
        if keys.is_operator(key):
            return None
        if tenant:
            return 403, FORBIDDEN, "This is an operator route; a tenant's key cannot use it."
        return 401, UNAUTHENTICATED, "The API key is not valid."
    if tenant is None:
        if keys.is_operator(key):
            return 403, FORBIDDEN, "The operator key acts on tenants through the operator routes only."
        return 401, UNAUTHENTICATED, "The API key is not valid."
    claimed = (claimed or "").strip()
    if claimed and claimed != tenant:
        return 403, TENANT_MISMATCH, f"The {TENANT} header names another tenant than the API key's."
    return None


def _flushing_telemetry(lifespan):
    """The service's own lifespan, then the last spans and metric points exported before the process ends."""
    @asynccontextmanager
    async def with_flush(app: FastAPI):
        try:
            if lifespan is None:
                yield
            else:
                async with lifespan(app):
                    yield
        finally:
            shutdown_telemetry()
    return with_flush


# A connection idle this long is not used again. Shorter than the keep-alive of the service called (uvicorn's,
# 5 s, the same as httpx's default here): a call sent on a connection the other side is closing fails, and a POST
# is not sent twice (a document ingested over NATS was tried twice this way).
KEEPALIVE_EXPIRY_S = 2.0
CALL_LIMITS = httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S)


def tls() -> ssl.SSLContext:
    """The TLS settings of every HTTP client this process makes (`verify=tls()`), built once: building them
    loads the CA bundle, ~50 ms of CPU, and the gateway's readiness check makes a client each time it is asked.
    Kept per CA setting, so an instance forked with other SSL_CERT_FILE or SSL_CERT_DIR builds its own."""
    return _tls(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _tls(_cert_file: str | None, _cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context()


class Dependency:
    """Another service this one calls: forwards the caller's tenant and ids, and turns the
    dependency's failure into the contract's 502, 503 or 504 naming it."""

    def __init__(self, name: str, base_url: str, timeout_s: float) -> None:
        self.name, self.base_url, self.timeout_s = name, base_url.rstrip("/"), timeout_s
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s, limits=CALL_LIMITS, verify=tls())

    async def call(self, method: str, path: str, who: Caller, body: dict | None = None) -> Any:
        """The `data` of the dependency's success envelope. Sent once, whatever happens to its answer: the
        services call each other only with POSTs, which are not idempotent."""
        try:
            response = await self._client.request(method, path, json=body, headers=who.headers())
        except httpx.TransportError as exc:
            raise unreachable(self.name, exc, self.timeout_s) from None
        return data_of(self.name, response)

    async def ready(self) -> str | None:
        """None when the dependency is ready, else what is wrong."""
        try:
            response = await self._client.get("/ready", timeout=min(self.timeout_s, 2.0))
        except httpx.HTTPError as exc:
            return f"{self.name} cannot be reached: {type(exc).__name__}"
        return None if response.status_code == 200 else f"{self.name} is not ready ({response.status_code})"

    async def close(self) -> None:
        await self._client.aclose()


def unreachable(name: str, exc: httpx.TransportError, timeout_s: float) -> ServiceError:
    """A dependency that did not answer: 504 when it was too slow, 503 when it could not be reached."""
    if isinstance(exc, httpx.TimeoutException):
        return ServiceError(504, "DEPENDENCY_TIMEOUT", f"The {name} service did not answer within {timeout_s:g} s.",
                            {"dependency": name, "timeout_s": timeout_s})
    return ServiceError(503, "DEPENDENCY_UNAVAILABLE", f"The {name} service cannot be reached.",
                        {"dependency": name, "cause": str(exc) or type(exc).__name__})


def data_of(name: str, response: httpx.Response) -> Any:
    """A dependency's answer: its success envelope's `data`, or its failure as this service's.

    Its 5xx is a 502 naming it, with its error and the ids it saw, so a caller can follow a failure
    down the chain; its 4xx means the request it was given was refused, and is passed on.
    """
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    failure = body.get("error") or {}
    if response.status_code >= 500:
        raise ServiceError(502, "DEPENDENCY_ERROR", f"The {name} service failed ({response.status_code}): "
                           f"{failure.get('message', 'no error message')}",
                           {"dependency": name, "status": response.status_code, "error": failure or None,
                            "request_id": body.get("request_id"), "correlation_id": body.get("correlation_id")})
    if response.status_code >= 400:
        raise ServiceError(response.status_code, failure.get("code", "HTTP_ERROR"),
                           failure.get("message", f"The {name} service refused the request."),
                           {**failure.get("details", {}), "dependency": name})
    return body.get("data")


def _log_at(level: str) -> None:
    """LOG_LEVEL, when set, for the service and the libraries it calls through (they log the most). The model
    clients' debug lines quote prompts, answers and embedded text: below INFO they stay quiet unless the operator
    opted in to recording content (the GenAI conventions' switch), as for spans."""
    if not level:
        return
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for logger in ("", "ai_platform", "httpx", "httpcore"):
        logging.getLogger(logger).setLevel(level)
    quoting = level if capture_content() else max(logging.getLevelName(level), logging.INFO)
    for logger in ("LiteLLM", "LiteLLM Router", "litellm", "openai"):
        logging.getLogger(logger).setLevel(quoting)


def _problem(error: dict) -> str:
    """What is wrong with a field, in the contract's words where a pattern alone would say it poorly."""
    value, pattern = error.get("input"), (error.get("ctx") or {}).get("pattern")
    if error["type"] == "string_pattern_mismatch" and isinstance(value, str):
        if text_problem(value):
            return f"contains {text_problem(value)}"
        if pattern == NON_BLANK_PATTERN:
            return "is empty: it needs a character that is not white space"
        if pattern == ID_PATTERN:
            return "must be 1 to 64 letters, digits, '-' or '_'"
    if error["type"] == "string_too_short" and value == "":
        return "is empty"
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    return error["msg"]


def _short_scalar(value: Any) -> bool:
    """A value worth echoing in an error: small, not a whole body, and printable."""
    if isinstance(value, str):
        return len(value) <= 200 and text_problem(value) is None
    return isinstance(value, int | float | bool)


def _ids(request: Request) -> dict[str, str]:
    return getattr(request.state, "ids", None) or {"correlation_id": uuid.uuid4().hex, "request_id": uuid.uuid4().hex}


def _id_headers(ids: dict[str, str]) -> dict[str, str]:
    return {REQUEST_ID: ids["request_id"], CORRELATION_ID: ids["correlation_id"]}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def configure_logging() -> None:
    """The operator's LOG_LEVEL; an instance forked from a process that imported the services calls it again."""
    _log_at(os.environ.get("LOG_LEVEL", "").upper())


# At import, before a service builds anything that logs: every service module imports this one first.
configure_logging()
