"""The link proxy forwards NATS traffic, delays it on demand, cuts it, heals it, and leaves nothing behind."""

import asyncio
import socket
import subprocess
import sysconfig
import threading
import time
from pathlib import Path

import nats
import pytest

from harness.faults import LinkProxy

# A pump thread dying with a traceback is exactly the stderr noise the proxy promises not to make.
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

NATS_SERVER = Path(sysconfig.get_path("scripts")) / "nats-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port}")


@pytest.fixture(scope="module")
def nats_port():
    port = free_port()
    server = subprocess.Popen([str(NATS_SERVER), "-a", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def proxy(nats_port):
    with LinkProxy("127.0.0.1", nats_port) as p:
        yield p


async def echo_service(nc, subject="svc"):
    async def reply(msg):
        await msg.respond(msg.data)

    await nc.subscribe(subject, cb=reply)
    await nc.flush()


def test_publish_subscribe_round_trip_through_the_proxy(proxy):
    async def scenario():
        nc = await nats.connect(proxy.url(), allow_reconnect=False, connect_timeout=2)
        try:
            sub = await nc.subscribe("greet")
            await nc.flush()
            assert proxy.connections == 1
            for i in range(20):
                await nc.publish("greet", f"hello {i}".encode())
            received = [(await sub.next_msg(timeout=2)).data for _ in range(20)]
            assert received == [f"hello {i}".encode() for i in range(20)]
        finally:
            await nc.close()

    asyncio.run(scenario())
    assert proxy.url() == f"nats://127.0.0.1:{proxy.port}" and proxy.host == "127.0.0.1"


def test_latency_slows_a_live_request_reply_and_keeps_order(proxy):
    async def scenario():
        nc = await nats.connect(proxy.url(), allow_reconnect=False, connect_timeout=2)
        try:
            await echo_service(nc)
            sub = await nc.subscribe("ordered")
            await nc.flush()
            proxy.add_latency(0.2)
            started = time.monotonic()
            assert (await nc.request("svc", b"ping", timeout=5)).data == b"ping"
            assert time.monotonic() - started >= 0.2
            for i in range(50):
                await nc.publish("ordered", str(i).encode())
            received = [int((await sub.next_msg(timeout=5)).data) for _ in range(50)]
            assert received == list(range(50))
        finally:
            await nc.close()

    asyncio.run(scenario())


def test_cut_disconnects_the_client_and_restore_lets_it_back(proxy):
    async def scenario():
        disconnected, reconnected = asyncio.Event(), asyncio.Event()

        async def on_disconnect():
            disconnected.set()

        async def on_reconnect():
            reconnected.set()

        async def on_error(_):
            pass  # Reconnect attempts into a cut link fail by design.

        nc = await nats.connect(proxy.url(), allow_reconnect=True, reconnect_time_wait=0.1,
                                max_reconnect_attempts=-1, connect_timeout=1,
                                disconnected_cb=on_disconnect, reconnected_cb=on_reconnect, error_cb=on_error)
        try:
            await echo_service(nc)
            proxy.cut()
            assert proxy.is_cut and proxy.connections == 0
            await asyncio.wait_for(disconnected.wait(), 5)

            with socket.create_connection((proxy.host, proxy.port), timeout=2) as raw:
                try:
                    assert raw.recv(1024) == b"", "a connection made while cut must be closed, not served"
                except ConnectionResetError:
                    pass
            assert not reconnected.is_set()

            proxy.restore()
            await asyncio.wait_for(reconnected.wait(), 5)
            assert (await nc.request("svc", b"again", timeout=5)).data == b"again"
            assert proxy.connections == 1
        finally:
            await nc.close()

    asyncio.run(scenario())


def test_heal_clears_latency_too(proxy):
    proxy.add_latency(0.5)
    proxy.cut()
    proxy.heal()
    assert proxy.latency == 0 and not proxy.is_cut


def test_close_frees_the_port_and_every_thread(nats_port):
    proxy = LinkProxy("127.0.0.1", nats_port).start()
    port = proxy.port
    live = socket.create_connection((proxy.host, port), timeout=2)
    assert live.recv(4096).startswith(b"INFO ")  # Forwarded from the real server.
    proxy.close()
    proxy.close()  # Idempotent.
    assert live.recv(4096) == b""
    live.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert not [t for t in threading.enumerate() if t.name.startswith(f"link-proxy-{port}-")]


class _OneShotServer:
    """A server on a Unix socket that answers every request with b"served" and counts the requests it read."""

    def __init__(self, path: str) -> None:
        self.requests = 0
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(8)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn:
                if conn.recv(1024):
                    self.requests += 1
                    conn.sendall(b"served")

    def close(self) -> None:
        self._listener.close()


def _ask(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while chunk := client.recv(1024):
            received += chunk
        return received


def test_a_unix_socket_target_is_reached_and_a_lost_answer_was_still_served(tmp_path):
    server = _OneShotServer(str(tmp_path / "server.sock"))
    try:
        with LinkProxy(unix_path=str(tmp_path / "server.sock")) as proxy:
            assert _ask(proxy.port) == b"served"
            proxy.drop_replies()
            assert _ask(proxy.port) == b""  # the answer is lost on the way back ...
            assert server.requests == 2  # ... but the request reached the server, once
            proxy.restore()
            assert _ask(proxy.port) == b"served"
    finally:
        server.close()


def test_a_raw_answer_comes_from_the_proxy_and_never_reaches_the_server(tmp_path):
    server = _OneShotServer(str(tmp_path / "server.sock"))
    try:
        with LinkProxy(unix_path=str(tmp_path / "server.sock")) as proxy:
            proxy.answer_raw(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
            assert _ask(proxy.port).startswith(b"HTTP/1.1 500")
            assert server.requests == 0
    finally:
        server.close()
