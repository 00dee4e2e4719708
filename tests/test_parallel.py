"""The parallel runner (make parallel): one queue of features the workers take from, CI shards balanced by measured
duration, and one run's reports from its workers, on the tiny project of the rerun test (two features, each with a
scenario that fails until fixed)."""

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from test_rerun import FAILED, behave, failing, project

from harness.feature_queue import take, taken_by, write_queue
from harness.parallel import balanced, feature_files, longest_first, measured_durations, split_arguments
from harness.reporting.coverage import merge_reports


def parallel(cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.parallel", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_shards_balance_by_measured_duration_longest_first():
    durations = {"a.feature": 50.0, "b.feature": 30.0, "c.feature": 20.0, "d.feature": 10.0}
    groups = balanced(list(durations), durations, 2)
    loads = sorted(sum(durations[name] for name in group) for group in groups)
    assert loads == [50.0, 60.0], groups
    assert sorted(name for group in groups for name in group) == sorted(durations)


def test_a_feature_not_measured_yet_counts_as_the_median_one():
    durations = {"a.feature": 9.0, "b.feature": 1.0, "c.feature": 3.0}
    groups = balanced(["a.feature", "b.feature", "c.feature", "new.feature"], durations, 2)
    assert ["a.feature"] in groups, groups  # 9 s alone; 1 + 3 + 3 (the median for the new one) together


def test_the_queue_holds_the_longest_measured_features_first():
    durations = {"a.feature": 2.0, "b.feature": 30.0, "c.feature": 9.0, "d.feature": 5.0}
    assert longest_first(["a.feature", "b.feature", "new.feature", "c.feature", "d.feature"], durations) == [
        "b.feature", "c.feature", "new.feature", "d.feature", "a.feature"]  # the new one counts as the median, 7 s


def test_workers_taking_at_once_each_get_a_feature_of_their_own(tmp_path):
    queue = tmp_path / "queue.json"
    names = [f"{number}.feature" for number in range(40)]
    write_queue(queue, names)

    def drain(worker: str) -> list[str]:
        taken = []
        while (name := take(queue, worker)) is not None:
            taken.append(name)
        return taken

    with ThreadPoolExecutor(4) as pool:
        drained = list(pool.map(drain, ["1", "2", "3", "4"]))
    assert sorted(name for part in drained for name in part) == sorted(names), drained
    assert taken_by(queue) == {worker: part for worker, part in zip("1234", drained, strict=True) if part}
    assert take(queue, "5") is None


def test_paths_go_to_the_shards_and_everything_else_to_every_worker(tmp_path, monkeypatch):
    monkeypatch.chdir(project(tmp_path))
    paths, options = split_arguments(["--tags=@rag", "-D", "timeout_scale=2", "features/more"])
    assert paths == ["features/more"] and options == ["--tags=@rag", "-D", "timeout_scale=2"]
    assert feature_files(["features"]) == ["features/first.feature", "features/more/second.feature"]


def test_workers_make_one_run_whose_rerun_list_behave_runs(tmp_path):
    root = project(tmp_path)
    done = parallel(root, "--workers", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "parallel: 2 worker(s), 2 feature file(s)" in done.stdout, done.stdout
    taken = [int(count) for count in re.findall(r"^worker \d: (\d+) feature", done.stdout, re.MULTILINE)]
    assert sum(taken) == 2, done.stdout  # each feature once, by whichever worker was free
    assert done.stdout.rstrip().splitlines()[-2] == "2 scenarios passed, 2 failed, 0 skipped", done.stdout
    junit = sorted(path.name for path in (root / "reports" / "junit").glob("TESTS-*.xml"))
    assert len(junit) == 2, junit

    again = behave(root, "@reports/rerun.txt")
    assert failing(again) == FAILED, again.stdout + again.stderr

    (root / "fixed").touch()
    fixed = parallel(root, "--workers", "2")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "4 scenarios passed, 0 failed, 0 skipped" in fixed.stdout, fixed.stdout
    assert not (root / "reports" / "rerun.txt").exists(), "expected no rerun list once nothing failed"

    alone = parallel(root, "--workers", "1")
    assert "worker 1: 2 feature(s), 4 passed, 0 failed" in alone.stdout, alone.stdout  # it took the next when done


def test_a_shard_is_one_part_of_the_committed_balance(tmp_path):
    root = project(tmp_path)
    (root / ".ci").mkdir()
    (root / ".ci" / "durations.json").write_text(json.dumps(
        {"features": {"features/first.feature": 5.0, "features/more/second.feature": 1.0}}))
    first = parallel(root, "--shard", "1/2", "--list")
    second = parallel(root, "--shard", "2/2", "--list")
    assert first.stdout.splitlines()[-1].strip() == "features/first.feature (5.0 s last measured)", first.stdout
    assert "second.feature" not in first.stdout, first.stdout
    assert second.stdout.splitlines()[-1].strip() == "features/more/second.feature (1.0 s last measured)", second.stdout
    assert "first.feature" not in second.stdout, second.stdout
    wrong = parallel(root, "--shard", "3/2")
    assert wrong.returncode == 2 and "--shard 3/2" in wrong.stderr, wrong.stderr


def test_an_operation_any_worker_exercised_is_covered():
    one = {"measured": True, "services": ["gateway"], "missing_services": ["rag", "agent", "query"],
           "covered": ["gateway GET /a"], "uncovered": ["gateway POST /b"], "untraced": {},
           "counts": {"gateway GET /a": {"200": 1}, "gateway POST /b": {"400": 2}}, "outside_the_contract": []}
    two = {"measured": True, "services": ["gateway", "rag"], "missing_services": ["agent", "query"],
           "covered": ["gateway POST /b"], "uncovered": ["gateway GET /a", "rag GET /c"], "untraced": {},
           "counts": {"gateway POST /b": {"200": 1}}, "outside_the_contract": []}
    merged = merge_reports([one, two])
    assert merged["covered"] == ["gateway GET /a", "gateway POST /b"]
    assert merged["uncovered"] == ["rag GET /c"]
    assert merged["missing_services"] == ["agent", "query"]
    assert merged["counts"]["gateway POST /b"] == {"200": 1, "400": 2}


def test_a_partial_local_profile_keeps_the_committed_durations_of_the_features_it_did_not_run(tmp_path):
    profile, committed = tmp_path / "profile.json", tmp_path / "durations.json"
    profile.write_text(json.dumps({"features": {"a.feature": 3.0}}))
    committed.write_text(json.dumps({"features": {"a.feature": 9.0, "b.feature": 200.0}}))
    assert measured_durations(profile, committed) == {"a.feature": 3.0, "b.feature": 200.0}
    assert measured_durations(tmp_path / "missing.json", committed) == {"a.feature": 9.0, "b.feature": 200.0}
