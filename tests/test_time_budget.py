"""time_budget, the cost records and the anytime incumbent, driven by a fake
clock that the estimator's fits advance (no wall-clock timing)."""

import math
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from harmonica_sklearn import HarmonicaSearchCV
from harmonica_sklearn import _search

SPACE = {
    "a": list(range(8)),
    "b": ["x", "y", "z"],
    **{f"d{i}": [False, True] for i in range(5)},
}


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


CLOCK = FakeClock()


class TimedRegressor(RegressorMixin, BaseEstimator):
    """Scores ``-(a - 5)**2 + (b == "y")``; each fit advances the fake clock
    by ``overhead + seconds_per_row * rows`` (and by ``max_iter`` if set)."""

    def __init__(self, a=0, b="x", d0=False, d1=False, d2=False, d3=False, d4=False,
                 overhead=1.0, seconds_per_row=0.01, max_iter=None):
        self.a, self.b = a, b
        self.d0, self.d1, self.d2, self.d3, self.d4 = d0, d1, d2, d3, d4
        self.overhead = overhead
        self.seconds_per_row = seconds_per_row
        self.max_iter = max_iter

    def fit(self, X, y=None):
        rows = len(X) if self.max_iter is None else self.max_iter
        CLOCK.now += self.overhead + self.seconds_per_row * rows
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X, y=None):
        return -((self.a - 5) ** 2) + (self.b == "y")


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch):
    CLOCK.now = 0.0
    monkeypatch.setattr(_search, "_clock", CLOCK)
    return CLOCK


X = np.arange(3000.0).reshape(-1, 1)
Y = np.zeros(3000)


def search(**params):
    params = {"n_iter": 200, "cv": 3, "random_state": 0, "refit": False, **params}
    estimator = params.pop("estimator", TimedRegressor())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return HarmonicaSearchCV(estimator, SPACE, **params).fit(X, Y)


def full_evaluation_seconds():
    # 3 folds of 2000 training rows: 3 x (1 + 20) seconds.
    return 3 * (1.0 + 0.01 * 2000)


@pytest.mark.parametrize("budget", [300.0, 1000.0, 3000.0])
def test_the_search_ends_within_its_time_budget(budget, fake_clock):
    s = search(time_budget=budget)
    assert fake_clock.now <= budget + full_evaluation_seconds()
    assert s.time_budget_["used"] == fake_clock.now
    assert s.time_budget_["stopped_early"]
    # It used most of the budget rather than stopping at the first doubt.
    assert fake_clock.now >= 0.8 * budget


def test_a_time_budget_still_ends_with_a_full_resource_answer():
    s = search(time_budget=400.0)
    results = s.cv_results_
    assert results["n_resources"][s.best_index_] == s.max_resources_
    full = results["n_resources"] == s.max_resources_
    assert s.best_score_ == np.max(results["mean_test_score"][full])


def test_the_anytime_incumbent_confirms_the_first_stage_best_at_full_resource():
    s = search(n_iter=200, min_train_rows=0)
    phases = list(s.cv_results_["phase"])
    first_confirm = phases.index("confirm")
    # Right after the first spectral stage, before any halving rung.
    assert set(phases[:first_confirm]) == {"spectral"}
    assert s.cv_results_["n_resources"][first_confirm] == s.max_resources_
    stage1 = np.flatnonzero(np.asarray(s.cv_results_["stage"]) == 1)
    stage1 = [i for i in stage1 if phases[i] == "spectral"]
    best = stage1[int(np.argmax(s.cv_results_["mean_test_score"][stage1]))]
    assert s.cv_results_["params"][first_confirm] == s.cv_results_["params"][best]


def test_without_time_budget_the_budget_is_n_iter_and_time_is_recorded():
    s = search(n_iter=100)
    assert s.time_budget_ is None
    assert s.budget_spent_ <= 100 + 1e-9
    costs = s.resource_costs_
    assert set(costs) == set(np.unique(s.cv_results_["n_resources"]))
    assert costs[s.max_resources_]["relative_cost"] == pytest.approx(1.0)


def test_a_resource_that_costs_more_than_its_share_is_reported_and_warned():
    # 1000 seconds of overhead per fit: a subsample costs as much as a full fit.
    with pytest.warns(UserWarning, match=r"cost 9\d% of a full-resource evaluation but n_iter counts them as 11%"):
        s = HarmonicaSearchCV(
            TimedRegressor(overhead=1000.0), SPACE, n_iter=100, cv=3,
            random_state=0, refit=False, min_train_rows=0,
        ).fit(X, Y)
    reduced = [c for r, c in s.resource_costs_.items() if r < s.max_resources_]
    assert reduced and all(c["undercount"] > 2 for c in reduced)


def test_small_folds_are_not_subsampled():
    # 2000 training rows per fold: a third of them is under min_train_rows.
    s = search(n_iter=100, min_train_rows=1000)
    assert set(s.cv_results_["n_resources"]) == {3000}
    assert s.min_resources_ == s.max_resources_ == 3000
    s = search(n_iter=100, min_train_rows=500)
    assert min(s.cv_results_["n_resources"]) < 3000


@pytest.mark.parametrize(
    "value, error, message",
    [
        (0, ValueError, "time_budget"),
        (-1.0, ValueError, "time_budget"),
        (float("nan"), ValueError, "time_budget"),
        (math.inf, ValueError, "time_budget"),
        ("10", ValueError, "time_budget"),
    ],
)
def test_bad_time_budgets_are_refused_by_name(value, error, message, fake_clock):
    with pytest.raises(error, match=message):
        search(time_budget=value)
    assert fake_clock.now == 0.0  # before any fit
