"""The scripted model speaks the OpenAI wire format, plays its faults, and keeps a journal."""

import json

import httpx
import pytest

from harness.llm import Fault, Rule, ScriptedModelServer


@pytest.fixture
def server():
    srv = ScriptedModelServer(dimensions=32).start()
    yield srv
    srv.close()


def chat(server, content, **extra):
    body = {"model": "m", "messages": [{"role": "user", "content": content}], **extra}
    return httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=5)


def test_answers_by_words_in_the_question_and_reports_usage(server):
    server.script.add_rule(Rule("Paris.", ("capital",), anywhere=False))
    reply = chat(server, "What is the capital of France?").json()
    assert reply["choices"][0]["message"]["content"] == "Paris."
    assert reply["usage"] == {"prompt_tokens": 6, "completion_tokens": 1, "total_tokens": 7}
    [entry] = server.script.journal("chat")
    assert entry.prompt == "What is the capital of France?" and entry.answer == "Paris."


def test_streams_pieces_that_join_to_the_answer_then_usage(server):
    server.script.answer_by_default("one two three")
    response = chat(server, "hi", stream=True, stream_options={"include_usage": True})
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "one two three"
    assert chunks[-1]["usage"]["completion_tokens"] == 3


def test_embeddings_are_deterministic_and_sized(server):
    body = {"model": "e", "input": ["alpha beta", "gamma"]}
    first = httpx.post(f"{server.base_url}/embeddings", json=body).json()
    second = httpx.post(f"{server.base_url}/embeddings", json=body).json()
    assert first["data"] == second["data"] and len(first["data"][0]["embedding"]) == 32


@pytest.mark.parametrize("status", [429, 500, 503])
def test_status_faults_apply_to_their_model_only_and_count_down(server, status):
    server.script.add_fault(Fault("status", model="m", status=status, remaining=1))
    assert chat(server, "hi").status_code == status
    assert chat(server, "hi").status_code == 200
    assert [e.outcome for e in server.script.journal()] == [f"status {status}", "answered"]


def test_malformed_and_dropped_answers(server):
    server.script.add_fault(Fault("malformed", remaining=1))
    with pytest.raises(json.JSONDecodeError):
        chat(server, "hi").json()
    server.script.add_fault(Fault("drop", remaining=1))
    with pytest.raises(httpx.TransportError):
        chat(server, "hi")


def test_reset_forgets_rules_faults_and_journal(server):
    server.script.add_rule(Rule("x", (), anywhere=True))
    server.script.add_fault(Fault("status"))
    chat(server, "hi")
    server.script.reset()
    assert chat(server, "hi").status_code == 200
    assert len(server.script.journal()) == 1
