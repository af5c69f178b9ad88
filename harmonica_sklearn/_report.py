"""What the search learned, in hyperparameter names and values.

A polynomial term over bits is shown as a product of bracketed +/-1
variables: ``[optimizer in {adam, sgd}]`` is +1 when the optimizer is adam or
sgd and -1 otherwise; ``[batch_norm=True]`` is +1 when batch_norm is True;
``[C in 0.18..5.6]`` is +1 when C falls in the buckets of its distribution
that span 0.18 to 5.6.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

__all__ = ["StageReport", "format_report"]


@dataclass
class StageReport:
    """The outcome of one spectral stage.

    Attributes
    ----------
    stage : int
        1 for the first stage.
    n_candidates : int
        Candidates evaluated in this stage.
    n_fit_samples : int
        Evaluations the polynomial was fitted on (this stage's and the
        earlier ones that fall inside the current restriction).
    n_resources : int
        Resource of this stage's evaluations.
    degree : int
        Degree of the parity features used.
    terms : list of (str, float)
        Readable term and its coefficient, strongest first.
    term_bits : list of tuple of int
        The same terms as positions in the full bit vector.
    intercept : float
    restriction : list of dict
        Per kept alternative, ``{parameter: [allowed values]}`` for every
        parameter that the search has restricted so far.
    predicted_scores : list of float
        The polynomial's value for each kept alternative, on the scale of
        ``terms`` (normal scores of the ranks, not the metric's units); it
        ranks the alternatives.  ``predicted_raw_scores`` holds the same in
        score units.
    best_score : float
        Best score observed in this stage.
    importances : dict
        ``{parameter: share}`` of the variance explained in this stage.
    term_effects : list of float
        Per term of ``terms``, in score units (the units of the metric):
        the difference in mean score between the candidates where the term
        is +1 and those where it is -1, the other terms held fixed (twice
        its least-squares coefficient on the scores; failed fits left out).
    score_mean, score_std : float
        Mean and standard deviation of the scores the polynomial was fitted
        on (score units, failed fits left out).
    predicted_raw_scores : list of float
        ``predicted_scores`` in score units: the score at the same rank
        among the scores the polynomial was fitted on (failed fits counted
        as the worst score), which inverts the fit's rank transform, keeps
        the order of the alternatives and stays within the observed scores.

    Notes
    -----
    The polynomial is fitted to the normal quantiles of the scores' ranks
    (robust to outliers, independent of the metric's scale), so ``terms``,
    ``intercept`` and ``predicted_scores`` are in those units.  The
    ``term_effects``, ``score_mean``, ``score_std`` and
    ``predicted_raw_scores`` attributes are in the metric's units.
    """

    stage: int
    n_candidates: int
    n_fit_samples: int
    n_resources: int
    degree: int
    terms: list
    term_bits: list
    intercept: float
    restriction: list
    predicted_scores: list
    best_score: float
    importances: dict = field(default_factory=dict)
    term_effects: list = field(default_factory=list)
    score_mean: float = float("nan")
    score_std: float = float("nan")
    predicted_raw_scores: list = field(default_factory=list)


def readable_term(space, bits):
    """``[a=1] * [b in {x, y}]`` for a tuple of bit positions.

    The bits of one parameter are multiplied into one factor (their product
    is +1 on a set of its values), so each parameter appears once.
    """
    owner = space.bit_owner()
    by_param = {}
    for b in bits:
        by_param.setdefault(int(owner[b]), []).append(b)
    return " * ".join(space.bits_label(group) for group in by_param.values())


def term_importances(space, term_bits, coefs):
    """Variance explained by each parameter, over every parameter label.

    Parities are orthonormal under uniform sampling, so a term contributes
    ``coef**2`` to the variance of the score (as in functional ANOVA); an
    interaction's share is split evenly among its parameters.  Squares, not
    absolute values: a many-valued parameter's main effect has many small
    terms, and noise in each should not add up to importance.
    """
    owner = space.bit_owner()
    shares = {space.param_label(p): 0.0 for p in range(space.n_params)}
    for bits, coef in zip(term_bits, coefs):
        params = sorted({int(owner[b]) for b in bits})
        for p in params:
            shares[space.param_label(p)] += coef**2 / len(params)
    return shares


def grouped_effects(space, term_bits, coefs):
    """Terms grouped by the parameters they involve, strongest group first.

    Returns a list of ``(parameter labels, size, number of terms)``, where
    the size is ``sqrt(sum coef**2)`` over the group's terms, in the units
    of ``coefs`` (NaN coefficients count as 0).  With the coefficients of
    the +/-1 terms, it is the standard deviation the group adds to the
    score; with the terms' effects (differences of means between their two
    sides, :func:`term_effects`), it is the difference of means of a single
    term that would explain as much variance.
    """
    owner = space.bit_owner()
    groups = {}
    for bits, coef in zip(term_bits, coefs):
        names = tuple(sorted({space.param_label(int(owner[b])) for b in bits}))
        variance, count = groups.get(names, (0.0, 0))
        groups[names] = (variance + np.nan_to_num(coef) ** 2, count + 1)
    ranked = sorted(groups.items(), key=lambda item: -item[1][0])
    return [(names, variance**0.5, count) for names, (variance, count) in ranked]


def term_effects(bits, scores, alternative, term_bits):
    """Effect of each term in score units, the other terms held fixed.

    The scores are regressed by least squares on all the terms together,
    with one intercept per alternative of the previous restriction; a
    term's effect is twice its coefficient: the difference in mean score
    between the candidates where it is +1 and where it is -1, the other
    terms held fixed.  (Uniform sampling makes the terms nearly
    uncorrelated, so this is close to the plain difference of the two
    means, but not confounded by the chance correlations of a weak term
    with a strong one.)

    Parameters
    ----------
    bits : ndarray of shape (n_samples, n_bits)
        +/-1 encoding of the evaluated candidates.
    scores : ndarray of shape (n_samples,)
        Their scores; non-finite ones (failed fits) are left out.
    alternative : ndarray of shape (n_samples,)
        The alternative of the previous restriction each candidate is in.
    term_bits : list of tuple of int
        The terms, as bit positions.

    Returns
    -------
    list of float
        One effect per term; NaN for a term that takes a single value on the
        finite scores.
    """
    finite = np.isfinite(scores)
    bits, scores, alternative = bits[finite], scores[finite], alternative[finite]
    if not term_bits or scores.size == 0:
        return [float("nan")] * len(term_bits)
    features = np.column_stack(
        [np.prod(bits[:, list(term)], axis=1) for term in term_bits]
    ).astype(float)
    intercepts = (alternative[:, None] == np.unique(alternative)[None, :]).astype(float)
    design = np.hstack([intercepts, features])
    coefs = np.linalg.lstsq(design, scores, rcond=None)[0][intercepts.shape[1] :]
    varies = np.ptp(features, axis=0) > 0
    return [float(2 * c) if v else float("nan") for c, v in zip(coefs, varies)]


def scores_at_normal_scores(scores, normal_scores):
    """Translate normal scores of ranks back into scores.

    The inverse of the transform the spectral fit applies: a normal score
    ``z`` is the rank quantile ``Phi(z)``, and the score at that quantile of
    ``scores`` (interpolated) is its value in score units.  Monotone, so it
    keeps the order of ``normal_scores``, and within the observed scores.

    Parameters
    ----------
    scores : ndarray of shape (n_samples,)
        The scores the normal scores were computed from (no NaN).
    normal_scores : array-like of float
        Values on the scale of the spectral fit, e.g. predictions.

    Returns
    -------
    list of float
    """
    if len(scores) == 0:
        return [float("nan")] * len(normal_scores)
    quantiles = norm.cdf(np.asarray(normal_scores, dtype=float))
    return [float(v) for v in np.quantile(np.asarray(scores, dtype=float), quantiles)]


def normalise(shares):
    total = sum(shares.values())
    if total == 0:
        return dict(shares)
    return {name: value / total for name, value in shares.items()}


def format_report(search, max_terms=10):
    """Plain-text report of a fitted :class:`HarmonicaSearchCV`.

    Per stage, the spread of the scores, the learned effects grouped by the
    parameters they involve, in score units (a group's size is the root sum
    of squares of its terms' effects; a lone term is shown with its signed
    effect; every term is in ``search.stages_[i].terms``), and the settings
    kept with their predicted scores; then the halving schedule and the
    importance ranking.
    """
    lines = []
    results = search.cv_results_
    n_evals = len(results["params"])
    lines.append(
        f"HarmonicaSearchCV: {n_evals} evaluations, budget used "
        f"{search.budget_spent_:.1f} of n_iter={search.n_iter} "
        f"full-resource evaluations ({search.search_mode_} mode)"
    )
    if hasattr(search, "best_params_"):
        lines.append("Best parameters:")
        for name, value in search.best_params_.items():
            lines.append(f"    {name} = {value!r}")
        if hasattr(search, "best_score_"):
            lines.append(f"Best CV score: {search.best_score_:.4f}")
    for report in search.stages_:
        lines.append("")
        lines.extend(_stage_lines(search.space_, report, max_terms))
    if getattr(search, "n_resources_", None):
        lines.append("")
        lines.append(
            "Final successive halving: "
            + ", ".join(
                f"{n} x {r}" for n, r in zip(search.n_candidates_, search.n_resources_)
            )
            + f" (candidates x {search.resource})"
        )
    lines.extend(_final_pool_lines(getattr(search, "final_stage_", {})))
    importances = search.param_importances_
    if any(v > 0 for v in importances.values()):
        lines.append("")
        lines.append("Hyperparameter importance (share of the explained variance):")
        ranked = sorted(importances.items(), key=lambda kv: -kv[1])
        width = max(len(name) for name, _ in ranked)
        for name, value in ranked:
            if value <= 0:
                continue
            bar = "#" * int(round(40 * value))
            lines.append(f"    {name:<{width}}  {value:6.1%}  {bar}")
        zero = [name for name, value in ranked if value <= 0]
        if zero:
            lines.append(f"    no effect found: {', '.join(zero)}")
    return "\n".join(lines)


def _stage_lines(space, report, max_terms):
    """The lines of one spectral stage, its effects in score units."""
    lines = [
        f"Stage {report.stage}: {report.n_candidates} candidates "
        f"(fit on {report.n_fit_samples}, degree {report.degree}, "
        f"resource {report.n_resources}); best score {report.best_score:.4f}"
    ]
    effects = list(getattr(report, "term_effects", None) or [])
    score_std = getattr(report, "score_std", float("nan"))
    if np.isfinite(score_std):
        lines.append(
            f"    scores of the fitted candidates: mean {report.score_mean:.4f}, "
            f"sd {score_std:.4f}"
        )
    groups = grouped_effects(space, report.term_bits, effects)
    if not groups:
        lines.append("    no effect stood out from the noise")
    else:
        lines.append(
            "    effects in score units (a term's: mean score where +1 minus "
            "where -1, others fixed):"
        )
    terms = {}
    for (term, _), bits, effect in zip(report.terms, report.term_bits, effects):
        names = tuple(sorted({space.param_label(int(space.bit_owner()[b])) for b in bits}))
        terms.setdefault(names, []).append((term, effect))
    shown = groups[:max_terms]
    width = max([20] + [len(" x ".join(names)) for names, _, _ in shown])
    for names, size, n_terms in shown:
        kind = "main effect" if len(names) == 1 else "interaction"
        detail = f"{n_terms} terms"
        if n_terms == 1:
            term, effect = terms[names][0]
            detail = f"{term} {effect:+.4f}"
        label = " x ".join(names)
        lines.append(f"    {label:<{width}} {size:8.4f}  ({kind}: {detail})")
    predicted = list(getattr(report, "predicted_raw_scores", None) or [])
    for i, alternative in enumerate(report.restriction):
        fixed = "; ".join(f"{k}: {_values(v)}" for k, v in alternative.items()) or "-"
        guess = f"  (predicted score {predicted[i]:.4f})" if i < len(predicted) else ""
        lines.append(f"    keep {i + 1}: {fixed}{guess}")
    return lines


def _final_pool_lines(final):
    """How the final stage's candidates were chosen, when a pool was ranked."""
    if not final or final["pool_size"] <= final["n_kept"]:
        return []
    line = (
        f"    first candidates: the best {final['n_kept']} of "
        f"{final['pool_size']} new draws by a surrogate fitted on the stages"
    )
    if final["pool_from_outside"]:
        line += (
            f"; the restricted space had too few left, so {final['pool_from_outside']} "
            f"draws came from the whole space and {final['kept_from_outside']} of "
            "the kept candidates lie outside the settings kept above"
        )
    return [line]


def _values(labels):
    return labels[0] if len(labels) == 1 else "{" + ", ".join(labels) + "}"


def best_observed(scores):
    finite = np.asarray(scores, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(finite.max()) if finite.size else float("nan")
