"""`python -m harness.parallel`: the suite's feature files shared out over behave processes, one report.

behave runs one scenario at a time, and most of a scenario's time is spent waiting on the platform (a timeout,
a message, an export), so several behave processes on one machine finish sooner. Each worker is a whole
run of its own: its servers, scripted model, receiver and services, its tenants, its cleanups; the workers share
the service launcher, one queue of feature files and the results directories. Feature files, never scenarios,
are shared out, so a feature's Background and its order hold. The queue holds the longest features first, by
each feature's measured duration (reports/profile.json, written at the end of every run; a feature not
measured yet counts as the median one), and a worker takes the next file whenever it finished one
(harness.feature_queue): the workers end within a short feature's time of each other.

The results merge as if one behave had run: the JUnit files in reports/junit, the Allure results in
reports/allure-results, the failed scenarios in reports/rerun.txt (for `behave @reports/rerun.txt`), the
coverage of the contract in reports/coverage.json, the profile and the model transcript; the last lines are
behave's own summary counts. `--shard I/N` runs only the I-th of N shards balanced by the committed durations
(one CI machine's part).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from xml.etree import ElementTree

from harness.feature_queue import QUEUE_VARIABLE, QueueRunner, taken_by, write_queue
from harness.platform.prefork import shared_launcher
from harness.reporting.allure_output import DEFAULT_DIR as ALLURE_DIR
from harness.reporting.allure_output import clear_results
from harness.reporting.counts import closing_counts
from harness.reporting.coverage import merge_reports
from harness.reporting.paths import REPORTS, worker_dir
from harness.worker import WORKER_VARIABLE

PROFILE = REPORTS / "profile.json"
# Each feature's duration as measured on main (make durations): what CI machines balance their shards with,
# the same on every machine; a local run balances by its own last profile when it has one.
COMMITTED_DURATIONS = Path(".ci/durations.json")
JUNIT = REPORTS / "junit"
RERUN = REPORTS / "rerun.txt"
QUEUE = REPORTS / "workers" / "queue.json"  # the feature files the workers take, and who took which
RUNNER = f"{QueueRunner.__module__}:{QueueRunner.__name__}"  # behave's --runner for a worker
DEFAULT_WORKERS = 5  # on 2 cores: with 4 a quarter of the CPU still idled while every worker waited (README, figures)


def feature_files(paths: Sequence[str]) -> list[str]:
    """Every .feature file under the given paths, in behave's order (sorted within a directory)."""
    found: list[str] = []
    for path in paths or ["features"]:
        location = Path(path.split(":")[0])
        if location.is_dir():
            found += sorted(str(file) for file in location.rglob("*.feature"))
        elif location.suffix == ".feature":
            found.append(str(location))
    return list(dict.fromkeys(found))


def measured_durations(*sources: Path) -> dict[str, float]:
    """Seconds per feature file: the committed durations, overridden by the last local profile where it measured
    a feature (a partial run's profile leaves the rest to the committed figures)."""
    durations: dict[str, float] = {}
    for source in reversed(sources or (PROFILE, COMMITTED_DURATIONS)):
        try:
            durations.update({name: float(seconds) for name, seconds
                              in json.loads(source.read_text())["features"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return durations


def expected_seconds(features: Sequence[str], durations: dict[str, float]) -> dict[str, float]:
    """Each feature's measured seconds; a feature not measured yet counts as the median one."""
    known = [durations[name] for name in features if name in durations]
    typical = statistics.median(known) if known else 1.0
    return {name: durations.get(name, typical) for name in features}


def longest_first(features: Sequence[str], durations: dict[str, float]) -> list[str]:
    """The order the workers take the features in: the longest measured first, so the run ends on short ones."""
    seconds = expected_seconds(features, durations)
    return sorted(features, key=lambda name: -seconds[name])


def balanced(features: Sequence[str], durations: dict[str, float], shards: int) -> list[list[str]]:
    """The features in `shards` groups of about equal measured duration (longest first, each to the lightest): a
    CI machine's part of the run, whose workers take it from their queue longest first."""
    seconds = expected_seconds(features, durations)
    groups: list[list[str]] = [[] for _ in range(shards)]
    loads = [0.0] * shards
    for name in longest_first(features, durations):
        lightest = loads.index(min(loads))
        groups[lightest].append(name)
        loads[lightest] += seconds[name]
    return groups


def split_arguments(arguments: Sequence[str]) -> tuple[list[str], list[str]]:
    """behave's arguments: the feature paths, and everything else (tags, -D settings), passed to every worker."""
    paths, options = [], []
    for argument in arguments:
        (paths if not argument.startswith("-") and Path(argument.split(":")[0]).exists() else options).append(argument)
    return paths, options


class Worker:
    """One behave process taking feature files from the queue until it is empty."""

    def __init__(self, number: int, base: str, options: list[str], *, external: bool = False,
                 environment: dict[str, str] | None = None) -> None:
        self.number = number
        self.features: list[str] = []  # what it took, known once the run is over
        self.dir = worker_dir(str(number))
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.output = self.dir / "output.txt"
        # `base`, a feature file of the run, only shows behave where the steps are: the features come from the queue.
        behave = [*options, "--runner", RUNNER, "--junit", "--junit-directory", str(JUNIT), "-f", "rerun", "-o",
                  str(self.dir / "rerun.txt"), "-f", "progress", "-D", "allure_history=keep", base]
        # External: each worker deploys the platform command of its own and runs against it (make external).
        command = [sys.executable, "-m", *(["harness.platform", "external", "--"] if external else ["behave"]),
                   *behave]
        with self.output.open("wb") as out:
            env = {**os.environ, **(environment or {}), WORKER_VARIABLE: str(number),
                   QUEUE_VARIABLE: str(QUEUE.resolve())}
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=env)
        self.began = time.monotonic()
        self.seconds = 0.0

    def wait(self) -> int:
        code = self.process.wait()
        self.seconds = time.monotonic() - self.began
        return code

    def counts(self) -> dict[str, list[int]]:
        """behave's closing counts, by what they count: [passed, failed, error, skipped]."""
        return closing_counts(self.output.read_text(errors="replace"))

    def failures(self) -> str:
        """What behave said of the failures: its 'Failing scenarios' block and any error, with the worker's tail."""
        text = self.output.read_text(errors="replace")
        starts = [at for at in (text.find("Failing scenarios:"), text.find("Errored scenarios:")) if at >= 0]
        return text[min(starts):] if starts else "\n".join(text.splitlines()[-40:])


def run(features: list[str], options: list[str], workers: int, *, external: bool = False) -> int:
    """Run the features over `workers` behave processes; merge what they wrote; behave's counts as the last lines."""
    REPORTS.mkdir(exist_ok=True)
    if "allure_history=keep" not in options and "allure=off" not in options:
        clear_results(Path(_userdata(options).get("allure_dir", ALLURE_DIR)))
    JUNIT.mkdir(parents=True, exist_ok=True)  # here: two workers' behave creating it at once, one fails
    for stale in JUNIT.glob("TESTS-*.xml"):
        stale.unlink()
    QUEUE.parent.mkdir(parents=True, exist_ok=True)
    write_queue(QUEUE, longest_first(features, measured_durations()))
    began = time.monotonic()
    started: list[Worker] = []
    _stop_workers_on_sigterm(started)
    # Embedded, the workers fork their service instances from one launcher: its imports (~4 s of CPU) once,
    # not once per worker while they all start at once. An external deployment keeps its own.
    with nullcontext({}) if external else shared_launcher() as launcher:
        try:
            for number in range(1, min(workers, len(features)) + 1):
                started.append(Worker(number, features[0], options, external=external, environment=launcher))
            with ThreadPoolExecutor(len(started)) as waiting:  # each worker's own end time, whatever the order
                codes = list(waiting.map(Worker.wait, started))
        finally:
            for worker in started:  # Ctrl-C reached them too; anything still running is stopped, then waited for
                if worker.process.poll() is None:
                    worker.process.terminate()
                    worker.process.wait()
    wall = time.monotonic() - began
    taken = taken_by(QUEUE)
    for worker in started:
        worker.features = taken.get(str(worker.number), [])
    _merge(started)
    totals = {kind: [0, 0, 0, 0] for kind in ("feature", "scenario", "step")}
    for worker, code in zip(started, codes, strict=True):
        counts = worker.counts()
        for kind, numbers in counts.items():
            totals[kind] = [a + b for a, b in zip(totals[kind], numbers, strict=True)]
        scenarios = counts.get("scenario", [0, 0, 0, 0])
        errors = f", {scenarios[2]} error" if scenarios[2] else ""
        print(f"worker {worker.number}: {len(worker.features)} feature(s), {scenarios[0]} passed, {scenarios[1]} "
              f"failed{errors}, {scenarios[3]} skipped in {worker.seconds:.1f} s (exit {code}; {worker.output})")
        if code != 0:
            print(worker.failures())
    print(f"parallel: {len(started)} worker(s), {len(features)} feature file(s), wall {wall:.1f} s")
    for kind in ("feature", "scenario", "step"):
        passed, failed, error, skipped = totals[kind]
        errors = f", {error} error" if error else ""
        print(f"{passed} {kind}s passed, {failed} failed{errors}, {skipped} skipped")
    if not started or any(codes) or any(not worker.counts() for worker in started):
        return 1
    return 0


def _merge(workers: list[Worker]) -> None:
    """The workers' rerun lists, coverage, profiles and transcripts, as one run's files in reports/."""
    failed = []
    for worker in workers:
        listed = worker.dir / "rerun.txt"
        if listed.exists():
            for line in listed.read_text().splitlines():
                if line.strip() and not line.startswith("#"):  # relative to the list's directory (RerunList)
                    failed.append(os.path.relpath(os.path.normpath(worker.dir / line), REPORTS))
    _write_rerun(failed)
    _write_coverage([path for worker in workers if (path := worker.dir / "coverage.json").exists()])
    profiles = [json.loads(path.read_text()) for worker in workers if (path := worker.dir / "profile.json").exists()]
    if profiles:
        merged = {"features": {}, "scenarios": [], "service_starts": []}
        for profile in profiles:
            merged["features"].update(profile["features"])
            merged["scenarios"] += profile["scenarios"]
            merged["service_starts"] += profile["service_starts"]
        PROFILE.write_text(json.dumps(merged, indent=1) + "\n")
        starts = merged["service_starts"]
        slowest = sorted(merged["features"].items(), key=lambda item: -item[1])[:3]
        print(f"profile: {len(starts)} service start(s) over the workers, {sum(s['seconds'] for s in starts):.1f} s "
              f"until ready; slowest features: {', '.join(f'{name} {seconds:.1f} s' for name, seconds in slowest)}")
    transcripts = [path for worker in workers if (path := worker.dir / "transcript.jsonl").exists()]
    if transcripts:
        (REPORTS / "transcript.jsonl").write_text("".join(path.read_text() for path in transcripts))


def _write_rerun(failed: list[str]) -> None:
    """One rerun list for `behave @reports/rerun.txt`, as behave's rerun formatter writes it; none when none failed."""
    if failed:
        RERUN.write_text(f"# -- RERUN: {len(failed)} failing scenario(s) of the last run.\n"
                         + "".join(f"{line}\n" for line in failed))
    else:
        RERUN.unlink(missing_ok=True)


def _write_coverage(paths: list[Path]) -> None:
    """The contract coverage of several runs as one report."""
    if paths:
        merged = merge_reports([json.loads(path.read_text()) for path in paths])
        (REPORTS / "coverage.json").write_text(json.dumps(merged, indent=2) + "\n")


def merge_shards() -> int:
    """CI's report job: the shards' files, downloaded into reports/ (rerun-shard-*.txt, coverage-shard-*.json,
    junit/, allure-results/), as one run's; behave's counts from the JUnit files; exit 1 on any failure."""
    failed = [line for path in sorted(REPORTS.glob("rerun-shard-*.txt"))
              for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    _write_rerun(failed)
    _write_coverage(sorted(REPORTS.glob("coverage-shard-*.json")))
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for path in JUNIT.glob("TESTS-*.xml"):
        for case in ElementTree.parse(path).getroot().iter("testcase"):
            outcome = ("failed" if case.find("failure") is not None or case.find("error") is not None
                       else "skipped" if case.find("skipped") is not None else "passed")
            counts[outcome] += 1
    print(f"{counts['passed']} scenarios passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts["failed"] or not counts["passed"] or failed else 0


def save_durations() -> int:
    """The last whole run's durations, for CI's shards; a partial run would leave features out."""
    durations = measured_durations(PROFILE)
    missing = [name for name in feature_files([]) if name not in durations]
    if missing:
        print(f"parallel: {PROFILE} lacks {len(missing)} feature file(s) ({', '.join(missing[:3])}...): run the whole "
              "suite first", file=sys.stderr)
        return 1
    COMMITTED_DURATIONS.write_text(json.dumps({"features": {name: round(seconds, 1) for name, seconds
                                                            in sorted(durations.items())}}, indent=1) + "\n")
    print(f"parallel: {len(durations)} feature durations written to {COMMITTED_DURATIONS}")
    return 0


def _userdata(options: Sequence[str]) -> dict[str, str]:
    pairs = [options[i + 1] for i, option in enumerate(options[:-1]) if option in ("-D", "--define")]
    pairs += [option.split("=", 1)[1] for option in options if option.startswith("--define=")]
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def _stop_workers_on_sigterm(workers: list[Worker]) -> None:
    def stop(signum, _frame):
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signum)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.parallel", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", "-j", type=int, default=DEFAULT_WORKERS,
                        help=f"behave processes at once (default {DEFAULT_WORKERS})")
    parser.add_argument("--shard", help="I/N: run only the I-th of N shards balanced by measured duration (CI)")
    parser.add_argument("--platform", choices=("embedded", "external"), default="embedded",
                        help="external: each worker runs against a platform command of its own (make external)")
    parser.add_argument("--list", action="store_true",
                        help="print the order the workers take the feature files in, and stop")
    parser.add_argument("--save-durations", action="store_true",
                        help=f"each feature's seconds from {PROFILE} (the last whole run) to {COMMITTED_DURATIONS}")
    parser.add_argument("--merge-shards", action="store_true",
                        help="CI: merge the shards' reports downloaded into reports/ and print behave's counts")
    parser.add_argument("behave_args", nargs="*", help="behave's arguments (after --): feature paths, tags, -D")
    args = parser.parse_args(argv)
    if args.save_durations:
        return save_durations()
    if args.merge_shards:
        return merge_shards()
    paths, options = split_arguments(args.behave_args)
    features = feature_files(paths)
    if args.shard:
        match = re.fullmatch(r"(\d+)/(\d+)", args.shard)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            parser.error(f"--shard {args.shard}: expected I/N with 1 <= I <= N, e.g. 2/4")
        features = balanced(features, measured_durations(COMMITTED_DURATIONS), int(match[2]))[int(match[1]) - 1]
    if not features:
        print("parallel: no feature file to run", file=sys.stderr)
        return 1
    if args.list:
        durations = measured_durations()
        print(f"{max(1, min(args.workers, len(features)))} worker(s) take these feature files in turn, longest first:")
        for name in longest_first(features, durations):
            print(f"  {name}" + (f" ({durations[name]:.1f} s last measured)" if name in durations else ""))
        return 0
    return run(features, options, max(1, args.workers), external=args.platform == "external")


if __name__ == "__main__":
    sys.exit(main())
