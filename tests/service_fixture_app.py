"""A tiny service shaped like a platform service, for tests/test_service_processes.py and tests/test_prefork.py only.

Environment switches: FIXTURE_CRASH_ON_IMPORT (the import fails), FIXTURE_NEVER_READY (/ready answers
503); with GATEWAY_SERVICE_URL set it is ready only once that service answers, like rag is.
"""

import os
import sys
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Response

if os.environ.get("FIXTURE_CRASH_ON_IMPORT"):
    raise RuntimeError("the fixture app was told to crash on import")


@asynccontextmanager
async def lifespan(_app):
    yield
    print("fixture: shut down gracefully", file=sys.stderr, flush=True)


def create_app() -> FastAPI:
    app = FastAPI(lifespan=lifespan)
    never_ready = bool(os.environ.get("FIXTURE_NEVER_READY"))
    if never_ready:
        print("fixture: FIXTURE_NEVER_READY is set, /ready answers 503", file=sys.stderr)

    @app.get("/health")
    def health() -> dict:
        return {"status": "up"}

    @app.get("/ready")
    def ready(response: Response) -> dict:
        upstream = os.environ.get("GATEWAY_SERVICE_URL")
        if never_ready or (upstream and not _answers(f"{upstream}/ready")):
            response.status_code = 503
            return {"status": "not ready"}
        return {"status": "ready"}

    @app.get("/pid")
    def pid() -> dict:
        return {"pid": os.getpid()}

    @app.get("/env/{name}")
    def env(name: str) -> dict:
        return {"name": name, "value": os.environ.get(name)}

    return app


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=0.5, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False
