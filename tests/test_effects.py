"""The effects a search reports are true, in score units.

On planted problems the true effect of each parameter is known: every
reported main effect must be within 25% of it.  On real estimators, no
reported main effect may exceed the spread of the observed per-value mean
scores by more than its standard error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.tree import DecisionTreeClassifier

from harmonica_sklearn import HarmonicaSearchCV
from harmonica_sklearn._report import stage_effects
from harmonica_sklearn._restriction import Restriction
from harmonica_sklearn._labels import _short_repr
from harmonica_sklearn._space import SearchSpace

from planted import fit_planted, planted_mixed_problem


def _true_main_effect(problem, name, labels=None):
    """Spread of the planted main effect of ``name`` over its values (those
    whose labels are in ``labels``, when given)."""
    for names, function in problem.effects:
        if names == (name,):
            values = [
                function(v) for v in problem.space[name]
                if labels is None or _short_repr(v) in labels
            ]
            return max(values) - min(values)
    raise KeyError(name)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_main_effects_within_a_quarter(seed):
    problem = planted_mixed_problem(seed)
    search = fit_planted(problem, seed, noise=0.05, n_iter=300)
    first = {e.parameters: e for e in search.stages_[0].effects}
    # The strongest planted effect is found in stage 1.
    assert first[("lr",)].effect > 0
    checked = 0
    for report in search.stages_:
        for e in report.effects:
            name = e.parameters[0]
            if e.kind != "main effect" or name not in ("optimizer", "lr", "depth"):
                continue
            if e.effect == 0:  # not found in this stage: nothing claimed
                continue
            # True spread over the values this stage could still choose.
            true = _true_main_effect(problem, name, set(e.value_means))
            assert e.effect == pytest.approx(true, rel=0.25), (report.stage, name, e.effect, true)
            checked += 1
    assert checked >= 3  # each of the three, in some stage
    # The dummies: nothing, or next to nothing.
    largest = max(e.effect for e in first.values())
    for (name,), e in ((k, e) for k, e in first.items() if len(k) == 1):
        if name.startswith("dummy") or name[1:].isdigit():
            assert e.effect < 0.1 * largest, (name, e.effect)


def test_five_valued_parameter_is_not_inflated():
    # 5 values on 3 bits: 7 collinear parity units over the 5 used codes.
    # Their least-squares coefficients may be large and cancel; the effect,
    # read at the used codes only, is the planted spread (0.4).
    rng = np.random.RandomState(0)
    space = SearchSpace.from_param_space({"a": [1, 2, 4, 8, 16], "b": ["x", "y"]})
    index, _ = space.sample(400, rng)
    bits = space.encode(index)
    per_value = np.array([0.0, 0.1, 0.4, 0.2, 0.3])
    scores = per_value[index[:, 0]] + 0.01 * rng.randn(400)
    units = [(0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)]
    restriction = Restriction.unrestricted(space)
    effects = stage_effects(
        space, bits, scores, np.zeros(400, int), restriction.allowed, units
    )
    (a,) = [e for e in effects if e.parameters == ("a",)]
    assert a.effect == pytest.approx(0.4, abs=0.01)
    assert a.best_values == ["4"] and a.worst_values == ["1"]
    means = [a.value_means[str(v)] for v in (1, 2, 4, 8, 16)]
    np.testing.assert_allclose(np.subtract(means, means[0]), per_value, atol=0.01)
    (b,) = [e for e in effects if e.parameters == ("b",)]
    assert b.effect == 0  # no term in b


def _observed_spread(results, name, rows):
    """Spread of the per-value mean scores, and its standard error."""
    values = np.array([_short_repr(v) for v in results[f"param_{name}"][rows]])
    scores = results["mean_test_score"][rows]
    means, errors = {}, {}
    for v in np.unique(values):
        group = scores[values == v]
        means[v] = group.mean()
        errors[v] = group.std(ddof=1) / np.sqrt(len(group)) if len(group) > 1 else np.inf
    hi, lo = max(means, key=means.get), min(means, key=means.get)
    return means[hi] - means[lo], float(np.hypot(errors[hi], errors[lo]))


@pytest.mark.parametrize("seed", [0, 1])
def test_real_main_effects_do_not_exceed_observed_spread(seed):
    X, y = load_breast_cancer(return_X_y=True)
    space = {
        "max_depth": [1, 2, 3, 4, 6],
        "min_samples_leaf": [1, 2, 4, 8, 16],
        "criterion": ["gini", "entropy", "log_loss"],
        "splitter": ["best", "random"],
        "max_features": [None, "sqrt", "log2"],
        "class_weight": [None, "balanced"],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = HarmonicaSearchCV(
            DecisionTreeClassifier(random_state=0), space, n_iter=40, cv=3,
            random_state=seed,
        ).fit(X, y)
    results = search.cv_results_
    rows = (results["stage"] == 1) & (results["phase"] == "spectral")
    checked = 0
    for e in search.stages_[0].effects:
        if e.kind != "main effect":
            continue
        (name,) = e.parameters
        observed, error = _observed_spread(results, name, rows)
        assert e.effect <= observed + error, (name, e.effect, observed, error)
        checked += 1
    assert checked == len(space)
