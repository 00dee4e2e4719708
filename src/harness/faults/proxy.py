"""A TCP proxy between the platform and a server (NATS, PostgreSQL, a service) that scenarios use for network faults.

Scenarios point the platform at the proxy instead of the server, then switch faults on and off while
connections are live: latency on every chunk, or a cut link. Plain threads and sockets keep it usable
from synchronous Behave steps, whatever event loop the platform itself runs.
"""

from __future__ import annotations

import queue
import selectors
import socket
import threading
import time

_POLL = 0.2  # Every wait is bounded by this, so stop requests are noticed quickly and close() returns in ~1 s.
_CONNECT_TIMEOUT = 1.0  # The upstream is a local server; a slow connect means it is down, not busy.
_JOIN_TIMEOUT = 2.0
_CHUNK = 65536
_QUEUE_CHUNKS = 256  # Back-pressure: a reader stops reading when its writer is this far behind.
_EOF = None  # Queued after the last chunk, so the half-close is forwarded in order after the data.
_WAKE = ()  # Queued when a link is killed, so its writers notice at once instead of at their next poll.


def _nodelay(sock: socket.socket) -> None:
    """Disable Nagle so small protocol lines are not held back, which would add latency we did not ask for."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass


class _Link:
    """One client connection and its upstream twin.

    Each direction is a reader feeding a writer through a queue of (due time, chunk): the writer
    sends each chunk when it falls due, so latency delays every chunk by the same amount without
    slowing throughput, and the queue keeps the order. An owner thread connects upstream, waits
    for the four pump threads, and is the only one to close the sockets, so no thread ever uses a
    closed (and possibly reused) descriptor.
    """

    def __init__(self, proxy: LinkProxy, client: socket.socket) -> None:
        self._proxy = proxy
        self._client = client
        self._server: socket.socket | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # Guards the sockets between kill() and the owner closing them.
        self._closed = False
        self._queues: list[queue.Queue] = []
        self._owner = threading.Thread(target=self._run, name=f"link-proxy-{proxy.port}-link", daemon=True)

    def start(self) -> None:
        self._owner.start()

    def kill(self) -> None:
        """Drop both sides now; shutdown (not close) wakes any blocked send and tells both peers at once."""
        self._stop.set()
        with self._lock:
            if self._closed:
                return
            for chunks in self._queues:
                try:
                    chunks.put_nowait(_WAKE)
                except queue.Full:
                    pass  # a full queue's writer is not waiting for a chunk
            for sock in (self._client, self._server):
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def join(self, timeout: float = _JOIN_TIMEOUT) -> None:
        if self._owner.is_alive() and self._owner is not threading.current_thread():
            self._owner.join(timeout)

    def _run(self) -> None:
        try:
            try:
                server = _connect(self._proxy.target)
            except OSError:
                return  # Upstream unreachable: the client just sees its connection closed.
            server.settimeout(None)
            _nodelay(server)
            with self._lock:
                self._server = server
            if self._stop.is_set():  # Cut or closed while we were connecting.
                return
            pumps = []
            for src, dst, tag in ((self._client, server, "up"), (server, self._client, "down")):
                chunks: queue.Queue = queue.Queue(maxsize=_QUEUE_CHUNKS)
                with self._lock:
                    self._queues.append(chunks)
                pumps.append(threading.Thread(target=self._read, args=(src, chunks, tag == "down"), daemon=True,
                                              name=f"link-proxy-{self._proxy.port}-{tag}-read"))
                pumps.append(threading.Thread(target=self._write, args=(dst, chunks), daemon=True,
                                              name=f"link-proxy-{self._proxy.port}-{tag}-write"))
            for pump in pumps:
                pump.start()
            for pump in pumps:
                pump.join()
        finally:
            self._close_sockets()
            self._proxy._forget(self)

    def _close_sockets(self) -> None:
        with self._lock:
            self._closed = True
            for sock in (self._client, self._server):
                if sock is not None:
                    try:
                        sock.close()
                    except OSError:
                        pass

    def _put(self, chunks: queue.Queue, item: tuple[float, bytes] | None) -> bool:
        while not self._stop.is_set():
            try:
                chunks.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, src: socket.socket, chunks: queue.Queue, replies: bool = False) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(src, selectors.EVENT_READ)
            while not self._stop.is_set():
                if not selector.select(_POLL):
                    continue
                try:
                    data = src.recv(_CHUNK)
                except OSError:
                    self.kill()  # A reset on one side is a dead link: drop the other side too.
                    return
                if not data:
                    self._put(chunks, _EOF)
                    return
                if replies and self._proxy.drops_replies:  # the request arrived and was served; its answer is lost
                    self.kill()
                    return
                if not self._put(chunks, (time.monotonic() + self._proxy.latency, data)):
                    return

    def _write(self, dst: socket.socket, chunks: queue.Queue) -> None:
        while not self._stop.is_set():
            try:
                item = chunks.get(timeout=_POLL)
            except queue.Empty:
                continue
            if item is _WAKE:
                continue
            try:
                if item is _EOF:
                    dst.shutdown(socket.SHUT_WR)  # Forward the half-close; the other direction may still flow.
                    return
                due, data = item
                delay = due - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return
                dst.sendall(data)
            except OSError:
                self.kill()
                return


def _connect(target: tuple[str, int] | str) -> socket.socket:
    """A connection to the target: a (host, port) pair, or the path of a Unix socket (PostgreSQL's)."""
    if isinstance(target, tuple):
        return socket.create_connection(target, timeout=_CONNECT_TIMEOUT)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(_CONNECT_TIMEOUT)
    try:
        sock.connect(target)
    except OSError:
        sock.close()
        raise
    return sock


def _answer_raw(client: socket.socket, response: bytes) -> None:
    """Read the request's head (and a body it announces), answer with the raw bytes and close, as a broken
    server or a bare load balancer in front of a service does."""
    client.settimeout(_CONNECT_TIMEOUT)
    received = b""
    try:
        while b"\r\n\r\n" not in received:
            data = client.recv(_CHUNK)
            if not data:
                break
            received += data
        head, _, body = received.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            data = client.recv(_CHUNK)
            if not data:
                break
            body += data
        client.sendall(response)
        client.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        client.close()


class LinkProxy:
    """Forward 127.0.0.1:<free port> to a target server, with faults that can be switched while connections live.

    The target is a (host, port) or, with ``unix_path``, a Unix socket. Faults: ``add_latency(seconds)`` delays
    each chunk in both directions; ``cut()`` drops every live connection and closes new ones as soon as they
    arrive; ``drop_replies()`` lets requests through and drops the connection when the answer comes back;
    ``answer_raw(bytes)`` answers every new connection itself with those bytes; ``restore()`` (alias
    ``heal()``) clears them all.
    """

    def __init__(self, target_host: str = "", target_port: int = 0, *, unix_path: str | None = None) -> None:
        self.target: tuple[str, int] | str = unix_path or (target_host, target_port)
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._latency = 0.0
        self._cut = False
        self.drops_replies = False
        self._raw_answer: bytes | None = None
        self._closed = False
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._wakeup, self._waker = socket.socketpair()  # written by close(), so the acceptor stops at once

    # Lifecycle

    def start(self) -> LinkProxy:
        """Bind a free port (port 0, so parallel runs never collide) and start accepting."""
        with self._lock:
            if self._closed:
                raise RuntimeError("LinkProxy is closed")
            if self._listener is not None:
                raise RuntimeError("LinkProxy already started")
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                listener.bind(("127.0.0.1", 0))
                listener.listen(64)
            except OSError:
                listener.close()
                raise
            self._listener = listener
            self._acceptor = threading.Thread(target=self._accept_loop, name=f"link-proxy-{self.port}-accept",
                                              daemon=True)
            self._acceptor.start()
        return self

    def close(self) -> None:
        """Stop listening, drop every connection and join every thread. Safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
            links = list(self._links)
        self._waker.send(b"\0")
        if self._acceptor is not None:
            self._acceptor.join(_JOIN_TIMEOUT)
        if self._listener is not None:
            self._listener.close()
        self._wakeup.close()
        self._waker.close()
        self._drop(links)

    def __enter__(self) -> LinkProxy:
        if self._listener is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Addresses

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("LinkProxy not started")
        return self._listener.getsockname()[1]

    def url(self, scheme: str = "nats") -> str:
        """The address to hand the platform instead of the server's own."""
        return f"{scheme}://{self.host}:{self.port}"

    # Faults

    def add_latency(self, seconds: float) -> None:
        """Delay every chunk read from now on, in both directions, by ``seconds`` (sets it, does not add up)."""
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        self._latency = float(seconds)

    def cut(self) -> None:
        """Drop every live connection and close new ones on arrival, as if the network went away.

        Returns once the dropped connections are gone, so a step can assert on the aftermath at once.
        """
        with self._lock:
            self._cut = True
            links = list(self._links)
        self._drop(links)

    def drop_replies(self) -> None:
        """From now on a request reaches the server, and its connection is dropped as the answer comes back."""
        self.drops_replies = True

    def answer_raw(self, response: bytes) -> None:
        """From now on every connection is answered with these bytes by the proxy, not by the server: live ones
        are dropped, so a client's kept-alive connection does not go on reaching the server."""
        with self._lock:
            self._raw_answer = response
            links = list(self._links)
        self._drop(links)

    def restore(self) -> None:
        """Clear every fault: no latency, and connections are accepted and forwarded again."""
        with self._lock:
            self._latency = 0.0
            self._cut = False
            self.drops_replies = False
            self._raw_answer = None

    heal = restore  # The name scenario cleanup uses.

    @property
    def latency(self) -> float:
        return self._latency

    @property
    def is_cut(self) -> bool:
        return self._cut

    @property
    def connections(self) -> int:
        """Live client connections, for scenarios asserting that the platform (re)connected."""
        with self._lock:
            return len(self._links)

    # Internals

    def _accept_loop(self) -> None:
        assert self._listener is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wakeup, selectors.EVENT_READ)
            while not self._stop.is_set():
                if not any(key.fileobj is self._listener for key, _ in selector.select(_POLL)):
                    continue
                try:
                    client, _ = self._listener.accept()
                except OSError:
                    continue
                client.setblocking(True)
                _nodelay(client)
                raw = self._raw_answer
                if raw is not None and not (self._cut or self._closed):
                    threading.Thread(target=_answer_raw, args=(client, raw), daemon=True,
                                     name=f"link-proxy-{self.port}-raw").start()
                    continue
                with self._lock:
                    refuse = self._cut or self._closed
                    if not refuse:
                        link = _Link(self, client)
                        self._links.add(link)
                if refuse:
                    client.close()
                    continue
                link.start()

    def _drop(self, links: list[_Link]) -> None:
        for link in links:
            link.kill()
        for link in links:
            link.join()

    def _forget(self, link: _Link) -> None:
        with self._lock:
            self._links.discard(link)
