"""What the run prints on stderr at its end: how it ran (modes) and which scenarios it skipped, and why."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass
class RunSummary:
    infra: str
    llm: str
    platform: str
    skipped: list[str] = field(default_factory=list)

    @property
    def modes(self) -> dict[str, str]:
        return {"infra.mode": self.infra, "llm.profile": self.llm, "platform.mode": self.platform}

    def skip(self, scenario, reason: str) -> None:
        """Skips the scenario with its reason, and remembers both for the end of the run."""
        scenario.skip(reason)
        self.skipped.append(f"  {scenario.location}  {scenario.name}: {reason}")

    def lines(self, timing: str | None = None) -> list[str]:
        head = f"suite: infra {self.infra}, model {self.llm}, platform {self.platform}"
        lines = [f"{head}; {timing}" if timing else head]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} scenario(s), with the reason:")
            lines.extend(self.skipped)
        return lines

    def write(self, timing: str | None = None) -> None:
        print("\n".join(self.lines(timing)), file=sys.stderr)
