"""The scripted OpenAI-compatible language model the scenarios talk to."""

from harness.llm.script import DEFAULT_ANSWER, Fault, JournalEntry, Rule, Script
from harness.llm.server import ScriptedModelServer

__all__ = ["DEFAULT_ANSWER", "Fault", "JournalEntry", "Rule", "Script", "ScriptedModelServer"]
