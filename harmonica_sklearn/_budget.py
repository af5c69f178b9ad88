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

__all__ = ["CostModel", "TimeBudget", "resource_costs"]

# The search ends this share of the budget early rather than late: a batch
# whose estimated end falls after deadline - margin is cut.
SAFETY_MARGIN = 0.02


@dataclass
class CostModel:
    """Measured wall seconds per candidate, per resource level."""

    seconds: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)

    def record(self, resource, n_candidates, wall_seconds):
        if n_candidates <= 0:
            return
        self.seconds[resource] = self.seconds.get(resource, 0.0) + wall_seconds
        self.counts[resource] = self.counts.get(resource, 0) + n_candidates

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

    def remaining(self):
        return max(0.0, self.deadline - self.clock())

    def elapsed(self):
        return self.clock() - self.start

    def affordable(self, resource, n_candidates):
        """How many of ``n_candidates`` at ``resource`` finish in time
        (all of them while the cost is unknown)."""
        cost = self.costs.per_candidate(resource)
        if cost is None or cost <= 0:
            return n_candidates
        return min(n_candidates, int(math.floor(self.remaining() / cost)))

    def full_evaluations_left(self, max_resources):
        """The remaining time in full-resource evaluations (inf if unknown)."""
        cost = self.costs.per_candidate(max_resources)
        if cost is None or cost <= 0:
            return math.inf
        return self.remaining() / cost


def resource_costs(costs, max_resources):
    """Per resource level, its measured cost against a full evaluation.

    Parameters
    ----------
    costs : CostModel
    max_resources : int

    Returns
    -------
    dict of int -> dict
        ``n_evaluations``, ``seconds_per_candidate`` (wall seconds of its
        batches per candidate, all CV splits included), ``charged`` (the
        share of a full evaluation that ``n_iter`` counts), ``relative_cost``
        (the measured share; NaN without a full-resource evaluation) and
        ``undercount`` (relative_cost / charged).
    """
    full = costs.per_candidate(max_resources) if max_resources in costs.counts else None
    out = {}
    for resource in sorted(costs.counts):
        seconds = costs.per_candidate(resource)
        charged = resource / max_resources
        relative = seconds / full if full else math.nan
        out[int(resource)] = {
            "n_evaluations": int(costs.counts[resource]),
            "seconds_per_candidate": float(seconds),
            "charged": float(charged),
            "relative_cost": float(relative),
            "undercount": float(relative / charged) if charged > 0 else math.nan,
        }
    return out
