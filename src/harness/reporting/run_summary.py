"""What the run prints on stderr at its end: how it ran (modes) and which scenarios it skipped, and why."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class RunSummary:
    infra: str
    llm: str
    platform: str
    skipped: list[str] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)
    played: Counter = field(default_factory=Counter)  # "platform" or "library" -> scenarios that ran
    coverage: str = ""  # what of the contract the scenarios exercised (harness.reporting.coverage)

    @property
    def modes(self) -> dict[str, str]:
        return {"infra.mode": self.infra, "llm.profile": self.llm, "platform.mode": self.platform}

    def skip(self, scenario, reason: str) -> None:
        """Skips the scenario with its reason, and remembers both for the end of the run."""
        scenario.skip(reason)
        self.skipped.append(f"  {scenario.location}  {scenario.name}: {reason}")
        self.reasons[reason] += 1

    def ran(self, *, library: bool, launched: bool = False) -> None:
        """A scenario ran: against the platform under test (`launched`: on instances of the deployment's services
        that the suite started from its launch file), or against the codec library alone."""
        self.played["library" if library else "platform"] += 1
        self.played["launched"] += launched

    def where(self) -> str:
        """One line: where the scenarios ran, and why the others did not."""
        target = "the deployment" if self.platform == "external" else "the embedded platform"
        launched = (f" ({self.played['launched']} of them on instances launched from its launch file)"
                    if self.played["launched"] else "")
        line = (f"ran {self.played['platform']} scenario(s) against {target}{launched}, {self.played['library']} "
                f"against the codec library alone; skipped {sum(self.reasons.values())}")
        grouped = "; ".join(f"{count} {reason}" for reason, count in self.reasons.most_common())
        return f"{line}: {grouped}" if grouped else line

    def lines(self, timing: str | None = None) -> list[str]:
        head = f"suite: infra {self.infra}, model {self.llm}, platform {self.platform}"
        lines = [f"{head}; {timing}" if timing else head, self.where(), *([self.coverage] if self.coverage else [])]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} scenario(s), with the reason:")
            lines.extend(self.skipped)
        return lines

    def write(self, timing: str | None = None) -> None:
        print("\n".join(self.lines(timing)), file=sys.stderr)
