"""What evaluations cost in seconds, and how much of a time budget is left.

The search measures the wall time of every batch it runs (with the clock it
is given, so tests drive it with a fake one) and keeps, per resource level,
the seconds one candidate took.  With a ``time_budget`` those costs decide
how many candidates of the next batch can still finish before the deadline,
and how many full-resource evaluations the remaining time is worth.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "CostModel",
    "TimeBudget",
    "longest_first",
    "measured_cost_function",
    "paired_cost_ratios",
    "relative_cost_function",
    "resource_costs",
]

# The search ends this share of the budget early rather than late: a batch
# whose estimated end falls after deadline - margin is cut.
SAFETY_MARGIN = 0.02
# The fit-time model behind longest_first reads at most this many of the
# latest timed evaluations.
MAX_TIMED_EVALUATIONS = 2000


@dataclass
class CostModel:
    """Measured wall seconds per candidate (batches) and per fit (fit +
    score seconds of each cross-validation split), per resource level."""

    seconds: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    fits: dict = field(default_factory=dict)

    def record(self, resource, n_candidates, wall_seconds):
        if n_candidates <= 0:
            return
        self.seconds[resource] = self.seconds.get(resource, 0.0) + wall_seconds
        self.counts[resource] = self.counts.get(resource, 0) + n_candidates

    def record_fit(self, resource, seconds):
        total, count = self.fits.get(resource, (0.0, 0))
        self.fits[resource] = (total + seconds, count + 1)

    def fit_seconds(self, resource):
        """Mean fit + score seconds of one split at ``resource``, or None."""
        if resource not in self.fits:
            return None
        total, count = self.fits[resource]
        return total / count

    def per_candidate(self, resource):
        """Seconds one candidate at ``resource`` takes, or None if unknown.

        A level never measured is scaled linearly from the nearest measured
        one above it, or else below it (an estimate: a reduced resource often
        costs more than its share, and the estimate is refined as soon as
        that level runs).
        """
        if resource in self.counts:
            return self.seconds[resource] / self.counts[resource]
        if not self.counts:
            return None
        above = [r for r in self.counts if r > resource]
        known = min(above) if above else max(self.counts)
        return self.seconds[known] / self.counts[known] * resource / known

    def full_candidate_seconds(self, max_resources, fits_per_worker, cost):
        """Wall seconds a full-resource candidate adds to a batch that keeps
        the workers busy: its splits' mean fit seconds times
        ``fits_per_worker`` (splits / workers), scaled from the largest
        measured level by ``cost`` (:func:`relative_cost_function`) when no
        fit ran at full resource.  None while nothing is measured."""
        measured = [r for r in self.fits if r <= max_resources]
        if not measured:
            return self.per_candidate(max_resources)
        level = max(measured)
        return self.fit_seconds(level) * fits_per_worker / cost(level)


def evaluation_seconds(evaluation):
    """Fit + score seconds of one evaluation, summed over its splits (None
    without per-split records: an evaluation told from outside)."""
    details = evaluation.details
    if not isinstance(details, dict) or "outs" not in details:
        return None
    return float(sum(out["fit_time"] + out["score_time"] for out in details["outs"]))


def paired_cost_ratios(history, max_resources):
    """Per reduced resource level, what an evaluation there costs against
    the same candidate's full-resource evaluation.

    Only candidates evaluated at both levels are compared: the candidates a
    search evaluates at full resource are its best, and the best
    configurations are often the slowest to fit (more iterations, deeper
    trees), so comparing the levels' averages would make reduced levels
    look cheaper than they are.

    Returns
    -------
    dict of int -> (float, int)
        ``{resource: (median ratio, number of candidates compared)}``, for
        the levels with at least one such candidate.
    """
    full = {}
    for e in history.where(resource=max_resources):
        seconds = evaluation_seconds(e)
        if seconds is not None and seconds > 0:
            full[e.trial.key] = seconds
    ratios = {}
    for e in history:
        if e.resource >= max_resources or e.trial.key not in full:
            continue
        seconds = evaluation_seconds(e)
        if seconds is not None:
            ratios.setdefault(e.resource, []).append(seconds / full[e.trial.key])
    return {
        int(r): (float(np.median(values)), len(values)) for r, values in sorted(ratios.items())
    }


def relative_cost_function(paired, max_resources):
    """``cost(resource)``: the share of a full evaluation an evaluation at
    ``resource`` costs, from :func:`paired_cost_ratios`.

    A measured level costs its median ratio; the others follow the power
    law ``(resource / max_resources) ** a`` fitted to the measured ratios (a
    fit's fixed costs make ``a`` below 1: gradient boosting on a third of the
    rows costs about 0.6 of a full fit, so ``a`` is near 0.5), with ``a = 1``
    (the nominal charge) while nothing is measured.
    """
    exponents = [
        math.log(ratio) / math.log(r / max_resources)
        for r, (ratio, _) in paired.items()
        if 0 < r < max_resources and ratio > 0
    ]
    exponent = float(np.clip(np.median(exponents), 0.0, 1.0)) if exponents else 1.0

    def cost(resource):
        if resource >= max_resources:
            return 1.0
        if resource in paired:
            return min(1.0, paired[resource][0])
        return (resource / max_resources) ** exponent

    cost.exponent = exponent
    return cost


def measured_cost_function(history, max_resources):
    """:func:`relative_cost_function` of the candidates of ``history``
    evaluated at a reduced resource and at full resource."""
    return relative_cost_function(paired_cost_ratios(history, max_resources), max_resources)


def longest_first(space, history, trials, resource):
    """An order in which to dispatch ``trials`` at ``resource``: longest
    predicted evaluation first (None when nothing predicts it).

    At a barrier (the end of a stage or rung) workers wait for the last
    fits; starting the long ones first leaves short ones for the end (the
    longest-processing-time rule).  A trial evaluated before (a promoted
    one) is predicted by its own measured seconds; the others by a ridge
    regression of the log seconds of every timed evaluation on the
    candidates' bits and the log resource.  Only the order in which fits
    start changes: every result is the same, whatever the order.
    """
    if len(trials) < 2 or any(t.index is None for t in trials):
        return None
    timed = _timed_evaluations(history)
    if not timed:
        return None
    own = _own_seconds_below(timed, resource)
    # The latest evaluations are enough to rank a batch, and bound the work.
    timed = timed[-MAX_TIMED_EVALUATIONS:]

    def features(indices, resources):
        bits = space.encode(np.asarray(indices)).astype(float)
        return np.column_stack([np.ones(len(bits)), np.log(resources), bits])

    X = features([e.trial.index for e, _ in timed], [e.resource for e, _ in timed])
    y = np.log([seconds for _, seconds in timed])
    penalty = np.eye(X.shape[1])
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    weights = np.linalg.solve(X.T @ X + penalty, X.T @ y)
    predicted = features([t.index for t in trials], [resource] * len(trials)) @ weights
    for i, trial in enumerate(trials):
        if trial.key in own:
            measured_at, seconds = own[trial.key]
            predicted[i] = np.log(seconds) + weights[1] * np.log(resource / measured_at)
    return np.argsort(-predicted, kind="stable")


def promoted_seconds(history, trials, resource, cost):
    """Fit + score seconds (all splits together) that each of ``trials`` is
    expected to take at ``resource``, from its own timed evaluation at the
    largest lower resource, scaled by ``cost`` (a function of the
    resource); NaN for a trial not timed below ``resource``.

    Halving promotes the best candidates, and the best are often the slow
    ones (more and larger trees, more kernel components): the mean of a
    level underprices them.
    """
    own = _own_seconds_below(_timed_evaluations(history), resource)
    predicted = np.full(len(trials), np.nan)
    for i, trial in enumerate(trials):
        if trial.key in own:
            measured_at, seconds = own[trial.key]
            predicted[i] = seconds * cost(resource) / cost(measured_at)
    return predicted


def _timed_evaluations(history):
    """``(evaluation, fit + score seconds)`` of every evaluation of
    ``history`` that this run timed, on a candidate with codes."""
    return [
        (e, seconds)
        for e in history
        if e.trial.index is not None
        and (seconds := evaluation_seconds(e)) is not None
        and seconds > 0
    ]


def _own_seconds_below(timed, resource):
    """Per trial key, ``(resource, seconds)`` of its timed evaluation at the
    largest resource below ``resource``."""
    own = {}
    for e, seconds in timed:
        if e.resource < resource and e.resource >= own.get(e.trial.key, (0,))[0]:
            own[e.trial.key] = (e.resource, seconds)
    return own


def pilot_size(n_workers, n_splits):
    """Candidates that measure an unmeasured level before its batch is sized.

    Enough to give every worker a fit; more when that makes whole rounds of
    fits (3 folds on 2 workers: 2 candidates, 6 fits in 3 rounds, rather than
    1 candidate whose third fit runs while a worker waits), as long as it
    at most doubles the pilot.
    """
    smallest = math.ceil(n_workers / n_splits)
    whole_rounds = n_workers // math.gcd(n_workers, n_splits)
    return whole_rounds if whole_rounds <= 2 * smallest else smallest


class TimeBudget:
    """A deadline, and what fits before it.

    Parameters
    ----------
    seconds : float or None
        The budget; None for no deadline (costs are still measured).
    clock : callable, default=time.monotonic
        Returns the current time in seconds.
    """

    def __init__(self, seconds, clock=time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.start = clock()
        self.deadline = math.inf if seconds is None else self.start + seconds * (
            1 - SAFETY_MARGIN
        )
        self.costs = CostModel()
        # Whether a batch was cut or the run stopped for lack of time.
        self.cut_short = False

    def by_share(self, share):
        """The time by which ``share`` of the budget is used."""
        return min(self.deadline, self.start + share * (self.deadline - self.start))

    def remaining(self):
        return max(0.0, self.deadline - self.clock())

    def elapsed(self):
        return self.clock() - self.start

    def full_evaluations_left(self, seconds_per_full_candidate):
        """The remaining time in full-resource evaluations (inf if unknown)."""
        if seconds_per_full_candidate is None or seconds_per_full_candidate <= 0:
            return math.inf
        return self.remaining() / seconds_per_full_candidate


def resource_costs(costs, max_resources, paired=None):
    """Per resource level, its measured cost against a full evaluation.

    Parameters
    ----------
    costs : CostModel
    max_resources : int
    paired : dict, default=None
        :func:`paired_cost_ratios` of the run: where a level has candidates
        also evaluated at full resource, their median ratio is its
        ``relative_cost``; otherwise the ratio of the levels' average
        seconds per candidate (biased low when the full-resource candidates
        are slower configurations than the reduced-resource ones).

    Returns
    -------
    dict of int -> dict
        ``n_evaluations``, ``seconds_per_candidate`` (wall seconds of its
        batches per candidate, all CV splits included), ``charged`` (the
        share of a full evaluation that ``n_iter`` counts), ``relative_cost``
        (the measured share; NaN without a full-resource evaluation),
        ``n_paired`` (the candidates it was measured on, 0 when it compares
        averages) and ``undercount`` (relative_cost / charged).
    """
    paired = paired or {}
    full = costs.per_candidate(max_resources) if max_resources in costs.counts else None
    out = {}
    for resource in sorted(costs.counts):
        seconds = costs.per_candidate(resource)
        charged = resource / max_resources
        if resource in paired:
            relative, n_paired = paired[resource]
        else:
            relative, n_paired = (seconds / full if full else math.nan), 0
        out[int(resource)] = {
            "n_evaluations": int(costs.counts[resource]),
            "seconds_per_candidate": float(seconds),
            "charged": float(charged),
            "relative_cost": float(relative),
            "n_paired": int(n_paired),
            "undercount": float(relative / charged) if charged > 0 else math.nan,
        }
    return out
