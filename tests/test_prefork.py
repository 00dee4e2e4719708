"""Service instances forked by the reference platform's launcher behave as plain service processes do: their own
environment, a graceful stop on SIGTERM, death with their `run` process, a crash reported with its log, and
nothing left once the run closes.

The instances here run tests/service_fixture_app.py (found through PYTHONPATH, as a fresh process would find it).
"""

import signal
import time

import httpx
import pytest
from test_service_processes import READY_BUDGET_S, fixture_env, gone, recorded_pids

from harness.infra.processes import RunRecord
from harness.platform.prefork import Preforker
from harness.platform.processes import ServiceProcess, ServiceUnavailable

APP = "service_fixture_app:create_app"


LAUNCHER_BUDGET_S = 30.0  # the first instance waits for the launcher's imports (3 s of CPU) on a busy machine


@pytest.fixture
def record(tmp_path):
    record = RunRecord(tmp_path)
    yield record
    record.close()


@pytest.fixture(scope="module")
def shared_preforker(tmp_path_factory):
    """One launcher for the tests that leave it running: its imports are paid once."""
    record = RunRecord(tmp_path_factory.mktemp("launcher-record"))
    preforker = Preforker(record)
    preforker.start()
    yield preforker
    record.close()


@pytest.fixture
def preforker(record):
    preforker = Preforker(record)
    yield preforker
    preforker.stop()


def started(preforker: Preforker, record: RunRecord, **env: str) -> ServiceProcess:
    service = ServiceProcess("fixture", fixture_env(**env), record, launch=preforker.launch_app(APP))
    service.start().wait_ready(LAUNCHER_BUDGET_S)
    return service


def instance_pid(service: ServiceProcess) -> int:
    return httpx.get(f"{service.url}/pid", timeout=2, trust_env=False).json()["pid"]


def env_of(service: ServiceProcess, name: str) -> str | None:
    return httpx.get(f"{service.url}/env/{name}", timeout=2, trust_env=False).json()["value"]


def wait_gone(pid: int, budget_s: float = 5.0) -> bool:
    deadline = time.monotonic() + budget_s
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.02)
    return gone(pid)


def test_each_instance_gets_the_environment_its_run_process_was_given(shared_preforker, record):
    preforker = shared_preforker
    first = started(preforker, record, FIXTURE_GREETING="first one")
    second = started(preforker, record, FIXTURE_GREETING="the second")

    assert (env_of(first, "FIXTURE_GREETING"), env_of(second, "FIXTURE_GREETING")) == ("first one", "the second")
    assert instance_pid(first) not in (first.pid, second.pid, instance_pid(second))


def test_sigterm_stops_the_instance_gracefully_and_run_exits_with_its_status(shared_preforker, record):
    preforker = shared_preforker
    service = started(preforker, record)
    instance, runner = instance_pid(service), service._process

    service._process.terminate()

    # uvicorn shuts down gracefully, then ends by the signal it caught; `run` ends the same way
    assert runner.wait(READY_BUDGET_S) == -signal.SIGTERM
    assert wait_gone(instance), "the instance outlived its run process after a graceful stop"
    assert "fixture: shut down gracefully" in service.log_tail()


def test_killing_run_kills_the_instance_and_a_restart_takes_the_same_port(shared_preforker, record):
    preforker = shared_preforker
    service = started(preforker, record)
    url, instance = service.url, instance_pid(service)

    service.kill()

    assert wait_gone(instance), "the instance outlived its run process after SIGKILL"
    service.start().wait_ready(READY_BUDGET_S)
    assert service.url == url and instance_pid(service) != instance


def test_an_instance_that_fails_to_import_is_reported_with_its_log(shared_preforker, record):
    service = ServiceProcess("fixture", fixture_env(FIXTURE_CRASH_ON_IMPORT="1"), record,
                             launch=shared_preforker.launch_app(APP)).start()

    with pytest.raises(ServiceUnavailable, match=r"(?s)exited with code 1 .*told to crash on import"):
        service.wait_ready(LAUNCHER_BUDGET_S)


def test_instances_outlive_a_stopped_launcher_and_still_stop_on_sigterm(preforker, record):
    service = started(preforker, record)
    instance = instance_pid(service)

    preforker.stop()

    assert httpx.get(f"{service.url}/health", timeout=2, trust_env=False).status_code == 200
    service.stop()
    assert wait_gone(instance)


def test_a_closed_run_leaves_neither_launcher_nor_instance(preforker, record):
    service = started(preforker, record)
    launcher, instance = preforker._process.pid, instance_pid(service)
    assert {launcher, service.pid} <= recorded_pids(record)

    record.close()  # as the reaper does after a killed run: by the recorded pids, the instance's is not among them

    assert wait_gone(launcher) and wait_gone(instance) and gone(service.pid)
