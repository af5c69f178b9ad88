"""Smoke test of the benchmark harness (``python -m benchmarks.run --quick``).

Runs the quick preset on the two planted tasks, at budget 20 and one
seed, for random search, Optuna TPE and Harmonica, and checks only that the
harness runs end to end and writes its outputs. Takes a few seconds.
"""

import sys
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")
pytest.importorskip("optuna")

# The harness lives in benchmarks/ at the repository root, which plain
# ``pytest`` (unlike ``python -m pytest``) does not put on sys.path.
ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import run  # noqa: E402


@pytest.mark.timeout(60)
def test_quick_preset_writes_outputs(tmp_path):
    out = tmp_path / "quick"
    run.main(
        [
            "--quick",
            "--tasks", "planted_binary,planted_mixed",
            "--methods", "random,optuna_tpe,harmonica",
            "--budgets", "20",
            "--seeds", "1",
            "--out", str(out),
            "--quiet",
        ]
    )
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 6
    assert set(runs["method"]) == {"random", "optuna_tpe", "harmonica"}
    assert (runs["status"] == "ok").all(), runs[["method", "message"]]
    assert (out / "traces.csv").stat().st_size > 0
    summary = (out / "summary.md").read_text()
    assert "planted_binary" in summary and "harmonica" in summary
    assert "## Search overhead and parallel efficiency" in summary
    assert "| planted_binary | simulated | 20 | harmonica | 1 | 1 |" in summary
    # No real task: no time-to-match table.
    assert "## Time to match" in summary and "No task without a known optimum" in summary
    pngs = sorted(out.glob("*.png"))
    assert pngs and all(png.stat().st_size > 0 for png in pngs)


def _run_row(task, method, seed, true_value, wall_time, status="ok", optimum=float("nan")):
    return {column: float("nan") for column in run.RUN_COLUMNS} | {
        "task": task, "method": method, "budget": 20, "seed": seed,
        "status": status, "message": "", "optimum": optimum,
        "true_value": true_value, "regret": optimum - true_value,
        "wall_time": wall_time, "n_jobs": 1,
    }


def _trace_rows(task, method, seed, points):
    """``points``: (elapsed, cost, held-out score of the incumbent) per evaluation."""
    return [
        {
            "task": task, "method": method, "budget": 20, "seed": seed,
            "index": i, "cost": cost, "elapsed": elapsed, "score": 0.5,
            "best_true_value": value,
        }
        for i, (elapsed, cost, value) in enumerate(points)
    ]


def test_time_to_match_on_hand_made_runs():
    runs = pd.DataFrame(
        [
            # seed 0: harmonica matches random's 0.9 at t=4 (a subsample
            # incumbent), at full resource at t=6; never matches TPE's 0.95.
            _run_row("real", "random", 0, 0.9, 10.0),
            _run_row("real", "optuna_tpe", 0, 0.95, 20.0),
            _run_row("real", "harmonica", 0, 0.9, 8.0),
            _run_row("real", "greedy", 0, 0.95, 8.0),  # a --variant: not a peer
            # seed 1: harmonica failed; TPE failed (no comparison with it).
            _run_row("real", "random", 1, 0.8, 10.0),
            _run_row("real", "optuna_tpe", 1, float("nan"), float("nan"), "error"),
            _run_row("real", "harmonica", 1, float("nan"), float("nan"), "error"),
            # a task with a known optimum is left out
            _run_row("sim", "random", 0, 0.5, 1.0, optimum=1.0),
            _run_row("sim", "harmonica", 0, 0.5, 1.0, optimum=1.0),
        ]
    )
    traces = pd.DataFrame(
        # 0.8999999 stands for 0.9 written with 7 significant digits.
        _trace_rows("real", "harmonica", 0, [(2, 1 / 3, 0.7), (4, 1 / 3, 0.8999999),
                                             (5, 1, 0.85), (6, 1, 0.9), (8, 1, 0.9)])
        + _trace_rows("real", "greedy", 0, [(3, 1, 0.95)])
        + _trace_rows("real", "random", 0, [(10, 1, 0.9)])
        + _trace_rows("sim", "harmonica", 0, [(1, 1, 0.5)])
    )
    config = {"variants": {"greedy": {"n_best": 1}}}
    assert run.harmonica_methods(runs["method"], config) == ["harmonica", "greedy"]
    matches = run.time_to_match(runs, traces, config)
    assert set(matches["task"]) == {"real"}
    assert set(matches["peer"]) == {"random", "optuna_tpe"}
    got = {
        (r.seed, r.method, r.peer): (r.time_to_match, r.ratio, r.time_to_match_full)
        for r in matches.itertuples()
    }
    inf = float("inf")
    assert got == {
        (0, "harmonica", "random"): (4.0, 0.4, 6.0),
        (0, "harmonica", "optuna_tpe"): (inf, inf, inf),
        (0, "greedy", "random"): (3.0, 0.3, 3.0),
        (0, "greedy", "optuna_tpe"): (3.0, 0.15, 3.0),
        (1, "harmonica", "random"): (inf, inf, inf),
    }
    text = run.summary_markdown(runs, config, traces)
    assert "## Time to match" in text and "never (error)" in text
    # harmonica vs random: seed 0 at ratio 0.4, seed 1 never.
    assert "| 20 | harmonica | random | 2 | ∞ | 1/2 | 1 | ∞ | 0/2 |" in text
    assert "## Search overhead and parallel efficiency" in text


def test_spectral_speed_prints_every_step(capsys):
    from benchmarks import spectral_speed

    spectral_speed.main(
        ["--n-samples", "40", "--n-bits", "8", "--repeats", "2", "--threads", "2"]
    )
    out = capsys.readouterr().out
    assert "2 native thread(s)" in out
    for step in ("parity_features", "fit_sparse_polynomial", "refine", "spectral step"):
        assert step in out


def test_spectral_speed_refuses_zero_threads(capsys):
    from benchmarks import spectral_speed

    with pytest.raises(SystemExit):
        spectral_speed.main(["--threads", "0"])
    assert "--threads must be at least 1, got 0" in capsys.readouterr().err


def _iris_task_with_resource(param_space, resource):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from benchmarks.tasks import Task

    X, y = load_iris(return_X_y=True)
    return Task(
        name="iris", estimator=LogisticRegression(max_iter=27), param_space=param_space,
        X=X, y=y, cv=StratifiedKFold(3), scoring="accuracy",
        true_value=lambda params: 0.0, optimum=None, budget_kind="wall_time",
        resource=resource,
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("method", ["halving_random", "harmonica"])
def test_a_task_resource_is_what_halving_gives_more_of(method):
    from scipy.stats import loguniform

    from benchmarks.methods import METHODS

    task = _iris_task_with_resource({"C": loguniform(1e-3, 1e3)}, "max_iter")
    result = METHODS[method](task, 3, 0)
    costs = sorted({evaluation.cost for evaluation in result.trace})
    # Rows at fewer iterations cost their share of the estimator's 27.
    assert costs[-1] == 1.0 and costs[0] < 1.0
    assert result.total_cost <= 3 + 1e-9


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_harmonica_variant_resource_is_taken_out_of_the_space():
    from scipy.stats import loguniform

    from benchmarks.methods import _without_resource, run_harmonica

    space = [{"C": loguniform(1e-3, 1e3), "max_iter": [5, 40, 20]}, {"C": [1.0]}]
    assert _without_resource(space, "max_iter") == (
        [{"C": space[0]["C"]}, {"C": [1.0]}],
        40,
    )
    task = _iris_task_with_resource(space, "n_samples")
    result = run_harmonica(task, 3, 0, resource="max_iter")
    assert max(evaluation.cost for evaluation in result.trace) == 1.0
    # The largest listed value became max_resources.
    assert result.best_params["max_iter"] == 40


def test_ablation_problems_have_their_optimum_and_run():
    from benchmarks import ablations

    problem = ablations.mixed_problem(0)
    optimum, best = problem.maximize()
    # Dummies do not move the value.
    assert problem.value({**best, "d0": True}) == optimum
    regret = ablations.run(problem, 0, 40, {})
    assert 0 <= regret < float("inf")


@pytest.mark.timeout(120)
def test_a_parallel_run_warms_its_workers_up_and_measures_its_efficiency():
    from benchmarks.methods import run_random_search

    # Smoke only: that the workers were warm shows in timings, which unit
    # tests do not assert on (benchmarks/README.md has the measurements).
    row, trace = run.run_job(
        run.Job(task="svc_digits", method="random", budget=4, seed=0, n_jobs=2),
        run_random_search,
    )
    assert row["status"] == "ok", row["message"]
    assert len(trace) == 4
    assert 0 < row["parallel_efficiency"] <= 1.5
