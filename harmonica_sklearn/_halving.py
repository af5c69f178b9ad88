"""Successive halving on top of ``evaluate_candidates``.

Rungs are aligned on the maximum resource: with ``K + 1`` rungs the resource
of rung ``i`` is ``max_resources / factor**(K - i)`` (rounded), so the last
rung is exactly ``max_resources`` and no evaluation is spent past it.  Each
rung keeps the best ``ceil(n / factor)`` candidates of the previous one.

The budget is counted in full-resource evaluations: a candidate evaluated at
resource ``r`` costs ``r / max_resources``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["rung_resources", "halving_schedule", "SubsampledSplits"]


def rung_resources(min_resources, max_resources, factor):
    """Resources of the rungs, smallest first, the last one ``max_resources``."""
    if max_resources <= min_resources:
        return [int(max_resources)]
    n_rungs = int(math.floor(math.log(max_resources / min_resources, factor) + 1e-9)) + 1
    resources = [
        int(round(max_resources / factor ** (n_rungs - 1 - i))) for i in range(n_rungs)
    ]
    # Rounding can merge the smallest rungs on tiny resources; keep them distinct.
    return sorted(set(max(r, 1) for r in resources))


def _rung_sizes(n_first, n_rungs, factor):
    sizes = [n_first]
    for _ in range(n_rungs - 1):
        sizes.append(max(1, math.ceil(sizes[-1] / factor)))
    return sizes


# With measured costs, a rung is kept only if an evaluation there costs at
# most this share of one at the next rung: screening candidates at a level
# that is barely cheaper buys little (gradient boosting on a third of the
# rows costs about 0.6 of a full fit).
MAX_RUNG_COST_RATIO = 0.5


def schedule_cost(sizes, resources, max_resources, cost=None):
    """Budget, in full-resource evaluations, of a halving schedule
    (``cost(r)``: the share of a full evaluation one at ``r`` costs; the
    nominal ``r / max_resources`` by default)."""
    if cost is None:
        return sum(n * r / max_resources for n, r in zip(sizes, resources))
    return sum(n * cost(r) for n, r in zip(sizes, resources))


def profitable_rungs(resources, cost):
    """``resources`` without the smallest rungs that cost more than
    ``MAX_RUNG_COST_RATIO`` of the next one."""
    while len(resources) > 1 and cost(resources[0]) > MAX_RUNG_COST_RATIO * cost(resources[1]):
        resources = resources[1:]
    return resources


@dataclass
class HalvingSchedule:
    """Number of candidates and resource of each rung."""

    n_candidates: list
    resources: list

    @property
    def n_rungs(self):
        return len(self.resources)


def halving_schedule(
    budget, min_resources, max_resources, factor, max_candidates=None, cost=None
):
    """The largest halving schedule whose cost does not exceed ``budget``.

    Parameters
    ----------
    budget : float
        Full-resource evaluations available.
    min_resources, max_resources : int
    factor : float
        Proportion of candidates kept per rung is ``1 / factor``; resources
        grow by ``factor``.
    max_candidates : int, optional
        Cap on the first rung's size (a finite space may hold fewer).
    cost : callable, optional
        ``cost(resource)``, the measured share of a full evaluation that one
        at ``resource`` costs (a time budget's cost model): the schedule is
        priced with it, and rungs barely cheaper than the next are dropped
        (:func:`profitable_rungs`).  By default the nominal
        ``resource / max_resources``.

    Returns
    -------
    HalvingSchedule
        With at least one candidate in every rung (even if that exceeds a
        budget smaller than one full evaluation).
    """
    resources = rung_resources(min_resources, max_resources, factor)
    if cost is not None:
        resources = profitable_rungs(resources, cost)
    # Drop the smallest rungs when the budget cannot fill them with more than
    # one candidate at the top: halving then degrades to random search.
    while True:
        n_first = _largest_first_rung(
            budget, resources, max_resources, factor, max_candidates, cost
        )
        sizes = _rung_sizes(n_first, len(resources), factor)
        if len(resources) == 1 or sizes[0] >= factor:
            return HalvingSchedule(sizes, resources)
        resources = resources[1:]


def _largest_first_rung(budget, resources, max_resources, factor, max_candidates, cost):
    """The largest first-rung size ``n >= 1`` whose schedule fits ``budget``
    (and ``max_candidates``); 1 when even 2 does not fit.

    The cost grows with ``n`` (every rung's size does), so the fitting sizes
    are an interval ``[1, n]``: found by doubling then bisection, in
    O(log n) cost evaluations (a budget of 10**9 took minutes when counted
    one by one).  Same result as counting up from 1.
    """

    def fits(n):
        if max_candidates is not None and n > max_candidates:
            return False
        sizes = _rung_sizes(n, len(resources), factor)
        return schedule_cost(sizes, resources, max_resources, cost) <= budget

    if not fits(2):
        return 1
    low, high = 2, 4  # fits(low); high to be made a failure
    while fits(high):
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        if fits(mid):
            low = mid
        else:
            high = mid
    return low


class SubsampledSplits:
    """A CV splitter replaying fixed splits on subsamples of their rows.

    Each training set and each test set keeps ``n_resources / n_samples``
    of its rows (at least one per class for classification targets,
    stratified when ``y`` is given), as scikit-learn's halving searches do:
    a search at a reduced resource pays for scoring a share of the test
    fold, not all of it (predicting the whole fold cost as much as the fit
    of a ninth of the rows for kernel pipelines).  The subsamples of a split
    depend only on ``random_state`` and the split, so every candidate of a
    rung is trained and scored on the same rows.
    """

    def __init__(self, splits, fraction, random_state, y_classes=None):
        self.splits = splits
        self.fraction = fraction
        self.random_state = random_state
        self.y_classes = y_classes

    def get_n_splits(self, X=None, y=None, groups=None):
        return len(self.splits)

    def split(self, X=None, y=None, groups=None):
        rng = np.random.RandomState(self.random_state)
        for train, test in self.splits:
            yield self._subsample(train, rng), self._subsample(test, rng)

    def _subsample(self, rows, rng):
        n_keep = max(1, int(round(self.fraction * len(rows))))
        if n_keep >= len(rows):
            return rows
        if self.y_classes is None:
            return np.sort(rng.choice(rows, size=n_keep, replace=False))
        labels = self.y_classes[rows]
        classes, counts = np.unique(labels, return_counts=True)
        quota = np.maximum(1, np.floor(counts * n_keep / len(rows)).astype(int))
        keep = []
        for cls, q in zip(classes, quota):
            members = rows[labels == cls]
            keep.append(rng.choice(members, size=min(q, len(members)), replace=False))
        return np.sort(np.concatenate(keep))
