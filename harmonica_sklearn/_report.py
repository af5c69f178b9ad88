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
        Predicted score of each kept alternative.
    best_score : float
        Best score observed in this stage.
    importances : dict
        ``{parameter: share}`` of the variance explained in this stage.
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

    Returns a list of ``(parameter labels, standard deviation of the
    effect, number of terms)``; the standard deviation, in score units, is
    ``sqrt(sum coef**2)`` over the group's terms.
    """
    owner = space.bit_owner()
    groups = {}
    for bits, coef in zip(term_bits, coefs):
        names = tuple(sorted({space.param_label(int(owner[b])) for b in bits}))
        variance, count = groups.get(names, (0.0, 0))
        groups[names] = (variance + coef**2, count + 1)
    ranked = sorted(groups.items(), key=lambda item: -item[1][0])
    return [(names, variance**0.5, count) for names, (variance, count) in ranked]


def normalise(shares):
    total = sum(shares.values())
    if total == 0:
        return dict(shares)
    return {name: value / total for name, value in shares.items()}


def format_report(search, max_terms=10):
    """Plain-text report of a fitted :class:`HarmonicaSearchCV`.

    Per stage, the learned effects grouped by the parameters they involve
    (the individual terms are in ``search.stages_[i].terms``), the settings
    kept, then the halving schedule and the importance ranking.
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
        lines.append(
            f"Stage {report.stage}: {report.n_candidates} candidates "
            f"(fit on {report.n_fit_samples}, degree {report.degree}, "
            f"resource {report.n_resources}); best score {report.best_score:.4f}"
        )
        effects = grouped_effects(search.space_, report.term_bits, [c for _, c in report.terms])
        if not effects:
            lines.append("    no effect stood out from the noise")
        for names, weight, n_terms in effects[:max_terms]:
            kind = "main effect" if len(names) == 1 else "interaction"
            label = " x ".join(names)
            lines.append(
                f"    {label:<40} sd {weight:8.4f}  ({kind}, "
                f"{n_terms} term{'s' * (n_terms > 1)})"
            )
        for i, alternative in enumerate(report.restriction):
            fixed = "; ".join(f"{k}: {v}" for k, v in alternative.items()) or "-"
            lines.append(f"    keep {i + 1}: {fixed}")
    if getattr(search, "n_resources_", None):
        lines.append("")
        lines.append(
            "Final successive halving: "
            + ", ".join(
                f"{n} x {r}" for n, r in zip(search.n_candidates_, search.n_resources_)
            )
            + f" (candidates x {search.resource})"
        )
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


def best_observed(scores):
    finite = np.asarray(scores, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(finite.max()) if finite.size else float("nan")
