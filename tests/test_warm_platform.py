"""The warm platform's record: adopted only when it is the same platform, else discarded; reaped when stale."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import psutil
import pytest

from harness.infra import warm
from harness.infra.reaper import reap_stale_runs

SETTINGS = {"llm": "scripted", "dimensions": 384, "infra": "embedded"}


@pytest.fixture
def server():
    """A stand-in for a kept server: a real process of its own, killed at the end if the test left it."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def _record(tmp_path, process, **overrides) -> dict:
    kept_dir = tmp_path / "kept"
    kept_dir.mkdir(exist_ok=True)
    data = {"code": "abc", "settings": SETTINGS, "last_used": time.time(), "temp_dirs": [str(kept_dir)],
            "processes": [{"pid": process.pid, "create_time": psutil.Process(process.pid).create_time(),
                           "name": "nats-server"}]}
    return {**data, **overrides}


def _gone(process) -> bool:
    process.wait(5)  # our child: reaped here, so the kill the record made is seen
    return process.poll() is not None


def test_the_record_is_readable_by_its_owner_only(tmp_path, server):
    path = tmp_path / "warm-x.json"
    assert warm.keep(path, _record(tmp_path, server))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert warm.read(path)["code"] == "abc"


def test_nothing_is_adopted_when_nothing_was_kept(tmp_path):
    taken = []
    assert warm.claim(tmp_path / "warm-x.json", "abc", SETTINGS, taken.append) == (None, "none was kept")
    assert taken == []


def test_the_same_platform_is_adopted_and_its_record_moves_to_the_run(tmp_path, server):
    path = tmp_path / "warm-x.json"
    warm.keep(path, _record(tmp_path, server))
    taken = []
    data, why = warm.claim(path, "abc", SETTINGS, taken.append)
    assert data is not None and why == "" and taken == [data]
    assert not path.exists(), "a claimed platform is the run's: no other run may adopt it"
    assert server.poll() is None


@pytest.mark.parametrize(("code", "settings", "reason"), [
    ("changed", SETTINGS, "the platform's code changed"),
    ("abc", {**SETTINGS, "dimensions": 1536}, "the run's settings differ"),
])
def test_another_platform_is_discarded(tmp_path, server, code, settings, reason):
    path = tmp_path / "warm-x.json"
    warm.keep(path, _record(tmp_path, server))
    taken = []
    assert warm.claim(path, code, settings, taken.append) == (None, reason)
    assert taken == [] and not path.exists() and not (tmp_path / "kept").exists()
    assert _gone(server)


def test_a_platform_whose_process_is_gone_is_discarded(tmp_path, server):
    path = tmp_path / "warm-x.json"
    warm.keep(path, _record(tmp_path, server))
    server.kill()
    server.wait()
    data, why = warm.claim(path, "abc", SETTINGS, lambda _: None)
    assert data is None and why == "nats-server no longer running" and not path.exists()


def test_a_platform_unused_for_an_hour_is_stale(tmp_path, server):
    data = _record(tmp_path, server)
    assert warm.why_stale(data) is None
    assert warm.why_stale(data, now=time.time() + warm.STALE_AFTER_S + 1) == "unused for more than 60 minutes"


def test_a_second_run_never_claims_a_platform_another_holds(tmp_path, server):
    path = tmp_path / "warm-x.json"
    warm.keep(path, _record(tmp_path, server))
    with warm.locked(path) as first:
        assert first
        assert warm.claim(path, "abc", SETTINGS, lambda _: None) == (None, "another run is claiming or keeping it")
        assert warm.reap_stale(tmp_path) == []
    assert path.exists() and server.poll() is None


def test_only_one_platform_is_kept_per_checkout(tmp_path, server):
    path = tmp_path / "warm-x.json"
    assert warm.keep(path, _record(tmp_path, server))
    assert not warm.keep(path, _record(tmp_path, server, code="other"))
    assert warm.read(path)["code"] == "abc"


def test_the_reaper_removes_a_stale_platform_and_leaves_a_fresh_one(tmp_path, server):
    stale, fresh = tmp_path / "warm-stale.json", tmp_path / "warm-fresh.json"
    warm.write(stale, _record(tmp_path, server, last_used=time.time() - warm.STALE_AFTER_S - 5))
    warm.write(fresh, {**_record(tmp_path, server), "temp_dirs": []})
    assert reap_stale_runs(tmp_path) == ["warm-stale.json"]
    assert not stale.exists() and fresh.exists()
    assert _gone(server)


def test_down_removes_the_platform_on_request(tmp_path, server):
    root = tmp_path / "checkout"
    path = warm.record_path(tmp_path, root)
    warm.keep(path, _record(tmp_path, server))
    assert warm.take_down(tmp_path, root)
    assert not path.exists() and _gone(server)
    assert not warm.take_down(tmp_path, root)


def test_the_code_hash_follows_the_platform_code_and_each_checkout_has_its_own(tmp_path):
    (tmp_path / "src" / "ai_platform").mkdir(parents=True)
    (tmp_path / "src" / "ai_contract").mkdir()
    module = tmp_path / "src" / "ai_platform" / "service.py"
    module.write_text("ANSWER = 1\n")
    before = warm.code_hash(tmp_path)
    assert warm.code_hash(tmp_path) == before
    module.write_text("ANSWER = 2\n")
    assert warm.code_hash(tmp_path) != before
    assert warm.checkout_id(tmp_path) != warm.checkout_id(tmp_path / "other")
    assert os.path.basename(warm.record_path(tmp_path, tmp_path)).startswith("warm-")
