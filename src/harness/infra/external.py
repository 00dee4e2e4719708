"""External mode: servers someone else runs, given by URL."""

from __future__ import annotations


class ExternalServer:
    def __init__(self, url: str) -> None:
        self.url = url

    def start(self) -> None:
        """Nothing to start; the first client reports an unreachable URL."""

    def stop(self) -> None:
        """Not ours to stop."""
