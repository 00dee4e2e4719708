"""An OpenAI-compatible embeddings endpoint backed by a real sentence-embedding model, run as its own process.

    python -m harness.llm.embedding_server --port <port> [--host 127.0.0.1] [--model <Hugging Face id>]

Serves GET /v1/models, GET /health and POST /v1/embeddings (`input` a string or a list of strings,
`encoding_format` float or base64, usage counted by the model's own tokenizer). The model is loaded with
candding (Rust candle: no torch, no ONNX) from the Hugging Face cache in HF_HOME, offline
(HF_HUB_OFFLINE=1); harness.llm.local_models lays that cache out. Vectors are L2-normalised, so a dot
product is the cosine similarity.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_INPUTS = 2048


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    embedder = None  # set by main()
    model_name = DEFAULT_MODEL
    lock = threading.Lock()  # one batch at a time: the model uses every core for each

    def log_message(self, *_args) -> None:
        pass

    def do_GET(self) -> None:
        route = self.path.split("?")[0].rstrip("/")
        if route == "/health":
            return self._json(200, {"status": "ok"})
        if route == "/v1/models":
            return self._json(200, {"object": "list", "data": [{"id": self.model_name, "object": "model"}]})
        self._json(404, _error(f"no route GET {self.path}", "not_found"))

    def do_POST(self) -> None:
        route = self.path.split("?")[0].rstrip("/")
        if route != "/v1/embeddings":
            self.close_connection = True
            return self._json(404, _error(f"no route POST {self.path}", "not_found"))
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            return self._json(413 if length.isdigit() else 400, _error(f"unusable Content-Length {length!r}"))
        try:
            body = json.loads(self.rfile.read(int(length)) or b"{}")
        except ValueError:
            return self._json(400, _error("request body is not JSON"))
        inputs = body.get("input") if isinstance(body, dict) else None
        inputs = [inputs] if isinstance(inputs, str) else inputs
        if not (isinstance(inputs, list) and 0 < len(inputs) <= MAX_INPUTS and all(isinstance(t, str) for t in inputs)):
            return self._json(400, _error(f"'input' must be a string or a list of 1 to {MAX_INPUTS} strings"))
        dimensions = body.get("dimensions")
        if dimensions not in (None, self.embedder.dim):
            return self._json(400, _error(f"this model gives {self.embedder.dim} dimensions, not {dimensions}"))
        with self.lock:
            vectors = self.embedder.embed(inputs)
            tokens = sum(self.embedder.token_count(inputs))
        as_base64 = body.get("encoding_format") == "base64"
        data = [{"object": "embedding", "index": i,
                 "embedding": base64.b64encode(v.astype("<f4").tobytes()).decode() if as_base64 else v.tolist()}
                for i, v in enumerate(vectors)]
        self._json(200, {"object": "list", "model": body.get("model") or self.model_name, "data": data,
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _json(self, status: int, payload: dict) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(raw)


def _error(message: str, code: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": code, "code": code}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.llm.embedding_server", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never a hub: the files are in HF_HOME or the start fails
    import candding

    _Handler.embedder = candding.TextEmbedding(args.model, device="cpu")
    _Handler.model_name = args.model
    server = ThreadingHTTPServer((args.host, args.port), _Handler)
    server.daemon_threads = True
    print(f"embedding server: {args.model} ({_Handler.embedder.dim} dimensions) on http://{args.host}:{args.port}",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
