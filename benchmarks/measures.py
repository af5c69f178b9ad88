"""Time-based measures of real-training runs: speedup, equal time, scaling.

Computed from the files :mod:`benchmarks.run` writes (``runs.csv``,
``traces.csv``), for tasks without a known optimum (real training, judged by
the held-out score of the configuration refitted on the training split):

* :func:`speedups`: the anytime measure of the Hyperband and DEHB papers.
  Per seed, a reference method's (random search's, or TPE's) wall time at
  ``n_iter=N`` divided by the first time at which the method's
  *full-resource incumbent* (the best CV score among its evaluations at full
  resource so far) had a held-out score at least the reference's final one.
  A method whose full-resource incumbent never gets there has no speedup: it
  is "not reached" (counted as a speedup below 1, never as a number).
* :func:`equal_time`: HarmonicaSearchCV given random search's wall time of
  the same seed as ``time_budget`` (method :data:`EQUAL_TIME_METHOD`), its
  held-out score against random search's and TPE's, seed by seed.
* :func:`wall_ratios`: wall time at equal ``n_iter`` relative to random
  search's on the same seed, overhead share and parallel efficiency.
* :func:`simulated_scaling`: the recorded fits replayed on 2, 8 and 32
  workers (:mod:`benchmarks.simulate`).

:func:`timed_lines` renders them for ``summary.md``; :func:`plot_heldout_vs_time`
draws the full-resource incumbent's held-out score against wall time.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.simulate import simulate_traces

__all__ = [
    "EQUAL_TIME_METHOD",
    "REFERENCES",
    "SIMULATED_WORKERS",
    "equal_time",
    "full_resource_mask",
    "plot_heldout_vs_time",
    "simulated_scaling",
    "speedups",
    "timed_lines",
    "wall_ratios",
    "write_measures",
]

# The Harmonica run given the reference's wall time as its time budget.
EQUAL_TIME_METHOD = "harmonica_time"
# Methods whose final held-out score and wall time the others are timed against.
REFERENCES = ("random", "optuna_tpe")
# Workers of the simulated scaling (2 checks the simulation against the
# measured n_jobs=2 runs).
SIMULATED_WORKERS = (2, 8, 32)
# Held-out scores are written with 7 (traces) or 8 (runs) significant digits.
_RTOL = 1e-6

SPEEDUP_COLUMNS = [
    "task",
    "budget",
    "seed",
    "reference",
    "method",
    "n_jobs",
    "reference_true_value",
    "reference_wall_time",
    "method_status",
    "method_true_value",
    "method_wall_time",
    "time_to_reach_full",
    "speedup_full",
    "time_to_reach_any",
    "speedup_any",
]


def _real_tasks(runs: pd.DataFrame) -> list[str]:
    """Tasks without a known optimum, in order of appearance."""
    return [
        task
        for task, group in runs.groupby("task", sort=False)
        if not group["optimum"].notna().any()
    ]


def _full_cost(row: Mapping[str, Any]) -> float:
    value = row.get("full_cost", np.nan)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 1.0
    return value if np.isfinite(value) and value > 0 else 1.0


def full_resource_mask(trace: pd.DataFrame, full_cost: float = 1.0) -> np.ndarray:
    """Whether the incumbent after each evaluation was evaluated at full resource.

    The incumbent of ``traces.csv`` is the best CV score among evaluations at
    the largest resource reached so far; it is a full-resource incumbent once
    a scored evaluation reached ``full_cost`` (1 for every method but
    HalvingRandomSearchCV, whose last rung may stop short of all the rows:
    runs.csv's ``full_cost``).

    Parameters
    ----------
    trace : DataFrame
        One run's rows of ``traces.csv``, in ``index`` order.
    full_cost : float, default=1.0

    Returns
    -------
    ndarray of bool
    """
    scores = trace["score"].to_numpy(dtype=float)
    costs = np.where(np.isfinite(scores), trace["cost"].to_numpy(dtype=float), 0.0)
    if costs.size == 0:
        return np.zeros(0, dtype=bool)
    return np.maximum.accumulate(costs) >= full_cost * (1 - 1e-9)


def _first_time(
    elapsed: np.ndarray, values: np.ndarray, mask: np.ndarray, target: float
) -> float:
    """First elapsed time with ``mask`` and ``values >= target`` (inf if none)."""
    reached = np.flatnonzero(mask & (values >= target - _RTOL * max(1.0, abs(target))))
    return float(elapsed[reached[0]]) if reached.size else math.inf


def _speedup(reference_wall: float, when: float) -> float:
    """``reference_wall / when``; NaN when never reached (``when`` infinite)."""
    if not np.isfinite(when):
        return np.nan
    return reference_wall / when if when > 0 else math.inf


def _run_trace(traces: pd.DataFrame, task: str, method: str, budget: Any, seed: Any):
    trace = traces[
        (traces["task"] == task)
        & (traces["method"] == method)
        & (traces["budget"] == budget)
        & (traces["seed"] == seed)
    ]
    return trace.sort_values("index", kind="stable")


def speedups(
    runs: pd.DataFrame,
    traces: pd.DataFrame,
    references: Sequence[str] = REFERENCES,
) -> pd.DataFrame:
    """Speedup of every method over each reference, per task, budget and seed.

    Parameters
    ----------
    runs, traces : DataFrame
        Rows of ``runs.csv`` and ``traces.csv``.
    references : sequence of str, default=("random", "optuna_tpe")

    Returns
    -------
    DataFrame
        Columns :data:`SPEEDUP_COLUMNS`. ``time_to_reach_full``: first
        ``elapsed`` at which the full-resource incumbent's held-out score was
        at least the reference's final one (inf: not reached);
        ``speedup_full``: the reference's wall time over it (NaN when not
        reached). Runs that did not succeed (and their references) are left
        out. The ``_any`` columns count every incumbent,
        including those evaluated on a subsample only. The reference's wall
        time excludes the refits that judge incumbents, as ``elapsed`` does.
    """
    rows = []
    for task in _real_tasks(runs):
        task_runs = runs[runs["task"] == task]
        for (budget, seed), group in task_runs.groupby(["budget", "seed"], sort=True):
            by_method = {m: g.iloc[0] for m, g in group.groupby("method", sort=False)}
            for reference in references:
                ref = by_method.get(reference)
                if ref is None or ref["status"] != "ok":
                    continue
                target = float(ref["true_value"])
                ref_wall = float(ref["wall_time"])
                for method, own in by_method.items():
                    if method == reference or own["status"] != "ok":
                        continue
                    trace = _run_trace(traces, task, method, budget, seed)
                    elapsed = trace["elapsed"].to_numpy(dtype=float)
                    values = trace["best_true_value"].to_numpy(dtype=float)
                    mask = full_resource_mask(trace, _full_cost(own))
                    when_full = _first_time(elapsed, values, mask, target)
                    when_any = _first_time(elapsed, values, np.ones_like(mask), target)

                    rows.append(
                        {
                            "task": task,
                            "budget": budget,
                            "seed": seed,
                            "reference": reference,
                            "method": method,
                            "n_jobs": own["n_jobs"],
                            "reference_true_value": target,
                            "reference_wall_time": ref_wall,
                            "method_status": own["status"],
                            "method_true_value": own["true_value"],
                            "method_wall_time": own["wall_time"],
                            "time_to_reach_full": when_full,
                            "speedup_full": _speedup(ref_wall, when_full),
                            "time_to_reach_any": when_any,
                            "speedup_any": _speedup(ref_wall, when_any),
                        }
                    )
    return pd.DataFrame(rows, columns=SPEEDUP_COLUMNS)


def median_speedup(values: Sequence[float]) -> float:
    """Lower median of speedups, "not reached" (NaN) counting as 0.

    The lower median (for an even count, the lower of the two middle values)
    never averages a speedup with a seed that did not reach the target.

    Returns
    -------
    float
        0 when the median seed did not reach the target, NaN for no seed.
    """
    values = [0.0 if math.isnan(v) else float(v) for v in values]
    if not values:
        return np.nan
    return float(statistics.median_low(values))


EQUAL_TIME_COLUMNS = [
    "task",
    "budget",
    "seed",
    "peer",
    "time_budget",
    "method_status",
    "method_wall_time",
    "method_true_value",
    "peer_wall_time",
    "peer_true_value",
    "difference",
    "outcome",
]


def equal_time(
    runs: pd.DataFrame,
    method: str = EQUAL_TIME_METHOD,
    peers: Sequence[str] = REFERENCES,
) -> pd.DataFrame:
    """Held-out score of the equal-time Harmonica run against its peers, per seed.

    Parameters
    ----------
    runs : DataFrame
        Rows of ``runs.csv``.
    method : str, default="harmonica_time"
    peers : sequence of str, default=("random", "optuna_tpe")

    Returns
    -------
    DataFrame
        Columns :data:`EQUAL_TIME_COLUMNS`; ``outcome`` is "better", "equal"
        or "worse" (the method's held-out score against the peer's), or the
        method's status when it did not succeed (e.g. "not_applicable" while
        HarmonicaSearchCV has no ``time_budget``).
    """
    rows = []
    for task in _real_tasks(runs):
        task_runs = runs[runs["task"] == task]
        for (budget, seed), group in task_runs.groupby(["budget", "seed"], sort=True):
            by_method = {m: g.iloc[0] for m, g in group.groupby("method", sort=False)}
            own = by_method.get(method)
            if own is None:
                continue
            for peer in peers:
                other = by_method.get(peer)
                if other is None or other["status"] != "ok":
                    continue
                mine, theirs = float(own["true_value"]), float(other["true_value"])
                if own["status"] != "ok":
                    outcome, difference = str(own["status"]), np.nan
                else:
                    difference = mine - theirs
                    tolerance = _RTOL * max(1.0, abs(theirs))
                    outcome = (
                        "equal"
                        if abs(difference) <= tolerance
                        else ("better" if difference > 0 else "worse")
                    )
                rows.append(
                    {
                        "task": task,
                        "budget": budget,
                        "seed": seed,
                        "peer": peer,
                        "time_budget": own.get("time_budget", np.nan),
                        "method_status": own["status"],
                        "method_wall_time": own["wall_time"],
                        "method_true_value": own["true_value"],
                        "peer_wall_time": other["wall_time"],
                        "peer_true_value": theirs,
                        "difference": difference,
                        "outcome": outcome,
                    }
                )
    return pd.DataFrame(rows, columns=EQUAL_TIME_COLUMNS)


def wall_ratios(runs: pd.DataFrame, reference: str = "random") -> pd.DataFrame:
    """Per successful run of a real task: wall time over the reference's, same seed.

    Returns
    -------
    DataFrame
        ``runs.csv``'s rows of successful runs on real tasks, plus
        ``wall_ratio`` (NaN without a successful reference run) and
        ``overhead_share`` (``search_overhead / wall_time``).
    """
    ok = runs[(runs["status"] == "ok") & runs["task"].isin(_real_tasks(runs))].copy()
    ref = ok[ok["method"] == reference].set_index(["task", "budget", "seed"])[
        "wall_time"
    ]
    ref = ref[~ref.index.duplicated(keep="first")]  # as the other tables do
    keys = pd.MultiIndex.from_frame(ok[["task", "budget", "seed"]])
    ok["wall_ratio"] = ok["wall_time"].to_numpy(dtype=float) / ref.reindex(
        keys
    ).to_numpy(dtype=float)
    ok["overhead_share"] = ok["search_overhead"] / ok["wall_time"]
    return ok


def simulated_scaling(
    runs: pd.DataFrame, traces: pd.DataFrame, workers: Sequence[int] = SIMULATED_WORKERS
) -> pd.DataFrame:
    """:func:`benchmarks.simulate.simulate_traces` for the successful runs of real tasks."""
    ok = runs[(runs["status"] == "ok") & runs["task"].isin(_real_tasks(runs))]
    keys = set(
        map(tuple, ok[["task", "method", "budget", "seed"]].itertuples(index=False))
    )
    if not keys or traces.empty:
        return simulate_traces(traces.iloc[:0], workers)
    mask = [
        key in keys
        for key in traces[["task", "method", "budget", "seed"]].itertuples(index=False)
    ]
    return simulate_traces(traces[np.asarray(mask, dtype=bool)], workers)


# ---------------------------------------------------------------- rendering
def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞"
    return f"{value:.{digits}g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def _ordered(values: Sequence[str], first: Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(values))
    return [v for v in first if v in present] + [v for v in present if v not in first]


_ORDER = ("random", "optuna_tpe", "halving_random", "harmonica", EQUAL_TIME_METHOD)


def _speedup_cell(value: float) -> str:
    return "not reached" if value == 0 else _fmt(value)


def timed_lines(runs: pd.DataFrame, traces: pd.DataFrame) -> list[str]:
    """Lines of the "Timed comparison" section of ``summary.md``."""
    lines = ["## Timed comparison (tasks without a known optimum)", ""]
    tasks = _real_tasks(runs)
    if not tasks:
        return lines + ["No task without a known optimum.", ""]
    lines += [
        "Held-out = accuracy on the task's held-out split of the configuration "
        "refitted on the whole training split. Wall times are the searches' "
        "own (the refits that judge incumbents are not part of them). "
        "Medians over seeds; the seed counts are in each row.",
        "",
    ]
    speed = speedups(runs, traces)
    times = equal_time(runs)
    walls = wall_ratios(runs)
    scaled = simulated_scaling(runs, traces)
    for task in tasks:
        lines += [f"### {task}", ""]
        lines += _speedup_lines(speed[speed["task"] == task])
        lines += _equal_time_lines(times[times["task"] == task])
        lines += _wall_lines(walls[walls["task"] == task])
        lines += _scaling_lines(
            scaled[scaled["task"] == task], walls[walls["task"] == task]
        )
    return lines


def _speedup_lines(speed: pd.DataFrame) -> list[str]:
    lines = [
        (
            "**Speedup** (headline: full-resource incumbent). Per seed: the "
            "reference's wall time at the same n_iter over the first time at which "
            "the method's full-resource incumbent (best CV score among its "
            "evaluations at full resource so far) had a held-out score at least the "
            'reference\'s final one. Lower median over seeds; "not reached" when '
            "the median seed never got there (a speedup below 1, whatever its "
            'run\'s length). "any": every incumbent counts, including those only '
            "scored on subsamples, which the search would not return. Runs that "
            'did not succeed are left out (see "Runs not done").'
        ),
        "",
    ]
    if speed.empty:
        return lines + ["No run to compare with a reference.", ""]
    header = [
        "budget",
        "reference",
        "method",
        "seeds",
        "median speedup, full",
        "reached, full",
        "speedup ≥ 1, full",
        "median speedup, any",
        "reached, any",
    ]
    rows = []
    for (budget, reference), sub in speed.groupby(["budget", "reference"], sort=True):
        for method in _ordered(sub["method"], _ORDER):
            g = sub[sub["method"] == method]
            full = g["speedup_full"].to_numpy(dtype=float)
            anyv = g["speedup_any"].to_numpy(dtype=float)
            n = len(g)
            rows.append(
                [
                    budget,
                    reference,
                    method,
                    n,
                    _speedup_cell(median_speedup(full)),
                    f"{int(np.sum(~np.isnan(full)))}/{n}",
                    f"{int(np.sum(full >= 1))}/{n}",
                    _speedup_cell(median_speedup(anyv)),
                    f"{int(np.sum(~np.isnan(anyv)))}/{n}",
                ]
            )
    return lines + _table(header, rows) + [""]


def _equal_time_lines(times: pd.DataFrame) -> list[str]:
    lines = [
        f"**Equal time**: `{EQUAL_TIME_METHOD}` is HarmonicaSearchCV with "
        "`time_budget` = random search's wall time on the same seed (and "
        "n_iter = the budget), its held-out score against random search's and "
        "TPE's, seed by seed.",
        "",
    ]
    if times.empty:
        return lines + [f"No `{EQUAL_TIME_METHOD}` run (`--equal-time`).", ""]
    header = [
        "budget",
        "seed",
        "peer",
        "time budget (s)",
        "wall (s)",
        "held-out",
        "peer held-out",
        "difference",
        "outcome",
    ]
    rows = [
        [
            r.budget,
            r.seed,
            r.peer,
            _fmt(r.time_budget),
            _fmt(r.method_wall_time),
            _fmt(r.method_true_value, 4),
            _fmt(r.peer_true_value, 4),
            _fmt(r.difference, 2),
            r.outcome,
        ]
        for r in times.sort_values(["budget", "peer", "seed"]).itertuples()
    ]
    lines += _table(header, rows) + [""]
    header = ["budget", "peer", "seeds", "better / equal / worse", "not run"]
    rows = []
    for (budget, peer), g in times.groupby(["budget", "peer"], sort=True):
        counts = g["outcome"].value_counts()
        other = len(g) - sum(counts.get(k, 0) for k in ("better", "equal", "worse"))
        rows.append(
            [
                budget,
                peer,
                len(g),
                f"{counts.get('better', 0)} / {counts.get('equal', 0)} / {counts.get('worse', 0)}",
                other,
            ]
        )
    return lines + _table(header, rows) + [""]


def _wall_lines(walls: pd.DataFrame) -> list[str]:
    lines = [
        (
            "**Wall time at equal n_iter**, overhead (wall time not spent in fit + "
            "score, per core: wall − fit+score / n_jobs, as a share of the wall "
            "time) and parallel efficiency (fit+score / (wall × n_jobs)). "
            "wall / random's: median over seeds of the ratio on the same seed."
        ),
        "",
    ]
    if walls.empty:
        return lines + ["No successful run.", ""]
    header = [
        "budget",
        "method",
        "n_jobs",
        "runs",
        "median held-out",
        "median wall (s)",
        "wall / random's",
        "median fit+score (s)",
        "overhead share",
        "parallel eff.",
        "evaluations",
    ]
    rows = []
    for budget, sub in walls.groupby("budget", sort=True):
        for method in _ordered(sub["method"], _ORDER):
            g = sub[sub["method"] == method]
            rows.append(
                [
                    budget,
                    method,
                    ",".join(str(int(n)) for n in sorted(g["n_jobs"].unique())),
                    len(g),
                    _fmt(g["true_value"].median(), 4),
                    _fmt(g["wall_time"].median()),
                    _fmt(g["wall_ratio"].median()),
                    _fmt(g["compute_time"].median()),
                    "—"
                    if g["overhead_share"].isna().all()
                    else f"{g['overhead_share'].median():.1%}",
                    _fmt(g["parallel_efficiency"].median(), 2),
                    _fmt(g["n_evaluations"].median(), 4),
                ]
            )
    return lines + _table(header, rows) + [""]


def _scaling_lines(scaled: pd.DataFrame, walls: pd.DataFrame) -> list[str]:
    lines = [
        (
            "**Simulated workers**: each run's recorded fits (mean fit + score time "
            "of a candidate's folds, times its folds) replayed by a greedy list "
            "scheduler, with a barrier between the batches the method ran "
            "(random search: one; halving: one per rung; Harmonica: one per "
            "spectral stage and per rung; Optuna: one per trial, its folds in "
            "parallel), in dispatch order / longest first. Fits only: the "
            "method's own computation and joblib's dispatching are left out, so "
            "the walls are lower bounds and the efficiencies upper bounds. The 2 "
            "workers column is there to compare with the measured wall of n_jobs=2 "
            "runs. Medians over seeds."
        ),
        "",
    ]
    if scaled.empty:
        return lines + ["No per-evaluation fit times recorded.", ""]
    workers = sorted(scaled["n_workers"].unique())
    header = ["budget", "method", "runs", "batches", "measured wall (s)"]
    for w in workers:
        header += [f"wall @ {w} (s)", f"eff. @ {w}"]
    rows = []
    for budget, sub in scaled.groupby("budget", sort=True):
        for method in _ordered(sub["method"], _ORDER):
            g = sub[sub["method"] == method]
            measured = walls[(walls["budget"] == budget) & (walls["method"] == method)]
            cells = [
                budget,
                method,
                g["seed"].nunique(),
                _fmt(g["n_batches"].median(), 4),
                _fmt(measured["wall_time"].median()),
            ]
            for w in workers:
                walls_w = []
                effs_w = []
                for order in ("dispatched", "longest_first"):
                    h = g[(g["n_workers"] == w) & (g["order"] == order)]
                    walls_w.append(_fmt(h["simulated_wall"].median()))
                    effs_w.append(_fmt(h["simulated_efficiency"].median(), 2))
                cells += [" / ".join(walls_w), " / ".join(effs_w)]
            rows.append(cells)
    return lines + _table(header, rows) + [""]


# ------------------------------------------------------------------- files
def write_measures(runs: pd.DataFrame, traces: pd.DataFrame, out: Path) -> list[Path]:
    """Write ``speedups.csv``, ``equal_time.csv`` and ``simulated.csv``.

    Returns
    -------
    list of Path
        The files written (none when no task lacks a known optimum).
    """
    if not _real_tasks(runs):
        return []
    written = []
    for name, frame in (
        ("speedups.csv", speedups(runs, traces)),
        ("equal_time.csv", equal_time(runs)),
        ("simulated.csv", simulated_scaling(runs, traces)),
    ):
        path = out / name
        frame.to_csv(path, index=False, float_format="%.6g")
        written.append(path)
    return written


def plot_heldout_vs_time(
    runs: pd.DataFrame, traces: pd.DataFrame, task: str, out: Path
) -> Path | None:
    """Draw ``heldout_vs_time_<task>.png``: the full-resource incumbent's
    held-out score against wall time, one panel per budget.

    Per method, a thin line per seed ending with a dot at the run's end and
    the median over seeds (where at least half the seeds have a
    full-resource incumbent); dashed, random search's median final held-out
    score; dotted, its median wall time.

    Returns
    -------
    Path or None
        The file, or None when the task has no successful run.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = runs[(runs["task"] == task) & (runs["status"] == "ok")]
    data = traces[traces["task"] == task]
    if ok.empty or data.empty:
        return None
    budgets = sorted(ok["budget"].unique())
    methods = _ordered(ok["method"], _ORDER)
    fig, axes = plt.subplots(
        1, len(budgets), figsize=(6 * len(budgets), 4.4), squeeze=False
    )
    for ax, budget in zip(axes[0], budgets, strict=True):
        sub_runs = ok[ok["budget"] == budget]
        sub = data[data["budget"] == budget]
        end = float(sub_runs["wall_time"].max())
        grid = np.linspace(0, end, 300)
        for i, method in enumerate(methods):
            curves = []
            for _, row in sub_runs[sub_runs["method"] == method].iterrows():
                trace = _run_trace(sub, task, method, budget, row["seed"])
                if trace.empty:
                    continue
                mask = full_resource_mask(trace, _full_cost(row))
                x = trace["elapsed"].to_numpy(dtype=float)
                y = np.where(
                    mask, trace["best_true_value"].to_numpy(dtype=float), np.nan
                )
                position = np.searchsorted(x, grid, side="right") - 1
                curve = np.where(position >= 0, y[np.clip(position, 0, None)], np.nan)
                curve[grid > float(row["wall_time"])] = np.nan
                curves.append(curve)
                # The run's answer holds until its end; a dot marks the end, so
                # a run with a single full-resource evaluation shows too.
                wall = max(float(row["wall_time"]), float(x[-1]))
                ax.step(
                    np.append(x, wall),
                    np.append(y, y[-1]),
                    where="post",
                    color=f"C{i}",
                    alpha=0.3,
                    lw=0.8,
                )
                ax.plot([wall], [y[-1]], "o", color=f"C{i}", alpha=0.5, ms=3)
            if not curves:
                continue
            stacked = np.array(curves)
            enough = np.sum(~np.isnan(stacked), axis=0) * 2 >= len(curves)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
                median = np.nanmedian(stacked, axis=0)
            median[~enough] = np.nan
            ax.plot(
                grid, median, color=f"C{i}", lw=2, label=f"{method} ({len(curves)})"
            )
        random = sub_runs[sub_runs["method"] == "random"]
        if not random.empty:
            ax.axhline(random["true_value"].median(), color="k", ls="--", lw=0.8)
            ax.axvline(random["wall_time"].median(), color="k", ls=":", lw=0.8)
        ax.set_title(f"{task}, n_iter {budget}")
        ax.set_xlabel("wall time (s)")
        ax.set_ylabel("held-out score, full-resource incumbent")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, title="method (seeds)", title_fontsize=8)
    fig.suptitle(
        "thin: one seed (dot: its end); thick: median over seeds\n"
        "dashed / dotted: random search's median final held-out score / wall time",
        fontsize=8,
    )
    fig.tight_layout()
    path = out / f"heldout_vs_time_{task.replace('/', '_')}.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
