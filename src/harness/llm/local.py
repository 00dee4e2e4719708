"""The local profile (-D llm=local): real models on this machine, reached over HTTP like any provider.

Two processes, each on a free loopback port, with their pids in the run record from the moment they exist
(the next run reaps them if this one is killed) and stopped when the session closes:

- llama.cpp's OpenAI-compatible server (harness.llm.llama_server) with SmolLM2-135M-Instruct: chat, JSON
  and SSE streaming, with the token usage its tokenizer counted;
- harness.llm.embedding_server with all-MiniLM-L6-v2: 384-dimensional embeddings.

In front of both, in the suite's process, a recording front: one base URL that passes
/v1/chat/completions to the first and /v1/embeddings to the second, byte for byte (streams as they come),
and journals every call, with the answer and the usage the model server reported, for the scenario
running (a harness.llm.Script used for its journal only). The transcript, the prompt attachments and the
Then steps that read what the model was asked or reported read that journal, as they read the scripted
model's. The only change the front makes: a chat request that sets no max_tokens gets LOCAL_MAX_TOKENS, as a
provider caps its output; a 135M model would otherwise ramble until its context is full.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil

from harness.infra.processes import NotReady, RunRecord, free_port, kill_tree, wait_until_answering
from harness.llm.local_models import (  # noqa: F401 - the profile's names
    CHAT_MODEL,
    DIMENSIONS,
    EMBEDDING_MODEL,
    EMBEDDING_REPO,
    chat_model_path,
    embedding_home,
)
from harness.llm.script import JournalEntry, Script
from harness.waiting import scaled

LOCAL_MAX_TOKENS = 64  # about 3 s of SmolLM2-135M on these 2 cores, 6 s when the run keeps them busy
CONTEXT_TOKENS = 4096
READY_BUDGET_S = 120.0  # llama.cpp's server imports FastAPI and maps the model: about 3.5 s here, alone
UPSTREAM_TIMEOUT_S = 300.0  # a long answer on a busy 2-core machine; the gateway's own timeout comes first
LOG_TAIL_LINES = 20
MAX_BODY_BYTES = 8 * 1024 * 1024
ROUTES = {"/v1/chat/completions": "chat", "/v1/embeddings": "embeddings"}


class ModelProcess:
    """One model server: a command, a free port, a log file, a pid in the run record."""

    def __init__(self, name: str, command: list[str], port: int, record: RunRecord, log_dir: Path,
                 env: dict[str, str] | None = None) -> None:
        self.name, self.command, self.port, self._record = name, command, port, record
        self.env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.log_path = log_dir / f"{name}-{port}.log"
        self._process: psutil.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ModelProcess:
        with self.log_path.open("ab") as log:
            log.write(f"--- {self.name}: {' '.join(self.command)}\n".encode())
            log.flush()
            # Its own session: a Ctrl-C in the terminal reaches the suite, which stops it in order.
            self._process = psutil.Popen(self.command, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self._record.add_process(self._process.pid, self.name)
        return self

    def wait_ready(self, budget_s: float) -> None:
        if self._process is None:
            raise RuntimeError(self._describe("is not running: start() it before waiting"))
        try:
            wait_until_answering(f"{self.base_url}/v1/models", self._process, budget_s, 0.05)
        except NotReady as exc:
            raise RuntimeError(self._describe(str(exc))) from None

    def stop(self) -> None:
        if self._process is not None:
            kill_tree(self._process.pid)
            self._record.forget_process(self._process.pid)
            self._process = None

    def _describe(self, what: str) -> str:
        try:
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])
        except OSError:
            tail = "(no log)"
        return f"the {self.name} at {self.base_url} {what}\nlast lines of {self.log_path}:\n{tail}"


class LocalModels:
    """The two model servers and the recording front; start() on first use, close() at the session's end."""

    def __init__(self, record: RunRecord) -> None:
        self._record = record
        self.journal = Script()  # its journal only: nothing is scripted in this profile
        self.started_in_s: float | None = None
        self._processes: list[ModelProcess] = []
        self._front: ThreadingHTTPServer | None = None
        self._upstream = httpx.Client(trust_env=False, timeout=UPSTREAM_TIMEOUT_S)
        self._tally = {"chat_calls": 0, "completion_tokens": 0, "chat_seconds": 0.0}
        self._tally_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self._front.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> LocalModels:
        began = time.perf_counter()
        log_dir = self._record.new_temp_dir()
        with ThreadPoolExecutor(2) as pool:  # the model files may need fetching once; both in parallel
            gguf, hf_home = pool.submit(chat_model_path), pool.submit(embedding_home)
            gguf, hf_home = gguf.result(), hf_home.result()
        chat_port, embedding_port = free_port(), free_port()
        chat = ModelProcess("llama.cpp chat server", [
            sys.executable, "-m", "harness.llm.llama_server", "--model", str(gguf), "--model_alias", CHAT_MODEL,
            "--host", "127.0.0.1", "--port", str(chat_port), "--n_ctx", str(CONTEXT_TOKENS),
            "--n_threads", str(os.cpu_count() or 2), "--seed", "42", "--verbose", "False"],
            chat_port, self._record, log_dir)
        embedder = ModelProcess("embedding server", [
            sys.executable, "-m", "harness.llm.embedding_server", "--port", str(embedding_port),
            "--model", EMBEDDING_REPO], embedding_port, self._record, log_dir,
            env={"HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1"})
        self._record.on_close(self.close)  # also on the paths where the session's close is never reached
        for process in (chat, embedder):
            self._processes.append(process.start())
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda p: p.wait_ready(scaled(READY_BUDGET_S)), self._processes))
        self.serve_front(chat.base_url, embedder.base_url)
        self.started_in_s = time.perf_counter() - began
        return self

    def serve_front(self, chat_url: str, embeddings_url: str) -> None:
        """The recording front, on a free loopback port, passing calls to these servers (base URLs without /v1)."""
        handler = type("Handler", (_FrontHandler,), {"front": self, "upstreams": {
            "chat": chat_url, "embeddings": embeddings_url}})
        self._front = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._front.daemon_threads = True
        threading.Thread(target=self._front.serve_forever, name="local-model-front", daemon=True).start()

    def summary(self) -> str | None:
        """One line on what the chat model did this run, or None if it was never asked."""
        with self._tally_lock:
            calls, tokens, seconds = (self._tally[k] for k in ("chat_calls", "completion_tokens", "chat_seconds"))
        if not calls:
            return None
        return (f"local model: {calls} chat calls, {tokens} completion tokens in {seconds:.1f} s "
                f"({tokens / seconds if seconds else 0:.1f} tokens/s, prompt processing included); "
                f"servers ready {self.started_in_s:.1f} s after first use")

    def close(self) -> None:
        if self._front is not None:
            self._front.shutdown()
            self._front.server_close()
            self._front = None
        for process in self._processes:
            process.stop()
        self._processes = []
        self._upstream.close()

    def _count(self, completion_tokens: int, seconds: float) -> None:
        with self._tally_lock:
            self._tally["chat_calls"] += 1
            self._tally["completion_tokens"] += completion_tokens
            self._tally["chat_seconds"] += seconds


class _FrontHandler(BaseHTTPRequestHandler):
    """Pass a call to its model server and journal it with what the server answered."""

    front: LocalModels
    upstreams: dict[str, str]
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *_args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.split("?")[0].rstrip("/") != "/v1/models":
            return self._send(404, b'{"error": {"message": "not found", "code": "not_found"}}')
        self._send(200, json.dumps({"object": "list", "data": [
            {"id": CHAT_MODEL, "object": "model"}, {"id": EMBEDDING_MODEL, "object": "model"}]}).encode())

    def do_POST(self) -> None:
        generation, began = self.front.journal.generation, time.perf_counter()
        endpoint = ROUTES.get(self.path.split("?")[0].rstrip("/"))
        length = self.headers.get("Content-Length", "0")
        if endpoint is None or not length.isdigit() or int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            return self._send(404 if endpoint is None else 400,
                              b'{"error": {"message": "unknown route or unusable body", "code": "invalid_request"}}')
        raw = self.rfile.read(int(length))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._send(400, b'{"error": {"message": "request body is not a JSON object", "code": "invalid"}}')
        call = _Call(endpoint, body, dict(self.headers.items()), generation, began)
        sent = dict(body)
        if endpoint == "chat" and sent.get("max_tokens") is None and sent.get("max_completion_tokens") is None:
            sent["max_tokens"] = LOCAL_MAX_TOKENS
        url = f"{self.upstreams[endpoint]}{self.path}"
        headers = {"Content-Type": "application/json", "Accept": self.headers.get("Accept", "*/*")}
        try:
            with self.front._upstream.stream("POST", url, json=sent, headers=headers) as response:
                if response.headers.get("content-type", "").startswith("text/event-stream"):
                    return self._relay_stream(response, call)
                payload = response.read()
        except httpx.HTTPError as exc:
            self._journal(call, "status 502", status=502)
            message = json.dumps({"error": {"message": f"the local model server failed: {exc}", "code": "upstream"}})
            return self._send(502, message.encode())
        try:
            answer = json.loads(payload)
        except ValueError:
            answer = {}
        text = ""
        if endpoint == "chat" and response.status_code == 200:
            text = ((answer.get("choices") or [{}])[0].get("message") or {}).get("content") or ""
        self._journal(call, "answered" if response.status_code == 200 else f"status {response.status_code}",
                      answer=text, usage=answer.get("usage") or {}, status=response.status_code)
        self._send(response.status_code, payload, response.headers.get("content-type", "application/json"))

    def _relay_stream(self, response: httpx.Response, call: _Call) -> None:
        """Pass the events on as they arrive; journal the call before the last event, as the scripted model does."""
        self.send_response(response.status_code)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        pieces, usage = [], {}
        for line in response.iter_lines():
            data = line[5:].strip() if line.startswith("data:") else None
            if data == "[DONE]":
                self._journal(call, "answered", answer="".join(pieces), usage=usage, status=response.status_code)
                call = None
            elif data:
                try:
                    chunk = json.loads(data)
                except ValueError:
                    chunk = {}
                for choice in chunk.get("choices") or []:
                    pieces.append((choice.get("delta") or {}).get("content") or "")
                usage = chunk.get("usage") or usage
            try:
                self.wfile.write(line.encode() + b"\n")
                if not line:
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                break  # the caller left; the journal says what the model sent until then
        if call is not None:  # a stream that ended without [DONE]
            self._journal(call, "answered" if pieces else "status 502", answer="".join(pieces), usage=usage,
                          status=response.status_code if pieces else 502)
        try:
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _journal(self, call: _Call, outcome: str, *, answer: str = "", usage: dict | None = None,
                 status: int | None = 200) -> None:
        body = call.body
        model = str(body.get("model", ""))
        skipped = ("model", "messages") if call.endpoint == "chat" else ("model", "input")
        parameters = {k: v for k, v in body.items() if k not in skipped}
        inputs = body.get("input") if call.endpoint == "embeddings" else ()
        inputs = (inputs,) if isinstance(inputs, str) else tuple(inputs or ())
        latency = time.perf_counter() - call.began
        bearer = call.headers.get("Authorization", call.headers.get("authorization", "")).removeprefix("Bearer ")
        entry = JournalEntry(call.endpoint, model, tuple(body.get("messages") or ()), parameters, inputs, outcome,
                             answer=answer, usage=usage or {}, bearer=bearer.strip(), headers=call.headers,
                             status=status, latency_s=latency, request_id=uuid.uuid4().hex[:12])
        self.front.journal.record(entry, generation=call.generation)
        if call.endpoint == "chat" and outcome == "answered":
            self.front._count(int((usage or {}).get("completion_tokens") or 0), latency)

    def _send(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass


class _Call:
    __slots__ = ("endpoint", "body", "headers", "generation", "began")

    def __init__(self, endpoint: str, body: dict, headers: dict, generation: int, began: float) -> None:
        self.endpoint, self.body, self.headers, self.generation, self.began = endpoint, body, headers, generation, began
