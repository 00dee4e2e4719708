"""The platform's HTTP services as OS processes on loopback ports, started the way an operator runs them.

Each service is started by its launch (the reference platform's: `uvicorn --factory <app>`), configured only
by its environment, in its own session
(a Ctrl-C in the terminal reaches the suite, which stops its services in order), with its pid in
the run record from the moment it exists, so the next run reaps it if this one is killed.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from harness.infra.processes import AdoptedProcess, RunRecord, answer_of, exited, free_port, tls
from harness.platform.environment import configuration_of
from harness.platform.launch import Launch, uvicorn_launch
from harness.platform.prefork import Preforker
from harness.waiting import poll, scaled

READY_BUDGET_S = 60.0  # on a machine shared with other starts: four parallel workers' launchers importing at
# once on 2 slow cores kept a first gateway from answering for over 30 s
STOP_GRACE_S = 5.0
LOG_TAIL_LINES = 20
POLL_INTERVAL_S = 0.02
# Who calls whom, and the variable that tells a caller where its dependency listens.
DEPENDENCIES = {"gateway": (), "rag": ("gateway",), "agent": ("gateway", "rag"), "query": ("rag", "agent")}
# Settings whose values the profile leaves out: addresses and secrets.
HIDDEN = ("_URL", "_KEY", "_SECRET", "_ENDPOINT", "_BASE")
URL_VARIABLES = {"gateway": "GATEWAY_SERVICE_URL", "rag": "RAG_SERVICE_URL", "agent": "AGENT_SERVICE_URL"}


@dataclass(frozen=True)
class ServiceStart:
    """One service process a fleet started, how long it took to answer, and why it was needed (the end-of-run
    profile prints them)."""

    service: str
    seconds: float
    why: str


class ServiceUnavailable(RuntimeError):
    """A service did not become ready; the message names it, its URL, the budget and its log's tail."""


def default_launch(name: str, environment: Mapping[str, str] | None = None) -> Launch:
    """The reference platform's service, by its app factory (imported by uvicorn, never by the suite); a fleet
    starts them through its launcher instead (harness.platform.prefork)."""
    return uvicorn_launch(f"ai_platform.services.{name}:create_app", environment)


class ServiceProcess:
    """One service on a free loopback port; it keeps that port across stop/kill and start."""

    def __init__(self, name: str, env: Mapping[str, str], record: RunRecord, *, launch: Launch | None = None,
                 log_dir: Path | None = None, host: str = "127.0.0.1", ready_path: str = "/ready") -> None:
        self.name = name
        self.launch = launch or default_launch(name)
        self.env = dict(env)
        self.host = host
        self.ready_path = ready_path  # /health: up, whether or not its dependencies answer yet
        self.port = free_port(host)
        self.log_path = (log_dir or record.new_temp_dir()) / f"{name}-{self.port}.log"
        self._record = record
        self._process: psutil.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> ServiceProcess:
        """Start the process and return at once; wait_ready() tells when it serves."""
        if self.running:
            return self
        if self.launch.prepare is not None:
            self.launch.prepare()
        command = self.launch.argv(self.host, self.port)
        env = {**self.env, "PYTHONUNBUFFERED": "1"}  # the log tail must show what happened just now
        with self.log_path.open("ab") as log:  # appended: a restart keeps the earlier lives' lines
            log.write(f"--- {self.name}: {' '.join(command)}\n".encode())
            log.flush()
            self._process = psutil.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self._record.add_process(self._process.pid, f"{self.name} service")
        return self

    def wait_ready(self, budget_s: float) -> None:
        """Poll GET /ready until it answers 200; fail at once if the process dies."""
        wait_ready_together([self], budget_s)

    def stop(self) -> None:
        """SIGTERM for a graceful shutdown, up to STOP_GRACE_S, then SIGKILL whatever is left of the tree."""
        stop_together([self])

    def kill(self) -> None:
        """SIGKILL the tree at once, as a crash would; start() brings it back on the same port."""
        if self._process is not None:
            _kill(_tree(self._process))
            self._forget()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _forget(self) -> None:
        if self._process is not None:
            self._record.forget_process(self._process.pid)
            self._process = None

    def _describe(self, what: str) -> str:
        return (f"the {self.name} service at {self.url} {what}\n"
                f"last {LOG_TAIL_LINES} lines of {self.log_path}:\n{self.log_tail()}")


class ServiceFleet:
    """The services of one run: one instance per (service, configuration), started in parallel, reused.

    A configuration is the environment a service gets, including where its dependencies listen, so a
    differently configured gateway also gets its own rag, agent and query above it.
    """

    def __init__(self, record: RunRecord, *, launches: Mapping[str, Launch] | None = None,
                 ready_path: str = "/ready") -> None:
        self._record = record
        self._ready_path = ready_path
        self._launches = dict(launches or {})
        self._instances: dict[tuple, ServiceProcess] = {}
        self._log_dir: Path | None = None
        self._lock = threading.Lock()
        self._preforker = Preforker(record)
        self.starts: list[ServiceStart] = []  # every process this fleet started, in order
        self._deployed: set[int] = set()  # id() of the instances of the deployment: no scenario settings in them
        self._why: dict[int, str] = {}  # id(process) -> why it was made
        record.on_close(self.close)  # stops with the run on every exit path the infra handles

    def start(self, names: Iterable[str], env: Mapping[str, str], *, settings: Mapping[str, str] | None = None,
              ready_budget_s: float | None = None) -> dict[str, ServiceProcess]:
        """The named services and the ones they call, ready; a dependency whose URL env gives is not started.
        Each gets `env`, then its launch's settings, then the scenario's `settings` over both."""
        budget_s = scaled(READY_BUDGET_S) if ready_budget_s is None else ready_budget_s
        with self._lock:
            chosen: dict[str, ServiceProcess] = {}
            starting: list[ServiceProcess] = []
            for name in _start_order(names, {**env, **(settings or {})}):
                service = self._instance(name, env, settings or {}, chosen)
                if not service.running:
                    starting.append(service.start())  # every process starts before anyone waits
                chosen[name] = service
            self._wait_all(starting, budget_s)
            return chosen

    def replicas(self, name: str, instances: list[str], env: Mapping[str, str], *,
                 settings: Mapping[str, str] | None = None, ready: bool = True) -> list[ServiceProcess]:
        """Processes of one service, each named by SERVICE_INSTANCE, started together and not shared: whoever
        asked stops them (the run's close stops any left)."""
        if self._log_dir is None:
            self._log_dir = self._record.new_temp_dir()
        launch = self._launch(name)
        started = [ServiceProcess(name, {**env, **launch.environment, **(settings or {}), "SERVICE_INSTANCE": instance},
                                  self._record, launch=launch, log_dir=self._log_dir).start()
                   for instance in instances]
        for process in started:
            self._why[id(process)] = f"a replica of the scenario's own ({process.env['SERVICE_INSTANCE']})"
        if ready:
            self._wait_all(started, scaled(READY_BUDGET_S))
        return started

    def running_urls(self) -> dict[str, str]:
        """Where a running instance of each service this fleet started listens (any instance: one code)."""
        with self._lock:
            return {s.name: s.url for s in reversed(self._instances.values()) if s.running}

    # The warm platform (harness.infra.warm) -------------------------------------------------------------

    def warm_state(self, inherited: Mapping[str, str], limit: int) -> dict:
        """Up to `limit` running instances (not replicas) for a warm record, the deployment's first, then the
        latest started; each with its settings over the inherited environment, so the next run keys it as it
        would key its own start."""
        with self._lock:
            running = [s for s in reversed(self._instances.values()) if s.running]
            chosen = sorted(running, key=lambda s: id(s) not in self._deployed)[:limit]
            entries = [{"name": s.name, "port": s.port, "pid": s.pid, "log": str(s.log_path),
                        "ready_path": s.ready_path, "deployed": id(s) in self._deployed,
                        "create_time": psutil.Process(s.pid).create_time(),
                        "settings": {k: v for k, v in s.env.items() if inherited.get(k) != v}}
                       for s in chosen]
        return {"services": entries, "log_dir": str(self._log_dir) if self._log_dir else None}

    def adopt(self, state: dict, inherited: Mapping[str, str]) -> list[ServiceProcess]:
        """A warm record's instances, as if this fleet had started them (their pids are in the run's record)."""
        adopted = []
        with self._lock:
            if state.get("log_dir"):
                self._log_dir = Path(state["log_dir"])
            for entry in state["services"]:
                launch = self._launch(entry["name"])
                env = {**inherited, **entry["settings"]}
                service = ServiceProcess(entry["name"], env, self._record, launch=launch, log_dir=self._log_dir,
                                         ready_path=entry["ready_path"])
                service.port, service.log_path = entry["port"], Path(entry["log"])
                service._process = AdoptedProcess(entry["pid"])
                self._instances[(entry["name"], launch.command, configuration_of(entry["name"], env))] = service
                if entry["deployed"]:
                    self._deployed.add(id(service))
                adopted.append(service)
        return adopted

    def hand_over(self, pids: set[int]) -> None:
        """These instances now belong to a warm record: out of the run's record, and close() leaves them (it
        stops the rest)."""
        with self._lock:
            for key, service in list(self._instances.items()):
                if service.pid in pids:
                    self._record.forget_process(service.pid)
                    del self._instances[key]
            if self._log_dir is not None:
                self._record.forget_temp_dir(self._log_dir)

    def close(self) -> None:
        """Stop every instance, all at once; idempotent."""
        with self._lock:
            services = list(self._instances.values())
            self._instances.clear()
        stop_together(services)
        self._preforker.stop()

    def prepare(self) -> None:
        """Start the launcher of the reference platform's services now, so the first start need not wait for its
        imports (a fleet whose launches all come from a launch file never uses it)."""
        if len(self._launches) < len(DEPENDENCIES):
            self._preforker.start()

    def default_launch(self, name: str, environment: Mapping[str, str] | None = None) -> Launch:
        """How this fleet starts the reference platform's service: forked by the run's launcher."""
        return self._preforker.launch(name, environment)

    def _launch(self, name: str) -> Launch:
        return self._launches.get(name) or self.default_launch(name)

    def _instance(self, name: str, env: Mapping[str, str], settings: Mapping[str, str],
                  chosen: Mapping[str, ServiceProcess]) -> ServiceProcess:
        launch = self._launch(name)
        service_env = {**env, **launch.environment, **settings}
        for dependency in DEPENDENCIES[name]:
            if dependency in chosen:  # the instance this fleet chose, whatever the launch file names
                service_env[URL_VARIABLES[dependency]] = chosen[dependency].url
        configuration = configuration_of(name, service_env)
        key = (name, launch.command, configuration)
        if key not in self._instances:
            if self._log_dir is None:
                self._log_dir = self._record.new_temp_dir()
            self._instances[key] = ServiceProcess(name, service_env, self._record, launch=launch,
                                                  log_dir=self._log_dir, ready_path=self._ready_path)
            self._why[id(self._instances[key])] = self._reason(name, settings, chosen)
            if not settings and all(id(chosen[d]) in self._deployed for d in DEPENDENCIES[name] if d in chosen):
                self._deployed.add(id(self._instances[key]))
        return self._instances[key]

    def _reason(self, name: str, settings: Mapping[str, str], chosen: Mapping[str, ServiceProcess]) -> str:
        """Why the service needs a process of its own: the scenario's settings it reads (values of addresses and
        secrets left out), or the instances it calls that were deployed with such settings."""
        reads = [key for key, _ in configuration_of(name, dict(settings))]
        own = ", ".join(sorted(key if key.endswith(HIDDEN) else f"{key}={settings[key]}" for key in reads))
        callees = [d for d in DEPENDENCIES[name] if d in chosen and id(chosen[d]) not in self._deployed]
        parts = ([f"the scenario's {own}"] if own else []) + [f"calls a {d} of the scenario's own" for d in callees]
        return "; ".join(parts) or "the run's deployment"

    def _wait_all(self, starting: list[ServiceProcess], budget_s: float) -> None:
        """All together: each round polls every service not yet ready, so each start is timed to the poll that
        found it ready and a process that exits is reported at once, whichever it is."""
        began, ready_ones = time.monotonic(), set()

        def ready(service: ServiceProcess) -> None:
            ready_ones.add(id(service))
            why = self._why.pop(id(service), "started again after a stop")
            self.starts.append(ServiceStart(service.name, round(time.monotonic() - began, 3), why))

        try:
            wait_ready_together(starting, budget_s, ready)
        except ServiceUnavailable:
            # Leave nothing half-started behind: the next ask starts them afresh.
            for failed in starting:
                if id(failed) not in ready_ones:
                    failed.stop()
                    self._drop(failed)
            raise

    def _drop(self, service: ServiceProcess) -> None:
        self._instances = {key: s for key, s in self._instances.items() if s is not service}


def wait_ready_together(services: list[ServiceProcess], budget_s: float,
                        ready: Callable[[ServiceProcess], None] | None = None) -> None:
    """Poll each service's readiness path until it answers 200, all in one loop; `ready` hears of each as it
    becomes ready. ServiceUnavailable at once when one exits (or was never started), and when the budget ends."""
    import httpx

    pending, last = list(services), {}
    deadline = time.monotonic() + budget_s
    with httpx.Client(trust_env=False, verify=tls()) as client:  # a proxy from the environment must not see loopback

        def all_ready() -> bool:
            for service in list(pending):
                process = service._process
                code = exited(process)
                if process is None or code is not None:
                    service._forget()
                    what = "is not running: start() it before waiting" if process is None else (
                        f"exited with code {code} before it was ready (budget {budget_s:.1f} s)")
                    raise ServiceUnavailable(service._describe(what))
                problem = answer_of(client, f"{service.url}{service.ready_path}", deadline - time.monotonic())
                if problem is None:
                    pending.remove(service)
                    if ready is not None:
                        ready(service)
                else:
                    last[id(service)] = problem
            return not pending

        if not poll(all_ready, budget_s, POLL_INTERVAL_S):
            late = pending[0]
            raise ServiceUnavailable(late._describe(
                f"was not ready within {budget_s:.1f} s; last: {last.get(id(late), 'no answer yet')}"))


def _start_order(names: Iterable[str], env: Mapping[str, str]) -> list[str]:
    """The services asked for and their dependencies, each after the ones it calls."""
    order: list[str] = []

    def visit(name: str, asked: bool) -> None:
        if name not in DEPENDENCIES:
            raise ValueError(f"unknown service {name!r}; the platform has {', '.join(DEPENDENCIES)}")
        if name in order or (not asked and env.get(URL_VARIABLES.get(name, ""))):
            return
        for dependency in DEPENDENCIES[name]:
            visit(dependency, False)
        order.append(name)

    for name in names:
        visit(name, True)
    return order


def stop_together(services: list[ServiceProcess]) -> None:
    """Stop the services as ServiceProcess.stop does, in one grace period: each shuts down while the others do."""
    stopping = []
    for service in services:
        if service._process is None:
            continue
        stopping.append((service, _tree(service._process)))
        try:
            service._process.terminate()
        except psutil.NoSuchProcess:
            pass
    deadline = time.monotonic() + STOP_GRACE_S
    for service, tree in stopping:
        try:
            service._process.wait(max(0.0, deadline - time.monotonic()))
        except (psutil.NoSuchProcess, psutil.TimeoutExpired):
            pass
        _kill(tree)
        service._forget()


def _tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return [process]


def _kill(processes: list[psutil.Process]) -> None:
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(processes, timeout=STOP_GRACE_S)  # reaps our child, so no zombie is left
