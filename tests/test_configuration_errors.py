"""Settings that cannot work are refused before any scenario, in one sentence that names the setting and cause."""

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from harness.infra import ConfigurationError, InfrastructureUnavailable, select_mode
from harness.infra.processes import free_port
from harness.infra.reachability import check_nats, check_postgres, mask_credentials, postgres_cause
from harness.session import USERDATA_CHOICES, check_userdata, require_local_extra, require_provider_keys

TEST_BUDGET_S = 60


@pytest.mark.parametrize(("userdata", "message"), [
    ({"llm": "bogus"}, "-D llm=bogus is not known; choose scripted, local or live"),
    ({"platform": "nope"}, "-D platform=nope is not known; choose embedded or external"),
    ({"infra": "cloud"}, "-D infra=cloud is not known; choose embedded, containers or external"),
    ({"timeout_scale": "fast"}, "-D timeout_scale=fast must be a positive number"),
    ({"timeout_scale": "0"}, "-D timeout_scale=0 must be a positive number"),
])
def test_unknown_userdata_keys_and_values_are_refused_with_the_accepted_ones(userdata, message):
    with pytest.raises(ConfigurationError) as refused:
        check_userdata(userdata)
    assert str(refused.value) == message


def test_an_unknown_key_is_refused_with_every_key_the_suite_reads():
    with pytest.raises(ConfigurationError) as refused:
        check_userdata({"tiemout_scale": "3"})
    known = sorted(USERDATA_CHOICES)
    listed = f"{', '.join(known[:-1])} and {known[-1]}"
    assert str(refused.value) == f"-D tiemout_scale=3 is not a setting of this suite; it reads {listed}"


def test_known_userdata_and_the_allure_formatters_own_keys_pass():
    check_userdata({"llm": "live", "platform": "external", "infra": "containers", "timeout_scale": "2.5",
                    "AllureFormatter.issue_pattern": "https://issues/{}"})


def test_select_mode_refuses_an_unknown_mode_and_infrastructure_errors_are_configuration_errors():
    with pytest.raises(ConfigurationError, match="choose embedded, containers or external"):
        select_mode({"infra": "cloud"}, environ={})
    assert select_mode({}, environ={"DATABASE_URL": "postgresql://x"}) == "external"
    assert issubclass(InfrastructureUnavailable, ConfigurationError)


def test_the_live_profile_names_the_missing_provider_variable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    models = {"chat": "openai/gpt-4o-mini", "chat-backup": "anthropic/claude-3-5-haiku-latest",
              "embedding": "openai/text-embedding-3-small"}
    with pytest.raises(ConfigurationError) as refused:
        require_provider_keys(models)
    assert str(refused.value) == (
        "-D llm=live needs OPENAI_API_KEY (for openai/gpt-4o-mini and openai/text-embedding-3-small); "
        "ANTHROPIC_API_KEY (for anthropic/claude-3-5-haiku-latest), which is not set in the environment")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    require_provider_keys({"chat": "openai/gpt-4o-mini"})


def test_the_local_profile_without_its_extra_names_the_install_command(monkeypatch):
    monkeypatch.setattr("harness.session.missing_modules", lambda: ["llama-cpp-python[server]", "candding"])
    with pytest.raises(ConfigurationError) as refused:
        require_local_extra()
    assert str(refused.value) == ('-D llm=local needs llama-cpp-python[server] and candding, which are not '
                                  'installed: pip install -e ".[dev,local]"')
    monkeypatch.setattr("harness.session.missing_modules", lambda: [])
    require_local_extra()


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://user:s3cret@db:5432/app", "postgresql://user:***@db:5432/app"),
    ("nats://token@nats:4222", "nats://***@nats:4222"),
    ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
])
def test_urls_are_shown_with_their_credentials_masked(url, shown):
    assert mask_credentials(url) == shown


def test_a_refused_nats_fails_at_once():
    port = free_port()
    began = time.perf_counter()
    with pytest.raises(ConfigurationError) as refused:
        check_nats(f"nats://user:pw@127.0.0.1:{port}")
    assert time.perf_counter() - began < 2
    assert str(refused.value) == f"NATS_URL nats://user:***@127.0.0.1:{port} cannot be reached: connection refused"


def greeter(greeting: bytes | None):
    """A loopback server that sends `greeting` to each client (None: says nothing), like a NATS server would."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if greeting:
                client.sendall(greeting)
            time.sleep(0.5)
            client.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener


@pytest.mark.parametrize(("greeting", "problem"), [
    (None, "accepted the connection but is not a NATS server: it sent no INFO greeting"),
    (b"HTTP/1.1 400 Bad Request\r\n", "accepted the connection but is not a NATS server: it sent no INFO greeting"),
    (b'INFO {"server_id": "x"}\r\n', "is a NATS server without JetStream, which the suite needs: start "
                                     "nats-server with -js"),
])
def test_a_server_that_is_not_a_jetstream_nats_is_named(greeting, problem):
    with greeter(greeting) as listener:
        port = listener.getsockname()[1]
        with pytest.raises(ConfigurationError) as refused:
            check_nats(f"nats://127.0.0.1:{port}", timeout_s=0.5)
    assert str(refused.value) == f"NATS_URL nats://127.0.0.1:{port} {problem}"


def test_a_jetstream_nats_passes_and_one_good_server_of_a_list_is_enough():
    with greeter(b'INFO {"server_id": "x", "jetstream": true}\r\n') as listener:
        check_nats(f"nats://127.0.0.1:{free_port()}, nats://127.0.0.1:{listener.getsockname()[1]}")


def test_a_refused_or_wrong_database_is_named_with_its_cause():
    port = free_port()
    with pytest.raises(ConfigurationError) as refused:
        check_postgres(f"postgresql://app:s3cret@127.0.0.1:{port}/app")
    assert str(refused.value) == f"DATABASE_URL postgresql://app:***@127.0.0.1:{port}/app cannot be used: " \
                                 "connection refused"
    with greeter(b'INFO {"server_id": "x"}\r\n') as listener:
        with pytest.raises(ConfigurationError, match="accepted the connection but is not a PostgreSQL server"):
            check_postgres(f"postgresql://127.0.0.1:{listener.getsockname()[1]}/app")
    with pytest.raises(ConfigurationError, match=r"mysql://u:\*\*\*@db/app is not a PostgreSQL URL"):
        check_postgres("mysql://u:pw@db/app")


@pytest.mark.parametrize(("libpq", "cause"), [
    ('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication '
     'failed for user "app"', 'password authentication failed for user "app"'),
    ('connection failed: connection to server on socket "/tmp/.s.PGSQL.5432" failed: FATAL:  database "x" does not '
     'exist', 'database "x" does not exist'),
    ('connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused\n\tIs the server '
     'running on that host and accepting TCP/IP connections?', "connection refused"),
])
def test_libpq_messages_shrink_to_their_cause(libpq, cause):
    assert postgres_cause(libpq) == cause


def test_the_hook_prints_one_sentence_and_exits_2():
    code = ("from harness.hooks import _stop_run\n"
            "from harness.infra import ConfigurationError\n"
            "_stop_run(ConfigurationError('-D llm=bogus is not known; choose scripted, local or live'))\n"
            "print('still running')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == "configuration error: -D llm=bogus is not known; choose scripted, local or live\n"
    assert done.stdout == ""


def test_an_incomplete_external_platform_is_named_in_one_sentence_before_anything_starts():
    from harness.session import require_deployment_settings

    with pytest.raises(ConfigurationError) as refused:
        require_deployment_settings({"GATEWAY_SERVICE_URL": "http://10.0.0.1:8080", "NATS_URL": "nats://10.0.0.1"})
    assert str(refused.value) == (
        "-D platform=external needs RAG_SERVICE_URL, AGENT_SERVICE_URL, QUERY_SERVICE_URL and PLATFORM_OPERATOR_KEY "
        "in the environment (the platform command prints them: python -m harness.platform up)")


EXTERNAL_SETTINGS = ("GATEWAY_SERVICE_URL", "RAG_SERVICE_URL", "AGENT_SERVICE_URL", "QUERY_SERVICE_URL", "NATS_URL",
                     "DATABASE_URL", "PLATFORM_OPERATOR_KEY")
SERVICE_URLS = "GATEWAY_SERVICE_URL, RAG_SERVICE_URL, AGENT_SERVICE_URL, QUERY_SERVICE_URL"


@pytest.mark.parametrize(("paths", "given", "missing"), [
    ("features/codec/codec_formats.feature", {}, f"{SERVICE_URLS}, NATS_URL and PLATFORM_OPERATOR_KEY"),
    ("features/", {"PLATFORM_OPERATOR_KEY": "an-operator-key"}, f"{SERVICE_URLS} and NATS_URL"),
])
def test_behave_against_an_incomplete_external_platform_stops_at_once_with_that_sentence(tmp_path, paths, given,
                                                                                          missing):
    env = {name: value for name, value in os.environ.items() if name not in EXTERNAL_SETTINGS}
    env.update(given, LLM_ACCEPTANCE_STATE=str(tmp_path))
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "behave", "-D", "platform=external", paths], env=env,
                          capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert done.stderr == (f"configuration error: -D platform=external needs {missing} in the environment (the "
                           "platform command prints them: python -m harness.platform up)\n"), output
    assert "Traceback" not in output and "scenario" not in done.stdout, output
    assert time.monotonic() - began < 15, "expected the refusal before any server or scenario starts"
    assert not any(tmp_path.iterdir()), "expected no run record: nothing was started"
