"""The parallel runner (make parallel): shards balanced by measured duration, and one run's reports from its
workers, on the tiny project of the rerun test (two features, each with a scenario that fails until fixed)."""

import json
import subprocess
import sys

from test_rerun import FAILED, behave, failing, project

from harness.parallel import balanced, feature_files, measured_durations, split_arguments
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


def test_a_shard_is_one_part_of_the_committed_balance(tmp_path):
    root = project(tmp_path)
    (root / ".ci").mkdir()
    (root / ".ci" / "durations.json").write_text(json.dumps(
        {"features": {"features/first.feature": 5.0, "features/more/second.feature": 1.0}}))
    first = parallel(root, "--shard", "1/2", "--list")
    second = parallel(root, "--shard", "2/2", "--list")
    assert first.stdout.split() == ["worker", "1:", "features/first.feature"], first.stdout + first.stderr
    assert second.stdout.split() == ["worker", "1:", "features/more/second.feature"], second.stdout
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
