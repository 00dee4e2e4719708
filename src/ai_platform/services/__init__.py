"""The platform's HTTP services (gateway, rag, agent, query) on FastAPI, configured by environment.

Run one with `python -m uvicorn --factory ai_platform.services.<name>:create_app`.
"""
