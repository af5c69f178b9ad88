"""Replay recorded fits on more workers than the machine has.

A search run on 2 cores says little about how it would scale on 8 or 32.
What it does record is the time of every fit and scoring
(``cv_results_``'s ``mean_fit_time + mean_score_time`` per candidate, times
its ``n_splits`` folds) and which fits a method dispatched together: the
candidates of one batch can run in parallel, and the method waits for all of
them before it decides the next batch (a barrier). RandomizedSearchCV is one
batch; HalvingRandomSearchCV one per rung (its ``iter`` column);
HarmonicaSearchCV one per spectral stage and one per rung of its final stage
(its ``stage`` and ``rung`` columns); the Optuna runner one per trial (its
folds run in parallel, its trials one after the other).

:func:`simulate` replays the batches through a greedy list scheduler: each
fit, in list order, starts on the worker that becomes free first; the next
batch starts when the last fit of the previous one ends. The simulated wall
time leaves out everything but the fits (the method's own decisions, joblib's
dispatching, the transfer of data to workers), so it is a lower bound of what
the same search would take on ``n_workers`` cores of the same speed, and its
efficiency (fit time / (wall time x workers)) an upper bound.

Two orders are replayed: ``"dispatched"``, the fits in the order the method
listed them (candidate by candidate, each candidate's folds together, as
scikit-learn's searches dispatch them), and ``"longest_first"``, each batch
sorted by decreasing duration (the classic LPT rule, which a method could
only approximate since it does not know the durations in advance).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "ORDERS",
    "SimulatedRun",
    "batches_from_trace",
    "list_schedule",
    "simulate",
    "simulate_traces",
]

Order = Literal["dispatched", "longest_first"]
ORDERS: tuple[Order, ...] = ("dispatched", "longest_first")


def list_schedule(durations: Sequence[float], n_workers: int) -> float:
    """Makespan of greedy list scheduling of ``durations`` on ``n_workers``.

    Tasks are taken in the given order; each starts, at the earliest, when a
    worker becomes free, on the worker free first.

    Parameters
    ----------
    durations : sequence of float
        Durations of the tasks, >= 0, in dispatch order.
    n_workers : int
        Number of identical workers, >= 1.

    Returns
    -------
    float
        Time at which the last task ends (0 for no task).
    """
    if n_workers < 1:
        raise ValueError(f"n_workers must be at least 1, got {n_workers}")
    free = [0.0] * min(n_workers, max(len(durations), 1))
    heapq.heapify(free)
    end = 0.0
    for duration in durations:
        if duration < 0 or not np.isfinite(duration):
            raise ValueError(f"durations must be finite and >= 0, got {duration}")
        start = heapq.heappop(free)
        finish = start + float(duration)
        end = max(end, finish)
        heapq.heappush(free, finish)
    return end


@dataclass(frozen=True)
class SimulatedRun:
    """Outcome of :func:`simulate`.

    Attributes
    ----------
    wall_time : float
        Sum over batches of each batch's makespan.
    busy_time : float
        Sum of all durations.
    n_workers : int
    efficiency : float
        ``busy_time / (wall_time * n_workers)`` (NaN for an empty run).
    """

    wall_time: float
    busy_time: float
    n_workers: int

    @property
    def efficiency(self) -> float:
        if self.wall_time <= 0:
            return float("nan")
        return self.busy_time / (self.wall_time * self.n_workers)


def simulate(
    batches: Iterable[Sequence[float]], n_workers: int, order: Order = "dispatched"
) -> SimulatedRun:
    """Replay batches of fits on ``n_workers``, with a barrier between batches.

    Parameters
    ----------
    batches : iterable of sequence of float
        Durations of the fits of each batch, in dispatch order, batches in
        the order the method ran them.
    n_workers : int
        Workers, >= 1.
    order : {"dispatched", "longest_first"}, default="dispatched"
        Keep each batch's order, or sort it by decreasing duration.

    Returns
    -------
    SimulatedRun
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    wall = busy = 0.0
    for batch in batches:
        durations = [float(d) for d in batch]
        if order == "longest_first":
            durations.sort(reverse=True)
        wall += list_schedule(durations, n_workers)
        busy += sum(durations)
    return SimulatedRun(wall_time=wall, busy_time=busy, n_workers=n_workers)


def batches_from_trace(trace: pd.DataFrame) -> list[list[float]]:
    """Batches of fit durations of one run, from its rows of ``traces.csv``.

    Each evaluation contributes ``n_folds`` fits of ``fold_time`` seconds (the
    mean fit + score time of its folds) to batch ``batch``; batches are
    replayed in the order of their first evaluation, fits in ``index`` order.

    Parameters
    ----------
    trace : DataFrame
        One run's rows, with columns ``index``, ``batch``, ``fold_time`` and
        ``n_folds``.

    Returns
    -------
    list of list of float
    """
    trace = trace.sort_values("index", kind="stable")
    batches: dict[int, list[float]] = {}
    for batch, fold_time, n_folds in zip(
        trace["batch"], trace["fold_time"], trace["n_folds"], strict=True
    ):
        if not np.isfinite(fold_time) or not np.isfinite(n_folds):
            continue
        batches.setdefault(int(batch), []).extend([float(fold_time)] * int(n_folds))
    return list(batches.values())


# Columns written by simulate_traces, besides the identifiers of the run.
SIMULATED_COLUMNS = [
    "n_batches",
    "n_fits",
    "fit_time",
    "n_workers",
    "order",
    "simulated_wall",
    "simulated_efficiency",
]


def simulate_traces(
    traces: pd.DataFrame,
    workers: Sequence[int] = (2, 8, 32),
    orders: Sequence[Order] = ORDERS,
) -> pd.DataFrame:
    """Simulate every run of ``traces.csv`` on each number of workers and order.

    Parameters
    ----------
    traces : DataFrame
        Rows of ``traces.csv`` with the columns of :func:`batches_from_trace`;
        runs written before these columns existed are skipped.
    workers : sequence of int, default=(2, 8, 32)
    orders : sequence of str, default=("dispatched", "longest_first")

    Returns
    -------
    DataFrame
        One row per run, number of workers and order: ``task, method,
        budget, seed`` and :data:`SIMULATED_COLUMNS` (``fit_time``: sum of
        the durations).
    """
    keys = ["task", "method", "budget", "seed"]
    columns = keys + SIMULATED_COLUMNS
    needed = {"batch", "fold_time", "n_folds"}
    if traces.empty or not needed <= set(traces.columns):
        return pd.DataFrame(columns=columns)
    rows = []
    for key, trace in traces.groupby(keys, sort=False):
        batches = batches_from_trace(trace)
        if not batches:
            continue
        n_fits = sum(len(b) for b in batches)
        for n_workers in workers:
            for order in orders:
                result = simulate(batches, n_workers, order)
                rows.append(
                    dict(zip(keys, key, strict=True))
                    | {
                        "n_batches": len(batches),
                        "n_fits": n_fits,
                        "fit_time": result.busy_time,
                        "n_workers": n_workers,
                        "order": order,
                        "simulated_wall": result.wall_time,
                        "simulated_efficiency": result.efficiency,
                    }
                )
    return pd.DataFrame(rows, columns=columns)
