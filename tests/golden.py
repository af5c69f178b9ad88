"""Recorded search scenarios: what a fixed ``random_state`` gives.

``tests/test_golden.py`` checks the library against ``golden_results.json``;
``python tests/golden.py`` records it again (do that only when a change of
results is intended, and say why in the commit message).
"""

import hashlib
import json
import os
import sys
import warnings

import numpy as np
from scipy.stats import loguniform, uniform
from sklearn.datasets import load_iris, make_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier

sys.path.insert(0, os.path.dirname(__file__))

from planted import (  # noqa: E402
    CountingRegressor,
    fit_planted,
    planted_binary_problem,
    planted_mixed_problem,
)

GOLDEN_FILE = os.path.join(os.path.dirname(__file__), "golden_results.json")


def _search(estimator, space, X, y, **params):
    from harmonica_sklearn import HarmonicaSearchCV

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return HarmonicaSearchCV(estimator, space, **params).fit(X, y)


def planted_binary():
    return fit_planted(planted_binary_problem(0), 0, noise=0.1, n_iter=200)


def planted_mixed():
    return fit_planted(planted_mixed_problem(1), 1, noise=0.05, n_iter=300)


def planted_binary_random_final():
    return fit_planted(planted_binary_problem(2), 2, n_iter=150, final_stage="random")


def counting_regressor():
    space = {"a": uniform(-1, 2), "b": uniform(-1, 2), "c": ["x", "y", "z"]}
    X = np.arange(60.0).reshape(-1, 1)
    return _search(CountingRegressor(), space, X, np.zeros(60), n_iter=60, cv=3,
                   random_state=0, refit=False)


def logistic_iris():
    X, y = load_iris(return_X_y=True)
    space = {"C": loguniform(1e-3, 1e3), "fit_intercept": [True, False]}
    return _search(LogisticRegression(max_iter=500), space, X, y, n_iter=30,
                   random_state=0)


def sgd_max_iter_multimetric():
    X, y = make_classification(n_samples=300, n_features=10, random_state=0)
    space = {
        "alpha": loguniform(1e-6, 1e-1),
        "penalty": ["l2", "l1", "elasticnet"],
        "loss": ["hinge", "log_loss", "modified_huber"],
        "fit_intercept": [True, False],
    }
    return _search(SGDClassifier(max_iter=27, tol=None, random_state=0), space, X, y,
                   n_iter=40, cv=3, random_state=3, resource="max_iter",
                   scoring=["accuracy", "balanced_accuracy"], refit="balanced_accuracy")


def exhaustive_grid():
    X, y = load_iris(return_X_y=True)
    space = {"C": [0.01, 0.1, 1.0], "fit_intercept": [True, False]}
    return _search(LogisticRegression(max_iter=500), space, X, y, n_iter=10,
                   random_state=0)


SCENARIOS = {
    f.__name__: f
    for f in (
        planted_binary,
        planted_mixed,
        planted_binary_random_final,
        counting_regressor,
        logistic_iris,
        sgd_max_iter_multimetric,
        exhaustive_grid,
    )
}


def _digest(params):
    return hashlib.sha1(repr(sorted(params.items())).encode()).hexdigest()[:12]


def summary(search):
    """What must not change: every evaluated candidate, its score and place."""
    results = search.cv_results_
    score_key = next(k for k in ("mean_test_score", "mean_test_balanced_accuracy")
                     if k in results)
    return {
        "params": [_digest(p) for p in results["params"]],
        "scores": [None if not np.isfinite(s) else round(float(s), 9)
                   for s in results[score_key]],
        "stage": [int(v) for v in results["stage"]],
        "phase": [str(v) for v in results["phase"]],
        "rung": [int(v) for v in results["rung"]],
        "n_resources": [int(v) for v in results["n_resources"]],
        "best_index": int(search.best_index_),
        "best_params": repr(sorted(search.best_params_.items())),
    }


def record():
    golden = {name: summary(make()) for name, make in SCENARIOS.items()}
    with open(GOLDEN_FILE, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    record()
