"""A bare FastAPI app with one route, run by uvicorn like the services: the baseline of one HTTP hop."""

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ready")
    async def ready() -> dict:
        return {"ready": True}

    @app.post("/echo")
    async def echo(body: dict) -> dict:
        return body

    return app
