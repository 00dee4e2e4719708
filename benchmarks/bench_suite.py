"""The suite's own speed, measured as a user meets it: the whole default suite serial (one behave) and over the
parallel runner, and one scenario alone from a cold start. Each is run ROUNDS times in this run; prints the
median and the spread (lowest to highest), and parallel against serial as a ratio. Asserts nothing.

    python benchmarks/bench_suite.py [serial] [parallel] [scenario]      (all three when none is named)

The whole suite takes minutes per round: on 2 cores, three rounds of both are about half an hour.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ONE_SCENARIO = "features/services/gateway_service.feature:9"
QUIET = ["-D", "allure=off", "-f", "progress"]
COMMANDS = {
    "serial": [sys.executable, "-m", "behave", *QUIET, "features/"],
    "parallel": [sys.executable, "-m", "harness.parallel", "--", "-D", "allure=off"],
    "scenario": [sys.executable, "-m", "behave", *QUIET, ONE_SCENARIO],
}


def timed(command: list[str]) -> float:
    began = time.perf_counter()
    finished = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - began
    if finished.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (exit {finished.returncode}):\n{finished.stdout[-3000:]}")
    return seconds


def main(names: list[str]) -> None:
    wanted = names or list(COMMANDS)
    unknown = [name for name in wanted if name not in COMMANDS]
    if unknown:
        sys.exit(f"unknown measurement {unknown}; choose from {', '.join(COMMANDS)}")
    samples = {name: [timed(COMMANDS[name]) for _ in range(ROUNDS)] for name in wanted}
    print(f"Suite wall time, seconds, {ROUNDS} rounds on {os.cpu_count()} cores: median (lowest-highest)")
    for name, seconds in samples.items():
        print(f"  {name:10}{statistics.median(seconds):8.1f}  ({min(seconds):.1f}-{max(seconds):.1f})")
    if "serial" in samples and "parallel" in samples:
        ratios = [s / p for s, p in zip(samples["serial"], samples["parallel"], strict=True)]
        print(f"  parallel speed-up over serial: {statistics.median(ratios):.2f}x "
              f"({min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main(sys.argv[1:])
