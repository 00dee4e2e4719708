"""What the scripted language model says, which faults it plays, and what it was asked."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

DEFAULT_ANSWER = "I am the scripted language model."
# "quotes-key": a 401 whose error message quotes the key the caller presented, as some providers do.
# "breaks-off": a stream that stops after its first half with an error event, as providers report a failure
# midway (a request that does not stream gets a 500).
FAULT_KINDS = ("status", "delay", "malformed", "no-choices", "drop", "quotes-key", "breaks-off")


@dataclass(frozen=True)
class Rule:
    answer: str
    words: tuple[str, ...]
    anywhere: bool  # match the whole prompt, or only the latest user message
    model: str | None = None

    def matches(self, model: str, messages: list[dict]) -> bool:
        if self.model and self.model != model:
            return False
        text = _prompt_text(messages) if self.anywhere else _last_user_text(messages)
        return all(word.lower() in text.lower() for word in self.words)


@dataclass
class Fault:
    kind: str  # one of FAULT_KINDS
    model: str | None = None
    status: int = 500
    delay_s: float = 0.0
    remaining: int | None = None  # None: every request

    def applies_to(self, model: str) -> bool:
        return (self.model is None or self.model == model) and (self.remaining is None or self.remaining > 0)


@dataclass(frozen=True)
class JournalEntry:
    endpoint: str
    model: str
    messages: tuple[dict, ...]
    parameters: dict
    inputs: tuple[str, ...]
    outcome: str  # "answered", or the fault played
    answer: str = ""
    usage: dict = field(default_factory=dict)
    bearer: str = field(default="", repr=False)  # the API key the caller presented; never attached
    headers: dict = field(default_factory=dict, repr=False)  # the HTTP headers as received, secret and all
    at: float = field(default_factory=time.time)
    status: int | None = 200  # the HTTP status sent; None: no response (connection dropped, or still delayed)
    latency_s: float = 0.0  # from the request's arrival until this outcome was ready to send
    request_id: str = ""  # one per HTTP request: a delayed request is journalled twice, "delay" then its answer

    @property
    def prompt(self) -> str:
        return _prompt_text(list(self.messages))


class Script:
    """Thread-safe: the HTTP server reads it while steps write it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget the scenario's script and journal; a request of its still in flight is not journalled later."""
        with self._lock:
            self.generation = getattr(self, "generation", 0) + 1
            self.default_answer = DEFAULT_ANSWER
            self._rules: list[Rule] = []
            self._faults: list[Fault] = []
            self._journal: list[JournalEntry] = []

    def answer_by_default(self, answer: str) -> None:
        with self._lock:
            self.default_answer = answer

    def add_rule(self, rule: Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def add_fault(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault.kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, model: str) -> Fault | None:
        """The first fault for this model, counting one use of it."""
        with self._lock:
            for fault in self._faults:
                if fault.applies_to(model):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    def answer_for(self, model: str, messages: list[dict]) -> str:
        with self._lock:
            for rule in reversed(self._rules):  # the latest scripted rule wins
                if rule.matches(model, messages):
                    return rule.answer
            return self.default_answer

    def record(self, entry: JournalEntry, generation: int | None = None) -> None:
        """Journal a request, unless it arrived before the last reset (a late answer to a finished scenario)."""
        with self._lock:
            if generation is None or generation == self.generation:
                self._journal.append(entry)

    def journal(self, endpoint: str | None = None) -> list[JournalEntry]:
        with self._lock:
            return [e for e in self._journal if endpoint is None or e.endpoint == endpoint]


def _content(message: dict) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _prompt_text(messages: list[dict]) -> str:
    return "\n".join(_content(m) for m in messages)


def _last_user_text(messages: list[dict]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _content(message)
    return ""


def count_tokens(text: str) -> int:
    """A deterministic stand-in for a tokenizer: one token per word."""
    return len(text.split())
