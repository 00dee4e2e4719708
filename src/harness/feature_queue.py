"""One queue of feature files that several behave processes take from, one file at a time.

A parallel run (harness.parallel) writes the queue, longest measured feature first; each worker runs behave with
`--runner harness.feature_queue:QueueRunner` and takes the next file whenever it finished one. A worker that drew
short features takes more of them, so the workers end within a feature's time of each other, whatever the
machine did to the durations the order was planned with. A feature file stays whole in one worker: its
Background and its order hold.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from behave.model import Feature
from behave.runner import Context, Runner, make_formatters
from behave.runner_util import parse_features

from harness.worker import WORKER_VARIABLE

QUEUE_VARIABLE = "LLM_ACCEPTANCE_FEATURE_QUEUE"  # the queue file a worker takes its features from


def write_queue(path: Path, features: list[str]) -> None:
    """A fresh queue: the features in the order the workers should take them."""
    path.write_text(json.dumps({"features": features, "taken": {}}, indent=1) + "\n")


def take(path: Path, worker: str) -> str | None:
    """The next feature file, marked as this worker's; None once the queue is empty. The queue file is locked while
    it is read and written, so no two workers take the same file."""
    with path.open("r+") as queue:
        fcntl.flock(queue, fcntl.LOCK_EX)
        state = json.load(queue)
        left = [name for name in state["features"] if name not in state["taken"]]
        if not left:
            return None
        state["taken"][left[0]] = worker
        queue.seek(0)
        queue.truncate()
        json.dump(state, queue, indent=1)
        return left[0]


def taken_by(path: Path) -> dict[str, list[str]]:
    """Each worker's features, in the order it took them."""
    taken: dict[str, list[str]] = {}
    for name, worker in json.loads(path.read_text())["taken"].items():
        taken.setdefault(worker, []).append(name)
    return taken


class _Taken(list):
    """The runner's features: iterating takes the next one from the queue whenever those taken so far are done."""

    def __init__(self, next_feature: Callable[[], Feature | None]) -> None:
        super().__init__()
        self._next = next_feature
        self._empty = False

    def __iter__(self) -> Iterator[Feature]:
        index = 0
        while True:
            if index < len(self):
                yield self[index]
                index += 1
                continue
            feature = None if self._empty else self._next()
            if feature is None:
                self._empty = True
                return
            self.append(feature)


class QueueRunner(Runner):
    """behave's runner, with its feature files taken one at a time from the queue QUEUE_VARIABLE names."""

    def run_with_paths(self):
        self.context = Context(self)
        self.load_hooks()
        self.load_step_definitions()
        # The worker signs what it took with its number (the one its reports directory is named after).
        queue, worker = Path(os.environ[QUEUE_VARIABLE]), os.environ.get(WORKER_VARIABLE) or str(os.getpid())

        def next_feature() -> Feature | None:
            while (name := take(queue, worker)) is not None:
                if self.config.exclude(name):
                    continue
                parsed = parse_features([name], language=self.config.lang)
                if parsed:  # a file without a feature has nothing to run
                    return parsed[0]
            return None

        self.features = _Taken(next_feature)
        self.formatters = make_formatters(self.config, self.config.outputs)
        return self.run_model()
