"""One asyncio loop in a background thread for the whole run.

nats-py clients live as long as the scenario that made them, so they need a loop that outlives
any single step; sync steps submit coroutines to it with a time budget.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine


class BackgroundLoop:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="harness-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine, budget_s: float = 30.0):
        """Run a coroutine on the loop and wait for its result, at most budget_s."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout=budget_s)
        except TimeoutError:
            if future.done():  # the coroutine's own timeout (a NATS timeout, say): report it as it is
                raise
            future.cancel()
            raise TimeoutError(f"the step's time budget of {budget_s:g} s ran out before the work ended") from None

    def submit(self, coro: Coroutine) -> None:
        """Schedule a coroutine without waiting for it (from any thread)."""
        asyncio.run_coroutine_threadsafe(coro, self._loop)

    def close(self) -> None:
        async def _cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(_cancel_rest(), self._loop).result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        self._loop.close()
