"""Start service instances by forking one process that has already imported them.

A fresh `uvicorn --factory ai_platform.services.gateway:create_app` spends about 3 s of CPU importing LiteLLM,
FastAPI and OpenTelemetry before it builds anything, and a test run or an operator scaling out starts dozens.
`serve` imports the four services once and waits on a Unix socket; `run` is the command that takes the place
of `uvicorn` (same arguments) and asks it for an instance:

    python -m ai_platform.services.prefork serve --socket /run/platform/prefork.sock
    python -m ai_platform.services.prefork run --socket /run/platform/prefork.sock -- \
        --factory ai_platform.services.gateway:create_app --host 127.0.0.1 --port 8001

The instance is a fork of the server with the `run` process's environment, working directory and standard
streams; the application is built after the fork, from that environment, exactly as uvicorn would build it.
`run` stands for the instance: it lives as long as the instance does and exits with its status, it passes
on the signals it gets (SIGTERM stops the instance gracefully), and when `run` is killed outright the instance
dies with it. Only the standard library is imported by `run`, so it starts in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import selectors
import signal
import socket
import sys
import threading
import time

# Imported by the server before it forks: everything the four services and uvicorn need.
PRELOAD = ("ai_platform.services.gateway", "ai_platform.services.rag", "ai_platform.services.agent",
           "ai_platform.services.query", "uvicorn.main", "uvicorn.lifespan.on", "uvicorn.protocols.http.auto",
           "uvicorn.protocols.websockets.auto", "uvicorn.loops.auto")
# Imported by the server whenever it has no request to serve: what the instances import lazily as they start
# and on their first requests (~0.8 s of CPU that each instance paid): httpx's transport, the database driver,
# the OTLP exporters and instrumentations, and what LiteLLM imports on its first call; and the HTTP clients' TLS
# settings, whose CA bundle each instance loaded (~50 ms of CPU, `module:function` is called). Not before the first
# fork, so the first instances are not kept waiting; the first ones import what they need themselves.
PRELOAD_WHEN_IDLE = ("uvicorn.loops.asyncio", "httpcore", "anyio._backends._asyncio", "psycopg",
                     "opentelemetry.exporter.otlp.proto.http.trace_exporter",
                     "opentelemetry.exporter.otlp.proto.http.metric_exporter",
                     "opentelemetry.instrumentation.fastapi", "opentelemetry.instrumentation.httpx",
                     "openai.resources", "pydantic.v1", "litellm.integrations.otel.logger", "litellm.proxy._types",
                     "litellm.litellm_core_utils.default_encoding", "ai_platform.services.http:tls")
CONNECT_BUDGET_S = 30.0  # `run` may start while the server is still importing (it binds the socket first)
REQUEST_BUDGET_S = 5.0  # from connecting to sending the request, which `run` does at once
MESSAGE_BYTES = 1 << 20
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
STREAMS = 3  # stdin, stdout and stderr of `run` become the instance's


# The server ---------------------------------------------------------------------------------------------------

class _Server:
    """One thread: accepts requests, forks instances, reports their exits, kills an instance whose `run` died."""

    def __init__(self, path: str) -> None:
        self.path, self.pid = path, os.getpid()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.path.exists(path):
            os.unlink(path)
        self.listener.bind(path)
        os.chmod(path, 0o600)  # an instance gets the environment it is sent: only the owner may send one
        self.listener.listen(64)
        self.instances: dict[int, socket.socket] = {}  # pid -> the connection of the `run` standing for it
        self.selector = selectors.DefaultSelector()
        self.wakeup_read, wakeup_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.wakeup_write = wakeup_write
        signal.set_wakeup_fd(wakeup_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # its arrival wakes the selector through the pipe
        self.stopping = False
        self.idle_imports = list(PRELOAD_WHEN_IDLE)

    def stop_gracefully_on_signal(self) -> None:
        """Until now SIGTERM simply ended the process (it was importing); from here it ends the loop."""
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._stop)

    def _stop(self, *_) -> None:
        """SIGTERM: the server leaves at once, even in the middle of an idle import. It holds nothing that needs an
        orderly end (its instances live on with their `run` processes), and tearing down the interpreter with
        LiteLLM in it took about a second of every stop."""
        if os.getpid() != self.pid:  # an instance just forked, before it took its own handlers
            self.stopping = True
            return
        if os.path.exists(self.path):
            os.unlink(self.path)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    def loop(self) -> dict | None:
        """Serve until SIGTERM (None), or, in a forked instance, return the request it must run."""
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wakeup_read, selectors.EVENT_READ, "signal")
        try:
            while not self.stopping:
                events = self.selector.select(0 if self.idle_imports else None)
                if not events and self.idle_imports:
                    _preload(self.idle_imports.pop(0))  # between forks: no child inherits a half-done import
                    continue
                # A dead `run`'s instance is killed before any new one is forked, so its port is free again.
                for key, _ in sorted(events, key=lambda event: event[0].data == "accept"):
                    request = self._handle(key)
                    if request is not None:
                        return request
            return None
        finally:
            self._close(in_server=os.getpid() == self.pid)

    def _handle(self, key) -> dict | None:
        if key.data == "signal":
            while True:
                try:
                    if not os.read(self.wakeup_read, 512):
                        break
                except BlockingIOError:
                    break
            self._reap()
            return None
        if key.data == "accept":
            connection, _ = self.listener.accept()
            return self._fork(connection)
        pid, connection = key.data, key.fileobj
        try:
            closed = not connection.recv(16)
        except OSError:
            closed = True
        if closed and pid in self.instances:  # `run` was killed: the instance dies as it would have
            self._kill(pid)
        return None

    def _fork(self, connection: socket.socket) -> dict | None:
        connection.settimeout(REQUEST_BUDGET_S)  # a `run` that connected and died must not hold the server
        try:
            message, fds, _, _ = socket.recv_fds(connection, MESSAGE_BYTES, STREAMS)
            request = json.loads(message)
        except (OSError, ValueError):
            connection.close()
            return None
        connection.settimeout(None)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            _send(connection, {"error": f"cannot fork: {exc.strerror}"})
            connection.close()
            return None
        if pid == 0:
            request["fds"] = fds
            request["connection"] = connection
            return request
        for fd in fds:
            os.close(fd)
        self.instances[pid] = connection
        _send(connection, {"pid": pid})
        self.selector.register(connection, selectors.EVENT_READ, pid)
        return None

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._finished(pid, os.waitstatus_to_exitcode(status))

    def _kill(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            return self._finished(pid, None)
        self._finished(pid, os.waitstatus_to_exitcode(status))

    def _finished(self, pid: int, code: int | None) -> None:
        connection = self.instances.pop(pid, None)
        if connection is None:
            return
        self.selector.unregister(connection)
        if code is not None:
            try:
                _send(connection, {"exit": code})
            except OSError:
                pass
        connection.close()

    def _close(self, *, in_server: bool) -> None:
        """In the server: stop listening (the instances live on, each with its `run`). In an instance: let go
        of the server's files, which it inherited."""
        self.selector.close()
        self.listener.close()
        for connection in self.instances.values():
            connection.close()
        os.close(self.wakeup_read)
        os.close(self.wakeup_write)
        signal.set_wakeup_fd(-1)
        if in_server and os.path.exists(self.path):
            os.unlink(self.path)


def serve(path: str) -> int:
    server = _Server(path)  # the socket exists from here: a `run` may connect while the imports go on
    for module in PRELOAD:
        _preload(module)
    server.stop_gracefully_on_signal()
    request = server.loop()
    if request is None:
        return 0
    return _instance(request)


def _preload(name: str) -> None:
    """Import `module`, or import `module:function` and call the function (a cached value an instance inherits)."""
    import importlib

    module, _, function = name.partition(":")
    try:
        loaded = importlib.import_module(module)
        if function:
            getattr(loaded, function)()
    except Exception:  # noqa: BLE001 - the instance imports it again and its log shows why it fails
        pass


def _instance(request: dict) -> int:
    """In the forked child: become the instance `run` asked for, then run uvicorn with its arguments."""
    for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(number, signal.SIG_DFL)
    os.setsid()
    for target, fd in enumerate(request["fds"]):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    # As a fresh interpreter would: the instance's PYTHONPATH comes first on its import path.
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    sys.path[:0] = [entry for entry in paths if entry and entry not in sys.path]
    _die_with(request["runner"], request["connection"])
    from ai_platform.services.http import configure_logging

    configure_logging()  # LOG_LEVEL is the instance's, not the server's
    import uvicorn.main

    sys.argv = ["uvicorn", *request["argv"]]
    try:
        uvicorn.main.main(args=request["argv"], prog_name="uvicorn")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def _die_with(runner: int, connection: socket.socket) -> None:
    """SIGKILL this instance when the `run` process standing for it is gone (the server does too; this covers a
    server that was stopped first)."""
    try:
        watched = os.pidfd_open(runner)
    except (OSError, AttributeError):
        watched = None

    def watch() -> None:
        if watched is not None:
            select.select([watched], [], [])
        else:
            while _alive(runner):
                time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGKILL)

    connection.close()
    threading.Thread(target=watch, name="prefork-runner-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


# `run`: the command in uvicorn's place --------------------------------------------------------------------------

def run(path: str, argv: list[str]) -> int:
    connection = _connect(path)
    request = {"argv": argv, "env": dict(os.environ), "cwd": os.getcwd(), "runner": os.getpid()}
    socket.send_fds(connection, [json.dumps(request).encode()], list(range(STREAMS)))
    answer = _receive(connection)
    if answer is None or "pid" not in answer:
        why = (answer or {}).get("error", "it closed the connection")
        print(f"prefork: the server at {path} did not start the instance: {why}", file=sys.stderr)
        return 1
    instance = answer["pid"]
    for number in FORWARDED:
        signal.signal(number, lambda received, _frame: _forward(instance, received))
    while True:
        answer = _receive(connection)
        if answer is None:  # the server stopped: wait for the instance itself
            return _wait_gone(instance)
        if "exit" in answer:
            return answer["exit"]


def _connect(path: str) -> socket.socket:
    deadline = time.monotonic() + CONNECT_BUDGET_S
    while True:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            connection.connect(path)
            return connection
        except (FileNotFoundError, ConnectionRefusedError):
            connection.close()
            if time.monotonic() > deadline:
                raise SystemExit(f"prefork: no server listens at {path} (waited {CONNECT_BUDGET_S:.0f} s)") from None
            time.sleep(0.01)


def _forward(instance: int, number: int) -> None:
    try:
        os.kill(instance, number)
    except ProcessLookupError:
        pass


def _wait_gone(instance: int) -> int:
    try:
        watched = os.pidfd_open(instance)
    except ProcessLookupError:
        return 1
    select.select([watched], [], [])
    return 1  # its status went to the server, which is gone


def _receive(connection: socket.socket) -> dict | None:
    """The server's next message; None once it closed the connection. (A forwarded signal does not interrupt the
    wait: Python retries recv after a handler that returns.)"""
    message = connection.recv(MESSAGE_BYTES)
    return json.loads(message) if message else None


def _send(connection: socket.socket, message: dict) -> None:
    connection.send(json.dumps(message).encode())


def _exit_as(code: int) -> None:
    """Exit as the instance did: with its code, or killed by the same signal."""
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ai_platform.services.prefork", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("serve", "import the services once and fork instances on request"),
                           ("run", "start one instance, with uvicorn's arguments after --")):
        command = commands.add_parser(name, help=helptext)
        command.add_argument("--socket", required=True, help="the server's Unix socket")
        if name == "run":
            command.add_argument("uvicorn", nargs=argparse.REMAINDER, help="uvicorn's arguments")
    arguments = parser.parse_args(argv)
    if arguments.command == "serve":
        sys.exit(serve(arguments.socket))
    uvicorn_arguments = arguments.uvicorn[1:] if arguments.uvicorn[:1] == ["--"] else arguments.uvicorn
    _exit_as(run(arguments.socket, uvicorn_arguments))


if __name__ == "__main__":
    main()
