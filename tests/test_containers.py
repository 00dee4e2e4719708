"""Containers mode: which image runs, the one sentence when none can, and the removal of a killed run's leftovers."""

import json
import shutil
import subprocess

import psutil
import pytest

from harness.infra import containers, images
from harness.infra.errors import ConfigurationError, InfrastructureUnavailable
from harness.infra.processes import RunRecord
from harness.infra.reaper import reap_stale_runs

NOT_PULLABLE = "Get https://registry-1.docker.io/v2/: no such host"


def _resolve(setting, named, present, pullable=()):
    pulled = []

    def pull(image):
        pulled.append(image)
        return None if image in pullable else NOT_PULLABLE

    return images.resolve(setting, named, lambda image: image in present, pull), pulled


def test_the_official_image_runs_when_present_or_pullable():
    assert _resolve(images.NATS, None, {images.NATS.default}) == (images.NATS.default, [])
    assert _resolve(images.NATS, None, set(), {images.NATS.default}) == (images.NATS.default, [images.NATS.default])


def test_the_lookalike_stands_in_for_an_official_image_that_cannot_be_pulled():
    image, pulled = _resolve(images.POSTGRES, None, {images.POSTGRES.lookalike})
    assert image == images.POSTGRES.lookalike
    assert pulled == [images.POSTGRES.default]


def test_without_either_image_the_sentence_names_the_build_command():
    with pytest.raises(InfrastructureUnavailable) as caught:
        _resolve(images.NATS, None, set())
    message = str(caught.value)
    assert "\n" not in message
    assert "nats:2.10 is not on this Docker engine and cannot be pulled" in message
    assert images.BUILD_COMMAND in message and "-D nats_image=" in message
    assert isinstance(caught.value, ConfigurationError)


def test_an_image_named_in_the_settings_is_never_replaced_by_the_lookalike():
    with pytest.raises(InfrastructureUnavailable, match=r"mine/pg:1 \(from -D postgres_image or POSTGRES_IMAGE\)"):
        _resolve(images.POSTGRES, "mine/pg:1", {images.POSTGRES.lookalike})
    assert _resolve(images.POSTGRES, "mine/pg:1", {"mine/pg:1"})[0] == "mine/pg:1"


def test_userdata_names_the_image_before_the_environment():
    environ = {"NATS_IMAGE": "from/env:1"}
    assert images.chosen(images.NATS, {"nats_image": "from/userdata:1"}, environ) == "from/userdata:1"
    assert images.chosen(images.NATS, {}, environ) == "from/env:1"
    assert images.chosen(images.NATS, {}, {}) is None


def test_no_engine_at_all_is_one_sentence(monkeypatch):
    monkeypatch.setattr(containers, "DEFAULT_SOCKET", "/nonexistent/docker.sock")
    monkeypatch.setattr(containers, "_engine_installed", lambda: False)
    with pytest.raises(InfrastructureUnavailable, match="needs a Docker engine, and this machine has none") as caught:
        containers.engine_client({})
    assert "apt-get install -y docker.io" in str(caught.value)


def test_an_engine_that_is_installed_but_stopped_is_one_sentence(monkeypatch):
    monkeypatch.setattr(containers, "DEFAULT_SOCKET", "/nonexistent/docker.sock")
    monkeypatch.setattr(containers, "_engine_installed", lambda: True)
    with pytest.raises(InfrastructureUnavailable, match="installed but not running"):
        containers.engine_client({})


def test_an_engine_that_does_not_answer_is_one_sentence(monkeypatch):
    from harness.infra.processes import free_port

    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")
    with pytest.raises(InfrastructureUnavailable) as caught:
        containers.engine_client({"DOCKER_HOST": "tcp://127.0.0.1:1"})
    message = str(caught.value)
    assert message.startswith("the Docker engine at tcp://127.0.0.1:1 does not answer (connection refused)")
    assert "\n" not in message and "start it" in message


class _Item:
    def __init__(self, name, labels, container=True):
        self.name, self.removed = name, False
        self.attrs = {"Config": {"Labels": labels}} if container else {"Labels": labels}

    def remove(self, **_):
        self.removed = True


class _Kind:
    def __init__(self, items):
        self.items = items

    def list(self, **_):
        return self.items


class _Client:
    def __init__(self, containers_, networks=(), volumes=()):
        self.containers, self.networks, self.volumes = _Kind(containers_), _Kind(list(networks)), _Kind(list(volumes))


def test_the_reaper_removes_what_a_dead_run_labelled_and_leaves_a_live_runs(tmp_path):
    live = RunRecord(tmp_path)
    dead_label = {images.RUN_LABEL: "999999999:1.0"}
    gone, kept = _Item("gone", dead_label), _Item("kept", containers.run_label(live))
    network = _Item("suite-net", dead_label, container=False)
    removed = containers.reap_stale_containers(_Client([gone, kept], networks=[network]))
    assert gone.removed and network.removed and not kept.removed
    assert removed == ["container gone", "network suite-net"]
    live.close()


def test_a_stale_run_record_removes_its_containers(tmp_path, monkeypatch):
    removed = []
    monkeypatch.setattr(containers, "remove_containers", removed.extend)
    record = tmp_path / "run-1.json"
    record.write_text(json.dumps({"owner": {"pid": 999999999, "create_time": 1.0}, "processes": [], "temp_dirs": [],
                                  "containers": ["abc123"]}))
    assert reap_stale_runs(tmp_path) == ["run-1.json"]
    assert removed == ["abc123"] and not record.exists()


def test_a_record_lists_a_container_until_it_is_forgotten(tmp_path):
    record = RunRecord(tmp_path)
    record.add_container("abc")
    assert json.loads(record.path.read_text())["containers"] == ["abc"]
    record.forget_container("abc")
    assert json.loads(record.path.read_text())["containers"] == []
    assert record.owner["pid"] == psutil.Process().pid
    record.close()


def _engine_with(image):
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


BASE = "llm-acceptance/debian:bookworm"


@pytest.mark.skipif(not _engine_with(BASE), reason=f"needs a Docker engine with {BASE} (docker/build-images)")
def test_a_container_left_by_a_killed_run_is_removed_by_the_next_one():
    label = f"{images.RUN_LABEL}=999999999:1.0"
    started = subprocess.run(["docker", "run", "-d", "--label", label, BASE, "sleep", "600"], capture_output=True,
                             text=True, check=True).stdout.strip()
    try:
        removed = containers.reap_stale_containers(containers.engine_client())
        assert any(name.startswith("container ") for name in removed)
        left = subprocess.run(["docker", "ps", "-aq", "--filter", f"id={started}"], capture_output=True, text=True)
        assert left.stdout.strip() == ""
    finally:
        subprocess.run(["docker", "rm", "-f", started], capture_output=True)


def test_the_compose_platform_publishes_on_loopback_only_labels_everything_and_checks_each_service():
    yaml = pytest.importorskip("yaml")
    from pathlib import Path

    document = yaml.safe_load((Path(__file__).resolve().parents[1] / "docker/platform.compose.yaml").read_text())
    services = document["services"]
    assert set(services) == {"nats", "postgres", "gateway", "rag", "agent", "query"}
    for name, service in services.items():
        assert all(port.startswith("127.0.0.1:") for port in service["ports"]), f"{name} publishes beyond loopback"
        assert images.RUN_LABEL in service["labels"], f"{name} is not labelled with the run"
        assert name == "nats" or "healthcheck" in service, f"{name} has no healthcheck"
    assert images.RUN_LABEL in document["networks"]["default"]["labels"]
