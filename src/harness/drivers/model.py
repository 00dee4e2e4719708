"""The scripted language model as scenarios see it: what it answers, which faults it plays, and
its journal of what it was asked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.llm import Fault, JournalEntry, Rule
from harness.llm.embeddings import embed
from harness.session import SCRIPTED_MODELS

if TYPE_CHECKING:
    from harness.world import World


class ScriptedModel:
    """In the local profile only the journal is there (the recording front's): nothing can be scripted."""

    def __init__(self, world: World) -> None:
        session = world.session
        self._local = session.llm_profile == "local"
        if self._local:
            self.script = session.local_models.journal  # reset by the world's cleanup
        else:
            self.script = session.model_server.script  # reset by the world's cleanup
        self._dimensions = session.dimensions
        self.delay_s = 0.0  # the slowest answer scripted, for steps about timeouts

    def _scriptable(self) -> None:
        if self._local:
            raise RuntimeError("this scenario scripts the language model, which -D llm=local cannot do: tag it "
                               "@scripted, or check what a real model can pass")

    def answers(self, answer: str, words: str, *, anywhere: bool) -> None:
        """Answer `answer` when the question (or, anywhere, the whole prompt) mentions `words`."""
        self._scriptable()
        self.script.add_rule(Rule(answer, (words,), anywhere=anywhere))

    def role_answers(self, role: str, answer: str) -> None:
        self._scriptable()
        self.script.add_rule(Rule(answer, (), anywhere=True, model=SCRIPTED_MODELS[role]))

    def fails(self, role: str, kind: str, *, status: int = 500, times: int | None = None) -> None:
        self._scriptable()
        self.script.add_fault(Fault(kind, model=SCRIPTED_MODELS[role], status=status, remaining=times))

    def is_slow(self, role: str, seconds: float, *, times: int | None = None) -> None:
        self._scriptable()
        self.script.add_fault(Fault("delay", model=SCRIPTED_MODELS[role], delay_s=seconds, remaining=times))
        self.delay_s = max(self.delay_s, seconds)

    def vector_of(self, text: str) -> list[float]:
        """The vector the scripted embedding model gives the text: it is deterministic."""
        self._scriptable()
        return embed(text, self._dimensions)

    def chats(self) -> list[JournalEntry]:
        return self.script.journal("chat")

    def requests(self) -> list[JournalEntry]:
        return self.script.journal()

    def requests_to(self, role: str) -> list[JournalEntry]:
        return [e for e in self.script.journal() if e.model == SCRIPTED_MODELS[role]]

    def calls_about(self, text: str) -> dict[str, int]:
        """How many requests mentioning the text (in a prompt or an input to embed) reached each endpoint; a
        delayed request journalled twice counts once."""
        seen: dict[str, set[str]] = {}
        for entry in self.script.journal():
            if text in entry.prompt or any(text in given for given in entry.inputs):
                seen.setdefault(entry.endpoint, set()).add(entry.request_id or str(entry.at))
        return {endpoint: len(ids) for endpoint, ids in seen.items()}

    def last_prompt(self) -> str:
        asked = self.chats()
        assert asked, "expected a prompt to have been sent to the language model, none was"
        return asked[-1].prompt
