"""The record of a search: every evaluation, in the order it was told.

One :class:`History` is the single source of truth of a run.  The optimizer
re-reads it to decide the next batch (the spectral data, the candidates
already seen, the incumbent), and ``HarmonicaSearchCV`` derives
``cv_results_`` and its other fitted attributes from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Batch", "Evaluation", "History", "Trial", "failures_last"]


@dataclass(frozen=True, eq=False)
class Trial:
    """One candidate of the space.

    Attributes
    ----------
    params : dict
        The candidate as the estimator (or objective) receives it, without
        the resource.
    key : tuple
        Its identity in the space (branch, value codes and bucket offsets):
        numbers only, so it can be stored and compared safely.
    index : ndarray of int
        Code of each parameter's value (or bucket).
    offset : ndarray of float
        Position inside each bucket of a distribution, in [0, 1).
    """

    params: dict
    key: tuple
    index: np.ndarray = field(repr=False)
    offset: np.ndarray = field(repr=False)


@dataclass(eq=False)
class Batch:
    """Trials to evaluate together, and where they stand in the search.

    Attributes
    ----------
    trials : list of Trial
    stage : int
        1, 2, ... for spectral stages, then the final stage; 0 for the
        exhaustive grid and for evaluations told from outside.
    phase : {"spectral", "halving", "random", "exhaustive", "confirm", "told"}
        "told": evaluations made elsewhere (a warm start), located in the
        space; they inform the spectral fits and cost no budget.
    rung : int
        Halving rung (0 elsewhere).
    resource : int
        Resource of every evaluation of the batch.
    seed : int or None
        Seed of the batch's training subsamples, when the client subsamples.
    """

    trials: list
    stage: int
    phase: str
    rung: int
    resource: int
    seed: int | None = None

    def __len__(self):
        return len(self.trials)

    def part(self, start, stop):
        """Trials ``start:stop``, as a batch of their own (same stage, phase,
        rung, resource and subsample seed)."""
        return Batch(
            self.trials[start:stop], self.stage, self.phase, self.rung, self.resource,
            self.seed,
        )


@dataclass(eq=False)
class Evaluation:
    """One trial evaluated at one resource.

    Attributes
    ----------
    trial : Trial
    batch : Batch
    score : float
        The score that drives the search (greater is better; NaN for a
        failed evaluation).
    details : object
        What the client keeps with it (``HarmonicaSearchCV``: sklearn's
        per-split fit-and-score records).
    """

    trial: Trial
    batch: Batch
    score: float
    details: object = None

    @property
    def resource(self):
        return self.batch.resource


class History:
    """Every evaluation of a run, in the order it was told."""

    def __init__(self):
        self.evaluations = []
        self.batches = []

    def __len__(self):
        return len(self.evaluations)

    def __iter__(self):
        return iter(self.evaluations)

    def add(self, batch, scores, details=None):
        """Record the evaluations of ``batch``; return them."""
        scores = np.asarray(scores, dtype=float).reshape(-1)
        if len(scores) != len(batch):
            raise ValueError(
                f"Got {len(scores)} scores for a batch of {len(batch)} candidates."
            )
        details = [None] * len(batch) if details is None else list(details)
        new = [
            Evaluation(trial, batch, float(score), detail)
            for trial, score, detail in zip(batch.trials, scores, details)
        ]
        self.evaluations.extend(new)
        self.batches.append(batch)
        return new

    def where(self, *, phase=None, resource=None):
        """Evaluations of one phase (or a tuple of phases) and/or resource."""
        phases = (phase,) if isinstance(phase, str) else phase
        return [
            e
            for e in self.evaluations
            if (phases is None or e.batch.phase in phases)
            and (resource is None or e.resource == resource)
        ]

    def seen_keys(self):
        return {e.trial.key for e in self.evaluations}

    def spent(self, max_resources):
        """Budget used, in full-resource evaluations."""
        # Batch by batch, as n * resource / max_resources: a sum of the
        # per-evaluation fractions would round differently.
        # Evaluations told from outside cost this run nothing.
        return sum(
            len(b) * b.resource / max_resources for b in self.batches if b.phase != "told"
        )

    def incumbent(self, resource):
        """The best evaluation at ``resource`` (failures last), or None."""
        candidates = self.where(resource=resource)
        if not candidates:
            return None
        ranked = np.argsort(-failures_last([e.score for e in candidates]), kind="stable")
        return candidates[ranked[0]]


def failures_last(scores):
    """Scores with every non-finite one (a failed fit, a NaN or infinite
    score) as -inf, so that a descending stable sort ranks every failure
    strictly below every finite score.

    +inf counts as a failure: it comes from a broken scorer (a division by
    zero) more often than from a perfect fit.
    """
    scores = np.asarray(scores, dtype=float)
    return np.where(np.isfinite(scores), scores, -np.inf)
