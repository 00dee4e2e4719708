"""Servers of a run killed with SIGKILL are stopped, and its temp dirs removed, by the next run."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

from harness.infra.reaper import reap_stale_runs

STARTS_SERVERS_THEN_HANGS = textwrap.dedent("""
    import json, sys, time
    from harness.infra import Infrastructure
    infra = Infrastructure("embedded")
    infra.nats_url(); infra.database_url()
    record = json.loads(infra.record.path.read_text())
    print(json.dumps(record), flush=True)
    time.sleep(600)
""")


def test_a_killed_run_leaves_nothing_behind_after_the_next_start(tmp_path):
    env = {**os.environ, "LLM_ACCEPTANCE_STATE": str(tmp_path)}
    child = subprocess.Popen([sys.executable, "-c", STARTS_SERVERS_THEN_HANGS], env=env,
                             stdout=subprocess.PIPE, text=True)
    try:
        record = json.loads(child.stdout.readline())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    pids = [p["pid"] for p in record["processes"]]
    assert {p["name"] for p in record["processes"]} == {"nats-server", "postgres"}
    assert all(psutil.pid_exists(pid) for pid in pids), "servers should outlive a killed parent"

    reaped = reap_stale_runs(tmp_path)

    assert reaped == [f"run-{child.pid}.json"]
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(pid) for pid in pids)
    assert not any(Path(d).exists() for d in record["temp_dirs"])
    assert not list(tmp_path.glob("run-*.json"))


def test_a_live_run_is_left_alone(tmp_path):
    (tmp_path / "run-1.json").write_text(json.dumps({
        "owner": {"pid": os.getpid(), "create_time": psutil.Process().create_time()},
        "processes": [], "temp_dirs": [],
    }))
    assert reap_stale_runs(tmp_path) == []
    assert (tmp_path / "run-1.json").exists()


def _running(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
