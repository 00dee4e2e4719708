"""The warm platform: what a run with `-D keep=yes` leaves running for the next run of the same checkout.

The servers (NATS, PostgreSQL) and the run's shared services keep running; the scripted model and the OTLP
receiver live in the suite's process, so the record keeps their ports and the next run listens on the same
ones. The record, `warm-<checkout>.json` in the state dir (mode 0600: it holds the run's keys), names every
process by pid and create time. The next run adopts the platform only when every process is the same one,
the platform's code is unchanged, its settings agree and its services answer; otherwise the record is
discarded and the run starts afresh. While a run holds the platform, its processes are in that run's own
record (a killed run's are reaped like any other), and no warm record exists: a second run starts its own.
A lock (flock) serialises claiming, keeping and discarding. The reaper removes a record unused for
STALE_AFTER_S or one whose process is gone; `python -m harness.platform down` removes it on request.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.infra.processes import STATE_DIR, _alive, _reap

STALE_AFTER_S = 3600.0  # a warm platform nobody used for an hour is reaped
RECORD_VERSION = 1
PROJECT_ROOT = Path(__file__).resolve().parents[3]
CODE_DIRS = ("src/ai_platform", "src/ai_contract")  # what the services run: any change means a fresh start


def checkout_id(root: Path = PROJECT_ROOT) -> str:
    """One warm platform per checkout (a worktree is a checkout of its own)."""
    return hashlib.sha256(str(root).encode()).hexdigest()[:12]


def record_path(state_dir: Path = STATE_DIR, root: Path = PROJECT_ROOT) -> Path:
    return state_dir / f"warm-{checkout_id(root)}.json"


def code_hash(root: Path = PROJECT_ROOT, dirs: tuple[str, ...] = CODE_DIRS) -> str:
    """The platform's code and the contract, as they are on disk now."""
    digest = hashlib.sha256()
    for folder in dirs:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@contextmanager
def locked(path: Path, *, wait: bool = False) -> Iterator[bool]:
    """Hold the warm platform's lock (the record's path + .lock); yields whether it was had (never waits
    unless asked)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == RECORD_VERSION else None


def write(path: Path, data: dict) -> None:
    """Atomically, readable by its owner only (it holds the run's keys and the bus's credentials)."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        json.dump({**data, "version": RECORD_VERSION}, out)
    tmp.replace(path)


def why_stale(data: dict, now: float | None = None) -> str | None:
    """Why the warm platform cannot be used any more, or None."""
    now = time.time() if now is None else now
    if now - float(data.get("last_used", 0)) > STALE_AFTER_S:
        return f"unused for more than {STALE_AFTER_S / 60:.0f} minutes"
    gone = [proc["name"] for proc in data.get("processes", []) if not _alive(proc)]
    if gone:
        return f"{', '.join(gone)} no longer running"
    return None


def why_not_adopted(data: dict, code: str, settings: dict) -> str | None:
    """Why this run cannot adopt the warm platform, or None: stale, other code, other settings."""
    stale = why_stale(data)
    if stale:
        return stale
    if data.get("code") != code:
        return "the platform's code changed"
    if data.get("settings") != settings:
        return "the run's settings differ"
    return None


def discard(path: Path, data: dict | None) -> None:
    """Stop the platform's processes, remove its dirs and the record (the lock is held)."""
    if data is not None:
        _reap(data)
    path.unlink(missing_ok=True)


def claim(path: Path, code: str, settings: dict, take: Callable[[dict], None]) -> tuple[dict | None, str]:
    """The warm platform for this run, or None and why not. `take` moves its processes into the run's record
    before the warm record is removed, so there is no moment when nothing would reap them."""
    with locked(path) as mine:
        if not mine:
            return None, "another run is claiming or keeping it"
        data = read(path)
        if data is None:
            if path.exists():
                discard(path, None)
            return None, "none was kept"
        reason = why_not_adopted(data, code, settings)
        if reason:
            discard(path, data)
            return None, reason
        take(data)
        path.unlink(missing_ok=True)
        return data, ""


def keep(path: Path, data: dict) -> bool:
    """Record the platform for the next run; False (nothing written) when another is kept already or another
    run holds the lock: the caller stops its own."""
    with locked(path) as mine:
        if not mine or read(path) is not None:
            return False
        write(path, {**data, "last_used": time.time()})
        return True


def reap_stale(state_dir: Path = STATE_DIR) -> list[str]:
    """Remove every warm platform (of any checkout) that is stale; one in another run's hands is left alone."""
    reaped = []
    for path in sorted(state_dir.glob("warm-*.json")):
        with locked(path) as mine:
            if not mine:
                continue
            data = read(path)
            if data is None or why_stale(data):
                discard(path, data)
                reaped.append(path.name)
    return reaped


def take_down(state_dir: Path = STATE_DIR, root: Path = PROJECT_ROOT) -> bool:
    """Stop this checkout's warm platform, if there is one; waits for a run that is claiming or keeping it."""
    path = record_path(state_dir, root)
    with locked(path, wait=True):
        data = read(path)
        if data is None and not path.exists():
            return False
        discard(path, data)
        return True
