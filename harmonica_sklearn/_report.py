"""What the search learned, in hyperparameter names and values.

A polynomial term over bits is shown as a product of bracketed +/-1
variables: ``[optimizer in {adam, sgd}]`` is +1 when the optimizer is adam or
sgd and -1 otherwise; ``[batch_norm=True]`` is +1 when batch_norm is True;
``[C in 0.18..5.6]`` is +1 when C falls in the buckets of its distribution
that span 0.18 to 5.6.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

from ._labels import _short_repr
from ._spectral import term_columns

__all__ = ["Effect", "StageReport", "format_report", "stage_effects", "effect_importances"]

# A value counts among the best (worst) of a parameter when its predicted
# mean score is within this share of the effect from the best (worst) one.
NEAR_BEST = 0.2
# Interactions over more value combinations than this are not measured.
MAX_COMBINATIONS = 4096


@dataclass
class Effect:
    """What one hyperparameter, or one set of interacting ones, changes.

    Attributes
    ----------
    parameters : tuple of str
        One label for a main effect, several for an interaction.
    effect : float
        In score units (the units of the metric).  Main effect: the
        predicted mean score of the best value minus that of the worst, over
        the values the stage could choose.  Interaction: the spread (maximum
        minus minimum) over the value combinations of the part of the
        predicted mean score that the main effects of its parameters do not
        explain.  0 when the fitted polynomial has no term in it.
    value_means : dict
        Predicted mean score of each value (main effect, keys are value
        labels) or value combination (interaction, keys are tuples of
        labels), score units.
    best_values, worst_values : list
        Main effect: the labels of the values whose predicted mean is within
        ``NEAR_BEST`` (a fifth) of the effect from the best (worst) one,
        neighbouring buckets of a distribution merged into one range.
        Interaction: the best (worst) combination, a tuple of labels.
        Empty when the effect is 0.
    n_terms : int
        Terms of the stage's polynomial that involve exactly these
        parameters.
    """

    parameters: tuple
    effect: float
    value_means: dict
    best_values: list
    worst_values: list
    n_terms: int = 0

    @property
    def kind(self):
        return "main effect" if len(self.parameters) == 1 else "interaction"


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
    effects : list of Effect
        Per hyperparameter that still had two values or more to choose from
        in this stage, and per interaction found, its effect in score units
        (:func:`stage_effects`), strongest first.  This, not
        ``term_effects``, is what the report shows.

    Notes
    -----
    The polynomial is fitted to the normal quantiles of the scores' ranks
    (robust to outliers, independent of the metric's scale), so ``terms``,
    ``intercept`` and ``predicted_scores`` are in those units.  The
    ``effects``, ``term_effects``, ``score_mean``, ``score_std`` and
    ``predicted_raw_scores`` attributes are in the metric's units.

    A parameter with ``k`` values has several terms (up to
    ``2**ceil(log2 k) - 1``), which are collinear when ``k`` is not a power
    of two: their ``term_effects`` can be large and cancel each other.  Only
    ``effects`` says how much a parameter changes the score.
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
    effects: list = field(default_factory=list)


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
    coefs, _ = _refit(bits, scores, alternative, term_bits)
    varies = np.ptp(term_columns(bits, term_bits), axis=0) > 0
    return [float(2 * c) if v else float("nan") for c, v in zip(coefs, varies)]


def scores_at_normal_scores(scores, normal_scores):
    """Translate normal scores of ranks back into scores.

    The inverse of the transform the spectral fit applies: the ``k``-th
    smallest of ``n`` scores gets the normal score
    ``Phi^-1((k - 0.5) / n)``, so a normal score ``z`` between two of these
    is mapped to the score interpolated linearly between the two scores,
    and a ``z`` beyond them to the lowest or highest score.  Monotone, so it
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
    return [float(v) for v in _score_units(scores, normal_scores)]


def _score_units(scores, normal_scores):
    """:func:`scores_at_normal_scores` as an array of the input's shape."""
    normal_scores = np.asarray(normal_scores, dtype=float)
    scores = np.sort(np.asarray(scores, dtype=float))
    if scores.size == 0:
        return np.full(normal_scores.shape, np.nan)
    positions = norm.ppf((np.arange(scores.size) + 0.5) / scores.size)
    return np.interp(normal_scores, positions, scores)


def stage_effects(space, bits, scores, alternative, allowed, term_bits):
    """Effects in score units of the terms a stage's polynomial selected.

    The spectral fit works on normal scores of the ranks, whose units are
    not the metric's, and whose translation back to scores is not linear.
    So the terms it selected are fitted again, by least squares on the
    scores themselves (with one intercept per alternative of the
    restriction, and each parameter's terms as the fit had them: all of
    them when it has a main effect), and the effects are read from that
    polynomial, in score units.

    For a parameter, every candidate the stage was fitted on is moved to
    each value the stage could give it (the values its alternative allows),
    the rest of the candidate unchanged, and the polynomial predicts its
    score there.  A value's predicted mean score averages these over the
    candidates, so the other parameters follow the distribution they were
    sampled from (each candidate's predictions are first centred on their
    mean over its allowed values, so that alternatives which allow fewer
    values do not shift the means).  The effect is the largest predicted
    mean minus the smallest.  Predictions are made only at the codes of
    values in use, never at the unused codes of a parameter whose number of
    values is not a power of two: over the used codes a parameter's terms
    are collinear, and only their sum, which this prediction is, means
    anything.

    For each set of parameters that share a term of degree 2 or more, the
    same over value combinations; the effect is the spread of their pure
    interaction: the predicted means with every lower-order part removed
    (each axis of the table of means centred in turn), which for two
    parameters is the mean of the pair minus the means of each value plus
    the overall mean.

    Parameters
    ----------
    space : SearchSpace
    bits : ndarray of shape (n_samples, n_bits)
        +/-1 encoding of the candidates the polynomial was fitted on.
    scores : ndarray of shape (n_samples,)
        Their scores, in score units, failed fits already replaced by the
        worst score (no NaN).
    alternative : ndarray of shape (n_samples,)
        The alternative of the restriction each candidate is in.
    allowed : list
        Per alternative, per parameter, the mask of its allowed values
        (``Restriction.allowed``).
    term_bits : list of tuple of int
        The polynomial's terms as positions in the full bit vector.

    Returns
    -------
    list of Effect
        Strongest first; main effects of every parameter with two values or
        more to choose from, interactions of every set of parameters that
        share a term.
    """
    bits = np.asarray(bits)
    scores = np.asarray(scores, dtype=float)
    if bits.shape[0] == 0:
        return []
    alternative = np.asarray(alternative, dtype=np.intp)
    term_params = [space.term_params(term) for term in term_bits]
    coefs, base = _refit(bits, scores, alternative, term_bits)
    active = _active_rows(space, bits)

    sets = [(p,) for p, param in enumerate(space.params) if param.n_bits > 0]
    sets += list(dict.fromkeys(params for params in term_params if len(params) > 1))
    effects = []
    for params in sets:
        values = [_open_values(space, p, allowed, alternative) for p in params]
        if any(len(v) < 2 for v in values):
            continue
        n_combos = int(np.prod([len(v) for v in values]))
        if n_combos > MAX_COMBINATIONS:
            continue
        touching = [i for i, tp in enumerate(term_params) if set(tp) & set(params)]
        rows = np.all([active[p] for p in params], axis=0)
        if not rows.any():
            continue
        n_terms = sum(tp == params for tp in term_params)
        if not touching:
            effects.append(_flat_effect(space, params, n_terms))
            continue
        means = _value_means(
            space, params, values, bits[rows], base[rows], alternative[rows],
            allowed, [term_bits[i] for i in touching], coefs[touching],
        )
        effects.append(_effect(space, params, values, means, n_terms))
    return sorted(effects, key=lambda e: -e.effect)


def _refit(bits, scores, alternative, term_bits):
    """Least squares of ``scores`` on the terms and one intercept per
    alternative: the terms' coefficients and the fitted values."""
    intercepts = (alternative[:, None] == np.unique(alternative)[None, :]).astype(float)
    features = np.hstack([intercepts, term_columns(bits, term_bits)])
    solution = np.linalg.lstsq(features, scores, rcond=None)[0]
    return solution[intercepts.shape[1] :], features @ solution


def _terms_value(bits, term_bits, coefs):
    out = np.zeros(bits.shape[0])
    for column, coef in zip(term_columns(bits, term_bits).T, coefs):
        out += coef * column
    return out


def _active_rows(space, bits):
    """Per parameter, which rows are in a branch that uses it."""
    n = bits.shape[0]
    if space.branch_param is None:
        return [np.ones(n, bool) for _ in space.params]
    selector = space.params[space.branch_param]
    codes = bits[:, selector.bit_slice]
    branch = np.argmax(
        np.all(codes[:, None, :] == selector.codes[None, :, :], axis=2), axis=1
    )
    return [
        np.ones(n, bool) if p == space.branch_param else np.isin(branch, param.branches)
        for p, param in enumerate(space.params)
    ]


def _open_values(space, p, allowed, alternative):
    """Codes of parameter ``p`` that some alternative in use allows."""
    used = np.unique(alternative)
    mask = space.params[p].weights > 0
    mask = mask & np.any([allowed[a][p] for a in used], axis=0)
    return np.flatnonzero(mask)


def _value_means(space, params, values, bits, base, alternative, allowed, terms, coefs):
    """Predicted mean score of every value combination (see stage_effects)."""
    combos = list(itertools.product(*values))
    before = _terms_value(bits, terms, coefs)
    predicted = np.full((bits.shape[0], len(combos)), np.nan)
    moved = bits.copy()
    for c, combo in enumerate(combos):
        ok = np.ones(bits.shape[0], bool)
        for p, code in zip(params, combo):
            param = space.params[p]
            moved[:, param.bit_slice] = param.codes[code]
            ok &= np.array([allowed[a][p][code] for a in alternative])
        after = _terms_value(moved, terms, coefs)
        predicted[ok, c] = (base - before + after)[ok]
    keep = np.isfinite(predicted).any(axis=1)
    predicted = predicted[keep]
    centred = predicted - np.nanmean(predicted, axis=1, keepdims=True)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(centred, axis=0) + np.nanmean(predicted)
    return means.reshape([len(v) for v in values])


def _effect(space, params, values, means, n_terms):
    labels = [space.param_label(p) for p in params]
    finite = np.isfinite(means)
    if not finite.any():
        return _flat_effect(space, params, n_terms)
    spread_of = means if len(params) == 1 else _pure_interaction(means)
    effect = float(np.nanmax(spread_of) - np.nanmin(spread_of))
    names = [[space.params[p].label(int(code)) for code in v] for p, v in zip(params, values)]
    value_means = {}
    for position in zip(*np.nonzero(finite)):
        key = tuple(names[k][i] for k, i in enumerate(position))
        value_means[key[0] if len(key) == 1 else key] = float(means[position])
    best, worst = [], []
    if effect > 1e-12:
        top, bottom = max(value_means.values()), min(value_means.values())
        if len(params) == 1:
            # Ties within a fifth of the effect; neighbouring buckets merged.
            param, codes = space.params[params[0]], values[0]
            near_top = means >= top - NEAR_BEST * effect
            near_bottom = means <= bottom + NEAR_BEST * effect
            best = param.labels(codes[finite & near_top])
            worst = param.labels(codes[finite & near_bottom])
        else:
            best = [max(value_means, key=value_means.get)]
            worst = [min(value_means, key=value_means.get)]
    return Effect(tuple(labels), effect, value_means, best, worst, n_terms)


def _flat_effect(space, params, n_terms):
    """An Effect of 0: the polynomial has no term in these parameters."""
    labels = tuple(space.param_label(p) for p in params)
    return Effect(labels, 0.0, {}, [], [], n_terms)


def _pure_interaction(means):
    """The top-order part of a table of means: each axis centred in turn."""
    part = np.array(means, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for axis in range(part.ndim):
            part = part - np.nanmean(part, axis=axis, keepdims=True)
    return part


def effect_importances(space, effect_lists):
    """Importance of every parameter: its share of the summed effects.

    A parameter's effect is the largest main effect that the given stages
    measured for it; an interaction's effect (the largest over the stages)
    is split evenly among its parameters.  Effects are in score units, so
    a share says how much of the score differences the search saw each
    parameter account for.

    Parameters
    ----------
    space : SearchSpace
    effect_lists : list of list of Effect
        One list per stage (``StageReport.effects``).

    Returns
    -------
    dict
        ``{parameter label: share}`` over every parameter of the space,
        summing to 1 when some effect is positive, else all 0.
    """
    shares = dict.fromkeys(space.param_labels(), 0.0)
    for e, _ in largest_effects(effect_lists).values():
        for name in e.parameters:
            shares[name] = shares.get(name, 0.0) + e.effect / len(e.parameters)
    total = sum(shares.values())
    if total == 0:
        return shares
    return {name: value / total for name, value in shares.items()}


def largest_effects(effect_lists):
    """Per set of parameters, its largest finite effect over the lists.

    Returns ``{parameters: (Effect, k)}``, ``k`` the index in
    ``effect_lists`` of the list it comes from (the first on ties), in the
    order the sets first appear.
    """
    largest = {}
    for k, effects in enumerate(effect_lists):
        for e in effects or ():
            if not np.isfinite(e.effect):
                continue
            if e.parameters not in largest or e.effect > largest[e.parameters][0].effect:
                largest[e.parameters] = (e, k)
    return largest


def format_report(search, max_terms=10):
    """Plain-text report of a fitted :class:`HarmonicaSearchCV`.

    In this order: the best candidate and where it came from; what mattered
    (per hyperparameter, the spread of the predicted mean score over its
    values, with its best and worst values; interactions likewise, see
    :func:`stage_effects`) and what did not; what each stage fixed for the
    next one, and why; what the search cost, per resource level; what to do
    next; then one line per stage with the spread of its scores, to compare
    the effects with.  Every effect is in score units.

    Parameters
    ----------
    search : HarmonicaSearchCV
        A fitted search.
    max_terms : int, default=10
        Effects shown under "What mattered".

    Returns
    -------
    str
    """
    lines = _header_lines(search)
    lines += [""] + _mattered_lines(search, max_terms)
    fixed = _fixed_lines(search)
    if fixed:
        lines += [""] + fixed
    lines += [""] + _cost_lines(search)
    lines += [""] + _next_lines(search)
    return "\n".join(lines)


def stage_log_line(report, resource):
    """The ``verbose=1`` line of one spectral stage, in plain words."""
    found = [e for e in report.effects if e.effect > 0][:3]
    line = (
        f"stage {report.stage}: {report.n_candidates} candidates at "
        f"{resource}={report.n_resources}, best {report.best_score:.4f}; "
    )
    if found:
        line += "effects (score units): " + ", ".join(
            f"{' x '.join(e.parameters)} {e.effect:.3g}" for e in found
        )
    else:
        line += "no effect stood out from the noise"
    restricted = [alt for alt in report.restriction if alt]
    if not restricted:
        return line + "; the next stage samples the whole space again"
    n = len(report.restriction)
    what = "the best predicted setting" if n == 1 else f"the {n} best predicted settings"
    return line + f"; the next stage samples only {what} of them"


def score_column(results, refit):
    """The ``mean_test_*`` column of ``results`` that drives a search (the
    single metric, the ``refit`` metric, else the first one); None when
    there is none."""
    if "mean_test_score" in results:
        return "mean_test_score"
    if isinstance(refit, str) and f"mean_test_{refit}" in results:
        return f"mean_test_{refit}"
    return next((key for key in results if key.startswith("mean_test_")), None)


def _driving_key(search):
    """The ``mean_test_*`` column of ``cv_results_`` that drove the search."""
    return score_column(search.cv_results_, getattr(search, "refit", None))


def _resource_words(search, r):
    """``"599 of 1797 rows"``, or ``"max_iter=30"``."""
    if search.resource == "n_samples":
        return f"{r} of {search.max_resources_} rows"
    return f"{search.resource}={r}"


def _header_lines(search):
    results = search.cv_results_
    n_evals = len(results["params"])
    lines = [
        f"HarmonicaSearchCV: {n_evals} evaluations, budget used "
        f"{search.budget_spent_:.1f} of n_iter={search.n_iter} "
        f"full-resource evaluations ({search.search_mode_} mode)"
    ]
    if hasattr(search, "best_params_"):
        lines.append("Best parameters:")
        for name, value in search.best_params_.items():
            lines.append(f"    {name} = {value!r}")
        if hasattr(search, "best_score_"):
            lines.append(f"Best CV score: {search.best_score_:.4f}")
        origin = _origin(search)
        if origin:
            lines.append("Where it came from: " + origin)
    return lines


def _param_key(params):
    return repr(sorted((k, repr(v)) for k, v in params.items()))


def _origin(search):
    """Where the best candidate was first evaluated, in a sentence."""
    results = search.cv_results_
    best = getattr(search, "best_index_", None)
    if best is None:
        return ""
    phases = np.asarray(results["phase"]).astype(str)
    stages = np.asarray(results["stage"]).astype(int)
    resources = np.asarray(results["n_resources"]).astype(int)
    if phases[best] == "exhaustive":
        return (
            "the space held at most n_iter candidates, so every one was "
            "evaluated at full resource, as GridSearchCV does."
        )
    key = _param_key(results["params"][best])
    first = next(i for i, p in enumerate(results["params"]) if _param_key(p) == key)
    full = _resource_words(search, search.max_resources_)
    if phases[first] == "spectral":
        text = (
            f"first evaluated in spectral stage {stages[first]} (on "
            f"{_resource_words(search, resources[first])}); the candidates of the "
            "spectral stages compete with the final stage's own for promotion to "
            f"the next resource, and this one was promoted up to {full}."
        )
        if phases[best] == "random":
            text = (
                f"first evaluated in spectral stage {stages[first]}, then "
                "re-evaluated at full resource in the final stage."
            )
    else:
        final = getattr(search, "final_stage_", {}) or {}
        if final.get("pool_size", 0) > final.get("n_kept", 0):
            chosen = (
                f"one of the {final['n_kept']} new candidates that a surrogate model "
                "(a ridge regression over pairs of bits, fitted on every earlier "
                f"score) ranked best among {final['pool_size']} random draws"
            )
        else:
            chosen = "a random draw from the settings the stages kept"
        if phases[first] == "halving":
            text = f"{chosen}; it won the successive halving, up to {full}."
        else:
            text = f"{chosen}, evaluated at {full} in the final random stage."
    outside = _outside_kept(search, results["params"][best])
    if outside:
        text += (
            " It lies outside the settings the last spectral stage kept ("
            + "; ".join(outside)
            + "): candidates from earlier stages, or from outside the kept "
            "settings, may beat the kept ones."
        )
    return text


def _outside_kept(search, params):
    """``["name = value, kept {a, b}"]`` for the parameters of ``params``
    (lists and distributions) whose value no setting kept by the last stage
    allows, the kept values in code order (a distribution's by value)."""
    if not search.stages_:
        return []
    kept = search.stages_[-1].restriction
    out = []
    for name, value in params.items():
        allowed = [alt.get(name) for alt in kept]
        if any(a is None for a in allowed):
            continue
        param = next((p for p in search.space_.params if p.name == name), None)
        if param is None or param.kind == "free":
            continue
        label = _short_repr(value)
        if param.kind == "distribution":
            inside = _in_buckets(param, value, allowed)
            label = _format_value(value)
        else:
            inside = any(label in a for a in allowed)
        if not inside:
            ranges = _label_ranges(param)
            values = sorted(
                {v for a in allowed for v in a},
                key=lambda v: (*ranges.get(v, [(np.inf, np.inf)])[0], v),
            )
            out.append(f"{name} = {label}, kept {_values(values)}")
    return out


def _label_ranges(param):
    """``{label: [(first, last), ...]}``: the codes, from ``first`` to
    ``last``, that each label ``param.labels`` can give stands for, in code
    order (one code for a value, a run of buckets for a range
    ``"low..high"``, which on a discrete distribution several runs can share).
    """
    ranges = {}
    if param.kind == "distribution":
        low, high = param._bucket_ranges()
        n = param.n_values
        for first in range(n):
            for last in range(first, n):
                ranges.setdefault(f"{low[first]}..{high[last]}", []).append((first, last))
    else:
        for code in range(param.n_values):
            ranges.setdefault(param.label(code), []).append((code, code))
    return ranges


def _in_buckets(param, value, allowed):
    """Whether ``value`` falls in a bucket range of some ``allowed`` labels."""
    n = param.n_values
    bucket = int(np.clip(np.floor(param.distribution.cdf(value) * n), 0, n - 1))
    ranges = _label_ranges(param)
    return any(
        first <= bucket <= last
        for labels in allowed
        for label in labels
        for first, last in ranges.get(label, ())
    )


def _format_value(value):
    try:
        return f"{float(value):.3g}"
    except (TypeError, ValueError):
        return _short_repr(value)


def _largest_effects(search):
    """Per parameter set, the Effect of the stage that measured it largest,
    with that stage's number."""
    reports = search.stages_
    largest = largest_effects([getattr(report, "effects", None) for report in reports])
    ranked = sorted(largest.values(), key=lambda pair: -pair[0].effect)
    return [(e, reports[k].stage) for e, k in ranked]


def _measured(ranked):
    """Labels of the parameters whose main effect some stage measured."""
    return {e.parameters[0] for e, _ in ranked if e.kind == "main effect"}


def _without_effect(labels, ranked):
    """The ``labels`` whose main effect was measured, but found in no
    positive effect (main or interaction)."""
    positive = {name for e, _ in ranked if e.effect > 0 for name in e.parameters}
    measured = _measured(ranked)
    return [n for n in labels if n in measured and n not in positive]


def _mattered_lines(search, max_terms):
    lines = ["What mattered"]
    if search.search_mode_ == "exhaustive":
        return lines + [
            "    Nothing was estimated: in exhaustive mode no spectral stage runs. "
            "cv_results_ holds the score of every candidate."
        ]
    if not search.stages_:
        return lines + [
            "    Nothing was learned: the budget was too small for a spectral stage, "
            "so the search was a successive halving of random candidates."
        ]
    lines += _stage_score_lines(search)
    ranked = _largest_effects(search)
    found = [(e, stage) for e, stage in ranked if e.effect > 0]
    several = len(search.stages_) > 1
    if found:
        lines.append(
            "    effect = predicted mean CV score of the best value minus that of the "
            "worst, the other"
        )
        lines.append(
            "    hyperparameters as sampled (score units; interactions: what the two "
            "effects alone do not explain)"
        )
        shown = found[:max_terms]
        width = max(len(" x ".join(e.parameters)) for e, _ in shown)
        for e, stage in shown:
            name = " x ".join(e.parameters)
            where = f"  (stage {stage})" if several else ""
            if e.kind == "main effect":
                detail = (
                    f"best {_values(e.best_values)}; worst {_values(e.worst_values)}"
                )
            else:
                detail = _interaction_words(e)
            lines.append(f"    {name:<{width}}  {e.effect:7.4f}  {detail}{where}")
        if len(found) > len(shown):
            rest = ", ".join(" x ".join(e.parameters) for e, _ in found[len(shown) :])
            lines.append(f"    smaller effects: {rest}")
    else:
        first = search.stages_[0]
        lines.append(
            f"    No effect stood out from the noise: the {first.n_fit_samples} "
            f"scores of stage 1 spread with sd {first.score_std:.4f}, and no "
            "hyperparameter explained a clear part of it."
        )
    labels = search.space_.param_labels()
    measured = _measured(ranked)
    none = _without_effect(labels, ranked)
    if none and found:
        lines.append(f"What did not (no effect found): {', '.join(none)}")
    never = [
        n for n in labels
        if n not in measured and n != "<branch>"
        and search.space_.params[labels.index(n)].n_bits > 0
    ]
    if never:
        lines.append(
            "Not measured (a single value to choose, or too many value "
            f"combinations): {', '.join(never)}"
        )
    free = [search.space_.param_label(p) for p, param in enumerate(search.space_.params)
            if param.kind == "free"]
    if free:
        lines.append(
            "Sampled but never modelled (a distribution without ppf): " + ", ".join(free)
        )
    return lines


def _stage_score_lines(search):
    """Per stage, what its effects were measured on, to compare them with."""
    results = search.cv_results_
    scores = np.asarray(results[_driving_key(search)], dtype=float)
    stages = np.asarray(results["stage"]).astype(int)
    phases = np.asarray(results["phase"]).astype(str)
    lines = []
    for report in search.stages_:
        own = scores[(stages == report.stage) & (phases == "spectral")]
        own = own[np.isfinite(own)]
        spread = f", {own.min():.4f} to {own.max():.4f}" if own.size else ""
        lines.append(
            f"    stage {report.stage}: {report.n_candidates} random candidates on "
            f"{_resource_words(search, report.n_resources)}; fitted on "
            f"{report.n_fit_samples} scores: mean {report.score_mean:.4f}, "
            f"sd {report.score_std:.4f}{spread}"
        )
    return lines


def _interaction_words(e):
    """``"best width by batch_norm: False -> {1, 2}; True -> {4, 8}"``."""
    if len(e.parameters) != 2:
        return "interaction; best " + _combo(e.parameters, e.best_values[0])
    keys = list(e.value_means)
    firsts = list(dict.fromkeys(k[0] for k in keys))
    seconds = list(dict.fromkeys(k[1] for k in keys))
    by, of = (0, 1) if len(firsts) <= len(seconds) else (1, 0)
    groups = firsts if by == 0 else seconds
    parts = []
    for g in groups[:4]:
        row = {k[of]: m for k, m in e.value_means.items() if k[by] == g}
        top = max(row.values())
        best = [v for v, m in row.items() if m >= top - NEAR_BEST * e.effect]
        parts.append(f"{g} -> {_values(best)}")
    more = "; ..." if len(groups) > 4 else ""
    return (
        f"interaction: best {e.parameters[of]} by {e.parameters[by]}: "
        + "; ".join(parts) + more
    )


def _combo(names, labels):
    return " & ".join(f"{n}={v}" for n, v in zip(names, labels))


def _fixed_lines(search):
    lines = []
    for i, report in enumerate(search.stages_):
        nxt = (
            f"stage {report.stage + 1}" if i + 1 < len(search.stages_) else "the final stage"
        )
        restricted = [alt for alt in report.restriction if alt]
        where = f"stage {report.stage} ({report.n_candidates} candidates)"
        if not restricted:
            lines.append(
                f"    after {where}: nothing fixed (no clear effect), {nxt} "
                "sampled the whole space again"
            )
            continue
        predicted = list(getattr(report, "predicted_raw_scores", None) or [])
        settings = []
        for k, alt in enumerate(report.restriction):
            fixed = "; ".join(f"{name} {_in(v)}" for name, v in alt.items()) or "anything"
            guess = f" (predicted score {predicted[k]:.4f})" if k < len(predicted) else ""
            settings.append(fixed + guess)
        if len(settings) == 1:
            lines.append(
                f"    after {where}, {nxt} sampled only: {settings[0]}, the setting "
                "of the effects found with the best predicted score"
            )
        else:
            lines.append(
                f"    after {where}, {nxt} sampled only from the {len(settings)} "
                "settings of the effects found with the best predicted scores:"
            )
            lines.extend(f"        {k + 1}. {text}" for k, text in enumerate(settings))
    if lines:
        lines.insert(0, "What was fixed, and why")
    lines.extend(_final_pool_lines(getattr(search, "final_stage_", {})))
    return lines


def _in(labels):
    return f"= {labels[0]}" if len(labels) == 1 else "in {" + ", ".join(labels) + "}"


def _cost_lines(search):
    results = search.cv_results_
    resources = np.asarray(results["n_resources"]).astype(int)
    fit = np.asarray(results["mean_fit_time"], dtype=float)
    score = np.asarray(results["mean_score_time"], dtype=float)
    n_splits = int(getattr(search, "n_splits_", 1) or 1)
    lines = [
        f"What it cost: {len(resources)} evaluations of {n_splits} folds each, "
        f"{search.budget_spent_:.1f} of n_iter={search.n_iter} full-resource "
        "evaluations"
    ]
    if search.search_mode_ != "exhaustive" and getattr(search, "n_resources_", None):
        if getattr(search, "final_stage", "halving") == "random":
            lines.append(
                f"    final stage: {search.n_candidates_[0]} random candidates at "
                f"full resource ({search.resource}={search.n_resources_[0]})"
            )
        elif len(search.n_resources_) == 1:
            lines.append(
                f"    final stage: {search.n_candidates_[0]} candidates at full resource "
                f"({search.resource}={search.n_resources_[0]}; one rung: the budget or "
                "the data left no room for a smaller resource)"
            )
        else:
            lines.append(
                "    final successive halving: "
                + ", ".join(
                    f"{n} x {r}" for n, r in zip(search.n_candidates_, search.n_resources_)
                )
                + f" (candidates x {search.resource}; the best 1/{search.factor:g} go on)"
            )
    if not np.any(np.nan_to_num(fit + score)):
        # An ask-and-tell run: the client timed nothing the optimizer saw.
        lines.append(f"    {search.resource:>12}  evaluations  (times not measured)")
        lines.extend(
            f"    {r:>12}  {int(np.sum(resources == r)):>11}" for r in np.unique(resources)
        )
        return lines
    costs = getattr(search, "resource_costs_", None) or {}
    header = f"{search.resource:>12}  evaluations  fit + score per fold  all folds"
    if costs:
        header += "  cost against a full evaluation (n_iter charges)"
    lines.append("    " + header)
    for r in np.unique(resources):
        rows = resources == r
        per_fold = float(np.nansum(fit[rows] + score[rows]) / rows.sum())
        total = float(np.nansum(fit[rows] + score[rows])) * n_splits
        line = f"    {r:>12}  {int(rows.sum()):>11}  {per_fold:>17.3f} s  {total:>7.1f} s"
        lines.append(line + _relative_cost_text(costs.get(int(r))))
    refit = getattr(search, "refit_time_", None)
    if refit is not None:
        lines.append(f"    refit of the best candidate on all the data: {refit:.2f} s")
    return lines


def _relative_cost_text(cost):
    """The measured share of a full evaluation that one at a level cost,
    next to its charge (``resource_costs_``'s entry; empty when absent)."""
    if not cost or cost["charged"] >= 1 or not np.isfinite(cost["relative_cost"]):
        return ""
    how = (
        f"on {cost['n_paired']} candidates evaluated at both"
        if cost["n_paired"]
        else "level averages"
    )
    return f"  {cost['relative_cost']:.2f} ({cost['charged']:.2f}; {how})"


def _next_lines(search):
    lines = ["What to do next"]
    space = search.space_
    labels = space.param_labels()
    n_params = sum(1 for p in space.params if p.n_bits > 0 and p.name != "<branch>")
    if search.search_mode_ == "exhaustive":
        return lines + [
            "    The grid was evaluated whole. To learn what matters, search a "
            "larger space than n_iter candidates."
        ]
    if not search.stages_:
        return lines + [
            f"    Raise n_iter (now {search.n_iter}): a spectral stage needs at "
            "least 20 candidates at its resource."
        ]
    ranked = _largest_effects(search)
    found = [(e, s) for e, s in ranked if e.effect > 0]
    if not found:
        return lines + [
            f"    No effect found: either no hyperparameter matters much here, or "
            f"the budget was too small for {n_params} hyperparameters; raise "
            f"n_iter (now {search.n_iter}) or drop hyperparameters you can fix."
        ]
    idle = _without_effect(labels, ranked)
    if idle:
        lines.append(
            f"    Fix {', '.join(idle)} (no effect found) and drop them from the "
            "space: the budget then goes to the others."
        )
    strongest = max(e.effect for e, _ in found)
    for e, _ in found:
        # Only for clear effects: a small one's best value is noise.
        if e.kind != "main effect" or not e.best_values or e.effect < 0.2 * strongest:
            continue
        param = space.params[labels.index(e.parameters[0])]
        if param.kind not in ("ordered", "distribution"):
            continue
        used = np.flatnonzero(param.weights > 0)
        ends = {param.label(int(used[0])): "low", param.label(int(used[-1])): "high"}
        order = list(e.value_means)
        best = e.best_values
        if len(best) < len(order):
            for label, side in ends.items():
                if label in best:
                    lines.append(
                        f"    The best {e.parameters[0]} ({label}) is at the {side} end "
                        "of its range: extend the range beyond it."
                    )
    if len(lines) == 1:
        lines.append(
            "    The effects above are estimates from the spectral stages' scores: "
            "to confirm one, cross-validate the best candidate with its value changed."
        )
    return lines


def _final_pool_lines(final):
    """How the final stage's candidates were chosen, when a pool was ranked."""
    if not final or final["pool_size"] <= final["n_kept"]:
        return []
    line = (
        f"    the final stage's first candidates: the best {final['n_kept']} of "
        f"{final['pool_size']} new draws, ranked by a surrogate model (a ridge "
        "regression fitted on every score of the stages)"
    )
    if final["pool_from_outside"]:
        line += (
            f"; the kept settings had too few new candidates left, so "
            f"{final['pool_from_outside']} draws came from the whole space and "
            f"{final['kept_from_outside']} of the chosen candidates lie outside the "
            "settings kept above"
        )
    return [line]


def _values(labels):
    """One label as it is, several as ``{a, b}``."""
    return labels[0] if len(labels) == 1 else "{" + ", ".join(labels) + "}"


def best_observed(scores):
    finite = np.asarray(scores, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(finite.max()) if finite.size else float("nan")
