"""The reference platform's way to start instances fast: one launcher per run that imported the services once.

A run starts dozens of service instances (one per configuration a scenario asks for); each plain
`uvicorn --factory` start spent about 3 s of CPU importing LiteLLM and FastAPI, most of the suite's CPU on
two cores. The platform's launcher (`python -m ai_platform.services.prefork`, started here by its command; the
suite never imports it) forks an instance per request instead: the same app factory, built from the
instance's own environment after the fork, with a `run` process standing for it that this suite starts,
signals and kills like any service process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import psutil

from harness.infra.processes import RunRecord
from harness.platform.launch import Launch

LAUNCHER = "ai_platform.services.prefork"
STOP_GRACE_S = 5.0
# The socket of a launcher several runs share (a parallel run's workers): each run forks its instances there
# and neither starts nor stops a launcher of its own.
SHARED_LAUNCHER = "LLM_ACCEPTANCE_LAUNCHER"


class Preforker:
    """Launches of the reference platform's services through one launcher process, started when the first
    instance starts and stopped by stop() (its instances live on with their `run` processes)."""

    def __init__(self, record: RunRecord, *, join_shared: bool = True) -> None:
        self._record = record
        self._dir: Path | None = None
        self._process: psutil.Popen | None = None
        self._lock = threading.RLock()
        self._shared = (os.environ.get(SHARED_LAUNCHER) or None) if join_shared else None

    def launch(self, name: str, environment: Mapping[str, str] | None = None) -> Launch:
        """The reference platform's service by its app factory: `run` with uvicorn's arguments."""
        return self.launch_app(f"ai_platform.services.{name}:create_app", environment)

    def launch_app(self, app: str, environment: Mapping[str, str] | None = None) -> Launch:
        """Any app factory `module:function`, started through the launcher once the launcher runs."""
        command = (sys.executable, "-m", LAUNCHER, "run", "--socket", str(self._socket()), "--",
                   "--factory", app, "--host", "{host}", "--port", "{port}", "--log-level", "warning")
        return Launch(command, dict(environment or {}), prepare=self.start)

    def start(self) -> None:
        """The launcher, if it is not running; its socket exists at once, the imports follow in the background."""
        with self._lock:
            if self._shared or (self._process is not None and self._process.poll() is None):
                return
            socket_path = self._socket()
            # The launcher's own settings must not leak into instances built before the fork: LOG_LEVEL is read
            # at import time, and each instance sets its own.
            env = {k: v for k, v in os.environ.items() if k != "LOG_LEVEL"}
            with (socket_path.parent / "launcher.log").open("ab") as log:
                command = [sys.executable, "-u", "-m", LAUNCHER, "serve", "--socket", str(socket_path)]
                self._process = psutil.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
            self._record.add_process(self._process.pid, "service launcher")

    def stop(self) -> None:
        """Stop the launcher; idempotent."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        try:
            process.terminate()
            process.wait(STOP_GRACE_S)
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(STOP_GRACE_S)
        except psutil.NoSuchProcess:
            pass
        self._record.forget_process(process.pid)

    @property
    def socket_path(self) -> Path:
        return self._socket()

    def _socket(self) -> Path:
        if self._shared:
            return Path(self._shared)
        with self._lock:
            if self._dir is None:
                self._dir = self._record.new_temp_dir()
            return self._dir / "launcher.sock"


@contextmanager
def shared_launcher() -> Iterator[dict[str, str]]:
    """A launcher for runs that start while it lives (a parallel run's workers), so its imports are paid once:
    yields the environment that points a run at it. Stopped, with its record, on the way out."""
    record = RunRecord()
    launcher = Preforker(record, join_shared=False)
    try:
        launcher.start()
        yield {SHARED_LAUNCHER: str(launcher.socket_path)}
    finally:
        launcher.stop()
        record.close()
