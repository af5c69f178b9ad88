"""Behaviours of scikit-learn's own search tests, re-stated for HarmonicaSearchCV.

Each test names the test of scikit-learn 1.9.1's
``sklearn/model_selection/tests/test_search.py`` (or
``test_successive_halving.py``) whose behaviour it follows; none is a copy.
Tests failing because of the search class are ``xfail(strict=True)`` with
the reason, to be flipped when the class is fixed.  Where HarmonicaSearchCV
differs on purpose (an adaptive search, rungs aligned on max_resources, stage
candidates promoted into rungs, the min_train_rows floor, its own error
messages), the test asserts the
documented behaviour and its docstring says "Documented difference".  Tests
named "[halving]" or "..._in_halving_mode" run the same behaviour on a space
that cannot be exhausted (halving on subsampled folds).  Small data, small
``n_iter``: this file runs in well under a minute.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
from scipy import sparse
from scipy.stats import expon, uniform
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.cluster import KMeans
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
)
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    make_scorer,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import (
    GroupKFold,
    GroupShuffleSplit,
    KFold,
    LeaveOneGroupOut,
    LeavePGroupsOut,
    ParameterGrid,
    ShuffleSplit,
    StratifiedKFold,
    StratifiedShuffleSplit,
    cross_val_score,
)
from sklearn.neighbors import KernelDensity, KNeighborsClassifier, LocalOutlierFactor
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils._mocking import CheckingClassifier, MockDataFrame
from sklearn.utils._testing import (
    MinimalClassifier,
    MinimalRegressor,
    MinimalTransformer,
)

from harmonica_sklearn import HarmonicaSearchCV
from harmonica_sklearn._compat import sklearn_version_at_least

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


def test_inconsistent_cv_is_refused():
    # follows test_grid_search_cv_splits_consistency (the OneTimeSplitter part).
    class _Lying:
        def split(self, X, y=None, groups=None):
            yield from KFold(3).split(X)

        def get_n_splits(self, X=None, y=None, groups=None):
            return 4

    with pytest.raises(ValueError, match="inconsistent results"):
        _search({"C": [0.1, 1.0]}, cv=_Lying()).fit(X, y)


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


# ---------------------------------------------------------------------------
# Issue 15: the rest of test_search.py / test_successive_halving.py.
# ---------------------------------------------------------------------------

Xs, ys = make_classification(n_samples=40, n_features=4, random_state=42)
X4 = np.array([[-1, -1], [-2, -1], [1, 1], [2, 1]])
y4 = np.array([1, 1, 2, 2])


def _random_like(space, estimator=None, **kw):
    """A search that cannot be exhaustive: halving on subsampled folds."""
    kw = {"n_iter": 6, "n_stages": 0, "min_train_rows": 0, **kw}
    return _search(space, estimator, **kw)


class _Mock(ClassifierMixin, BaseEstimator):
    """Scores 1 when foo_param > 1, else 0 (in the spirit of sklearn's MockClassifier)."""

    def __init__(self, foo_param=0):
        self.foo_param = foo_param

    def fit(self, X, y):
        assert len(X) == len(y)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))

    predict_log_proba = predict_proba

    def decision_function(self, X):
        return np.zeros(len(X))

    def transform(self, X):
        return X + self.foo_param

    def inverse_transform(self, X):
        return X - self.foo_param

    def score(self, X=None, y=None):
        return 1.0 if self.foo_param > 1 else 0.0


class _Fast(ClassifierMixin, BaseEstimator):
    """A constant classifier with do-nothing parameters, failures on demand and an
    integer resource ``c`` / ``n_estimators`` (sklearn's FastClassifier and
    SometimesFailClassifier, in spirit)."""

    def __init__(self, a=0, b=0, c=10, n_estimators=10, fail_fit=False, fail_predict=False):
        self.a = a
        self.b = b
        self.c = c
        self.n_estimators = n_estimators
        self.fail_fit = fail_fit
        self.fail_predict = fail_predict

    def fit(self, X, y):
        if self.fail_fit:
            raise ValueError("fit failed on purpose")
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        if self.fail_predict:
            raise ValueError("predict failed on purpose")
        return np.full(len(X), self.majority_)


class _Failing(BaseEstimator):
    """Fit raises for parameter == 2 (sklearn's FailingClassifier, in spirit)."""

    def __init__(self, parameter=None):
        self.parameter = parameter

    def fit(self, X, y=None):
        if self.parameter == 2:
            raise ValueError("Failing classifier failed as required")
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X=None, y=None):
        return 0.0


class _NoScoreSVC(LinearSVC):
    @property
    def score(self):
        raise AttributeError


# ----------------------------------------------------------------- basics


def test_mock_grid_ties_pick_first_and_methods_delegate(capsys):
    """follows test_grid_search: ties go to the first candidate, delegation
    smoke tests, and an invalid scoring string raises ValueError."""
    search = HarmonicaSearchCV(_Mock(), {"foo_param": [1, 2, 3]}, cv=2, verbose=3)
    search.fit(X4, y4)
    assert search.best_estimator_.foo_param == 2
    np.testing.assert_array_equal(search.cv_results_["param_foo_param"].data, [1, 2, 3])
    search.score(X4, y4)
    search.predict_proba(X4)
    search.decision_function(X4)
    search.transform(X4)
    search.scoring = "sklearn"
    with pytest.raises(ValueError):
        search.fit(X4, y4)


@pytest.mark.parametrize(
    "space, error",
    [
        (0, (TypeError, ValueError)),
        ([{"foo": [0]}, 0], (TypeError, ValueError)),
        ({"foo": 0}, TypeError),
        ({"C": uniform(0, 1), "kernel": "rbf"}, TypeError),
    ],
)
def test_space_must_be_dicts_of_lists_or_distributions(space, error):
    """follows test_validate_parameter_input (ParameterGrid / ParameterSampler
    inputs, checked by the search at fit)."""
    with pytest.raises(error):
        _search(space, SVC()).fit(Xs, ys)


def test_methods_exist_before_fit_as_the_estimator_has_them():
    """follows the available_if checks of test_stochastic_gradient_loss_param
    and test_predict_proba_disabled, before fit."""
    svc = _search({"C": [1]}, LinearSVC())
    assert hasattr(svc, "predict") and hasattr(svc, "decision_function")
    assert not hasattr(svc, "predict_proba") and not hasattr(svc, "transform")
    ridge = _search({"alpha": [1]}, Ridge())
    for name in ("decision_function", "predict_proba", "transform", "inverse_transform",
                 "score_samples"):
        assert not hasattr(ridge, name)
    mock = HarmonicaSearchCV(_Mock(), {"foo_param": [1]})
    for name in ("predict_proba", "predict_log_proba", "decision_function", "transform",
                 "inverse_transform"):
        assert hasattr(mock, name)


def test_estimator_values_in_space_are_cloned():
    """follows test_grid_search_pipeline_steps."""
    pipe = Pipeline([("regressor", LinearRegression())])
    space = {"regressor": [LinearRegression(), Ridge()]}
    search = HarmonicaSearchCV(pipe, space, cv=2).fit(X4, y4)
    values = search.cv_results_["param_regressor"]
    assert isinstance(values[0], LinearRegression) and isinstance(values[1], Ridge)
    assert not hasattr(values[0], "coef_") and not hasattr(values[1], "coef_")
    assert values[0] is not search.best_estimator_ and values[1] is not search.best_estimator_
    assert not hasattr(space["regressor"][0], "coef_")
    assert not hasattr(space["regressor"][1], "coef_")


@pytest.mark.parametrize("make", [_search, _random_like], ids=["exhaustive", "halving"])
def test_fit_params_reach_the_estimator(make):
    """follows test_SearchCV_with_fit_params (also on subsampled folds)."""
    Xc = np.arange(200).reshape(20, 10)
    yc = np.array([0] * 10 + [1] * 10)
    clf = CheckingClassifier(expected_fit_params=["spam", "eggs"])
    space = {"foo_param": [1, 2, 3]} if make is _search else {"foo_param": uniform(0, 3)}
    search = make(space, clf, cv=2, error_score="raise")
    with pytest.raises(AssertionError, match=r"Expected fit parameter\(s\) \['eggs'\] not seen"):
        search.fit(Xc, yc, spam=np.ones(20))
    with pytest.raises(AssertionError, match="Fit parameter spam has length 1; expected"):
        search.fit(Xc, yc, spam=np.ones(1), eggs=np.zeros(20))
    search.fit(Xc, yc, spam=np.ones(20), eggs=np.zeros(20))


def test_estimator_without_score_needs_scoring():
    """follows test_grid_search_no_score."""
    space = {"C": [0.1, 1, 10]}
    a = _search(space, LinearSVC(random_state=0), scoring="accuracy").fit(Xs, ys)
    b = _search(space, _NoScoreSVC(random_state=0), scoring="accuracy").fit(Xs, ys)
    assert a.best_params_ == b.best_params_
    assert a.score(Xs, ys) == b.score(Xs, ys)
    with pytest.raises(TypeError, match="no scoring"):
        _search(space, _NoScoreSVC()).fit([[1]])


def test_score_uses_the_scoring():
    """follows test_grid_search_score_method."""
    Xf, yf = make_classification(n_samples=60, flip_y=0.2, random_state=0)
    space = {"C": [0.1]}
    plain = _search(space, LinearSVC(random_state=0)).fit(Xf, yf)
    acc = _search(space, LinearSVC(random_state=0), scoring="accuracy").fit(Xf, yf)
    auc_noscore = _search(space, _NoScoreSVC(random_state=0), scoring="roc_auc").fit(Xf, yf)
    auc = _search(space, LinearSVC(random_state=0), scoring="roc_auc").fit(Xf, yf)
    assert auc.score(Xf, yf) < 1.0 and acc.score(Xf, yf) < 1.0
    assert auc.score(Xf, yf) != acc.score(Xf, yf)
    assert acc.score(Xf, yf) == pytest.approx(plain.score(Xf, yf))
    assert auc.score(Xf, yf) == pytest.approx(auc_noscore.score(Xf, yf))


@pytest.mark.parametrize("make", [_search, _random_like], ids=["exhaustive", "halving"])
def test_groups_reach_the_splitter(make):
    """follows test_grid_search_groups and test_successive_halving's test_groups_support."""
    Xg, yg = make_classification(n_samples=30, n_classes=2, random_state=0)
    groups = np.random.RandomState(0).randint(0, 3, 30)
    space = {"C": [1]} if make is _search else {"C": uniform(0.5, 1)}
    for cv in [LeaveOneGroupOut(), LeavePGroupsOut(2), GroupKFold(n_splits=3),
               GroupShuffleSplit(random_state=0)]:
        search = make(space, LinearSVC(random_state=0), cv=cv)
        with pytest.raises(ValueError, match="The 'groups' parameter should not be None"):
            search.fit(Xg, yg)
        search.fit(Xg, yg, groups=groups)
    for cv in [StratifiedKFold(), StratifiedShuffleSplit(random_state=0)]:
        make(space, LinearSVC(random_state=0), cv=cv).fit(Xg, yg)


def test_classes_follow_the_best_estimator():
    """follows test_classes__property."""
    space = {"C": [0.1, 1, 10]}
    search = _search(space, LinearSVC(random_state=0))
    assert not hasattr(search, "classes_")
    search.fit(Xs, ys)
    np.testing.assert_array_equal(search.classes_, search.best_estimator_.classes_)
    assert not hasattr(_search({"alpha": [1.0, 2.0]}, Ridge()).fit(Xs, ys), "classes_")
    assert not hasattr(_search(space, LinearSVC(), refit=False).fit(Xs, ys), "classes_")


def test_single_candidate_has_results():
    """follows test_trivial_cv_results_attr."""
    assert hasattr(HarmonicaSearchCV(_Mock(), {"foo_param": [1]}, cv=2).fit(X4, y4), "cv_results_")
    assert hasattr(
        HarmonicaSearchCV(_Mock(), {"foo_param": [0]}, n_iter=1, cv=2).fit(X4, y4), "cv_results_"
    )


@pytest.mark.parametrize("scoring", [None, ["accuracy", "precision"]])
def test_no_refit_methods_explain_themselves(scoring):
    """follows test_no_refit: best_index_/best_params_ kept, methods absent with
    sklearn's message as the cause."""
    search = HarmonicaSearchCV(_Mock(), {"foo_param": [1, 2, 3]}, refit=False, cv=2,
                               scoring=scoring).fit(X4, y4)
    assert not hasattr(search, "best_estimator_")
    # As GridSearchCV: with several metrics and refit=False there is no best
    # candidate (sklearn's test never passes its list of metrics).
    single = scoring is None
    assert hasattr(search, "best_index_") == single and hasattr(search, "best_params_") == single
    for name in ("predict", "predict_proba", "predict_log_proba", "transform",
                 "inverse_transform"):
        with pytest.raises(AttributeError, match=f"has no attribute '{name}'") as info:
            getattr(search, name)(X4)
        assert isinstance(info.value.__cause__, AttributeError)
        assert f"`refit=False`. {name} is available only after refitting" in str(
            info.value.__cause__
        )


@pytest.mark.parametrize("refit", [True, "recall", "accuracy"])
def test_multimetric_refit_must_name_a_scorer(refit):
    """follows test_no_refit (invalid refit with several metrics)."""
    search = HarmonicaSearchCV(_Mock(), {}, refit=refit,
                               scoring={"acc": "accuracy", "prec": "precision"})
    with pytest.raises(ValueError, match="For multi-metric scoring, the parameter refit must"):
        search.fit(X4, y4)


def test_inconsistent_lengths_raise():
    """follows test_grid_search_error."""
    with pytest.raises(ValueError):
        _search({"C": [0.1, 1.0]}, LinearSVC()).fit(Xs[:30], ys)


def test_one_point_equals_a_plain_fit():
    """follows test_grid_search_one_grid_point."""
    search = _search({"C": [1.0], "kernel": ["rbf"], "gamma": [0.1]}, SVC(gamma="auto"))
    search.fit(Xs, ys)
    direct = SVC(C=1.0, kernel="rbf", gamma=0.1).fit(Xs, ys)
    np.testing.assert_array_equal(direct.dual_coef_, search.best_estimator_.dual_coef_)


def test_range_as_values():
    """follows test_grid_search_when_param_grid_includes_range."""
    search = HarmonicaSearchCV(_Mock(), {"foo_param": range(1, 4)}, cv=2).fit(X4, y4)
    assert search.best_estimator_.foo_param == 2


@pytest.mark.parametrize(
    "space, error, message",
    [
        ({"C": 1}, TypeError, "Parameter 'C': expected a list of values"),
        ({"C": []}, ValueError, "Parameter 'C' has an empty list of values"),
        ({"C": "1,2,3"}, TypeError, "Parameter 'C': expected a list of values"),
        ({"C": np.ones((3, 2))}, ValueError, "should be one-dimensional"),
    ],
)
def test_bad_space_is_refused(space, error, message):
    """follows test_grid_search_bad_param_grid.  Documented difference: the
    error types are sklearn's, the messages HarmonicaSearchCV's own (they also
    name the distributions it accepts)."""
    with pytest.raises(error, match=message):
        _search(space, SVC()).fit(Xs, ys)


@pytest.mark.parametrize("scoring", [None, "f1"])
@pytest.mark.parametrize("make", [_search, _random_like], ids=["exhaustive", "halving"])
def test_sparse_input_same_as_dense(make, scoring):
    """follows test_grid_search_sparse and test_grid_search_sparse_scoring."""
    Xd, yd = make_classification(n_samples=80, n_features=20, random_state=0)
    space = {"C": [0.1, 1.0]} if make is _search else {"C": uniform(0.1, 1.0)}
    dense = make(space, LinearSVC(), scoring=scoring).fit(Xd[:70], yd[:70])
    sp = make(space, LinearSVC(), scoring=scoring).fit(sparse.csr_matrix(Xd[:70]).tocoo(), yd[:70])
    assert dense.best_params_ == sp.best_params_
    np.testing.assert_array_equal(dense.predict(Xd[70:]), sp.predict(sparse.csr_matrix(Xd[70:])))


def test_loss_scorer_picks_same_as_its_gain():
    """follows test_grid_search_sparse_scoring (greater_is_better=False)."""
    space = {"C": [0.01, 1.0]}
    gain = _search(space, LinearSVC(), scoring="f1").fit(Xs, ys)
    loss = make_scorer(lambda t, p: -f1_score(t, p), greater_is_better=False)
    lossy = _search(space, LinearSVC(), scoring=loss).fit(Xs, ys)
    assert gain.best_params_ == lossy.best_params_


@pytest.mark.parametrize("make", [_search, _random_like], ids=["exhaustive", "halving"])
def test_precomputed_kernel(make):
    """follows test_grid_search_precomputed_kernel and ..._error_nonsquare: a
    pairwise X is subsampled on both axes."""
    space = {"C": [0.1, 1.0]} if make is _search else {"C": uniform(0.1, 1.0)}
    K = Xs[:30] @ Xs[:30].T
    search = make(space, SVC(kernel="precomputed")).fit(K, ys[:30])
    assert search.best_score_ >= 0
    assert search.predict(Xs[30:] @ Xs[:30].T).shape == (10,)
    with pytest.raises(ValueError):
        search.fit(K.tolist(), ys[:30])
    with pytest.raises(ValueError):
        make(space, SVC(kernel="precomputed")).fit(np.zeros((10, 20)), np.ones(10))


class _FitOnce(BaseEstimator):
    def __init__(self, parameter=None):
        self.parameter = parameter

    def fit(self, X, y):
        assert not hasattr(self, "has_been_fit_")
        self.has_been_fit_ = True

    def predict(self, X):
        return np.zeros(X.shape[0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_refit_uses_a_fresh_clone():
    """follows test_refit."""
    Xc = np.arange(100).reshape(10, 10)
    yc = np.array([0] * 5 + [1] * 5)
    HarmonicaSearchCV(_FitOnce(), [{"parameter": [0, 1]}], scoring="precision",
                      refit=True).fit(Xc, yc)


# ------------------------------------------------------------------ refit


def test_refit_callable_picks_its_index():
    """follows test_refit_callable: the callable sees every cv_results_ key;
    best_score_ is absent."""
    seen = {}

    def lowest(results):
        seen.update(results)
        return int(np.argmin(results["mean_test_score"]))

    search = _search({"C": [0.001, 0.1, 1]}, LinearSVC(random_state=42),
                     scoring="precision", refit=lowest).fit(Xs, ys)
    reference = _search({"C": [0.001, 0.1, 1]}, LinearSVC(random_state=42),
                        scoring="precision").fit(Xs, ys)
    assert set(reference.cv_results_) <= set(seen)
    assert search.best_index_ == int(np.argmin(search.cv_results_["mean_test_score"]))
    assert not hasattr(search, "best_score_")


def test_refit_callable_must_return_an_int():
    """follows test_refit_callable_invalid_type."""
    search = _search({"C": [0.1, 1]}, LinearSVC(), refit=lambda r: None)
    with pytest.raises(TypeError, match="best_index_ returned is not an integer"):
        search.fit(Xs, ys)


@pytest.mark.parametrize("value", [-1, 2])
@pytest.mark.parametrize("make", [_search, _random_like], ids=["exhaustive", "halving"])
def test_refit_callable_out_of_bounds(value, make):
    """follows test_refit_callable_out_bound."""
    space = {"C": [0.1, 1]} if make is _search else {"C": uniform(0.1, 1)}
    n = 2 if make is _search else None

    def out(results):
        return value if n else (-1 if value < 0 else len(results["params"]))

    with pytest.raises(IndexError, match="best_index_ index out of range"):
        make(space, LinearSVC(), refit=out).fit(Xs, ys)


def test_refit_callable_with_several_metrics():
    """follows test_refit_callable_multi_metric."""
    def lowest_prec(results):
        assert "mean_test_prec" in results
        return int(np.argmin(results["mean_test_prec"]))

    scoring = {"Accuracy": make_scorer(accuracy_score), "prec": "precision"}
    search = _search({"C": [0.001, 0.1, 1]}, LinearSVC(random_state=42), scoring=scoring,
                     refit=lowest_prec).fit(Xs, ys)
    assert search.best_index_ == int(np.argmin(search.cv_results_["mean_test_prec"]))
    assert not hasattr(search, "best_score_")


def test_refit_callable_in_halving_sees_full_resource_rows_only():
    """Documented difference (HarmonicaSearchCV's refit): a callable receives
    cv_results_ restricted to the full-resource rows and its index is mapped
    back (sklearn's halving searches pass every row)."""
    seen = []

    def first(results):
        seen.append(np.asarray(results["n_resources"]))
        return 0

    search = _random_like({"C": uniform(0.1, 1)}, LinearSVC(), refit=first).fit(Xs, ys)
    assert set(seen[0]) == {search.max_resources_}
    assert search.cv_results_["n_resources"][search.best_index_] == search.max_resources_
    assert not hasattr(search, "best_score_")


# ----------------------------------------------------------- input kinds


def test_nd_inputs():
    """follows test_gridsearch_nd."""
    X_4d = np.arange(10 * 5 * 3 * 2).reshape(10, 5, 3, 2)
    y_3d = np.arange(10 * 7 * 11).reshape(10, 7, 11)
    clf = CheckingClassifier(check_X=lambda x: x.shape[1:] == (5, 3, 2),
                             check_y=lambda x: x.shape[1:] == (7, 11), methods_to_check=["fit"])
    search = HarmonicaSearchCV(clf, {"foo_param": [1, 2, 3]}).fit(X_4d, y_3d)
    search.score(X4, y4)


@pytest.mark.parametrize("which", ["X", "y"])
def test_lists_stay_lists(which):
    """follows test_X_as_list and test_y_as_list."""
    Xc = np.arange(100).reshape(10, 10)
    yc = np.array([0] * 5 + [1] * 5)
    check = {f"check_{which}": lambda v: isinstance(v, list)}
    clf = CheckingClassifier(methods_to_check=["fit"], **check)
    search = HarmonicaSearchCV(clf, {"foo_param": [1, 2, 3]}, cv=KFold(3))
    search.fit(Xc.tolist() if which == "X" else Xc, yc.tolist() if which == "y" else yc)
    search.score(Xc, yc)


def test_dataframes_stay_dataframes():
    """follows test_pandas_input."""
    Xc = np.arange(100).reshape(10, 10)
    yc = np.array([0] * 5 + [1] * 5)
    types = [(MockDataFrame, MockDataFrame)]
    try:
        import pandas as pd

        types.append((pd.DataFrame, pd.Series))
    except ImportError:
        pass
    for XT, YT in types:
        clf = CheckingClassifier(check_X=lambda v, t=XT: isinstance(v, t),
                                 check_y=lambda v, t=YT: isinstance(v, t))
        search = HarmonicaSearchCV(clf, {"foo_param": [1, 2, 3]}).fit(XT(Xc), YT(yc))
        search.score(XT(Xc), YT(yc))
        search.predict(XT(Xc))


def test_input_kinds_in_halving_mode():
    """follows test_X_as_list, test_y_as_list, test_pandas_input and
    test_gridsearch_nd in halving mode: subsampled folds keep the input kinds."""
    pd = pytest.importorskip("pandas")
    X4d = np.arange(40 * 5 * 3 * 2).reshape(40, 5, 3, 2)
    y3d = np.arange(40 * 7 * 11).reshape(40, 7, 11)
    cases = [
        ({"check_X": lambda v: isinstance(v, list)}, Xs.tolist(), ys),
        ({"check_y": lambda v: isinstance(v, list)}, Xs, ys.tolist()),
        ({"check_X": lambda v: isinstance(v, pd.DataFrame),
          "check_y": lambda v: isinstance(v, pd.Series)}, pd.DataFrame(Xs), pd.Series(ys)),
        ({"check_X": lambda v: v.shape[1:] == (5, 3, 2)}, X4d, y3d),
    ]
    for checks, Xc, yc in cases:
        clf = CheckingClassifier(methods_to_check=["fit"], **checks)
        search = _random_like({"foo_param": uniform(0, 1)}, clf).fit(Xc, yc)
        assert search.search_mode_ == "halving only"


def test_string_labels_in_halving_mode():
    """Stratified subsampling of string class labels (test_search.py's
    classifiers, in halving mode)."""
    labels = np.where(ys == 1, "yes", "no")
    search = _random_like({"C": uniform(0.1, 1)}, LinearSVC()).fit(Xs, labels)
    assert set(search.predict(Xs)) <= {"yes", "no"}
    np.testing.assert_array_equal(search.classes_, ["no", "yes"])


def test_unsupervised_search():
    """follows test_unsupervised_grid_search (y=None, and scorers using y)."""
    from sklearn.datasets import make_blobs

    Xb, yb = make_blobs(n_samples=50, random_state=0)
    km = KMeans(random_state=0, init="random", n_init=1)
    space = {"n_clusters": [2, 3, 4]}
    for refit in ["adjusted_rand_score", "fowlkes_mallows_score"]:
        search = _search(space, km, scoring=["adjusted_rand_score", "fowlkes_mallows_score"],
                         refit=refit).fit(Xb, yb)
        assert search.best_params_["n_clusters"] == 3
    assert _search(space, km, scoring="fowlkes_mallows_score").fit(Xb, yb).best_params_ == {
        "n_clusters": 3}
    assert _search(space, km).fit(Xb).best_params_["n_clusters"] == 4


def test_unsupervised_halving_without_y():
    """follows test_unsupervised_grid_search (y=None) in halving mode:
    subsampled folds need no classes."""
    from sklearn.datasets import make_blobs

    Xb, _ = make_blobs(n_samples=60, random_state=0)
    search = _random_like({"n_clusters": [2, 3, 4, 5, 6, 7, 8, 9]},
                          KMeans(random_state=0, init="random", n_init=1), n_iter=4)
    search.fit(Xb)
    assert search.search_mode_ == "halving only"


def test_estimator_without_predict():
    """follows test_gridsearch_no_predict."""
    from sklearn.datasets import make_blobs

    Xb, _ = make_blobs(cluster_std=0.1, random_state=1, centers=[[0, 1], [1, 0], [0, 0]])
    search = _search({"bandwidth": [0.01, 0.1, 1]}, KernelDensity(),
                     scoring=lambda est, X: 42 if est.bandwidth == 0.1 else 0).fit(Xb)
    assert search.best_params_["bandwidth"] == 0.1 and search.best_score_ == 42


# -------------------------------------------------------------- cv_results_

_TIME_KEYS = ("mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time")
_SCORE_KEYS = (
    "mean_test_score", "mean_train_score", "rank_test_score", "std_test_score",
    "std_train_score", *[f"split{i}_{s}_score" for i in range(3) for s in ("test", "train")],
    *_TIME_KEYS,
)
_PARAM_KEYS = ("param_C", "param_degree", "param_gamma", "param_kernel")
_HARMONICA_KEYS = ("stage", "phase", "rung", "n_resources")


def _check_results(search, n_candidates, kinds):
    res = search.cv_results_
    assert sorted(res) == sorted(_PARAM_KEYS + _SCORE_KEYS + _HARMONICA_KEYS + ("params",))
    for key in _PARAM_KEYS:
        assert isinstance(res[key], np.ma.MaskedArray) and res[key].shape == (n_candidates,)
    assert {key: res[key].dtype.kind for key in _PARAM_KEYS} == kinds
    for key in _SCORE_KEYS:
        assert not isinstance(res[key], np.ma.MaskedArray) and res[key].shape == (n_candidates,)
        assert res[key].dtype == (np.int32 if key.startswith("rank") else np.float64)
    assert (res["rank_test_score"] >= 1).all()
    for i in range(n_candidates):
        poly = res["param_kernel"][i] == "poly"
        assert res["param_C"].mask[i] == poly and res["param_gamma"].mask[i] == poly
        assert res["param_degree"].mask[i] == (not poly)


def test_cv_results_of_a_list_of_grids():
    """follows test_grid_search_cv_results.  Documented difference: cv_results_
    also has stage, phase, rung and n_resources."""
    space = [{"kernel": ["rbf"], "C": [1, 10], "gamma": [0.1, 1]},
             {"kernel": ["poly"], "degree": [1, 2]}]
    search = _search(space, SVC(), return_train_score=True).fit(Xs, ys)
    _check_results(search, 6, {"param_C": "i", "param_degree": "i", "param_gamma": "f",
                               "param_kernel": "O"})
    assert list(search.cv_results_["param_kernel"]).count("poly") == 2


@pytest.mark.parametrize("n_stages", [0, 1])
def test_cv_results_of_a_list_of_distributions(n_stages):
    """follows test_random_search_cv_results and test_successive_halving's
    test_halving_random_search_list_of_dicts (the halving extra keys are
    stage/phase/rung/n_resources instead of iter)."""
    space = [{"kernel": ["rbf"], "C": expon(scale=10), "gamma": expon(scale=0.1)},
             {"kernel": ["poly"], "degree": [2, 3]}]
    search = _search(space, SVC(), return_train_score=True, n_iter=12, n_stages=n_stages,
                     stage_size=8, min_train_rows=0).fit(Xs, ys)
    n = len(search.cv_results_["params"])
    _check_results(search, n, {"param_C": "f", "param_degree": "i", "param_gamma": "f",
                               "param_kernel": "O"})


def test_unweighted_mean_over_folds():
    """follows test_search_default_iid."""
    from sklearn.datasets import make_blobs

    Xb, yb = make_blobs(centers=[[0, 0], [1, 0], [0, 1], [1, 1]], random_state=0,
                        cluster_std=0.1, shuffle=False, n_samples=80)
    mask = np.ones(80, dtype=bool)
    mask[np.where(yb == 1)[0][::2]] = False
    mask[np.where(yb == 2)[0][::2]] = False
    cv = [[mask, ~mask], [~mask, mask]]
    search = HarmonicaSearchCV(SVC(), {"C": [1, 10]}, cv=cv, return_train_score=True)
    search.fit(Xb, yb)
    res = search.cv_results_
    test = np.array([res[f"split{s}_test_score"][0] for s in range(search.n_splits_)])
    np.testing.assert_allclose(test, [1, 1 / 3])
    assert res["mean_test_score"][0] == pytest.approx(test.mean())
    assert res["std_test_score"][0] == pytest.approx(test.std())
    assert res["mean_train_score"][0] == pytest.approx(1)
    assert res["std_train_score"][0] == pytest.approx(0)


def test_boolean_mask_folds_in_halving_mode():
    """follows test_search_default_iid (cv given as boolean masks), in halving
    mode: the same results as the same folds given as indices."""
    mask = np.arange(40) % 2 == 0
    as_masks = [[mask, ~mask], [~mask, mask]]
    as_indices = [(np.flatnonzero(a), np.flatnonzero(b)) for a, b in as_masks]
    a = _random_like({"C": uniform(0.1, 1)}, LinearSVC(random_state=0), cv=as_masks)
    b = _random_like({"C": uniform(0.1, 1)}, LinearSVC(random_state=0), cv=as_indices)
    np.testing.assert_equal(_without_times(a.fit(Xs, ys).cv_results_),
                            _without_times(b.fit(Xs, ys).cv_results_))


def _renamed(results, metric):
    return {re.sub("_score$", f"_{metric}", k): v for k, v in results.items()}


def _without_times(results):
    return {k: v for k, v in results.items() if not k.endswith("_time")}


def test_multimetric_results_equal_single_metric_results():
    """follows test_grid_search_cv_results_multimetric."""
    space = [{"kernel": ["rbf"], "C": [1, 10], "gamma": [0.1, 1]},
             {"kernel": ["poly"], "degree": [1, 2]}]
    runs = [
        _search(space, SVC(), scoring=scoring, refit=False).fit(Xs, ys)
        for scoring in ({"accuracy": make_scorer(accuracy_score),
                         "recall": make_scorer(recall_score)}, "accuracy", "recall")
    ]
    multi, acc, rec = runs
    assert multi.multimetric_ and sorted(multi.scorer_) == ["accuracy", "recall"]
    expected = {**_renamed(acc.cv_results_, "accuracy"), **_renamed(rec.cv_results_, "recall")}
    np.testing.assert_equal(_without_times(multi.cv_results_), _without_times(expected))


@pytest.mark.parametrize("refit", [True, False])
def test_multimetric_adaptive_search_follows_the_refit_metric(refit):
    """follows test_random_search_cv_results_multimetric.  Documented
    difference: the search is adaptive, so a multi-metric search walks the
    path of its refit metric (the first one with refit=False): its rows equal
    the single-metric search of that metric, not of the others."""
    space = {"C": expon(scale=1)}
    kw = {"n_iter": 6, "n_stages": 0, "min_train_rows": 0, "estimator": LinearSVC(random_state=0)}
    multi = _search(space, scoring=("accuracy", "recall"),
                    refit="accuracy" if refit else False, **kw).fit(Xs, ys)
    acc = _search(space, scoring="accuracy", refit=refit, **kw).fit(Xs, ys)
    rename = {k: v for k, v in _renamed(acc.cv_results_, "accuracy").items()}
    got = {k: v for k, v in multi.cv_results_.items() if k in rename}
    np.testing.assert_equal(_without_times(got), _without_times(rename))
    if not refit:
        # As GridSearchCV: no best candidate with several metrics and refit=False.
        assert not hasattr(multi, "best_index_") and not hasattr(multi, "best_params_")
    else:
        for key in ("best_index_", "best_score_", "best_params_"):
            assert getattr(multi, key) == getattr(acc, key)
        np.testing.assert_allclose(multi.predict(Xs), acc.predict(Xs))
        assert multi.score(Xs, ys) == pytest.approx(acc.score(Xs, ys))


def test_score_samples_delegation():
    """follows test_search_cv_score_samples_error and ..._method."""
    search = _search({"max_depth": [5, 10]}, DecisionTreeClassifier()).fit(Xs, ys)
    with pytest.raises(AttributeError, match="'HarmonicaSearchCV' has no attribute "
                       "'score_samples'") as info:
        search.score_samples(Xs)
    assert str(info.value.__cause__) == (
        "'DecisionTreeClassifier' object has no attribute 'score_samples'")
    lof = _search({"n_neighbors": [5, 10]}, LocalOutlierFactor(novelty=True),
                  scoring="precision")
    y_true = np.where(np.arange(40) < 34, 1, -1)
    lof.fit(Xs, y_true)
    np.testing.assert_allclose(lof.score_samples(Xs), lof.best_estimator_.score_samples(Xs))


@pytest.mark.skipif(
    not sklearn_version_at_least("1.9"),
    reason="scikit-learn's searches pass sample_weight to scorers in recent versions "
    "only (checked: not in 1.6.1, in 1.9.1)",
)
def test_scorer_without_sample_weight_warns():
    """follows test_unsupported_sample_weight_scorer."""
    fake = make_scorer(lambda t, p: 0.5)
    sw = np.ones_like(ys)
    search = _search({"C": [1, 10]}, LinearSVC())
    search.set_params(scoring=lambda est, X, y: 0.5)
    with pytest.warns(UserWarning, match="does not support sample_weight"):
        search.fit(Xs, ys, sample_weight=sw)
    search.set_params(scoring=fake)
    with pytest.warns(UserWarning, match="does not support sample_weight"):
        search.fit(Xs, ys, sample_weight=sw)
    search.set_params(scoring={"fake": fake, "accuracy": "accuracy"}, refit=False)
    with pytest.warns(UserWarning, match=r"The scoring fake=.* does not support sample_weight"):
        search.fit(Xs, ys, sample_weight=sw)


@pytest.mark.skipif(
    not sklearn_version_at_least("1.9"),
    reason="scikit-learn's searches pass sample_weight to scorers in recent versions "
    "only (checked: not in 1.6.1, in 1.9.1)",
)
def test_sample_weight_equals_repeated_rows():
    """follows test_search_cv_sample_weight_equivalence."""
    rng = np.random.RandomState(42)
    Xw, yw = rng.rand(40, 6), rng.rand(40)
    sw = rng.randint(0, 4, size=40)
    groups = np.tile(np.arange(4), 10)
    weighted = _search({"alpha": [1, 0.1, 0.01]}, Ridge(),
                       cv=list(LeaveOneGroupOut().split(Xw, groups=groups)))
    repeated = _search({"alpha": [1, 0.1, 0.01]}, Ridge(),
                       cv=list(LeaveOneGroupOut().split(Xw.repeat(sw, 0),
                                                         groups=groups.repeat(sw))))
    weighted.fit(Xw, yw, sample_weight=sw)
    repeated.fit(Xw.repeat(sw, 0), yw.repeat(sw))
    for key in weighted.cv_results_:
        if key.endswith("score"):
            np.testing.assert_allclose(weighted.cv_results_[key], repeated.cv_results_[key])
    assert weighted.best_index_ == repeated.best_index_
    np.testing.assert_allclose(weighted.predict(Xw), repeated.predict(Xw))


def test_ties_share_the_min_rank():
    """follows test_search_cv_results_rank_tie_breaking."""
    from sklearn.datasets import make_blobs

    Xb, yb = make_blobs(n_samples=50, random_state=42)
    res = _search({"C": [1, 1.001, 0.001]}, SVC(), return_train_score=True).fit(Xb, yb).cv_results_
    assert res["mean_test_score"][0] == pytest.approx(res["mean_test_score"][1])
    assert not np.allclose(res["mean_test_score"][1], res["mean_test_score"][2])
    np.testing.assert_array_equal(res["rank_test_score"], [1, 1, 3])


def test_none_value_in_results():
    """follows test_search_cv_results_none_param."""
    Xn, yn = [[1], [2], [3], [4], [5]], [0, 0, 0, 0, 1]
    for est in (DecisionTreeRegressor(), DecisionTreeClassifier()):
        search = HarmonicaSearchCV(est, {"random_state": [0, None]}, cv=KFold()).fit(Xn, yn)
        np.testing.assert_array_equal(search.cv_results_["param_random_state"], [0, None])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
def test_times_of_failed_fits_and_refit_time():
    """follows test_search_cv_timing."""
    search = HarmonicaSearchCV(LinearSVC(), {"C": [0, 1]}, cv=2, error_score=0)
    search.fit([[1], [2], [3], [4]], [0, 1, 1, 0])
    res = search.cv_results_
    assert (res["mean_fit_time"] >= 0).all() and (res["std_fit_time"] >= 0).all()
    assert res["mean_score_time"][0] == 0.0 and res["mean_score_time"][1] >= 0
    assert isinstance(search.refit_time_, float) and search.refit_time_ >= 0


@pytest.mark.parametrize("scoring", ["f1", "roc_auc"])
def test_split_scores_are_the_right_ones(scoring):
    """follows test_grid_search_correct_score_results."""
    Cs = [0.1, 1, 10]
    search = _search({"C": Cs}, LinearSVC(random_state=0), scoring=scoring).fit(Xs, ys)
    for i, C in enumerate(Cs):
        for s, (train, test) in enumerate(StratifiedKFold(3).split(Xs, ys)):
            clf = LinearSVC(random_state=0, C=C).fit(Xs[train], ys[train])
            if scoring == "f1":
                want = f1_score(ys[test], clf.predict(Xs[test]))
            else:
                want = roc_auc_score(ys[test], clf.decision_function(Xs[test]))
            assert search.cv_results_[f"split{s}_test_score"][i] == pytest.approx(want)


@pytest.mark.parametrize("make", [_search, _random_like], ids=["exhaustive", "halving"])
def test_pickle_round_trip(make):
    """follows test_pickle."""
    if make is _search:
        search = HarmonicaSearchCV(_Mock(), {"foo_param": [1, 2, 3]}, cv=2).fit(X4, y4)
        data = X4
    else:
        search = make({"C": uniform(0.1, 1)}, LinearSVC()).fit(Xs, ys)
        data = Xs
    again = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(search.predict(data), again.predict(data))


def test_multioutput_targets():
    """follows test_grid_search_with_multioutput_data."""
    from sklearn.datasets import make_multilabel_classification

    Xm, ym = make_multilabel_classification(n_samples=40, return_indicator=True, random_state=0)
    for est in (DecisionTreeRegressor(random_state=0), DecisionTreeClassifier(random_state=0)):
        search = HarmonicaSearchCV(est, {"max_depth": [1, 2, 3, 4]}, cv=KFold()).fit(Xm, ym)
        for i, params in enumerate(search.cv_results_["params"]):
            est.set_params(**params)
            for s, (train, test) in enumerate(KFold().split(Xm, ym)):
                want = est.fit(Xm[train], ym[train]).score(Xm[test], ym[test])
                assert search.cv_results_[f"split{s}_test_score"][i] == pytest.approx(want)


def test_predict_proba_absent_when_the_estimator_lacks_it():
    """follows test_predict_proba_disabled."""
    search = HarmonicaSearchCV(SVC(), {}, cv=2).fit(np.arange(20).reshape(5, -1), [0, 0, 1, 1, 1])
    assert not hasattr(search, "predict_proba")


def test_nan_inputs_through_an_imputer():
    """follows test_grid_search_allows_nans."""
    Xn = np.arange(20, dtype=float).reshape(5, -1)
    Xn[2, :] = np.nan
    pipe = Pipeline([("imputer", SimpleImputer()), ("classifier", _Mock())])
    HarmonicaSearchCV(pipe, {"classifier__foo_param": [1, 2, 3]}, cv=2).fit(Xn, [0, 0, 1, 1, 1])


# ---------------------------------------------------------------- failures

Xf20, yf20 = make_classification(n_samples=20, n_features=10, random_state=0)


@pytest.mark.parametrize("error_score", [0.0, float("nan")])
def test_failing_fits_warn_and_score_error_score(error_score):
    """follows test_grid_search_failing_classifier."""
    search = HarmonicaSearchCV(_Failing(), [{"parameter": [0, 1, 2]}], scoring="accuracy",
                               refit=False, error_score=error_score)
    message = re.compile(
        r"5 fits failed.+total of 15.+The score on these train-test partitions for these "
        rf"parameters will be set to {re.escape(str(error_score))}.+5 fits failed with the "
        r"following error.+ValueError.+Failing classifier failed as required",
        flags=re.DOTALL,
    )
    with pytest.warns(FitFailedWarning, match=message):
        search.fit(Xf20, yf20)
    res = search.cv_results_
    scores = np.array([res[f"split{s}_test_score"][2] for s in range(5)])
    np.testing.assert_array_equal(scores, np.full(5, error_score))
    if np.isnan(error_score):
        assert res["rank_test_score"][2] == 3 and max(res["rank_test_score"][:2]) <= 2
        assert search.best_index_ != 2


def test_all_fits_failing_raise():
    """follows test_grid_search_classifier_all_fits_fail."""
    search = HarmonicaSearchCV(_Failing(), [{"parameter": [2] * 3}], error_score=0.0)
    message = re.compile(r"All the 15 fits failed.+15 fits failed with the following error"
                         r".+ValueError.+Failing classifier failed as required", re.DOTALL)
    with pytest.raises(ValueError, match=message):
        search.fit(Xf20, yf20)


def test_error_score_raise():
    """follows test_grid_search_failing_classifier_raise."""
    search = HarmonicaSearchCV(_Failing(), [{"parameter": [0, 1, 2]}], scoring="accuracy",
                               refit=False, error_score="raise")
    with pytest.raises(ValueError, match="Failing classifier failed as required"):
        search.fit(Xf20, yf20)


def test_n_iter_larger_than_the_grid_evaluates_it_once():
    """follows test_parameters_sampler_replacement.  Documented difference:
    with n_iter at least the size of a finite space, HarmonicaSearchCV
    evaluates the grid exactly once, like GridSearchCV, without
    RandomizedSearchCV's 'total space ... is smaller than n_iter' warning."""
    space = [{"a": [0, 1], "b": ["x", "y", "z"]}, {"c": ["two", "values"]}]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search = HarmonicaSearchCV(_Fast(), space, n_iter=9, cv=2).fit(Xs, ys)
    assert search.search_mode_ == "exhaustive"
    assert search.cv_results_["params"] == list(ParameterGrid(space))


def test_n_iter_below_a_large_grid_never_repeats_a_candidate():
    """follows test_parameters_sampler_replacement (no replacement): candidates
    at the same resource are distinct."""
    space = {"a": list(range(10)), "b": list(range(10)), "c": list(range(10))}
    search = HarmonicaSearchCV(_Fast(), space, n_iter=30, cv=2, random_state=42,
                               resource="n_estimators", max_resources=9).fit(Xs, ys)
    res = search.cv_results_
    keys = [(str(p), r) for p, r in zip(res["params"], res["n_resources"])]
    assert len(keys) == len(set(keys))


def test_predict_proba_appears_with_the_searched_loss():
    """follows test_stochastic_gradient_loss_param."""
    Xg, yg = np.arange(24).reshape(6, -1), [0, 0, 0, 1, 1, 1]
    search = HarmonicaSearchCV(SGDClassifier(loss="hinge"), {"loss": ["log_loss"]}, cv=3)
    assert not hasattr(search, "predict_proba")
    search.fit(Xg, yg)
    search.predict_proba(Xg)
    search.predict_log_proba(Xg)
    search = HarmonicaSearchCV(SGDClassifier(loss="hinge"), {"loss": ["hinge"]}, cv=3)
    assert not hasattr(search, "predict_proba")
    search.fit(Xg, yg)
    assert not hasattr(search, "predict_proba")


def test_no_train_scores_by_default():
    """follows test_search_train_scores_set_to_false."""
    search = _search({"C": [0.1, 0.2]}, LinearSVC()).fit(Xs, ys)
    assert not any("train" in key for key in search.cv_results_)


class _OneShot:
    """A cv whose split can be iterated once (sklearn's OneTimeSplitter, in spirit)."""

    def __init__(self, n_splits, n_samples):
        self.n_splits = n_splits
        self.folds = iter(KFold(n_splits).split(np.zeros(n_samples)))

    def split(self, X=None, y=None, groups=None):
        yield from self.folds

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits


@pytest.mark.parametrize("make", [_search, _random_like], ids=["exhaustive", "halving"])
def test_one_shot_cv_and_generators(make):
    """follows test_grid_search_cv_splits_consistency: a one-shot cv, a
    generator and a shuffling splitter give the same folds to every candidate."""
    space = {"C": [0.1, 0.2, 0.3]} if make is _search else {"C": uniform(0.1, 0.3)}
    kw = {"return_train_score": True}
    once = make(space, LinearSVC(random_state=0), cv=_OneShot(5, 40), **kw).fit(Xs, ys)
    kfold = make(space, LinearSVC(random_state=0), cv=KFold(5), **kw).fit(Xs, ys)
    np.testing.assert_equal(_without_times(once.cv_results_), _without_times(kfold.cv_results_))
    gen = make(space, LinearSVC(random_state=0),
               cv=KFold(5, shuffle=True, random_state=0).split(Xs, ys), **kw).fit(Xs, ys)
    shuf = make(space, LinearSVC(random_state=0), cv=KFold(5, shuffle=True, random_state=0),
                **kw).fit(Xs, ys)
    np.testing.assert_equal(_without_times(gen.cv_results_), _without_times(shuf.cv_results_))


def test_repeated_candidates_see_the_same_folds():
    """follows test_grid_search_cv_splits_consistency (repeated values)."""
    search = _search({"C": [0.1, 0.1, 0.2, 0.2]}, LinearSVC(random_state=0),
                     cv=KFold(5, shuffle=True), return_train_score=True).fit(Xs, ys)
    for kind in ("train", "test"):
        rows = np.array([[search.cv_results_[f"split{s}_{kind}_score"][i] for s in range(5)]
                         for i in range(4)])
        np.testing.assert_allclose(rows[0], rows[1])
        np.testing.assert_allclose(rows[2], rows[3])


def test_shuffling_cv_is_accepted_in_halving():
    """follows test_successive_halving's test_input_errors ('must yield
    consistent folds').  Documented difference: HarmonicaSearchCV splits
    once per fit and replays the folds, so a shuffling KFold or a ShuffleSplit
    is accepted and every rung sees the same folds."""
    for cv in (KFold(shuffle=True), ShuffleSplit(n_splits=3)):
        _random_like({"C": uniform(0.1, 1)}, LinearSVC(), cv=cv).fit(Xs, ys)


def test_transform_round_trip():
    """follows test_transform_inverse_transform_round_trip."""
    search = HarmonicaSearchCV(_Mock(), {"foo_param": [1, 2, 3]}, cv=2, verbose=3).fit(X4, y4)
    np.testing.assert_array_equal(search.inverse_transform(search.transform(X4)), X4)


def test_empty_cv_iterator():
    """follows test_empty_cv_iterator_error."""
    cv = KFold(3).split(Xs)
    list(cv)
    with pytest.raises(ValueError, match=r"No fits were performed. Was the CV iterator "
                       r"empty\? Were there no candidates\?"):
        _search({"alpha": [1e-3, 1e-2, 1e-1]}, Ridge(), cv=cv).fit(Xs, ys)


def test_get_n_splits_smaller_than_split_is_refused():
    """follows test_random_search_bad_cv (get_n_splits says 1, split gives 3)."""
    class _Broken(KFold):
        def get_n_splits(self, *args, **kw):
            return 1

    with pytest.raises(ValueError, match=r"cv.split and cv.get_n_splits return inconsistent "
                       r"results. Expected \d+ splits, got \d+"):
        _search({"alpha": [1e-3, 1e-2, 1e-1]}, Ridge(), cv=_Broken(3)).fit(Xs, ys)


class _EveryFifthNaN:
    def __init__(self):
        self.calls = 0

    def __call__(self, est, X, y):
        self.calls += 1
        return np.nan if self.calls % 5 == 0 else 1


@pytest.mark.filterwarnings("ignore:One or more of the:UserWarning")
@pytest.mark.parametrize("return_train_score", [False, True])
def test_non_finite_scores_rank_last(return_train_score):
    """follows test_searchcv_raise_warning_with_non_finite_score (ranks)."""
    search = HarmonicaSearchCV(DecisionTreeClassifier(), {"max_depth": [2, 3, 5, 8]},
                               scoring=_EveryFifthNaN(), cv=3,
                               return_train_score=return_train_score).fit(Xs, ys)
    ranks = search.cv_results_["rank_test_score"]
    bad = np.isnan(search.cv_results_["mean_test_score"])
    assert bad.any()
    assert (ranks[bad] == ranks.max()).all() and (ranks[~bad] < ranks.max()).all()


@pytest.mark.parametrize("return_train_score", [False, True])
def test_non_finite_scores_warn_once(return_train_score):
    """follows test_searchcv_raise_warning_with_non_finite_score (warnings)."""
    search = HarmonicaSearchCV(DecisionTreeClassifier(), {"max_depth": [2, 3, 5, 8]},
                               scoring=_EveryFifthNaN(), cv=3,
                               return_train_score=return_train_score)
    with pytest.warns(UserWarning) as record:
        search.fit(Xs, ys)
    kinds = ["test", "train"] if return_train_score else ["test"]
    messages = [str(w.message) for w in record]
    assert len(messages) == len(kinds)
    for message, kind in zip(messages, kinds):
        assert f"One or more of the {kind} scores are non-finite" in message


# --------------------------------------------------------- callable scoring


def test_callable_scoring_returning_a_dict():
    """follows test_callable_multimetric_confusion_matrix."""
    def counts(clf, X, y):
        cm = confusion_matrix(y, clf.predict(X))
        return {"tn": cm[0, 0], "fp": cm[0, 1], "fn": cm[1, 0], "tp": cm[1, 1]}

    search = _search({"C": [0.1, 1]}, LinearSVC(random_state=42), scoring=counts,
                     refit="fp").fit(Xs, ys)
    for name in ("tn", "fp", "fn", "tp"):
        assert f"mean_test_{name}" in search.cv_results_
    assert search.score(Xs, ys) == pytest.approx(confusion_matrix(ys, search.predict(Xs))[0, 1])


@pytest.mark.parametrize("make", [_search, _random_like], ids=["exhaustive", "halving"])
def test_callable_dict_equals_list_of_strings(make):
    """follows test_callable_multimetric_same_as_list_of_strings."""
    def both(est, X, y):
        pred = est.predict(X)
        return {"recall": recall_score(y, pred), "accuracy": accuracy_score(y, pred)}

    space = {"C": [0.1, 1]} if make is _search else {"C": uniform(0.01, 1)}
    a = make(space, LinearSVC(random_state=42), scoring=both, refit="recall").fit(Xs, ys)
    b = make(space, LinearSVC(random_state=42), scoring=["recall", "accuracy"],
             refit="recall").fit(Xs, ys)
    assert a.best_score_ == pytest.approx(b.best_score_)
    assert a.best_index_ == b.best_index_
    assert a.score(Xs, ys) == pytest.approx(b.score(Xs, ys))


def test_callable_single_metric_equals_string():
    """follows test_callable_single_metric_same_as_single_string."""
    space = {"C": [0.1, 1]}
    a = _search(space, LinearSVC(random_state=42),
                scoring=lambda est, X, y: recall_score(y, est.predict(X))).fit(Xs, ys)
    b = _search(space, LinearSVC(random_state=42), scoring="recall", refit="recall").fit(Xs, ys)
    c = _search(space, LinearSVC(random_state=42), scoring=["recall"], refit="recall").fit(Xs, ys)
    for other in (b, c):
        assert a.best_score_ == pytest.approx(other.best_score_)
        assert a.best_index_ == other.best_index_
        assert a.score(Xs, ys) == pytest.approx(other.score(Xs, ys))


def test_callable_dict_without_the_refit_key():
    """follows test_callable_multimetric_error_on_invalid_key."""
    search = _search({"C": [0.1, 1]}, LinearSVC(), scoring=lambda e, X, y: {"bad_name": 1},
                     refit="good_name")
    with pytest.raises(ValueError, match="For multi-metric scoring, the parameter refit must "
                       "be set to a scorer key or a callable to refit"):
        search.fit(Xs, ys)


def test_callable_dict_with_failing_fits():
    """follows test_callable_multimetric_error_failing_clf and ..._clf_all_fits_fail."""
    search = HarmonicaSearchCV(_Failing(), [{"parameter": [0, 1, 2]}],
                               scoring=lambda e, X, y: {"acc": 1}, refit=False, error_score=0.1)
    with pytest.warns(FitFailedWarning, match=re.compile(
            r"5 fits failed.+total of 15.+will be set to 0\.1", re.DOTALL)):
        search.fit(Xf20, yf20)
    np.testing.assert_allclose(search.cv_results_["mean_test_acc"], [1, 1, 0.1])
    search.set_params(param_space=[{"parameter": [2] * 3}])
    with pytest.raises(ValueError, match=re.compile(
            r"All the 15 fits failed.+your model is misconfigured.+ValueError: Failing "
            r"classifier failed as required", re.DOTALL)):
        search.fit(Xf20, yf20)


# ---------------------------------------------------- delegated attributes


def test_n_features_in_and_feature_names_in():
    """follows test_n_features_in (and feature_names_in_ through pandas)."""
    search = _search({"C": [0.1, 1]}, LinearSVC())
    assert not hasattr(search, "n_features_in_")
    search.fit(Xs, ys)
    assert search.n_features_in_ == 4
    assert not hasattr(search, "feature_names_in_")
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(Xs, columns=list("abcd"))
    search.fit(frame, ys)
    np.testing.assert_array_equal(search.feature_names_in_, list("abcd"))


@pytest.mark.parametrize("pairwise", [True, False])
def test_pairwise_tag_follows_the_estimator(pairwise):
    """follows test_search_cv_pairwise_property_delegated_to_base_estimator
    and test_search_cv__pairwise_property_delegated_to_base_estimator."""
    class _Est(BaseEstimator):
        def __init__(self, pairwise=True):
            self.pairwise = pairwise

        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.input_tags.pairwise = self.pairwise
            return tags

    search = HarmonicaSearchCV(_Est(pairwise), {"n_neighbors": [10]})
    assert search.__sklearn_tags__().input_tags.pairwise == pairwise


@pytest.mark.parametrize("make", [_search, _random_like], ids=["exhaustive", "halving"])
def test_precomputed_distances_equal_features(make):
    """follows test_search_cv_pairwise_property_equivalence_of_precomputed."""
    from sklearn.metrics.pairwise import euclidean_distances

    space = {"n_neighbors": [10]} if make is _search else {"n_neighbors": [3, 4, 5, 6, 7, 8, 9, 10]}
    plain = make(space, KNeighborsClassifier(), cv=2, n_iter=4).fit(Xs, ys)
    pre = make(space, KNeighborsClassifier(metric="precomputed"), cv=2, n_iter=4)
    pre.fit(euclidean_distances(Xs), ys)
    np.testing.assert_array_equal(plain.predict(Xs), pre.predict(euclidean_distances(Xs)))


class _ScalarFitParam(ClassifierMixin, BaseEstimator):
    def __init__(self, a=None):
        self.a = a

    def fit(self, X, y, r=None):
        self.r_ = r
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.zeros(len(X))


@pytest.mark.parametrize("space", [{"a": [0.1, 0.01]}, {"a": uniform(1, 3)}])
def test_scalar_fit_param(space):
    """follows test_scalar_fit_param."""
    search = _search(space, _ScalarFitParam(), n_stages=0, n_iter=6, min_train_rows=0)
    assert search.fit(Xs, ys, r=42).best_estimator_.r_ == 42


class _OddFitParams(SGDClassifier):
    def fit(self, X, y, sample_weight=None, tuple_of_arrays=None, scalar_param=None,
            callable_param=None):
        super().fit(X, y, sample_weight=sample_weight)
        assert scalar_param > 0 and callable(callable_param)
        assert isinstance(tuple_of_arrays, tuple)
        assert tuple_of_arrays[0].ndim == 2 and tuple_of_arrays[1].ndim == 1
        return self


@pytest.mark.parametrize("space", [{"alpha": [0.1, 0.01]}, {"alpha": uniform(0.01, 0.1)}])
def test_non_sample_fit_params_pass_unchanged(space):
    """follows test_scalar_fit_param_compat (also on subsampled folds)."""
    search = _search(space, _OddFitParams(), n_stages=0, n_iter=6, min_train_rows=0)
    search.fit(Xs[:30], ys[:30], tuple_of_arrays=(Xs[30:], ys[30:]),
               callable_param=lambda: None, scalar_param=42)


@pytest.mark.parametrize("Predictor", [MinimalRegressor, MinimalClassifier])
def test_minimal_estimators_in_a_pipeline(Predictor):
    """follows test_search_cv_using_minimal_compatible_estimator."""
    rng = np.random.RandomState(0)
    Xm, ym = rng.randn(25, 2), np.array([0] * 5 + [1] * 20)
    pipe = Pipeline([("transformer", MinimalTransformer()), ("predictor", Predictor())])
    space = {"transformer__param": [1, 10], "predictor__parama": [1, 10]}
    search = HarmonicaSearchCV(pipe, space, error_score="raise").fit(Xm, ym)
    assert search.best_params_.keys() == space.keys()
    pred = search.predict(Xm)
    if Predictor is MinimalClassifier:
        np.testing.assert_array_equal(pred, 1)
        assert search.score(Xm, ym) == pytest.approx(accuracy_score(ym, pred))
    else:
        np.testing.assert_allclose(pred, ym.mean())


@pytest.mark.parametrize("return_train_score", [True, False])
def test_verbose_3_prints_one_score_per_fit(capsys, return_train_score):
    """follows test_search_cv_verbose_3."""
    Xv, yv = make_classification(n_samples=60, flip_y=0.2, random_state=0)
    _search({"C": [0.1]}, LinearSVC(random_state=0), scoring="accuracy", verbose=3,
            return_train_score=return_train_score).fit(Xv, yv)
    out = capsys.readouterr().out
    pattern = r"score=\(train=[\d\.]+, test=[\d.]+\)" if return_train_score else r"score=[\d\.]+"
    assert len(re.findall(pattern, out)) == 3


def test_verbose_1_reports_stages_and_rungs(capsys):
    """follows test_search_cv_verbose_3 for HarmonicaSearchCV's own verbose=1
    (documented): a line per stage and rung."""
    _random_like({"C": uniform(0.1, 1)}, LinearSVC(), verbose=1).fit(Xs, ys)
    out = capsys.readouterr().out
    assert "HarmonicaSearchCV" in out and "rung" in out


def test_estimators_in_the_space_are_not_modified():
    """follows test_search_estimator_param."""
    space = {"clf": [LinearSVC()], "clf__C": [0.01]}
    pipe = Pipeline([("trs", MinimalTransformer()), ("clf", None)])
    search = HarmonicaSearchCV(pipe, space, cv=2, scoring="accuracy").fit(Xs, ys)
    assert space["clf"][0].C == 1.0
    assert search.best_estimator_.named_steps["clf"].C == 0.01


def test_tuple_values_in_results():
    """follows test_search_with_2d_array."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import ComplementNB

    space = {"vect__ngram_range": ((1, 1), (1, 2)), "vect__norm": ("l1", "l2")}
    pipe = Pipeline([("vect", TfidfVectorizer()), ("clf", ComplementNB())])
    search = HarmonicaSearchCV(pipe, space, n_iter=4, random_state=0, cv=3)
    search.fit(["one", "two", "three", "four", "five"], [0, 0, 1, 0, 1])
    result = search.cv_results_["param_vect__ngram_range"]
    assert result.dtype == object
    assert set(result.data) == {(1, 1), (1, 2)}


def test_html_repr_shows_the_best_estimator():
    """follows test_search_html_repr."""
    from sklearn.preprocessing import StandardScaler

    pipe = Pipeline([("scale", StandardScaler()), ("clf", DummyClassifier())])
    space = {"clf": [DummyClassifier(), LinearSVC()]}
    search = HarmonicaSearchCV(pipe, space, refit=False)
    with config_context(display="diagram"):
        assert "<div>DummyClassifier</div>" in search._repr_html_()
    search.fit(Xs, ys)
    with config_context(display="diagram"):
        assert "<div>DummyClassifier</div>" in search._repr_html_()
    search = HarmonicaSearchCV(pipe, {"clf": [DummyClassifier(), LinearSVC(C=10)]}).fit(Xs, ys)
    with config_context(display="diagram"):
        html = search._repr_html_()
    assert "<div>DummyClassifier</div>" not in html and "<div>LinearSVC</div>" in html


# --------------------------------------------------------- metadata routing


@pytest.mark.parametrize("make", [_search, _random_like], ids=["exhaustive", "halving"])
def test_metadata_reaches_a_scorer_of_several(make):
    """follows test_multi_metric_search_forwards_metadata: routed metadata is
    the scorer's, cut to the test fold (subsampled at a reduced resource)."""
    weights, metadata = np.random.RandomState(0).rand(2, 40)
    seen = []

    def metric(y_true, y_pred, sample_weight=None, metadata=None):
        seen.append((sample_weight, metadata))
        return 1.0

    space = {"C": [1]} if make is _search else {"C": uniform(0.5, 1)}
    with config_context(enable_metadata_routing=True):
        scorer = make_scorer(metric).set_score_request(sample_weight="score_weights",
                                                       metadata="score_metadata")
        make(space, LinearSVC(), cv=2, scoring={"mine": scorer, "accuracy": "accuracy"},
             refit="accuracy").fit(Xs, ys, score_weights=weights, score_metadata=metadata)
    assert seen
    for sw, md in seen:
        assert len(sw) == len(md)
        assert len(sw) == 20 if make is _search else 0 < len(sw) <= 20
        positions = [int(np.flatnonzero(weights == w)[0]) for w in sw]
        np.testing.assert_array_equal(metadata[positions], md)


def test_score_refuses_params_without_routing():
    """follows test_score_rejects_params_with_no_routing_enabled."""
    search = _search({"C": [1]}, LinearSVC(), cv=2).fit(Xs, ys)
    with pytest.raises(ValueError, match="is only supported if"):
        search.score(Xs, ys, metadata=1)


def test_fit_metadata_routed_to_the_estimator():
    """follows the metadata-routing section (test_multi_metric_search_forwards_metadata)
    for fit: sample_weight requested by the estimator reaches its fits, unrequested
    metadata is refused."""
    weights = np.random.RandomState(0).rand(40) + 0.5
    seen = []

    class _Weighted(_Fast):
        def fit(self, X, y, sample_weight=None):
            seen.append(None if sample_weight is None else len(sample_weight))
            return super().fit(X, y)

    with config_context(enable_metadata_routing=True):
        est = _Weighted().set_fit_request(sample_weight=True)
        scoring = make_scorer(accuracy_score).set_score_request(sample_weight=False)
        _search({"a": [0, 1]}, est, cv=2, scoring=scoring).fit(Xs, ys, sample_weight=weights)
        assert seen and None not in seen
        assert set(seen) == {20, 40}  # the folds' training rows, then the refit
        with pytest.raises(Exception, match="sample_weight"):
            _search({"a": [0, 1]}, _Weighted(), cv=2, scoring=scoring).fit(
                Xs, ys, sample_weight=weights)


# -------------------------------------------------------- cv_results_ dtypes


def test_dict_and_list_values_give_object_columns():
    """follows test_cv_results_dtype_issue_29074."""
    class _Meta(ClassifierMixin, BaseEstimator):
        def __init__(self, base=None, p1=None, p2=None, p3=None, p4=None):
            self.base, self.p1, self.p2, self.p3, self.p4 = base, p1, p2, p3, p4

        def fit(self, X, y=None):
            self.classes_ = np.unique(y)
            return self

        def score(self, X, y):
            return 0.5

    space = {"p1": [None, {"option": "A"}, {"option": "B"}], "p2": [None, [1, 2]],
             "p3": [{"a": 1}], "p4": ["str1", "str2"]}
    search = HarmonicaSearchCV(_Meta(), space, cv=3).fit(Xs, ys)
    for name in space:
        assert search.cv_results_[f"param_{name}"].dtype == object


def test_estimator_values_give_object_columns():
    """follows test_search_with_estimators_issue_29157."""
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    Xe = np.array([[1.0, 0], [2, 0], [3, 0], [4, 0], [5, 0]])
    ye = np.array([1.0, 4.1, 2.0, 3.0, 1.0])
    pipe = Pipeline([("enc", OneHotEncoder(sparse_output=False, handle_unknown="ignore")),
                     ("regressor", LinearRegression())])
    search = HarmonicaSearchCV(pipe, {"enc": [OneHotEncoder(sparse_output=False,
                                                            handle_unknown="ignore"),
                                              OrdinalEncoder(handle_unknown="use_encoded_value",
                                                             unknown_value=-1)]}, cv=2)
    search.fit(Xe, ye)
    assert search.cv_results_["param_enc"].dtype == object


def test_arrays_of_different_sizes_as_values():
    """follows test_cv_results_multi_size_array."""
    from sklearn.preprocessing import SplineTransformer

    knots = [np.linspace(0, 6.3, 4 * i).reshape(-1, 4) for i in (3, 4, 5)]
    pipe = Pipeline([("spline", SplineTransformer(extrapolation="periodic")),
                     ("clf", LinearSVC())])
    search = HarmonicaSearchCV(pipe, {"spline__knots": knots}, cv=2).fit(Xs, ys)
    assert search.cv_results_["param_spline__knots"].dtype == object


# ----------------------------------------------------- use by other tools


def test_nested_cross_validation():
    """Nested CV: cross_val_score of the search (issue 15; sklearn tests nested
    searches in test_validation.py, not in the two files)."""
    scores = cross_val_score(_search({"C": [0.1, 1]}, LinearSVC()), Xs, ys, cv=2)
    assert scores.shape == (2,)
    scores = cross_val_score(_random_like({"C": uniform(0.1, 1)}, LinearSVC()), Xs, ys, cv=2)
    assert scores.shape == (2,)


def test_search_inside_a_pipeline():
    """The search as a Pipeline step (issue 15; the two sklearn files only put
    Pipelines inside searches: test_grid_search_pipeline_steps)."""
    from sklearn.preprocessing import StandardScaler

    pipe = Pipeline([("scale", StandardScaler()),
                     ("search", _search({"C": [0.1, 1]}, LinearSVC()))]).fit(Xs, ys)
    assert pipe.predict(Xs).shape == (40,)


def test_same_random_state_same_search():
    """follows test_param_sampler's repeatability: a fixed random_state gives
    the same candidates and results; clones too."""
    space = {"C": uniform(0.01, 1), "fit_intercept": [True, False]}
    a = _random_like(space, LinearSVC(random_state=0), random_state=3).fit(Xs, ys)
    b = clone(a).fit(Xs, ys)
    assert a.cv_results_["params"] == b.cv_results_["params"]
    np.testing.assert_equal(_without_times(a.cv_results_), _without_times(b.cv_results_))


# ---------------------------------------------------------------- halving

X200, y200 = make_classification(n_samples=200, random_state=0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
@pytest.mark.filterwarnings("ignore:Scoring failed:UserWarning")
@pytest.mark.filterwarnings("ignore:One or more of the:UserWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("fail_at", ["fit", "predict"])
def test_halving_failures_rank_last(fail_at):
    """follows test_successive_halving's test_nan_handling (resource an
    estimator parameter)."""
    search = HarmonicaSearchCV(_Fast(), {f"fail_{fail_at}": [False, True], "a": [0, 1, 2]},
                               resource="n_estimators", max_resources=6, min_resources=1,
                               factor=2, n_iter=3, n_stages=0, random_state=0, cv=3)
    search.fit(X200, y200)
    assert not search.best_params_[f"fail_{fail_at}"]
    scores, ranks = search.cv_results_["mean_test_score"], search.cv_results_["rank_test_score"]
    assert np.isnan(scores).any()
    nan_ranks = np.unique(ranks[np.isnan(scores)])
    assert nan_ranks.shape == (1,) and (nan_ranks[0] >= ranks).all()


def test_halving_resource_is_an_estimator_parameter():
    """follows test_resource_parameter.  Documented difference: rungs are
    aligned on max_resources (10/9, 10/3, 10 rounded: 1, 3, 10) rather than
    sklearn's min_resources * factor**i (1, 3, 9)."""
    search = HarmonicaSearchCV(_Fast(), {"a": [1, 2], "b": list(range(10))}, cv=2,
                               resource="c", max_resources=10, factor=3, n_iter=6, n_stages=0,
                               random_state=0).fit(X200, y200)
    assert search.n_resources_ == [1, 3, 10]
    res = search.cv_results_
    for r, params, c in zip(res["n_resources"], res["params"], res["param_c"]):
        assert r == params["c"] == c


@pytest.mark.parametrize(
    "params, message",
    [
        ({"resource": "not_a_parameter", "max_resources": 10},
         "resource='not_a_parameter' is neither 'n_samples' nor a parameter"),
        ({"resource": "a", "max_resources": 100}, "resource='a' is also a key of param_space"),
        ({"resource": "b"}, "max_resources='auto' takes the estimator's b"),
        ({"min_resources": 15, "max_resources": 14},
         "min_resources=15 is larger than max_resources=14"),
        ({"max_resources": 1000}, "max_resources=1000 exceeds the number of samples"),
    ],
)
def test_halving_input_errors(params, message):
    """follows test_input_errors.  Documented difference: same conditions, own
    messages; max_resources='auto' with a parameter resource takes the
    estimator's current value when it is a positive integer (here 'b' is 0)."""
    search = HarmonicaSearchCV(_Fast(), {"a": [1]}, **params)
    with pytest.raises(ValueError, match=re.escape(message)):
        search.fit(X200, y200)


@pytest.mark.parametrize("value", ["exhaust", "smallest"])
def test_halving_min_resources_strings_are_refused(value):
    """follows test_min_max_resources.  Documented difference (parameter
    constraints): min_resources is an int or "auto"; sklearn's "exhaust" and
    "smallest" are refused before any fit."""
    with pytest.raises(ValueError, match="The 'min_resources' parameter of HarmonicaSearchCV"):
        HarmonicaSearchCV(_Fast(), {"a": [1]}, min_resources=value).fit(X200, y200)


def test_halving_rounds_are_rungs():
    """follows test_n_iterations.  Documented difference: no n_iterations_ /
    n_possible_iterations_ / n_required_iterations_ / n_remaining_candidates_;
    the rungs run are n_resources_ (one per rung of cv_results_["rung"]) and
    n_candidates_ their sizes."""
    search = HarmonicaSearchCV(_Fast(), {"a": [1, 2], "b": list(range(10))}, cv=2, factor=2,
                               min_resources=8, max_resources=128, n_iter=8, n_stages=0,
                               min_train_rows=0, random_state=0).fit(X200, y200)
    res = search.cv_results_
    halving = res["phase"] == "halving"
    assert len(search.n_resources_) == len(set(res["rung"][halving]))
    assert search.n_resources_ == sorted(set(res["n_resources"][halving]))
    assert search.n_candidates_ == [int(np.sum(res["rung"][halving] == r))
                                    for r in range(len(search.n_resources_))]
    assert search.n_resources_[-1] == 128
    assert all(b == a * 2 for a, b in zip(search.n_resources_, search.n_resources_[1:]))


def test_halving_min_and_max_resources():
    """follows test_min_max_resources / test_n_iterations: n_resources_ grows by
    factor from min_resources_ to max_resources_ (aligned on the maximum)."""
    search = HarmonicaSearchCV(_Fast(), {"a": uniform(0, 1)}, factor=3, min_resources=20,
                               max_resources=180, n_iter=8, n_stages=0, min_train_rows=0,
                               random_state=0, cv=2).fit(X200, y200)
    assert search.min_resources_ == 20 and search.max_resources_ == 180
    assert search.n_resources_ == [20, 60, 180]
    assert all(a >= b for a, b in zip(search.n_candidates_, search.n_candidates_[1:]))
    one = HarmonicaSearchCV(_Fast(), {"a": uniform(0, 1)}, min_resources=30, max_resources=30,
                            n_iter=4, n_stages=0, min_train_rows=0, cv=2).fit(X200, y200)
    assert one.n_resources_ == [30]


def test_halving_tournament_keeps_the_best():
    """follows test_cv_results (n_stages=0): a candidate dropped at a rung is
    never evaluated again, the kept ones beat the dropped ones at that rung,
    and the best is chosen among the full-resource rows even when a lower rung
    scored higher."""
    rng = np.random.RandomState(0)
    search = HarmonicaSearchCV(_Fast(), {"a": ["l1", "l2"], "b": list(range(30))}, factor=2,
                               scoring=lambda est, X, y: rng.rand(), n_iter=12, n_stages=0,
                               min_train_rows=0, random_state=0, cv=3).fit(X200, y200)
    res = search.cv_results_
    keys = [str(p) for p in res["params"]]
    rungs = res["rung"]
    scores = res["mean_test_score"]
    for r in range(rungs.max()):
        here = {k: s for k, s, g in zip(keys, scores, rungs) if g == r}
        nxt = {k for k, g in zip(keys, rungs) if g == r + 1}
        assert nxt <= set(here)
        assert len(nxt) == search.n_candidates_[r + 1]
        dropped = [s for k, s in here.items() if k not in nxt]
        if dropped:
            assert max(dropped) < min(here[k] for k in nxt)
        later = {k for k, g in zip(keys, rungs) if g > r + 1}
        assert later <= nxt
    full = np.flatnonzero(res["n_resources"] == search.max_resources_)
    assert search.best_index_ == full[np.argmax(scores[full])]
    assert search.best_score_ == scores[search.best_index_]


def test_halving_subsamples_training_and_test_rows():
    """follows test_base_estimator_inputs: at resource r the training and the
    test rows of each fold are subsampled to r / n_samples of them, as
    sklearn's _SubsampleMetaSplitter(subsample_test=True) does."""
    fit_rows, predict_rows = [], []

    class _Counting(_Fast):
        def fit(self, X, y):
            fit_rows.append(len(X))
            return super().fit(X, y)

        def predict(self, X):
            predict_rows.append(len(X))
            return super().predict(X)

    search = HarmonicaSearchCV(_Counting(), {"a": ["l1", "l2"], "b": list(range(30))}, factor=2,
                               cv=2, refit=False, n_iter=12, n_stages=0, min_train_rows=0,
                               random_state=0).fit(X200, y200)
    res = search.cv_results_
    # Stratified: each class keeps the floor of its share, so up to one row
    # per class fewer than r / n_samples of the fold's rows.
    expected = sorted(round(r / 200 * 100) for r in res["n_resources"] for _ in range(2))
    for rows in (fit_rows, predict_rows):
        assert len(rows) == len(expected)
        assert all(0 <= e - f <= 2 for e, f in zip(expected, sorted(rows)))
    assert min(predict_rows) < 100 and max(predict_rows) == 100
    assert sorted(set(res["n_resources"])) == search.n_resources_


def test_halving_candidates_of_stages_compete_in_rungs():
    """Documented difference (docs/algorithm.md, section 7), against
    test_cv_results's 'a rung holds only the previous rung's survivors': the
    spectral stage's candidates, evaluated at a rung's resource, compete there
    and can enter the next rung without a halving row at the previous one.
    Dropped halving candidates are still never evaluated again, and the best
    is taken at full resource."""
    Xp, yp = make_classification(n_samples=300, n_features=8, random_state=0)
    space = {"C": uniform(0.001, 1), "fit_intercept": [True, False], "tol": [1e-4, 1e-3]}
    search = HarmonicaSearchCV(LinearSVC(random_state=0), space, n_iter=24, n_stages=1,
                               stage_size=12, min_train_rows=0, random_state=3, cv=2)
    search.fit(Xp, yp)
    res = search.cv_results_
    rows = list(zip(res["phase"], res["rung"], map(str, res["params"])))
    spectral = {k for phase, _, k in rows if phase == "spectral"}
    rung = {}
    for phase, r, k in rows:
        if phase == "halving":
            rung.setdefault(r, set()).add(k)
    top = max(rung)
    promoted = rung[top] - rung[top - 1]
    assert promoted and promoted <= spectral
    for r in range(top - 1):
        assert rung[r + 1] <= rung[r]
    assert res["n_resources"][search.best_index_] == search.max_resources_


def test_halving_rung_subsample_is_shared_by_its_candidates():
    """follows test_subsample_splitter_determinism: every candidate of a rung
    trains on the same subsample of each fold."""
    seen = {}

    class _Recording(_Fast):
        def fit(self, X, y):
            seen.setdefault(len(X), set()).add(np.asarray(X).tobytes())
            return super().fit(X, y)

    search = HarmonicaSearchCV(_Recording(), {"a": uniform(0, 1)}, n_iter=6, n_stages=0,
                               min_train_rows=0, random_state=0, cv=2, refit=False)
    search.fit(X200, y200)
    assert len(seen) >= 2
    for training_sets in seen.values():
        assert len(training_sets) <= 2  # one per fold


def test_halving_min_train_rows_floor():
    """follows test_min_max_resources (min_resources "auto").  Documented
    difference: min_train_rows (default 1000) keeps
    n_samples subsampling from going below that many training rows per fold;
    on small data it switches subsampling off."""
    search = HarmonicaSearchCV(_Fast(), {"a": uniform(0, 1)}, n_iter=6, n_stages=0,
                               random_state=0, cv=2).fit(X200, y200)
    assert search.min_resources_ == search.max_resources_ == 200
    assert set(search.cv_results_["n_resources"]) == {200}


def test_halving_empty_data_is_refused():
    """follows test_min_resources_null."""
    search = HarmonicaSearchCV(_Fast(), {"a": [1]}, min_train_rows=0)
    with pytest.raises(ValueError):
        search.fit(np.empty((0, 3)), [])


# --------------------------------------------------------------- callbacks


def _callback_utils():
    return pytest.importorskip("sklearn.callback.tests._utils",
                               reason="sklearn callbacks need scikit-learn >= 1.9")


def _n_batches(search):
    res = search.cv_results_
    return len(set(zip(res["stage"], res["phase"], res["rung"])))


@pytest.mark.parametrize("refit", [True, False])
@pytest.mark.parametrize("make", [_search, _random_like], ids=["exhaustive", "halving"])
def test_callbacks_without_propagation(make, refit):
    """follows test_search_callbacks_no_propagation.  Documented structure:
    like sklearn's halving searches (a task per round), the search task has a
    subtask per evaluated batch (the exhaustive batch, a stage, a rung), then
    one per candidate and split."""
    utils = _callback_utils()
    callbacks = [utils.RecordingCallback(), utils.RecordingAutoPropagatedCallback()]
    space = {"max_iter": [1, 2, 3]} if make is _search else {"max_iter": list(range(1, 9))}
    search = make(space, utils.NoCallbackEstimator(), cv=2, scoring="accuracy", refit=refit,
                  n_iter=3)
    search.set_callbacks(*callbacks).fit(X4 if make is _search else Xs,
                                         y4 if make is _search else ys)
    n_evaluations = len(search.cv_results_["params"]) * search.n_splits_
    expected = 1 + 1 + refit + _n_batches(search) + n_evaluations
    for callback in callbacks:
        assert callback.count_hooks("setup") == callback.count_hooks("teardown") == 1
        assert callback.count_hooks("on_fit_task_begin") == expected
        assert callback.count_hooks("on_fit_task_end") == expected


@pytest.mark.parametrize("refit", [True, False])
def test_callbacks_with_propagation(refit):
    """follows test_search_callbacks_propagation."""
    utils = _callback_utils()
    callbacks = [utils.RecordingCallback(), utils.RecordingAutoPropagatedCallback()]
    search = HarmonicaSearchCV(utils.MaxIterEstimator(), {"max_iter": [1, 2, 3]}, cv=2,
                               scoring="r2", refit=refit).set_callbacks(*callbacks)
    search.fit(X4, y4)
    own = 1 + 1 + refit + _n_batches(search) + 3 * search.n_splits_
    inner = sum(p["max_iter"] for p in search.cv_results_["params"]) * search.n_splits_
    inner += search.best_estimator_.n_iter_ if refit else 0
    plain, propagated = callbacks
    assert plain.count_hooks("on_fit_task_begin") == plain.count_hooks("on_fit_task_end") == own
    assert propagated.count_hooks("on_fit_task_begin") == own + inner
    assert propagated.count_hooks("on_fit_task_end") == own + inner


def test_callbacks_receive_sample_weight():
    """follows test_search_callbacks_receive_sample_weight."""
    utils = _callback_utils()
    callback = utils.RecordingCallback()
    sw = np.random.RandomState(0).randint(1, 5, size=len(y4))
    search = HarmonicaSearchCV(utils.MaxIterEstimator(), {"max_iter": [1, 2, 3]}, cv=2,
                               scoring="r2").set_callbacks(callback)
    search.fit(X4, y4, sample_weight=sw)
    by_task = {}
    for entry in callback.record:
        if entry["name"].startswith("on_fit_task"):
            by_task.setdefault(entry["context"].task_name, []).append(entry)
    assert by_task["candidate-split-evaluation"] and by_task["refit-with-best-params"]
    for entry in by_task["candidate-split-evaluation"]:
        assert "sample_weight" in entry["kwargs"]["metadata"]
    for entry in by_task["refit-with-best-params"]:
        np.testing.assert_array_equal(entry["kwargs"]["metadata"]["sample_weight"], sw)


@pytest.mark.parametrize("make", [_search, _random_like], ids=["exhaustive", "halving"])
def test_callbacks_receive_the_search(make):
    """follows test_search_callbacks_receive_search_instance."""
    utils = _callback_utils()
    callback = utils.RecordingCallback()
    space = {"max_iter": [1, 2, 3]} if make is _search else {"max_iter": list(range(1, 9))}
    search = make(space, utils.MaxIterEstimator(), cv=2, scoring="r2", n_iter=3)
    search.set_callbacks(callback).fit(Xs, ys.astype(float))
    assert callback.record
    assert all(entry["estimator"] is search for entry in callback.record)


def test_callbacks_with_some_fits_failing():
    """follows test_search_callbacks_with_partial_fit_failures."""
    utils = _callback_utils()
    callback = utils.RecordingCallback()
    search = HarmonicaSearchCV(_Fast(), {"fail_fit": [False, True]}, cv=2, refit=False,
                               error_score=0.0).set_callbacks(callback)
    with pytest.warns(FitFailedWarning, match="2 fits failed out of a total of 4."):
        search.fit(X4, y4)
    expected = 1 + 1 + 1 + 4  # root, search, the exhaustive batch, 4 evaluations
    assert callback.count_hooks("on_fit_task_begin") == expected
    assert callback.count_hooks("on_fit_task_end") == expected


# --------------------------------------------------------------- array API

_ARRAY_API_SCRIPT = """
import numpy as np, torch
from scipy.stats import loguniform
from sklearn import config_context
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from harmonica_sklearn import HarmonicaSearchCV
X = torch.asarray(np.arange(100).reshape((10, 10)).astype("float64"))
y = torch.asarray(np.array([0] * 5 + [1] * 5))
spaces = [({"tol": [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7]}, {}),
          ({"tol": loguniform(1e-7, 1e-2)}, {"n_iter": 4, "n_stages": 0, "min_train_rows": 0})]
with config_context(array_api_dispatch=True):
    for space, kw in spaces:
        search = HarmonicaSearchCV(LinearDiscriminantAnalysis(), space, cv=2,
                                   error_score="raise", random_state=0, **kw).fit(X, y)
        search.score(X, y)
        assert isinstance(search.predict(X), torch.Tensor)
        print(search.search_mode_)
"""


def test_array_api_inputs():
    """follows test_array_api_search_cv_classifier (torch CPU tensors, in a
    subprocess: scipy's array API support must be switched on before import)."""
    import os
    import subprocess
    import sys

    pytest.importorskip("torch")
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    done = subprocess.run([sys.executable, "-c", _ARRAY_API_SCRIPT], check=False, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["exhaustive", "halving only"]
