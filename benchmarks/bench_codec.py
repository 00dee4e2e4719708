"""Codec benchmark: our envelope codec next to raw msgspec doing the same work.

Run: ``python benchmarks/bench_codec.py`` (with ``src`` on PYTHONPATH or the package
installed). Prints p50/p95 per operation and the ratio ours/raw in the same run.

Baselines:
* raw data: msgspec encodes the same data Struct and decodes it back into the same typed
  Struct, with no envelope, versioning or error translation (what the targets compare to);
* raw envelope: msgspec encodes/decodes the very envelope bytes we produce, so the gap to
  ours is only our Python work (ids, clock, version check, result object).
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ai_contract import codec  # noqa: E402
from ai_contract.codec.schemas import envelope_type  # noqa: E402

AGENT_N, DOC_N = 20_000, 300  # timed iterations per variant, after a 10% warm-up
TARGET_P95_US = {"agent_message": 50.0, "rag_document": 2000.0}
TARGET_RATIO = 1.5


def agent_message() -> codec.AgentMessage:
    return codec.AgentMessage(
        message_id="msg-7f3a",
        source_agent_id="planner",
        target_agent_id="researcher",
        content="Summarise the Q3 revenue report for Zürich and list the three largest risks.",
        timestamp=datetime.now(UTC),
        metadata={"conversation_id": "conv-12", "turn": 4, "tags": ["finance", "q3"]},
    )


def rag_document() -> codec.RAGDocument:
    rnd = random.Random(7)
    vocabulary = ["revenue", "risk", "margin", "growth", "Zürich", "α"]
    words = [rnd.choice(vocabulary) for _ in range(2000)]
    content = " ".join(words)[:10_240]
    chunks = [
        codec.Chunk(
            chunk_id=f"doc-1#{i}",
            content=content[i * 1024 : (i + 1) * 1024],
            embedding=[rnd.uniform(-1, 1) for _ in range(1536)],
            metadata={"index": i, "page": i // 3 + 1},
        )
        for i in range(10)
    ]
    return codec.RAGDocument(
        document_id="doc-1",
        content=content,
        metadata={"title": "Q3 report", "source": "s3://reports/q3.pdf", "pages": 4},
        chunks=chunks,
        tenant_id="acme",
        timestamp=datetime.now(UTC),
    )


def sample(fn: Callable[[], object], n: int) -> list[int]:
    clock = time.perf_counter_ns
    out = []
    for _ in range(n):
        start = clock()
        fn()
        out.append(clock() - start)
    return out


def compare(cases: dict[str, Callable[[], object]], n: int) -> dict[str, tuple[float, float]]:
    """Warm up, then interleave the variants in rounds so drift hits them all alike."""
    for fn in cases.values():
        sample(fn, max(n // 10, 10))
    samples: dict[str, list[int]] = {name: [] for name in cases}
    rounds = 10
    for _ in range(rounds):
        for name, fn in cases.items():
            samples[name] += sample(fn, n // rounds)
    return {name: _percentiles(xs) for name, xs in samples.items()}


def _percentiles(xs: list[int]) -> tuple[float, float]:
    q = statistics.quantiles(xs, n=100, method="inclusive")
    return q[49] / 1000, q[94] / 1000  # microseconds


def bench(message_type: str, data: msgspec.Struct, fmt: str, n: int) -> list[tuple]:
    module = msgspec.json if fmt == "json" else msgspec.msgpack
    shape = type(data)
    enc, dec = module.Encoder(), module.Decoder(shape)
    wire_type = envelope_type(message_type, codec.CURRENT_VERSIONS[message_type])
    env_dec = module.Decoder(wire_type)
    as_dict = msgspec.to_builtins(data, builtin_types=(datetime,))

    def ours_round_trip():
        return codec.decode(codec.encode(message_type, data, format=fmt))

    def raw_round_trip():
        return dec.decode(enc.encode(data))

    def raw_envelope_round_trip():
        wire = wire_type(
            schema_version="1.0", message_id="m", created_at=data.timestamp, data=data
        )
        return env_dec.decode(enc.encode(wire))

    def ours_validate():
        return codec.validate(message_type, as_dict)

    def raw_validate():
        return msgspec.convert(as_dict, shape)

    trip = compare(
        {"ours": ours_round_trip, "raw": raw_round_trip, "env": raw_envelope_round_trip}, n
    )
    rows = [("encode+decode", fmt, trip["ours"], trip["raw"], trip["env"])]
    if fmt == "json":  # validation of a plain dict does not depend on the wire format
        check = compare({"ours": ours_validate, "raw": raw_validate}, n)
        rows.append(("validate dict", "-", check["ours"], check["raw"], None))
    return rows


def main() -> None:
    started = time.perf_counter()
    cases = (
        ("agent_message", agent_message(), AGENT_N),
        ("rag_document", rag_document(), DOC_N),
    )
    gc.collect()
    gc.freeze()  # long-lived samples stay out of the collections the timed code triggers
    results = []
    for message_type, data, n in cases:
        size = {fmt: len(codec.encode(message_type, data, format=fmt)) for fmt in codec.FORMATS}
        for fmt in ("json", "msgpack"):
            for row in bench(message_type, data, fmt, n):
                results.append((message_type, size, *row))

    header = (
        f"{'message':<14}{'operation':<15}{'format':<9}{'bytes':>8}"
        f"{'ours p50':>11}{'ours p95':>11}{'raw p50':>10}{'raw p95':>10}"
        f"{'ratio p50':>11}{'ratio p95':>11}{'env ratio':>11}  p95 target   ratio target"
    )
    print(f"codec benchmark, python {sys.version.split()[0]}, msgspec {msgspec.__version__}; "
          "times in microseconds")
    print(header)
    print("-" * len(header))
    for message_type, size, op, fmt, ours, raw, env in results:
        ratio50, ratio95 = ours[0] / raw[0], ours[1] / raw[1]
        env_ratio = f"{ours[0] / env[0]:>10.2f}x" if env else f"{'':>11}"
        target = TARGET_P95_US[message_type]
        verdict = "ok" if ours[1] < target else "MISSED"
        ratio_verdict = "ok" if ratio50 < TARGET_RATIO else "MISSED"
        nbytes = size[fmt] if fmt != "-" else ""
        print(
            f"{message_type:<14}{op:<15}{fmt:<9}{nbytes:>8}"
            f"{ours[0]:>11.1f}{ours[1]:>11.1f}{raw[0]:>10.1f}{raw[1]:>10.1f}"
            f"{ratio50:>10.2f}x{ratio95:>10.2f}x{env_ratio}  <{target:<6g} {verdict:<6}"
            f"<{TARGET_RATIO}x {ratio_verdict}"
        )
    print(
        f"\nratio = ours / raw msgspec on the bare data Struct (target < {TARGET_RATIO}x); "
        "env ratio = ours / raw msgspec on the same envelope (p50)."
    )
    print(f"total time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
