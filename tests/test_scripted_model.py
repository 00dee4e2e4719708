"""The scripted model speaks the OpenAI wire format, plays its faults, keeps a journal, and refuses what a real
provider refuses."""

import http.client
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

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


@pytest.mark.parametrize(("limits", "text", "finish"), [
    ({}, "Red and blue.END More words here", "stop"),
    ({"stop": "END"}, "Red and blue.", "stop"),
    ({"stop": ["words", "END"]}, "Red and blue.", "stop"),
    ({"max_tokens": 2}, "Red and", "length"),
    ({"max_tokens": 2, "stop": ["and"]}, "Red ", "stop"),
])
def test_ends_the_answer_at_a_stop_sequence_or_max_tokens_like_a_provider(server, limits, text, finish):
    server.script.answer_by_default("Red and blue.END More words here")
    reply = chat(server, "Name some colours for me please", **limits).json()
    choice = reply["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == (text, finish)
    assert reply["usage"]["completion_tokens"] == len(text.split())
    streamed = chat(server, "Name some colours", stream=True, **limits).text
    assert f'"finish_reason": "{finish}"' in streamed


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


# What a real provider refuses, the scripted model refuses: a 4xx in the OpenAI error shape, never a
# dropped connection, a hung thread or a traceback. Raw sockets send what httpx would not.

@pytest.fixture
def quiet(capfd):
    """Fails the test if a handler thread printed a traceback."""
    yield
    assert "Traceback" not in capfd.readouterr().err


def post(server, route, body, **kwargs):
    return httpx.post(f"{server.base_url}/{route}", json=body, timeout=5, **kwargs)


def refusal(response, status):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code"}
    return error["message"]


def raw_post(server, content_length, body=b"", *, then=None, wait_s=5.0):
    """POST with a Content-Length of our choosing; returns the status and the JSON error, or None if closed."""
    url = httpx.URL(server.base_url)
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {content_length}\r\nConnection: close\r\n\r\n")
    with socket.create_connection((url.host, url.port), timeout=wait_s) as sock:
        sock.sendall(head.encode() + body)
        if then == "close":
            return None
        if then == "shutdown":
            sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):  # the server closes after answering: nothing of the body is left
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])["error"]


@pytest.mark.parametrize("body", [b"[]", b'["hi"]', b'"hi"', b"42", b"null"])
def test_refuses_json_that_is_not_an_object(server, quiet, body):
    for route in ("chat/completions", "embeddings"):
        response = httpx.post(f"{server.base_url}/{route}", content=body, timeout=5)
        assert "must be a JSON object" in refusal(response, 400)
    assert server.script.journal() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"model": 5}, "'model'"),
        ({"model": None}, "'model'"),
        ({"messages": None}, "'messages'"),
        ({"messages": "hi"}, "'messages'"),
        ({"messages": ["hi"]}, "'messages[0]'"),
        ({"messages": [{"role": "user", "content": 5}]}, "'messages[0].content'"),
        ({"messages": [{"role": "user", "content": {"text": "hi"}}]}, "'messages[0].content'"),
        ({"messages": [{"role": "user", "content": ["hi"]}]}, "'messages[0].content'"),
        ({"stream": "yes"}, "'stream'"),
        ({"stream": 1}, "'stream'"),
        ({"stream": True, "stream_options": "usage"}, "'stream_options'"),
    ],
)
def test_refuses_chat_fields_of_the_wrong_type(server, quiet, change, field):
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **change}
    assert refusal(post(server, "chat/completions", body), 400).startswith(field)
    body = {k: v for k, v in body.items() if v is not None}  # and when the field is missing
    if field in ("'model'", "'messages'"):
        assert refusal(post(server, "chat/completions", body), 400).startswith(field)
    assert server.script.journal() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"model": 5}, "'model'"),
        ({"input": None}, "'input'"),
        ({"input": 5}, "'input'"),
        ({"input": [1, 2]}, "'input'"),
        ({"input": ["a", None]}, "'input'"),
        ({"dimensions": "32"}, "'dimensions'"),
        ({"dimensions": 1.5}, "'dimensions'"),
        ({"dimensions": True}, "'dimensions'"),
        ({"dimensions": 0}, "'dimensions'"),
        ({"dimensions": -3}, "'dimensions'"),
        ({"dimensions": 4097}, "'dimensions'"),
        ({"dimensions": 10**12}, "'dimensions'"),
    ],
)
def test_refuses_embedding_fields_of_the_wrong_type_and_absurd_dimensions(server, quiet, change, field):
    body = {"model": "e", "input": ["alpha"], **change}
    message = refusal(post(server, "embeddings", body), 400)
    assert message.startswith(field)
    if field == "'dimensions'":
        assert "4096" in message  # the limit is named
    assert server.script.journal() == []


def test_accepts_what_litellm_sends(server, quiet):
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": None},
        {"role": "user", "content": "again"},
    ]
    extra = {"temperature": 0.2, "max_tokens": 20, "stream": False, "stream_options": None, "user": "u"}
    assert post(server, "chat/completions", {"model": "m", "messages": messages, **extra}).status_code == 200
    assert post(server, "chat/completions", {"model": "m", "messages": [], "stream": None}).status_code == 200
    for extra in ({"encoding_format": "float"}, {"dimensions": None}, {"dimensions": 4096}):
        assert post(server, "embeddings", {"model": "e", "input": "alpha", **extra}).status_code == 200
    assert len(server.script.journal()) == 5


@pytest.mark.parametrize("content_length", ["abc", "-5", "1e3", "0x10", "", "12, 12"])
def test_refuses_a_content_length_that_is_not_a_number(server, quiet, content_length):
    status, error = raw_post(server, content_length, b"{}")
    assert status == 400 and "Content-Length" in error["message"]


def test_refuses_an_oversize_body_without_reading_it(server, quiet):
    status, error = raw_post(server, str(9 * 1024 * 1024))  # only the headers: the body is never read
    assert status == 413 and str(8 * 1024 * 1024) in error["message"]


@pytest.fixture
def impatient_server():
    srv = ScriptedModelServer(dimensions=32, read_timeout_s=0.5).start()
    yield srv
    srv.close()


def test_a_body_that_never_arrives_is_refused_after_the_read_timeout(impatient_server, quiet):
    started = time.monotonic()
    status, error = raw_post(impatient_server, "100", b'{"model": "m"')  # 13 of 100 bytes, then silence
    assert status == 400 and "Content-Length" in error["message"]
    assert 0.4 < time.monotonic() - started < 3
    assert chat(impatient_server, "still there?").status_code == 200


def test_a_body_cut_short_is_refused_and_a_caller_gone_leaves_no_traceback(impatient_server, quiet):
    status, error = raw_post(impatient_server, "100", b'{"model": "m"', then="shutdown", wait_s=2)
    assert status == 400 and "Content-Length" in error["message"]
    assert raw_post(impatient_server, "100", b'{"model": "m"', then="close") is None
    assert raw_post(impatient_server, str(9 * 1024 * 1024), b"x" * 65536, then="close") is None
    assert chat(impatient_server, "still there?").status_code == 200
    assert impatient_server.script.journal("chat")[0].prompt == "still there?"


def test_invalid_json_unknown_route_and_wrong_method(server, quiet):
    base = server.base_url
    not_json = httpx.post(f"{base}/chat/completions", content=b'{"model": ', timeout=5)
    assert "not JSON" in refusal(not_json, 400)
    assert "not JSON" in refusal(httpx.post(f"{base}/embeddings", content=b"[" * 100_000, timeout=5), 400)
    assert "not JSON" in refusal(httpx.post(f"{base}/embeddings", content=b"\xff\xfe{", timeout=5), 400)
    refusal(httpx.post(f"{base}/completions", json={}, timeout=5), 404)
    refusal(httpx.get(f"{base}/nowhere", timeout=5), 404)
    wrong = httpx.get(f"{base}/chat/completions", timeout=5)
    assert "GET" in refusal(wrong, 405) and wrong.headers["Allow"] == "POST"
    wrong = httpx.post(f"{base}/models", json={}, timeout=5)
    assert "POST" in refusal(wrong, 405) and wrong.headers["Allow"] == "GET"
    refusal(httpx.delete(f"{base}/embeddings", timeout=5), 405)
    refusal(httpx.put(f"{base}/chat/completions", json={"model": "m"}, timeout=5), 405)
    assert httpx.get(f"{base}/models", timeout=5).status_code == 200


def test_journal_keeps_the_request_headers_as_seen_with_the_secret(server, quiet):
    secret = "sk-scripted-secret-123"
    headers = {"Authorization": f"Bearer {secret}", "X-Request-Tag": "evidence"}
    question = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert post(server, "chat/completions", question, headers=headers).status_code == 200
    server.script.add_fault(Fault("status", status=429, remaining=1))
    assert post(server, "embeddings", {"model": "e", "input": "x"}, headers=headers).status_code == 429
    assert post(server, "embeddings", {"model": "e", "input": "x"}, headers=headers).status_code == 200
    entries = server.script.journal()
    assert [e.outcome for e in entries] == ["answered", "status 429", "answered"]
    for entry in entries:
        seen = {name.lower(): value for name, value in entry.headers.items()}  # names keep the caller's case
        assert seen["authorization"] == f"Bearer {secret}" and entry.bearer == secret
        assert seen["x-request-tag"] == "evidence" and seen["content-type"] == "application/json"
        assert secret not in repr(entry)


def test_serves_200_concurrent_chats_without_connection_delays(server, quiet):
    url, body = httpx.URL(server.base_url), json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    all_ready = threading.Barrier(200)

    def ask(_) -> int:  # http.client: one fresh connection per caller, cheap enough for 200 threads
        connection = http.client.HTTPConnection(url.host, url.port, timeout=10)
        try:
            all_ready.wait(timeout=10)  # then all 200 connect at once
            connection.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
            return connection.getresponse().status
        finally:
            connection.close()

    started = time.monotonic()
    with ThreadPoolExecutor(200) as pool:
        statuses = list(pool.map(ask, range(200), timeout=20))
    assert statuses == [200] * 200  # a full listen backlog shows as resets or 1 s, 3 s SYN retries
    assert time.monotonic() - started < 5
    assert len(server.script.journal("chat")) == 200


def test_a_request_still_in_flight_when_the_script_is_reset_is_not_journalled(server):
    """A late answer to a finished scenario must not appear in the next scenario's journal."""
    server.script.add_fault(Fault("delay", delay_s=0.5, remaining=1))
    late = threading.Thread(target=chat, args=(server, "a slow question"))
    late.start()
    for _ in range(100):  # the delayed request has arrived once its fault is journalled
        if server.script.journal():
            break
        time.sleep(0.01)
    server.script.reset()
    late.join(timeout=5)
    assert server.script.journal() == [], [e.outcome for e in server.script.journal()]
