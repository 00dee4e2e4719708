"""A Store opened on first use, so a service starts (and refuses bad requests) without its database."""

from __future__ import annotations

import threading

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from ai_platform.store.store import Store

CONNECT_TIMEOUT_S = 3  # a database that does not answer is reported, not waited on


class LazyStore:
    def __init__(self, database_url: str, dimensions: int) -> None:
        self._url, self._dimensions = database_url, dimensions
        self._store: Store | None = None
        self._lock = threading.Lock()  # routes run in a thread pool: open the store once

    def get(self) -> Store:
        """The store, with its schema in place; the first call connects."""
        with self._lock:
            if self._store is None:
                engine = create_engine(self._url, pool_pre_ping=True,
                                       connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
                store = Store(self._url, self._dimensions, engine=engine)
                try:
                    store.ensure_schema()
                except BaseException:
                    store.close()
                    raise
                self._store = store
            return self._store

    def problem(self) -> str | None:
        """None when the database answers, else what is wrong (for /ready)."""
        try:
            with self.get().engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return f"cannot be reached: {type(exc).__name__}"
        return None

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
