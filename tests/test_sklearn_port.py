"""Behaviours of scikit-learn's own search tests, re-stated for HarmonicaSearchCV.

Each test names the test of scikit-learn 1.9.1's
``sklearn/model_selection/tests/test_search.py`` (or
``test_successive_halving.py``) whose behaviour it follows; none is a copy.
Tests failing because of the search class are ``xfail(strict=True)`` with
the reason, to be flipped when the class is fixed.  Small data, small
``n_iter``: this file runs in seconds.
"""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, ParameterGrid
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from harmonica_sklearn import HarmonicaSearchCV

X, y = make_classification(n_samples=60, n_features=5, random_state=0)


def _search(space, estimator=None, **kw):
    kw = {"cv": 3, "random_state": 0, "n_iter": 10, **kw}
    return HarmonicaSearchCV(estimator or LogisticRegression(), space, **kw)


def test_grid_search_like_exhaustive_results():
    # follows test_grid_search: the best of a small grid, all evaluated.
    space = {"C": [0.01, 0.1, 1.0]}
    search = _search(space).fit(X, y)
    assert search.cv_results_["params"] == list(ParameterGrid(space))
    best = int(np.argmax(search.cv_results_["mean_test_score"]))
    assert search.best_params_ == search.cv_results_["params"][best]


def test_refit_false_has_no_best_estimator():
    # follows test_no_refit.
    search = _search({"C": [0.1, 1.0]}, refit=False).fit(X, y)
    assert not hasattr(search, "best_estimator_")
    with pytest.raises(AttributeError):
        search.predict(X)


def test_grid_search_with_one_empty_dict():
    # follows test_grid_search_no_score / ParameterGrid([{}]): one candidate.
    search = _search({}).fit(X, y)
    assert search.cv_results_["params"] == [{}]


def test_repeated_values_are_evaluated_like_grid_search():
    # follows test_grid_search (ParameterGrid keeps repeated values).
    space = {"C": [0.1, 0.1, 1.0]}
    search = _search(space).fit(X, y)
    assert search.cv_results_["params"] == list(ParameterGrid(space))


def test_search_cv_results_keys_and_rank():
    # follows test_grid_search_cv_results / test_random_search_cv_results.
    search = _search({"C": [0.01, 0.1, 1.0]}, return_train_score=True).fit(X, y)
    res = search.cv_results_
    for key in ("mean_test_score", "std_test_score", "rank_test_score", "mean_train_score",
                "mean_fit_time", "params", "param_C", "split0_test_score"):
        assert key in res
    assert res["rank_test_score"].min() == 1


def test_clone_unfitted_and_fitted_search():
    # follows test_search_cv__pairwise_property_delegated_to_base_estimator's clone use.
    search = _search({"C": [0.1, 1.0]})
    clone(search)
    clone(search.fit(X, y))


def test_cv_given_as_splitter_and_as_list():
    # follows test_grid_search_cv_splits_consistency.
    splits = list(KFold(3).split(X))
    a = _search({"C": [0.1, 1.0]}, cv=KFold(3)).fit(X, y)
    b = _search({"C": [0.1, 1.0]}, cv=splits).fit(X, y)
    np.testing.assert_allclose(a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"])


@pytest.mark.xfail(
    strict=True,
    reason="search class: a cv whose get_n_splits disagrees with split must raise "
    "'cv.split and cv.get_n_splits return inconsistent results' (the class "
    "replays fixed splits and never compares them)",
)
def test_inconsistent_cv_is_refused():
    # follows test_grid_search_cv_splits_consistency (the OneTimeSplitter part).
    class _Lying:
        def split(self, X, y=None, groups=None):
            yield from KFold(3).split(X)

        def get_n_splits(self, X=None, y=None, groups=None):
            return 4

    with pytest.raises(ValueError, match="inconsistent results"):
        _search({"C": [0.1, 1.0]}, cv=_Lying()).fit(X, y)


@pytest.mark.xfail(
    strict=True,
    reason="search class: param_grid= / param_distributions= keywords give a bare "
    "TypeError; they should be accepted as aliases of param_space or refused "
    "with a message naming param_space",
)
@pytest.mark.parametrize("keyword", ["param_grid", "param_distributions"])
def test_sklearn_keywords_name_param_space(keyword):
    # follows the constructor signatures exercised by test_grid_search.
    with pytest.raises(TypeError, match="param_space"):
        HarmonicaSearchCV(LogisticRegression(), **{keyword: {"C": [1.0]}})


class _FailOnC(ClassifierMixin, BaseEstimator):
    """A classifier whose fit fails for C == 0.5 (follows FailingClassifier)."""

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y):
        if self.C == 0.5:
            raise ValueError("failing on purpose")
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y):
        return float(np.mean(self.predict(X) == y)) + self.C / 100


@pytest.mark.filterwarnings("ignore")
def test_failed_candidates_rank_last_in_exhaustive_mode():
    # follows test_search_failing_classifier: failures rank after finite scores.
    search = _search({"C": [0.1, 0.5, 1.0]}, estimator=_FailOnC()).fit(X, y)
    ranks = dict(zip([p["C"] for p in search.cv_results_["params"]], search.cv_results_["rank_test_score"]))
    assert ranks[0.5] == 3 and search.best_params_ == {"C": 1.0}


def test_predict_delegates_to_best_estimator():
    # follows test_search_cv_delegates / test_predict_proba_disabled.
    search = _search({"C": [0.1, 1.0]}).fit(X, y)
    np.testing.assert_array_equal(search.predict(X), search.best_estimator_.predict(X))
    assert search.score(X, y) == search.best_estimator_.score(X, y)
    assert not hasattr(_search({"C": [0.1]}, estimator=LinearSVC()).fit(X, y), "predict_proba")


def test_halving_keeps_all_rungs_consistent():
    # follows test_successive_halving: n_candidates_ shrink and resources grow.
    space = {"max_depth": list(range(1, 17))}
    search = _search(space, estimator=DecisionTreeClassifier(random_state=0), n_iter=6, n_stages=0)
    search.fit(X, y)
    assert all(a >= b for a, b in zip(search.n_candidates_, search.n_candidates_[1:]))
    assert all(a < b for a, b in zip(search.n_resources_, search.n_resources_[1:]))


def test_regressor_search_best_score_is_max_mean():
    # follows test_grid_search_regressor-like checks in test_search.py.
    Xr = X
    yr = X[:, 0] * 2 + 0.1
    search = _search({"alpha": [0.01, 1.0, 100.0]}, estimator=Ridge()).fit(Xr, yr)
    assert search.best_score_ == pytest.approx(np.max(search.cv_results_["mean_test_score"]))
