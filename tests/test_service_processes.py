"""Platform services as OS processes: start, environment, readiness failures, stop, kill and restart, the fleet.

The services here are tests/service_fixture_app.py; the subprocess finds it through PYTHONPATH.
"""

import json
import os
import time
from pathlib import Path

import httpx
import psutil
import pytest

from harness.infra.processes import RunRecord
from harness.platform.launch import uvicorn_launch
from harness.platform.processes import ServiceFleet, ServiceProcess, ServiceUnavailable

FIXTURE = uvicorn_launch("service_fixture_app:create_app")
READY_BUDGET_S = 10.0
TESTS_DIR = str(Path(__file__).parent)


@pytest.fixture
def record(tmp_path):
    record = RunRecord(tmp_path)
    yield record
    record.close()


@pytest.fixture
def service(record):
    service = ServiceProcess("fixture", fixture_env(FIXTURE_GREETING="hello"), record, launch=FIXTURE)
    service.start().wait_ready(READY_BUDGET_S)
    yield service
    service.stop()


def fixture_env(**extra: str) -> dict[str, str]:
    pythonpath = os.pathsep.join(filter(None, (TESTS_DIR, os.environ.get("PYTHONPATH"))))
    return {**os.environ, "PYTHONPATH": pythonpath, **extra}


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=2, trust_env=False)


def recorded_pids(record: RunRecord) -> set[int]:
    return {entry["pid"] for entry in json.loads(record.path.read_text())["processes"]}


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_started_service_answers_on_its_url(service):
    assert service.running
    assert get(f"{service.url}/health").status_code == 200
    assert get(f"{service.url}/ready").status_code == 200


def test_the_environment_reaches_the_service(service):
    assert get(f"{service.url}/env/FIXTURE_GREETING").json()["value"] == "hello"


def test_a_service_that_never_gets_ready_fails_naming_it_with_its_log_tail(record):
    service = ServiceProcess("fixture", fixture_env(FIXTURE_NEVER_READY="1"), record, launch=FIXTURE).start()
    try:
        with pytest.raises(ServiceUnavailable) as raised:
            service.wait_ready(3.0)
        message = str(raised.value)
        assert "fixture service" in message and service.url in message and "3.0 s" in message
        assert "/ready answered 503" in message
        assert "FIXTURE_NEVER_READY is set" in message, "the log tail should be in the message"
    finally:
        service.stop()


def test_a_service_that_crashes_at_import_fails_at_once_with_its_log_tail(record):
    service = ServiceProcess("fixture", fixture_env(FIXTURE_CRASH_ON_IMPORT="1"), record, launch=FIXTURE).start()
    pid = service.pid
    began = time.monotonic()
    with pytest.raises(ServiceUnavailable) as raised:
        service.wait_ready(READY_BUDGET_S)
    assert time.monotonic() - began < READY_BUDGET_S / 2, "a dead process should be reported at once"
    message = str(raised.value)
    assert "exited with code" in message and service.url in message
    assert "the fixture app was told to crash on import" in message
    assert not service.running and pid not in recorded_pids(record)


def test_stop_leaves_no_process_and_forgets_the_pid(service, record):
    pid = service.pid
    assert pid in recorded_pids(record)

    service.stop()

    assert gone(pid) and not service.running
    assert pid not in recorded_pids(record)
    with pytest.raises(httpx.ConnectError):
        get(f"{service.url}/health")


def test_a_killed_service_starts_again_on_the_same_port(service, record):
    url, first_pid = service.url, service.pid

    service.kill()
    assert gone(first_pid) and first_pid not in recorded_pids(record)

    service.start().wait_ready(READY_BUDGET_S)
    assert service.url == url and service.pid != first_pid
    assert service.pid in recorded_pids(record)
    assert get(f"{url}/health").status_code == 200


def test_the_fleet_starts_what_a_service_calls_and_reuses_each_configuration(record):
    fleet = ServiceFleet(record, launches={"gateway": FIXTURE, "rag": FIXTURE})

    services = fleet.start(["rag"], fixture_env())

    assert set(services) == {"gateway", "rag"}
    gateway, rag = services["gateway"], services["rag"]
    assert get(f"{rag.url}/env/GATEWAY_SERVICE_URL").json()["value"] == gateway.url
    again = fleet.start(["rag"], fixture_env())
    assert (again["gateway"].pid, again["rag"].pid) == (gateway.pid, rag.pid)
    other = fleet.start(["rag"], fixture_env(GATEWAY_TIMEOUT_S="9"))
    assert {other["gateway"].url, other["rag"].url}.isdisjoint({gateway.url, rag.url})

    pids = [s.pid for s in (gateway, rag, other["gateway"], other["rag"])]
    record.close()  # the fleet stops with the run
    assert all(gone(pid) for pid in pids)


def test_the_fleet_does_not_start_a_dependency_whose_url_is_given(record, service):
    fleet = ServiceFleet(record, launches={"gateway": FIXTURE, "rag": FIXTURE})

    services = fleet.start(["rag"], fixture_env(GATEWAY_SERVICE_URL=service.url))

    assert set(services) == {"rag"}
    assert get(f"{services['rag'].url}/env/GATEWAY_SERVICE_URL").json()["value"] == service.url


def test_a_fleet_start_that_fails_leaves_nothing_running(record):
    fleet = ServiceFleet(record, launches={"gateway": FIXTURE, "rag": FIXTURE})

    with pytest.raises(ServiceUnavailable, match="gateway service"):
        fleet.start(["rag"], fixture_env(FIXTURE_NEVER_READY="1"), ready_budget_s=2.0)

    assert recorded_pids(record) == set()
