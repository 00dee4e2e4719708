"""The transcript records every call the scripted model received, redacted, and compares two runs."""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from harness.llm import Fault, Rule, ScriptedModelServer
from harness.reporting import register_secret
from harness.reporting.transcript import TranscriptFile, compare, main, read_transcript, record_scenario

TEST_BUDGET_S = 30
KEY = "sk-transcript-test-key-0123456789"
SCENARIO = SimpleNamespace(name="Refunds are answered", feature=SimpleNamespace(name="Questions"),
                           filename="features/rag/questions.feature")


@pytest.fixture
def server():
    srv = ScriptedModelServer(dimensions=8).start()
    yield srv
    srv.close()


def chat(server, content: str) -> httpx.Response:
    body = {"model": "scripted-primary", "messages": [{"role": "user", "content": content}], "temperature": 0.2}
    return httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=5,
                      headers={"Authorization": f"Bearer {KEY}"})


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_call_is_one_line_with_its_answer_usage_latency_and_outcome(server, tmp_path):
    server.script.add_rule(Rule("Within 30 days.", ("refund",), anywhere=False))
    server.script.add_fault(Fault("status", model="scripted-primary", status=429, remaining=1))
    assert chat(server, "Can I get a refund?").status_code == 429
    assert chat(server, "Can I get a refund?").status_code == 200
    httpx.post(f"{server.base_url}/embeddings", json={"model": "scripted-embedding", "input": ["one two"]})

    transcript = TranscriptFile(tmp_path / "transcript.jsonl")
    record_scenario(transcript, server.script.journal(), SCENARIO)
    failed, answered, embedded = lines(transcript.path)

    assert failed["scenario"] == "Refunds are answered" and failed["feature"] == "Questions"
    assert (failed["outcome"], failed["status"], failed["fault"], failed["answer"]) == ("failed", 429, "status", None)
    assert answered["outcome"] == "answered" and answered["status"] == 200
    assert answered["answer"] == "Within 30 days." and answered["parameters"] == {"temperature": 0.2}
    assert answered["messages"] == [{"role": "user", "content": "Can I get a refund?"}]
    assert answered["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    assert 0 <= answered["latency_s"] < 1
    assert embedded["inputs"] == ["one two"] and embedded["usage"] == {"prompt_tokens": 2, "total_tokens": 2}


def test_a_delayed_call_is_one_line_with_the_delay_in_its_latency(server, tmp_path):
    server.script.add_fault(Fault("delay", model="scripted-primary", delay_s=0.3, remaining=1))
    assert chat(server, "hello").status_code == 200
    assert [e.outcome for e in server.script.journal()] == ["delay", "answered"]  # the journal keeps both
    transcript = TranscriptFile(tmp_path / "transcript.jsonl")
    [call] = record_scenario(transcript, server.script.journal(), SCENARIO)
    assert call["outcome"] == "answered" and call["latency_s"] >= 0.3


def test_a_call_still_delayed_when_the_scenario_ends_is_unfinished(server, tmp_path):
    server.script.add_fault(Fault("delay", model="scripted-primary", delay_s=2, remaining=1))
    caller = threading.Thread(target=lambda: chat(server, "anyone?"), daemon=True)
    caller.start()
    for _ in range(100):  # the delayed request has arrived once its fault is journalled
        if server.script.journal():
            break
        time.sleep(0.02)
    transcript = TranscriptFile(tmp_path / "transcript.jsonl")
    [call] = record_scenario(transcript, server.script.journal(), SCENARIO)
    assert (call["outcome"], call["fault"], call["status"], call["latency_s"]) == ("unfinished", "delay", None, None)


def test_keys_and_authorization_headers_never_reach_the_file(server, tmp_path):
    register_secret(KEY)
    chat(server, f"my key is {KEY}")
    transcript = TranscriptFile(tmp_path / "transcript.jsonl")
    record_scenario(transcript, server.script.journal(), SCENARIO)
    text = transcript.path.read_text()
    assert KEY not in text
    [call] = lines(transcript.path)
    assert call["headers"]["Authorization"] == "[redacted]"
    assert call["messages"][0]["content"] == "my key is [redacted]"


def test_each_run_starts_a_new_file_and_a_scenario_without_calls_adds_nothing(tmp_path):
    path = tmp_path / "reports" / "transcript.jsonl"
    path.parent.mkdir()
    path.write_text('{"left": "by the last run"}\n')
    transcript = TranscriptFile(path)
    assert record_scenario(transcript, [], SCENARIO) == []
    assert path.read_text() == ""


def record(scenario: str, answer: str, tokens: int, latency_s: float, status: int = 200) -> dict:
    return {"scenario": scenario, "feature": "F", "feature_file": "features/f.feature", "model": "scripted-primary",
            "answer": answer if status == 200 else None, "outcome": "answered" if status == 200 else "failed",
            "status": status, "usage": {"prompt_tokens": tokens, "completion_tokens": 2, "total_tokens": tokens + 2},
            "latency_s": latency_s}


def write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_compare_names_what_changed_per_scenario(tmp_path):
    before = write(tmp_path / "A.jsonl", [record("same", "yes", 10, 0.01), record("answers", "Paris.", 10, 0.01),
                                          record("slower", "ok", 10, 0.01), record("gone", "x", 1, 0.0),
                                          record("fails", "ok", 10, 0.01)])
    after = write(tmp_path / "B.jsonl", [record("same", "yes", 10, 0.05), record("answers", "Lyon.", 12, 0.01),
                                         record("slower", "ok", 10, 2.51), record("new", "x", 1, 0.0),
                                         record("fails", "", 10, 0.01, status=429)])
    lines = compare(read_transcript(before), read_transcript(after), ("A.jsonl", "B.jsonl"))
    assert lines == [
        "features/f.feature: answers:",
        '  call 1 (scripted-primary) answer: "Paris." -> "Lyon."',
        "  prompt tokens: 10 -> 12 (+2)",
        "  total tokens: 12 -> 14 (+2)",
        "features/f.feature: fails:",
        "  call 1 (scripted-primary): answered -> failed (429)",
        "features/f.feature: gone: only in A.jsonl",
        "features/f.feature: new: only in B.jsonl",
        "features/f.feature: slower:",
        "  latency: 0.010 s -> 2.510 s (+2.500 s)",
    ]


def test_compare_command_prints_and_exits_like_diff(tmp_path, capsys):
    same = write(tmp_path / "A.jsonl", [record("s", "yes", 3, 0.01)])
    assert main(["compare", str(same), str(same)]) == 0
    assert capsys.readouterr().out.strip() == "no scenario changed"
    other = write(tmp_path / "B.jsonl", [record("s", "yes", 3, 0.01), record("s", "again", 3, 0.01)])
    done = subprocess.run([sys.executable, "-m", "harness.reporting.transcript", "compare", str(same), str(other)],
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[:2] == ["features/f.feature: s:", "  calls: 1 -> 2"]
