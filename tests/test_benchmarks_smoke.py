"""Smoke test of the benchmark harness (``python -m benchmarks.run --quick``).

Runs the quick preset on the two planted tasks, at budget 20 and one
seed, for random search, Optuna TPE and Harmonica, and checks only that the
harness runs end to end and writes its outputs. Takes a few seconds.
"""

import sys
from pathlib import Path

import numpy as np
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
    # Every fold was dated in its worker: measured, not apportioned, end times,
    # in order of completion.
    assert row["exact_elapsed"]
    elapsed = [r["elapsed"] for r in trace]
    assert elapsed == sorted(elapsed) and 0 < elapsed[-1] <= row["wall_time"]
    assert all(r["n_folds"] == 3 and r["fold_time"] > 0 for r in trace)


# ------------------------------------------------- timed tasks and measures
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    "name", ["hgb_large_tiny", "kernel_sgd_tiny", "skorch_mlp_tiny", "mixed_pipeline_tiny"]
)
def test_a_tiny_timed_task_builds_and_fits(name):
    from sklearn.base import clone
    from sklearn.model_selection import ParameterSampler
    from sklearn.utils import _safe_indexing

    from benchmarks.tasks import make_task

    if name.startswith("skorch"):
        pytest.importorskip("torch")
        pytest.importorskip("skorch")
    task = make_task(name, 0)
    assert task.name == name and task.optimum is None and task.min_resources
    # set_params refuses names that are not the estimator's.
    params = next(iter(ParameterSampler(task.param_space, 1, random_state=0)))
    params = {k: v for k, v in params.items() if not k.endswith("max_iter")}  # time
    model = clone(task.estimator).set_params(**clone(params, safe=False))
    rows = np.arange(240)
    model.fit(_safe_indexing(task.X, rows), task.y[rows])
    assert 0 <= model.score(_safe_indexing(task.X, rows), task.y[rows]) <= 1


def test_timed_task_sizes_are_checked():
    from benchmarks.tasks import hgb_large_task

    with pytest.raises(ValueError, match="size must be"):
        hgb_large_task(0, size="huge")


def test_list_schedule_on_crafted_inputs():
    from benchmarks.simulate import list_schedule

    assert list_schedule([], 4) == 0
    assert list_schedule([2.0, 3.0, 1.0], 1) == 6
    assert list_schedule([2.0, 3.0, 1.0], 8) == 3
    # Greedy in list order: 3 | 3, then 2 -> first free (t=3), 2 -> (t=3), 2 -> t=5.
    assert list_schedule([3, 3, 2, 2, 2], 2) == 7
    # The long task last waits for the short ones; first, it runs beside them.
    assert list_schedule([1, 1, 1, 1, 4], 2) == 6
    assert list_schedule([4, 1, 1, 1, 1], 2) == 4
    with pytest.raises(ValueError):
        list_schedule([1.0], 0)
    with pytest.raises(ValueError):
        list_schedule([-1.0], 2)


def test_simulate_waits_for_each_batch_and_orders_longest_first():
    from benchmarks.simulate import simulate

    # Without the barrier the four short fits would run beside the long one.
    result = simulate([[4.0], [1.0, 1.0, 1.0, 1.0]], n_workers=4)
    assert result.wall_time == 5 and result.busy_time == 8
    assert result.efficiency == pytest.approx(8 / 20)
    batches = [[1, 1, 1, 1, 4], [2, 2]]
    assert simulate(batches, 2, "dispatched").wall_time == 6 + 2
    assert simulate(batches, 2, "longest_first").wall_time == 4 + 2
    with pytest.raises(ValueError):
        simulate(batches, 2, "random")


def test_batches_are_read_from_traces_in_order_of_first_evaluation():
    from benchmarks.simulate import batches_from_trace, simulate_traces

    trace = pd.DataFrame(
        {
            "task": "t", "method": "m", "budget": 5, "seed": 0,
            "index": [0, 1, 2, 3],
            "batch": [1, 1, 0, 1],
            "fold_time": [0.5, 1.0, 2.0, float("nan")],
            "n_folds": [2, 2, 3, 2],
        }
    )
    assert batches_from_trace(trace) == [[0.5, 0.5, 1.0, 1.0], [2.0, 2.0, 2.0]]
    table = simulate_traces(trace, workers=(1, 4))
    assert len(table) == 4  # 2 worker counts x 2 orders
    one = table[table["n_workers"] == 1]
    assert set(one["simulated_wall"]) == {9.0}
    four = table[(table["n_workers"] == 4) & (table["order"] == "dispatched")]
    assert four["simulated_wall"].item() == 1.0 + 2.0
    assert four["n_fits"].item() == 7 and four["n_batches"].item() == 2
    # traces.csv written before these columns existed: nothing to simulate.
    assert simulate_traces(trace.drop(columns="batch")).empty


def _timed_runs_and_traces():
    """Hand-made runs of a real task (seed 0) and an equal-time run not done (seed 1)."""
    runs = pd.DataFrame(
        [
            _run_row("real", "random", 0, 0.9, 10.0),
            _run_row("real", "optuna_tpe", 0, 0.95, 20.0),
            _run_row("real", "harmonica", 0, 0.92, 8.0),
            _run_row("real", "halving_random", 0, 0.93, 6.0) | {"full_cost": 0.9},
            _run_row("real", "harmonica_time", 0, 0.9, 9.5) | {"time_budget": 10.0},
            _run_row("real", "random", 1, 0.8, 10.0),
            _run_row("real", "harmonica_time", 1, float("nan"), float("nan"),
                     "not_applicable") | {"time_budget": 10.0},
        ]
    )
    traces = pd.DataFrame(
        # harmonica: a subsample incumbent as good as TPE's at t=2, full ones later
        _trace_rows("real", "harmonica", 0, [(2, 1 / 3, 0.95), (5, 1, 0.85), (8, 1, 0.92)])
        # halving: its last rung (0.9 of the rows) is its full resource
        + _trace_rows("real", "halving_random", 0, [(1, 0.1, 0.91), (4, 0.9, 0.93)])
        + _trace_rows("real", "random", 0, [(4, 1, 0.85), (10, 1, 0.9)])
        + _trace_rows("real", "optuna_tpe", 0, [(5, 1, 0.9), (20, 1, 0.95)])
        + _trace_rows("real", "harmonica_time", 0, [(3, 1 / 3, 0.8), (9, 1, 0.9)])
        + _trace_rows("real", "random", 1, [(10, 1, 0.8)])
    )
    return runs, traces


def test_speedups_count_full_resource_incumbents_and_never_invent_a_number():
    from benchmarks import measures

    runs, traces = _timed_runs_and_traces()
    table = measures.speedups(runs, traces)
    got = {
        (r.reference, r.method): (r.speedup_full, r.speedup_any)
        for r in table.itertuples()
    }
    nan = got[("optuna_tpe", "harmonica")][0]
    assert np.isnan(nan)  # never reached at full resource
    assert got[("random", "harmonica")] == (10 / 8, 10 / 2)
    assert got[("random", "halving_random")] == (10 / 4, 10 / 1)
    assert got[("random", "optuna_tpe")] == (10 / 5, 10 / 5)
    assert got[("optuna_tpe", "harmonica")][1] == 20 / 2
    # Random search's final 0.9 never reaches TPE's 0.95.
    assert np.isnan(got[("optuna_tpe", "random")]).all()
    assert got[("random", "harmonica_time")] == (10 / 9, 10 / 9)
    # Seed 1: the equal-time run was not applicable, so it is left out.
    assert set(table["seed"]) == {0}
    # A seed that never reached the target is a 0, never averaged.
    assert measures.median_speedup([float("nan"), 2.0]) == 0
    assert measures.median_speedup([float("nan"), 2.0, 3.0]) == 2.0
    assert np.isnan(measures.median_speedup([]))


def test_equal_time_compares_seed_by_seed():
    from benchmarks import measures

    runs, _ = _timed_runs_and_traces()
    table = measures.equal_time(runs)
    got = {(r.seed, r.peer): r.outcome for r in table.itertuples()}
    assert got == {
        (0, "random"): "equal",
        (0, "optuna_tpe"): "worse",
        (1, "random"): "not_applicable",
    }
    assert set(table["time_budget"]) == {10.0}


def test_timed_section_of_the_summary(tmp_path):
    from benchmarks import measures

    runs, traces = _timed_runs_and_traces()
    text = "\n".join(measures.timed_lines(runs, traces))
    assert "**Speedup**" in text and "**Equal time**" in text
    # harmonica vs TPE: not reached at full resource, 10x counting any incumbent.
    assert "| 20 | optuna_tpe | harmonica | 1 | not reached | 0/1 | 0/1 | 10 | 1/1 |" in text
    assert "| 20 | random | harmonica | 1 | 1.25 | 1/1 | 1/1 | 5 | 1/1 |" in text
    assert "| 20 | random | 2 | 1 / 0 / 0 |" not in text
    assert "| 20 | random | 2 | 0 / 1 / 0 | 1 |" in text
    assert "No per-evaluation fit times recorded." in text  # no batch columns
    path = measures.plot_heldout_vs_time(runs, traces, "real", tmp_path)
    assert path is not None and path.stat().st_size > 0


@pytest.mark.timeout(60)
@pytest.mark.filterwarnings("ignore")
def test_a_timed_task_runs_end_to_end_with_equal_time(tmp_path):
    from benchmarks.methods import has_time_budget

    out = tmp_path / "timed"
    run.main(
        [
            "--tasks", "kernel_sgd_tiny",
            "--methods", "random,harmonica",
            "--budgets", "3",
            "--seeds", "1",
            "--equal-time",
            "--out", str(out),
            "--quiet",
        ]
    )
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs["method"]) == ["random", "harmonica", "harmonica_time"]
    assert (runs["status"].iloc[:2] == "ok").all(), runs[["method", "message"]]
    expected = "ok" if has_time_budget() else "not_applicable"
    assert runs["status"].iloc[2] == expected, runs["message"].iloc[2]
    assert runs["time_budget"].iloc[2] == pytest.approx(runs["wall_time"].iloc[0])
    traces = pd.read_csv(out / "traces.csv")
    harmonica = traces[traces["method"] == "harmonica"]
    # A tiny task at n_iter=3: no subsampling under min_train_rows, so its
    # candidates may all run in one batch; each is traced with its folds.
    assert harmonica["batch"].nunique() >= 1 and (harmonica["n_folds"] == 3).all()
    summary = (out / "summary.md").read_text()
    for heading in ("## Timed comparison", "**Speedup**", "**Equal time**",
                    "**Wall time at equal n_iter**", "**Simulated workers**"):
        assert heading in summary
    for name in ("speedups.csv", "equal_time.csv", "simulated.csv",
                 "heldout_vs_time_kernel_sgd_tiny.png"):
        assert (out / name).stat().st_size > 0
    simulated = pd.read_csv(out / "simulated.csv")
    assert set(simulated["n_workers"]) == {2, 8, 32}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_time_budget_reaches_the_search_only_when_it_takes_one(monkeypatch):
    from scipy.stats import loguniform

    import harmonica_sklearn
    from benchmarks import methods

    task = _iris_task_with_resource({"C": loguniform(1e-3, 1e3)}, "n_samples")
    if not methods.has_time_budget():
        with pytest.raises(methods.MethodNotApplicable, match="time_budget"):
            methods.run_harmonica(task, 3, 0, time_budget=5.0)
    # Once HarmonicaSearchCV takes it, the runner passes it through.
    received = []
    real = harmonica_sklearn.HarmonicaSearchCV

    def with_time_budget(*args, time_budget=None, **kwargs):
        received.append(time_budget)
        return real(*args, **kwargs)

    monkeypatch.setattr(methods, "has_time_budget", lambda: True)
    monkeypatch.setattr(harmonica_sklearn, "HarmonicaSearchCV", with_time_budget)
    result = methods.run_harmonica(task, 3, 0, method="harmonica_time", time_budget=5.0)
    assert received == [5.0] and result.method == "harmonica_time"
