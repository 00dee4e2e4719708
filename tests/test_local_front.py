"""The local profile's recording front: it passes calls to the model servers unchanged (streams as they come)
and journals each with the answer and the usage the server reported. The scripted model stands in for the
real servers here, so this runs without the `local` extra."""

import json

import httpx
import pytest

from harness.infra.processes import RunRecord
from harness.llm import ScriptedModelServer
from harness.llm.local import LOCAL_MAX_TOKENS, LocalModels


@pytest.fixture()
def front(tmp_path):
    upstream = ScriptedModelServer().start()
    upstream.script.answer_by_default("Annual plans can be refunded within 30 days.")
    models = LocalModels(RunRecord(tmp_path))
    root = upstream.base_url.removesuffix("/v1")
    models.serve_front(root, root)
    yield models, upstream
    models.close()
    upstream.close()


def test_a_chat_call_is_passed_on_and_journalled_with_the_servers_answer_and_usage(front):
    models, upstream = front
    body = {"model": "smollm2", "messages": [{"role": "user", "content": "Can I get a refund?"}]}
    response = httpx.post(f"{models.base_url}/chat/completions", json=body,
                          headers={"Authorization": "Bearer sk-local"}, trust_env=False)
    assert response.status_code == 200
    sent = response.json()
    [entry] = models.journal.journal("chat")
    assert entry.answer == sent["choices"][0]["message"]["content"] == "Annual plans can be refunded within 30 days."
    assert entry.usage == sent["usage"] and entry.bearer == "sk-local" and entry.parameters == {}
    # The caller set no max_tokens: the server was asked with the front's cap, the journal keeps the caller's call.
    assert upstream.script.journal("chat")[0].parameters == {"max_tokens": LOCAL_MAX_TOKENS}


def test_a_stream_is_relayed_event_by_event_and_journalled_as_the_joined_answer(front):
    models, _ = front
    body = {"model": "smollm2", "messages": [{"role": "user", "content": "Refund?"}], "stream": True,
            "stream_options": {"include_usage": True}}
    with httpx.stream("POST", f"{models.base_url}/chat/completions", json=body, trust_env=False) as response:
        events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    pieces = [c["choices"][0]["delta"].get("content", "") for c in map(json.loads, events[:-1]) if c["choices"]]
    [entry] = models.journal.journal("chat")
    assert len(pieces) > 2 and "".join(pieces) == entry.answer == "Annual plans can be refunded within 30 days."
    assert entry.usage["completion_tokens"] == 8


def test_embeddings_are_passed_on_and_a_reset_forgets_the_scenarios_calls(front):
    models, _ = front
    response = httpx.post(f"{models.base_url}/embeddings", json={"model": "minilm", "input": ["a b", "c"]},
                          trust_env=False)
    assert response.status_code == 200 and len(response.json()["data"]) == 2
    [entry] = models.journal.journal("embeddings")
    assert entry.inputs == ("a b", "c") and entry.usage["prompt_tokens"] == 3
    models.journal.reset()
    assert models.journal.journal() == []
