"""The algorithm's decisions, each a function of the space, the history so
far, a random state and the settings.

:class:`~harmonica_sklearn.HarmonicaOptimizer` composes them into stages and
rungs; they are tested on their own with crafted histories.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
from scipy.stats import norm, rankdata

from ._history import Trial, failures_last
from ._report import (
    StageReport,
    best_observed,
    effect_importances,
    readable_term,
    scores_at_normal_scores,
    stage_effects,
    term_effects,
)
from ._restriction import refine
from ._spectral import fit_sparse_polynomial, supported_degree
from ._surrogate import fit_surrogate

__all__ = [
    "MIN_STAGE_SIZE",
    "draw_unseen",
    "fit_stage",
    "promote",
    "rank_by_surrogate",
    "stage_plan",
]

# Share of n_iter given to the spectral stages when they are sized
# automatically; the rest goes to the final stage.
SPECTRAL_SHARE = 0.6
# A spectral stage with fewer samples than this cannot separate terms from
# noise; smaller budgets skip the spectral stages.
MIN_STAGE_SIZE = 20
# Automatic stages hold at least this many samples each (at most
# MAX_AUTO_STAGES): several small stages beat one large one on the planted
# benchmarks, as each stage re-fits inside a smaller space.
AUTO_STAGE_SIZE = 60
MAX_AUTO_STAGES = 3
# Automatic stages hold at most this many samples: the sparse fit gains
# little beyond it, and drawing, decoding and encoding grow with it.
MAX_AUTO_STAGE_SIZE = 2000
# The first spectral stage runs in two halves with a confirmation between
# them (an answer at full resource half-way through it) when the stage holds
# two stages' worth of samples and the extra full evaluation costs at most a
# twentieth of n_iter.
MIN_N_ITER_FOR_PREVIEW = 20
# Largest budget of one fit (the batches and pools grow with it); a longer
# search continues with warm_start.
MAX_N_ITER = 100_000
# Largest pool of the final stage's surrogate (candidates drawn and scored).
MAX_POOL_SIZE = 20_000
# Draw rounds when looking for candidates not evaluated yet.
_UNIQUE_DRAW_ROUNDS = 20


def stage_plan(n_iter, spectral_cost, n_stages="auto", stage_size="auto"):
    """``(n_stages, stage_size)`` of the spectral stages.

    Parameters
    ----------
    n_iter : int
        Budget in full-resource evaluations.
    spectral_cost : float
        Cost of one spectral-stage evaluation, in full-resource evaluations.
    n_stages, stage_size : int or "auto"

    Raises
    ------
    ValueError
        When explicit settings do not fit in ``n_iter``.
    """
    affordable = int(n_iter / spectral_cost)
    samples = int(SPECTRAL_SHARE * affordable)
    if n_stages == "auto" and stage_size == "auto":
        n = min(MAX_AUTO_STAGES, max(1, samples // AUTO_STAGE_SIZE))
        size = min(samples // n, MAX_AUTO_STAGE_SIZE)
        return (0, 0) if size < MIN_STAGE_SIZE else (n, size)
    if n_stages == "auto":
        return min(MAX_AUTO_STAGES, samples // stage_size), stage_size
    if stage_size == "auto":
        if n_stages == 0:
            return 0, 0
        size = samples // n_stages
        if size < MIN_STAGE_SIZE:
            raise ValueError(
                f"n_iter={n_iter} is too small for n_stages={n_stages}: each stage "
                f"would get {size} candidates (at least {MIN_STAGE_SIZE} are "
                "needed). Raise n_iter or lower n_stages."
            )
        return n_stages, size
    needed = n_stages * stage_size * spectral_cost
    if needed > n_iter:
        raise ValueError(
            f"n_iter={n_iter} is too small for n_stages={n_stages} stages of "
            f"stage_size={stage_size} candidates (they cost {needed:g} full "
            "evaluations). Raise n_iter or lower them."
        )
    return n_stages, stage_size


def draw_unseen(space, restriction, n, rng, seen, exclude=(), decode=True):
    """Up to ``n`` distinct trials from ``restriction`` whose keys are
    neither in ``seen`` nor in ``exclude``.

    With ``decode=False`` their ``params`` are None (see :func:`decoded`): a
    pool of thousands of draws of which a few are kept is not decoded, as a
    distribution's quantile function costs about 0.2 ms a value.
    """
    trials = []
    taken = set(exclude)
    for _ in range(_UNIQUE_DRAW_ROUNDS):
        index, offset, _ = restriction.sample(space, n, rng)
        for i in range(n):
            key = space.candidate_key(index[i], offset[i])
            if key in seen or key in taken:
                continue
            taken.add(key)
            params = space.decode(index[i], offset[i]) if decode else None
            trials.append(Trial(params, key, index[i], offset[i]))
            if len(trials) == n:
                return trials
    return trials


def decoded(space, trials):
    """``trials`` with their parameter dicts (drawn with ``decode=False``)."""
    return [
        t if t.params is not None else replace(t, params=space.decode(t.index, t.offset))
        for t in trials
    ]


def encode_trials(space, trials):
    """The +/-1 bits of ``trials``, one row each."""
    if not trials:
        return np.zeros((0, space.n_bits), dtype=np.int8)
    return space.encode(np.array([t.index for t in trials]))


def best_inside(space, restriction, evaluations, n):
    """The trials of the ``n`` best ``evaluations`` inside ``restriction``,
    failures last."""
    if not evaluations or n <= 0:
        return []
    bits = encode_trials(space, [e.trial for e in evaluations])
    inside = np.flatnonzero(restriction.match(bits) >= 0)
    scores = failures_last([evaluations[i].score for i in inside])
    best = inside[np.argsort(-scores, kind="stable")]
    return [evaluations[i].trial for i in best[:n]]


def rank_by_surrogate(space, evaluations, pool, n):
    """Indices of the ``n`` trials of ``pool`` that a dense parity surrogate
    fitted on ``evaluations`` predicts best (ties to the earlier draw)."""
    bits = encode_trials(space, [e.trial for e in evaluations])
    y = normal_scores([e.score for e in evaluations])
    surrogate = fit_surrogate(bits, y, space.bit_owner())
    predicted = surrogate.predict(encode_trials(space, pool))
    return np.argsort(-predicted, kind="stable")[:n]


def promote(trials, scores, n_keep):
    """The ``n_keep`` best of ``trials`` by ``scores``; failures last, ties
    to the earlier trial."""
    order = np.argsort(-failures_last(scores), kind="stable")[:n_keep]
    return [trials[i] for i in order]


def normal_scores(scores):
    """Scores replaced by normal quantiles of their ranks, failures lowest.

    The spectral fit then sees the *order* of the candidates, not the size of
    a few catastrophic failures (a diverged net, a 10% accuracy): least
    squares and its F-tests are not dragged by outliers, and the scale of
    the scoring function does not matter.  Ties share their mean rank.
    """
    ranks = rankdata(failures_last(scores))
    return norm.ppf((ranks - 0.5) / len(ranks))


def impute_failures(scores):
    """Non-finite scores become the worst finite one (zeros when none is
    finite): scores in the metric's units for reporting."""
    scores = np.asarray(scores, dtype=float)
    finite = np.isfinite(scores)
    if finite.all() or not finite.any():
        return np.where(finite, scores, 0.0)
    return np.where(finite, scores, scores[finite].min())


def fit_stage(space, restriction, evaluations, settings, stage):
    """Fit the sparse polynomial of one spectral stage and restrict.

    Parameters
    ----------
    space : SearchSpace
    restriction : Restriction
        The restriction the stage sampled from.
    evaluations : list of Evaluation
        Every evaluation the spectral fit may use, in order (the ones
        outside ``restriction`` are left out).
    settings : StageSettings-like
        With ``degree``, ``n_terms``, ``alpha`` and ``n_best``.
    stage : int

    Returns
    -------
    new_restriction : Restriction
    report : StageReport
    """
    bits_all = encode_trials(space, [e.trial for e in evaluations])
    scores_all = np.array([e.score for e in evaluations])
    alternative = restriction.match(bits_all)
    inside = alternative >= 0
    bits, raw, alternative = bits_all[inside], scores_all[inside], alternative[inside]
    y = normal_scores(raw)
    effects = np.array(
        [
            y[alternative == a].mean() if np.any(alternative == a) else y.mean()
            for a in range(restriction.n_alternatives)
        ]
    )
    free = restriction.free_bits(space.n_bits)
    groups = space.bit_owner()[free]
    within_memory = supported_degree(groups, len(y), settings.degree, n_terms=0)
    if within_memory < settings.degree:
        warnings.warn(
            f"Stage {stage}: parity features of degree {settings.degree} over "
            f"{len(free)} bits would not fit in memory; using degree "
            f"{within_memory} at most.",
            UserWarning,
        )
    degree = supported_degree(groups, len(y), within_memory, settings.n_terms)
    polynomial = fit_sparse_polynomial(
        bits[:, free],
        y - effects[alternative],
        degree=degree,
        n_terms=settings.n_terms,
        alpha=settings.alpha,
        groups=groups,
    )
    new_restriction, predicted = refine(
        restriction, space, polynomial, free, effects - effects.mean(), settings.n_best
    )
    term_bits = [tuple(int(free[i]) for i in subset) for subset in polynomial.subsets]
    finite = raw[np.isfinite(raw)]
    stage_scores = [e.score for e in evaluations if e.batch.stage == stage]
    value_effects = stage_effects(
        space, bits, impute_failures(raw), alternative, restriction.allowed, term_bits
    )
    report = StageReport(
        stage=stage,
        n_candidates=len(stage_scores),
        n_fit_samples=int(inside.sum()),
        n_resources=evaluations[-1].resource,
        degree=degree,
        terms=[
            (readable_term(space, b), float(c)) for b, c in zip(term_bits, polynomial.coefs)
        ],
        term_bits=term_bits,
        intercept=float(polynomial.intercept),
        restriction=new_restriction.describe(space),
        predicted_scores=[float(p + polynomial.intercept) for p in predicted],
        best_score=best_observed(stage_scores),
        importances=effect_importances(space, [value_effects]),
        effects=value_effects,
        term_effects=term_effects(bits, raw, alternative, term_bits),
        score_mean=float(finite.mean()) if finite.size else float("nan"),
        score_std=float(finite.std()) if finite.size else float("nan"),
        predicted_raw_scores=scores_at_normal_scores(
            impute_failures(raw), predicted + polynomial.intercept + effects.mean()
        ),
    )
    return new_restriction, report


def to_confirm(spectral, confirmed, max_resources):
    """The trial to confirm at full resource, or None.

    The best spectral-stage evaluation at a reduced resource (failures
    never), when its score beats the reduced-resource score of every trial
    confirmed before; None when the stages ran at full resource already.
    """
    # Told evaluations (a warm start) were not made with this run's
    # evaluation: they are confirmed at any resource.
    reduced = [
        e for e in spectral
        if (e.resource < max_resources or e.batch.phase == "told") and np.isfinite(e.score)
    ]
    if not reduced:
        return None
    best = reduced[int(np.argmax([e.score for e in reduced]))]
    confirmed_keys = {e.trial.key for e in confirmed}
    earlier = [e.score for e in reduced if e.trial.key in confirmed_keys]
    if best.trial.key in confirmed_keys or (earlier and best.score <= max(earlier)):
        return None
    return best.trial


def halving_keep(n, factor):
    """Candidates a rung of ``n`` passes to the next one."""
    return math.ceil(n / factor)


def final_stage_summary(pool_size, pool_from_outside, n_kept, kept_from_outside):
    return {
        "pool_size": int(pool_size),
        "pool_from_outside": int(pool_from_outside),
        "n_kept": int(n_kept),
        "kept_from_outside": int(kept_from_outside),
    }


def warn_non_finite(scores, where):
    """Say how many candidates of a batch the search will treat as failed."""
    scores = np.asarray(scores, dtype=float)
    counts = {
        "NaN": int(np.isnan(scores).sum()),
        "+inf": int(np.isposinf(scores).sum()),
        "-inf": int(np.isneginf(scores).sum()),
    }
    n_bad = sum(counts.values())
    if n_bad:
        detail = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        warnings.warn(
            f"{where}: {n_bad} of {len(scores)} candidates got a non-finite mean "
            f"test score ({detail}). The search treats them as failed, as worse "
            "than every finite score (+inf too), when it chooses where to search "
            "next; cv_results_ keeps their scores and ranks.",
            UserWarning,
        )
