"""Ports of the embedded servers and services: below the ephemeral range, and one taken before its server bound it."""

import socket

import psutil

from harness.infra.embedded import EmbeddedNats
from harness.infra.nats_auth import BusCredentials
from harness.infra.processes import PORT_FLOOR, RunRecord, free_port
from harness.worker import WORKER_VARIABLE


def test_a_port_taken_since_it_was_chosen_is_not_mistaken_for_the_server(tmp_path):
    record = RunRecord(tmp_path)
    nats = EmbeddedNats(record, tmp_path, BusCredentials.fresh())
    with socket.socket() as squatter:  # another process took the port between free_port() and the bind
        squatter.bind((nats.host, nats.port))
        squatter.listen()
        taken = nats.port
        try:
            nats.start()
            listening = {c.laddr.port for c in psutil.Process(nats.pid).net_connections(kind="tcp")
                         if c.status == psutil.CONN_LISTEN}
            assert nats.port != taken and nats.port in listening, (taken, nats.port, listening)
        finally:
            nats.stop()
            record.close()


def test_a_chosen_port_is_below_the_range_outgoing_connections_take_theirs_from():
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    ports = {free_port() for _ in range(20)}
    assert all(PORT_FLOOR <= port < low for port in ports), (sorted(ports), low)


def test_no_port_is_handed_out_twice_and_parallel_workers_choose_from_disjoint_slices(monkeypatch):
    """A port chosen but not yet bound must not be chosen again: not by this process, not by another worker."""
    chosen = {}
    for worker in ("1", "2"):
        monkeypatch.setenv(WORKER_VARIABLE, worker)
        chosen[worker] = [free_port() for _ in range(300)]
    for worker, ports in chosen.items():
        assert len(set(ports)) == len(ports), f"worker {worker} was handed a port twice"
    assert max(chosen["1"]) < min(chosen["2"]), "the workers' slices overlap"
