"""The transcript: every call the language model received, one JSON line each, per run.

With the scripted profile the scripted model server takes every call, the platform's services' too (they run
in their own processes), and journals it for the scenario that was running (its script's generation). At the
end of each scenario, before the journal is reset, that scenario's calls are appended to
reports/transcript.jsonl (started afresh by each run) and attached to its Allure result, redacted.

    python -m harness.reporting.transcript compare A.jsonl B.jsonl

prints, per scenario, how the answers, the token usage and the latency changed between two runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from harness.llm import JournalEntry
from harness.reporting.allure import attach_json, redact
from harness.reporting.paths import report_path

TRANSCRIPT_PATH = report_path("transcript.jsonl")
LATENCY_NOISE_S = 0.1  # compare: smaller latency changes are scheduling noise, not news


class TranscriptFile:
    """The run's transcript file; created empty, so a run without model calls leaves no stale one."""

    def __init__(self, path: Path = TRANSCRIPT_PATH) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")

    def append(self, records: list[dict]) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def record_scenario(transcript: TranscriptFile, journal: list[JournalEntry], scenario) -> list[dict]:
    """Write and attach the scenario's calls; the journal must not be reset yet."""
    records = scenario_records(journal, scenario.name, scenario.feature.name, scenario.filename)
    if records:
        transcript.append(records)
        attach_json("language model transcript", records)
    return records


def scenario_records(journal: list[JournalEntry], scenario: str, feature: str, feature_file: str) -> list[dict]:
    """One redacted record per HTTP request: a delayed request is journalled as "delay", then as its outcome."""
    final: dict[str, JournalEntry] = {}
    for entry in journal:
        final[entry.request_id or str(id(entry))] = entry  # insertion order: the request's first journalling
    return [redact({"scenario": scenario, "feature": feature, "feature_file": feature_file, **_call(entry)})
            for entry in final.values()]


def _call(entry: JournalEntry) -> dict:
    outcome, fault = "answered", None
    if entry.outcome == "delay":
        outcome, fault = "unfinished", "delay"  # the scenario ended while its answer was held back
    elif entry.outcome != "answered":
        outcome, fault = "failed", entry.outcome.split()[0]
    return {
        "at": datetime.fromtimestamp(entry.at, UTC).isoformat(timespec="milliseconds"),
        "endpoint": entry.endpoint,
        "model": entry.model,
        "messages": list(entry.messages),
        "inputs": list(entry.inputs),
        "parameters": entry.parameters,
        "headers": entry.headers,  # redacted with the rest: the Authorization header never leaves
        "answer": entry.answer if entry.endpoint == "chat" and outcome == "answered" else None,
        "usage": entry.usage,
        "latency_s": None if outcome == "unfinished" else round(entry.latency_s, 4),  # None: no answer sent yet
        "outcome": outcome,
        "status": entry.status,
        "fault": fault,
    }


def read_transcript(path: Path) -> dict[tuple[str, str], list[dict]]:
    """Records by (feature file, scenario), in call order."""
    scenarios: dict[tuple[str, str], list[dict]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            scenarios.setdefault((record["feature_file"], record["scenario"]), []).append(record)
    return scenarios


def compare(before: dict[tuple[str, str], list[dict]], after: dict[tuple[str, str], list[dict]],
            names: tuple[str, str] = ("the first transcript", "the second transcript"),
            latency_noise_s: float = LATENCY_NOISE_S) -> list[str]:
    """Lines that say, per scenario, what changed; empty when nothing did."""
    lines = []
    for key in sorted(before.keys() | after.keys()):
        title = f"{key[0]}: {key[1]}"
        if key not in after:
            lines.append(f"{title}: only in {names[0]}")
        elif key not in before:
            lines.append(f"{title}: only in {names[1]}")
        else:
            changes = _changes(before[key], after[key], latency_noise_s)
            if changes:
                lines.append(f"{title}:")
                lines.extend(f"  {change}" for change in changes)
    return lines


def _changes(old: list[dict], new: list[dict], latency_noise_s: float) -> list[str]:
    changes = []
    if len(old) != len(new):
        changes.append(f"calls: {len(old)} -> {len(new)}")
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if (a["outcome"], a["status"]) != (b["outcome"], b["status"]):
            changes.append(f"call {number} ({b['model']}): {_outcome(a)} -> {_outcome(b)}")
        elif a["answer"] != b["answer"]:
            changes.append(f"call {number} ({b['model']}) answer: {_quoted(a['answer'])} -> {_quoted(b['answer'])}")
    for kind in ("prompt_tokens", "completion_tokens", "total_tokens"):
        was, now = _total(old, kind), _total(new, kind)
        if was != now:
            changes.append(f"{kind.replace('_', ' ')}: {was} -> {now} ({now - was:+d})")
    was, now = _total(old, "latency_s"), _total(new, "latency_s")
    if abs(now - was) >= latency_noise_s:
        changes.append(f"latency: {was:.3f} s -> {now:.3f} s ({now - was:+.3f} s)")
    return changes


def _total(records: Iterable[dict], field: str):
    if field == "latency_s":
        return sum(r.get("latency_s") or 0.0 for r in records)
    return sum((r.get("usage") or {}).get(field, 0) for r in records)


def _outcome(record: dict) -> str:
    return record["outcome"] if record["status"] in (None, 200) else f"{record['outcome']} ({record['status']})"


def _quoted(answer: str | None, limit: int = 80) -> str:
    if answer is None:
        return "(none)"
    return json.dumps(answer if len(answer) <= limit else answer[:limit] + "...", ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.reporting.transcript",
                                     description="Compare the language model transcripts of two runs.")
    commands = parser.add_subparsers(dest="command", required=True)
    compare_command = commands.add_parser("compare", help="what changed per scenario: answers, tokens, latency")
    compare_command.add_argument("before", type=Path)
    compare_command.add_argument("after", type=Path)
    compare_command.add_argument("--latency-noise", type=float, default=LATENCY_NOISE_S, metavar="SECONDS",
                                 help=f"ignore latency changes smaller than this (default {LATENCY_NOISE_S})")
    args = parser.parse_args(argv)
    lines = compare(read_transcript(args.before), read_transcript(args.after), (str(args.before), str(args.after)),
                    args.latency_noise)
    print("\n".join(lines) if lines else "no scenario changed")
    return 1 if lines else 0  # like diff: 1 when the runs differ


if __name__ == "__main__":
    sys.exit(main())
