"""The examples that the docs gallery does not run are run here as scripts."""

import os
import subprocess
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")


def run_example(name, *args, timeout=240):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, name), *args],
        capture_output=True, text=True, timeout=timeout, check=True, env=env,
    ).stdout


def test_ask_tell_tunes_a_plain_function():
    out = run_example("ask_tell_function.py")
    assert "best" in out.lower()


def test_ask_tell_runs_batches_on_a_process_pool():
    out = run_example("ask_tell_futures.py", "--workers", "2")
    assert out.strip()


def test_the_mlflow_hook_logs_every_evaluation(tmp_path):
    pytest.importorskip("mlflow", reason="mlflow is not installed (pip install -e '.[mlflow]')")
    pytest.importorskip("sqlalchemy")
    sys.path.insert(0, EXAMPLES)
    try:
        from log_to_mlflow import main
    finally:
        sys.path.remove(EXAMPLES)
    n_logged, n_runs, search = main(str(tmp_path), n_iter=12)
    assert n_logged == len(search.cv_results_["params"])
    assert n_runs == n_logged + 1  # and the parent run
