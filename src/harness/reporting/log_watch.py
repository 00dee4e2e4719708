"""Everything the platform logs during a scenario, at debug level, for secrets checks."""

from __future__ import annotations

import logging

# The loggers the platform and its libraries write to; the root catches the rest.
WATCHED = ("", "LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "httpx", "httpcore", "openai", "nats",
           "ai_platform")


class LogWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self._levels: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted still must not break the scenario
            self.lines.append(f"{record.name} {record.levelname} {record.msg!r} {record.args!r}")

    def start(self) -> LogWatch:
        for name in WATCHED:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(logging.DEBUG)
        logging.getLogger().addHandler(self)  # records reach it by propagation, once each
        return self

    def stop(self) -> None:
        logging.getLogger().removeHandler(self)
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
