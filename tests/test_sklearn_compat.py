"""scikit-learn compatibility of HarmonicaSearchCV.

HarmonicaSearchCV claims to be a drop-in replacement for GridSearchCV and
RandomizedSearchCV.  These tests hold it to that:

1. sklearn's own estimator checks, with the configuration sklearn uses for
   its own searches (``cv=2, error_score="raise"``);
2. ``cv_results_`` equal to GridSearchCV's in exhaustive mode, and with the
   same structure in spectral mode;
3. meta-estimator plumbing: pipelines, nested CV, clone, pickle, method
   delegation, fit params and groups;
4. reproducibility for a fixed ``random_state``;
5. multimetric scoring and callable ``refit``;
6. ``error_score``;
7. parameter validation.

Estimators and data sets are tiny; the file runs in well under a minute.
"""

import inspect
import numbers
import pickle
import re

import numpy as np
import pytest
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import geom, loguniform, randint, rankdata
from sklearn import config_context
from sklearn.base import BaseEstimator, RegressorMixin, clone, is_classifier
from sklearn.datasets import make_classification, make_regression
from sklearn.decomposition import PCA
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, balanced_accuracy_score, get_scorer, make_scorer
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    cross_val_score,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from harmonica_sklearn import HarmonicaSearchCV

EXTRA_COLUMNS = {"stage", "phase", "rung", "n_resources"}
PHASES = {"spectral", "confirm", "halving", "random", "exhaustive"}


@pytest.fixture(autouse=True, scope="module")
def _single_blas_thread():
    # The estimators fitted here are tiny: multi-threaded BLAS only adds
    # overhead (a 40 x 10 LogisticRegression fit is 10 times slower with two
    # OpenBLAS threads than with one).
    with threadpool_limits(limits=1):
        yield


# ----------------------------------------------------------------- data
_Xc, _yc = make_classification(
    n_samples=90, n_features=5, n_informative=3, n_redundant=0, n_classes=3,
    random_state=0,
)
_Xr, _yr = make_regression(n_samples=60, n_features=5, noise=10.0, random_state=0)


@pytest.fixture
def clf_data():
    return _Xc.copy(), _yc.copy()


@pytest.fixture
def reg_data():
    return _Xr.copy(), _yr.copy()


def _spectral_kwargs(**kw):
    """A small spectral-mode configuration that runs one spectral stage (on
    small data: min_train_rows=0 keeps its reduced resources)."""
    return {
        "n_iter": 18, "n_stages": 1, "stage_size": 12, "cv": 2, "random_state": 0,
        "min_train_rows": 0, **kw,
    }


# ------------------------------------------------------------- helpers
class FailingRegressor(RegressorMixin, BaseEstimator):
    """Ridge that raises in ``fit`` when ``alpha > fail_above``."""

    def __init__(self, alpha=1.0, fail_above=np.inf):
        self.alpha = alpha
        self.fail_above = fail_above

    def fit(self, X, y, sample_weight=None):
        if self.alpha > self.fail_above:
            raise ValueError(f"planted failure for alpha={self.alpha}")
        self.ridge_ = Ridge(alpha=self.alpha).fit(X, y, sample_weight=sample_weight)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return self.ridge_.predict(X)


class IdCheckingRegressor(RegressorMixin, BaseEstimator):
    """Ridge on ``X[:, 1:]`` that checks what it is given.

    Column 0 of ``X`` holds the sample id; the group of a sample is
    ``id % n_groups``.  ``fit`` checks that ``sample_weight`` is aligned with
    the rows it receives (``sample_weight == 1 + id``); ``score`` checks that
    no test row shares a group with a training row.  Any mismatch raises.
    """

    def __init__(self, alpha=1.0, n_groups=None):
        self.alpha = alpha
        self.n_groups = n_groups

    def _groups(self, X):
        return np.asarray(X[:, 0], dtype=int) % self.n_groups

    def fit(self, X, y, sample_weight=None):
        if sample_weight is not None:
            if len(sample_weight) != len(X) or not np.allclose(sample_weight, 1 + X[:, 0]):
                raise AssertionError("sample_weight is not aligned with X")
        self.train_groups_ = set(self._groups(X)) if self.n_groups else set()
        self.ridge_ = Ridge(alpha=self.alpha).fit(X[:, 1:], y, sample_weight=sample_weight)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return self.ridge_.predict(X[:, 1:])

    def score(self, X, y, sample_weight=None):
        if self.n_groups:
            leaked = self.train_groups_ & set(self._groups(X))
            if leaked:
                raise AssertionError(f"groups {sorted(leaked)} in train and test")
        return super().score(X, y, sample_weight=sample_weight)


def _id_data(n_samples=60):
    X, y = make_regression(n_samples=n_samples, n_features=4, noise=5.0, random_state=1)
    return np.column_stack([np.arange(n_samples), X]), y


def _assert_results_equal(actual, expected):
    """``actual`` holds every key of ``expected`` with equal values (not times)."""
    for key, exp in expected.items():
        assert key in actual, key
        act = actual[key]
        if key.endswith("_time"):
            assert len(act) == len(exp), key
        elif key == "params":
            assert act == exp
        elif np.ma.isMaskedArray(exp):
            assert np.ma.isMaskedArray(act), key
            assert act.dtype == exp.dtype, key
            assert_array_equal(np.ma.getmaskarray(act), np.ma.getmaskarray(exp), err_msg=key)
            assert list(act.compressed()) == list(exp.compressed()), key
        else:
            assert_array_equal(act, exp, err_msg=key)


def _full_rows(search):
    return np.flatnonzero(search.cv_results_["n_resources"] == search.max_resources_)


# =========================================== 1. sklearn's estimator checks
class _LogUniform(type(loguniform(1, 2))):
    """scipy's frozen loguniform with a stable repr.

    The test ids of parametrize_with_checks are the estimators' reprs; the
    default repr of a frozen distribution holds its memory address, which
    changes from run to run (and between pytest-xdist workers).
    """

    def __repr__(self):
        return f"loguniform{self.args}"


def _loguniform(low, high):
    return _LogUniform(loguniform(low, high).dist, low, high)


# Configured as sklearn configures GridSearchCV, RandomizedSearchCV and
# HalvingRandomSearchCV in sklearn/utils/_test_common/instance_generator.py.
CHECKED_SEARCHES = [
    # exhaustive mode: 2 candidates <= n_iter
    HarmonicaSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=2, error_score="raise"),
    # spectral mode (a continuous space is never exhausted): final halving
    HarmonicaSearchCV(
        Ridge(), {"alpha": _loguniform(1e-3, 1e3)}, n_iter=3, cv=2,
        error_score="raise", random_state=0,
    ),
    HarmonicaSearchCV(
        LogisticRegression(), {"C": _loguniform(0.1, 10)}, n_iter=3, cv=2,
        error_score="raise", random_state=0,
    ),
]


def _expected_failed_checks(search):
    # Same entry and reason as sklearn's PER_ESTIMATOR_XFAIL_CHECKS for
    # GridSearchCV / RandomizedSearchCV / HalvingRandomSearchCV.  Only
    # regressors fail it: Ridge accepts a 2-d y without a warning, and
    # BaseSearchCV.__sklearn_tags__ does not forward the estimator's
    # multi_output tag, so the check expects a DataConversionWarning.
    # (LogisticRegression warns itself, so its search passes.)  sklearn also
    # lists "check_requires_y_none", but that check is not generated for
    # searches (BaseSearchCV does not set target_tags.required).
    if is_classifier(search):
        return {}
    return {"check_supervised_y_2d": "DataConversionWarning not caught"}


# xfail_strict (an expected failure that passes is an error) is
# scikit-learn >= 1.7; 1.6 runs the same checks without it.
_STRICT = (
    {"xfail_strict": True}
    if "xfail_strict" in inspect.signature(parametrize_with_checks).parameters
    else {}
)


@parametrize_with_checks(
    CHECKED_SEARCHES, expected_failed_checks=_expected_failed_checks, **_STRICT
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ====================================== 2. cv_results_ consistency
EXHAUSTIVE_CASES = {
    "dict": (DecisionTreeRegressor(random_state=0), {"max_depth": [1, 2, 3]}),
    "list_of_dicts": (
        DecisionTreeRegressor(random_state=0),
        [{"max_depth": [1, 2]}, {"min_samples_split": [5, 10]}],
    ),
    "mixed_types": (
        DecisionTreeRegressor(random_state=0),
        {"max_depth": [2, None], "criterion": ["squared_error", "absolute_error"]},
    ),
    "pipeline_steps": (
        Pipeline([("scaler", StandardScaler()), ("ridge", Ridge())]),
        {"scaler": [StandardScaler(), MinMaxScaler(), "passthrough"], "ridge__alpha": [0.1, 10.0]},
    ),
}
SCORINGS = {
    "default": (None, True),
    "string": ("neg_mean_absolute_error", True),
    "list": (["r2", "neg_mean_squared_error"], "r2"),
    "dict": ({"r2": "r2", "mae": "neg_mean_absolute_error"}, "mae"),
}


@pytest.mark.parametrize("scoring_name", list(SCORINGS))
@pytest.mark.parametrize("case", list(EXHAUSTIVE_CASES))
def test_exhaustive_mode_matches_grid_search(case, scoring_name):
    estimator, grid = EXHAUSTIVE_CASES[case]
    scoring, refit = SCORINGS[scoring_name]
    X, y = make_classification(n_samples=100, n_informative=4, random_state=0)
    kw = dict(scoring=scoring, refit=refit, return_train_score=True, cv=3)
    gs = GridSearchCV(estimator, grid, **kw).fit(X, y)
    hs = HarmonicaSearchCV(estimator, grid, **kw).fit(X, y)

    assert hs.search_mode_ == "exhaustive"
    assert set(hs.cv_results_) == set(gs.cv_results_) | EXTRA_COLUMNS
    _assert_results_equal(hs.cv_results_, gs.cv_results_)
    assert hs.best_index_ == gs.best_index_
    assert hs.best_params_ == gs.best_params_
    assert hs.best_score_ == gs.best_score_
    # every other public fitted attribute of GridSearchCV, as in sklearn's
    # test_custom_run_search
    skip = {"cv_results_", "best_estimator_", "refit_time_", "scorer_"}
    for attr in dir(gs):
        if attr[0].islower() and attr.endswith("_") and attr not in skip and hasattr(gs, attr):
            assert getattr(hs, attr) == getattr(gs, attr), attr
    assert_allclose(hs.predict(X), gs.predict(X))


@pytest.mark.parametrize("case", ["dict", "list_of_dicts"])
def test_exhaustive_mode_extra_columns(case):
    estimator, grid = EXHAUSTIVE_CASES[case]
    X, y = _Xr, _yr
    hs = HarmonicaSearchCV(estimator, grid, cv=3).fit(X, y)
    results = hs.cv_results_
    n = len(results["params"])
    assert_array_equal(results["stage"], np.zeros(n))
    assert_array_equal(results["phase"], ["exhaustive"] * n)
    assert_array_equal(results["rung"], np.zeros(n))
    assert_array_equal(results["n_resources"], np.full(n, len(X)))
    assert hs.max_resources_ == len(X)
    assert hs.budget_spent_ == n
    assert hs.stages_ == []


@pytest.mark.parametrize(
    "n_iter, expected_mode",
    # n_iter=5 affords no spectral stage on 6 candidates: halving alone, named.
    [(5, "halving only"), (6, "exhaustive"), (100, "exhaustive")],
)
def test_search_mode_depends_on_grid_size(n_iter, expected_mode, reg_data):
    X, y = reg_data
    grid = {"alpha": [0.01, 0.1, 1.0], "fit_intercept": [True, False]}  # 6 candidates
    hs = HarmonicaSearchCV(Ridge(), grid, n_iter=n_iter, cv=3, random_state=0).fit(X, y)
    assert hs.search_mode_ == expected_mode
    if expected_mode == "exhaustive":
        assert len(hs.cv_results_["params"]) == 6


SPECTRAL_SPACES = {
    "continuous": {"max_depth": [1, 2, 3, None], "min_samples_leaf": loguniform(0.01, 0.3)},
    "conditional": [
        {"criterion": ["gini", "entropy"], "max_depth": [1, 2, 3, None]},
        {"min_samples_leaf": loguniform(0.01, 0.3), "splitter": ["best", "random"]},
    ],
}


@pytest.fixture(scope="module", params=list(SPECTRAL_SPACES))
def spectral_search(request):
    """(space name, fitted spectral-mode search with train scores and two metrics)."""
    search = HarmonicaSearchCV(
        DecisionTreeClassifier(random_state=0),
        SPECTRAL_SPACES[request.param],
        scoring=["accuracy", "f1_macro"],
        refit="accuracy",
        return_train_score=True,
        **_spectral_kwargs(),
    )
    return request.param, search.fit(_Xc, _yc)


def test_spectral_mode_has_grid_search_keys(spectral_search):
    name, search = spectral_search
    grid_keys = set(
        GridSearchCV(
            search.estimator,
            {"max_depth": [1]},
            scoring=search.scoring,
            refit=search.refit,
            return_train_score=True,
            cv=2,
        ).fit(_Xc, _yc).cv_results_
    )
    param_keys = {f"param_{p}" for branch in _branches(SPECTRAL_SPACES[name]) for p in branch}
    assert search.search_mode_ == "spectral"
    expected = (grid_keys - {"param_max_depth"}) | param_keys | EXTRA_COLUMNS
    assert set(search.cv_results_) == expected


def test_spectral_mode_columns_have_equal_length(spectral_search):
    _, search = spectral_search
    lengths = {key: len(value) for key, value in search.cv_results_.items()}
    assert len(set(lengths.values())) == 1, lengths
    assert lengths["params"] > 12  # the spectral stage and the halving rungs


def test_spectral_mode_param_columns_masked_where_absent(spectral_search):
    name, search = spectral_search
    results = search.cv_results_
    for branch in _branches(SPECTRAL_SPACES[name]):
        for param in branch:
            column = results[f"param_{param}"]
            assert np.ma.isMaskedArray(column)
            absent = [param not in p for p in results["params"]]
            assert_array_equal(np.ma.getmaskarray(column), absent)
            present = [p[param] for p in results["params"] if param in p]
            assert list(column.compressed()) == present
    if name == "conditional":
        assert np.ma.getmaskarray(results["param_splitter"]).any()


@pytest.mark.parametrize("metric", ["accuracy", "f1_macro"])
def test_spectral_mode_rank_consistent_with_mean(spectral_search, metric):
    _, search = spectral_search
    mean = search.cv_results_[f"mean_test_{metric}"]
    rank = search.cv_results_[f"rank_test_{metric}"]
    assert np.isfinite(mean).all()
    assert_array_equal(rank, rankdata(-mean, method="min"))


def test_spectral_mode_extra_columns(spectral_search):
    _, search = spectral_search
    results = search.cv_results_
    assert set(results["phase"]) <= PHASES
    assert "spectral" in set(results["phase"]) and "halving" in set(results["phase"])
    assert set(results["stage"][results["phase"] == "spectral"]) == {1}
    assert set(results["stage"][results["phase"] == "halving"]) == {2}
    assert results["n_resources"].max() == search.max_resources_ == len(_Xc)
    assert results["n_resources"].min() >= search.min_resources_
    assert results["n_resources"][search.best_index_] == search.max_resources_
    halving = results["phase"] == "halving"
    assert sorted(set(results["rung"][halving])) == list(range(len(search.n_resources_)))
    assert len(search.stages_) == 1
    assert search.budget_spent_ <= search.n_iter + 1e-9


def test_spectral_mode_best_is_best_full_resource_row(spectral_search):
    _, search = spectral_search
    full = _full_rows(search)
    mean = search.cv_results_["mean_test_accuracy"]
    assert search.best_index_ in full
    assert search.best_score_ == mean[full].max()
    assert search.best_params_ == search.cv_results_["params"][search.best_index_]


def _branches(space):
    return [space] if isinstance(space, dict) else space


@pytest.mark.parametrize(
    "distribution",
    [
        randint(1, 20),  # small support: listed value by value
        randint(1, 200),  # large support: bucketed, ppf cast to int
        geom(0.2),  # unbounded support
    ],
    ids=["randint_small", "randint_large", "geom"],
)
def test_integer_distribution_gives_integers(distribution, clf_data):
    # As RandomizedSearchCV does: a discrete distribution yields integers.
    X, y = clf_data
    search = HarmonicaSearchCV(
        DecisionTreeClassifier(random_state=0), {"max_depth": distribution}, n_iter=3,
        cv=2, error_score="raise", random_state=0,
    ).fit(X, y)
    assert search.search_mode_ == "halving only"  # n_iter=3: no spectral stage
    for params in search.cv_results_["params"]:
        assert isinstance(params["max_depth"], numbers.Integral), params
        assert distribution.pmf(params["max_depth"]) > 0, params


# ============================================ 3. meta-estimator plumbing
@pytest.mark.parametrize(
    "space, n_iter",
    [({"clf__C": [0.1, 1.0, 10.0]}, 10), ({"clf__C": loguniform(0.01, 100)}, 4)],
    ids=["exhaustive", "spectral"],
)
def test_pipeline_step_parameters(space, n_iter, clf_data):
    X, y = clf_data
    pipe = Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression())])
    search = HarmonicaSearchCV(pipe, space, n_iter=n_iter, cv=3, random_state=0).fit(X, y)
    assert set(search.best_params_) == {"clf__C"}
    assert isinstance(search.best_estimator_, Pipeline)
    assert search.best_estimator_.named_steps["clf"].C == search.best_params_["clf__C"]


@pytest.mark.parametrize("n_iter", [9, 5], ids=["exhaustive", "spectral"])
def test_pipeline_whole_steps(n_iter, clf_data):
    X, y = clf_data
    scalers = [StandardScaler(), MinMaxScaler(), "passthrough"]
    pipe = Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression())])
    space = {"scaler": scalers, "clf__C": [0.1, 1.0, 10.0]}
    search = HarmonicaSearchCV(pipe, space, n_iter=n_iter, cv=3, random_state=0).fit(X, y)
    assert search.search_mode_ == ("exhaustive" if n_iter == 9 else "halving only")
    seen = {repr(p["scaler"]) for p in search.cv_results_["params"]}
    assert seen <= {repr(s) for s in scalers}
    step = search.best_estimator_.named_steps["scaler"]
    assert repr(step) == repr(search.best_params_["scaler"])
    # the candidates are cloned before fitting: the space's objects stay unfitted
    for scaler in scalers[:2]:
        assert not hasattr(scaler, "n_features_in_")


def test_search_as_pipeline_step(clf_data):
    X, y = clf_data
    search = HarmonicaSearchCV(
        LogisticRegression(), {"C": loguniform(0.01, 100)}, n_iter=4, cv=3, random_state=0
    )
    pipe = Pipeline([("scaler", StandardScaler()), ("search", search)]).fit(X, y)
    fitted = pipe.named_steps["search"]
    assert fitted.n_features_in_ == X.shape[1]
    assert_array_equal(pipe.predict(X), fitted.predict(StandardScaler().fit_transform(X)))
    assert 0 <= pipe.score(X, y) <= 1


@pytest.mark.parametrize(
    "space", [{"C": [0.1, 1.0]}, {"C": loguniform(0.01, 100)}], ids=["exhaustive", "spectral"]
)
def test_nested_cross_validation(space, clf_data):
    X, y = clf_data
    search = HarmonicaSearchCV(LogisticRegression(), space, n_iter=3, cv=2, random_state=0)
    scores = cross_val_score(search, X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all((scores > 0.3) & (scores <= 1))


def _fitted_attributes(est):
    return {a for a in vars(est) if a.endswith("_") and not a.startswith("_")}


def test_clone_unfitted():
    search = HarmonicaSearchCV(
        Ridge(), {"alpha": loguniform(1e-3, 1e3)}, n_iter=7, degree=2, random_state=3
    )
    cloned = clone(search)
    assert cloned is not search
    params, cloned_params = search.get_params(deep=False), cloned.get_params(deep=False)
    assert params.keys() == cloned_params.keys()
    for key in params:
        if key not in ("estimator", "param_space"):
            assert repr(cloned_params[key]) == repr(params[key]), key
    assert cloned.estimator is not search.estimator
    assert cloned.estimator.get_params() == search.estimator.get_params()
    assert cloned.param_space["alpha"].args == search.param_space["alpha"].args


def test_clone_fitted_is_unfitted_and_refits_identically(reg_data):
    X, y = reg_data
    search = HarmonicaSearchCV(
        Ridge(), {"alpha": loguniform(1e-3, 1e3)}, n_iter=4, cv=3, random_state=0
    ).fit(X, y)
    cloned = clone(search)
    assert not _fitted_attributes(cloned)
    with pytest.raises(NotFittedError):
        cloned.predict(X)
    cloned.fit(X, y)
    assert cloned.cv_results_["params"] == search.cv_results_["params"]
    assert_array_equal(cloned.predict(X), search.predict(X))


@pytest.mark.parametrize(
    "estimator, space",
    [
        (LogisticRegression(), {"C": [0.1, 1.0]}),
        (LogisticRegression(), {"C": loguniform(0.01, 100)}),
        (DecisionTreeClassifier(random_state=0), SPECTRAL_SPACES["conditional"]),
    ],
    ids=["exhaustive", "spectral", "conditional"],
)
def test_pickle_round_trip(estimator, space, clf_data):
    X, y = clf_data
    search = HarmonicaSearchCV(estimator, space, n_iter=4, cv=3, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(search))
    assert_array_equal(loaded.predict(X), search.predict(X))
    assert_array_equal(loaded.predict_proba(X), search.predict_proba(X))
    assert loaded.best_params_ == search.best_params_
    assert loaded.search_mode_ == search.search_mode_
    assert loaded.cv_results_["params"] == search.cv_results_["params"]
    assert_array_equal(
        loaded.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    )
    assert loaded.report() == search.report()


@pytest.fixture(scope="module")
def fitted_classifier_search():
    y = np.array(["setosa", "versicolor", "virginica"])[_yc]  # string labels
    search = HarmonicaSearchCV(
        LogisticRegression(), {"C": loguniform(0.01, 100)}, n_iter=4, cv=3, random_state=0
    )
    return search.fit(_Xc, y), y


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "predict_log_proba", "decision_function"]
)
def test_delegates_classifier_methods(method, fitted_classifier_search):
    search, _ = fitted_classifier_search
    assert_array_equal(
        getattr(search, method)(_Xc), getattr(search.best_estimator_, method)(_Xc)
    )


def test_delegates_score_to_best_estimator(fitted_classifier_search):
    search, y = fitted_classifier_search
    assert search.score(_Xc, y) == search.best_estimator_.score(_Xc, y)


def test_classes_and_n_features_in(fitted_classifier_search):
    search, y = fitted_classifier_search
    assert_array_equal(search.classes_, np.unique(y))
    assert search.n_features_in_ == _Xc.shape[1]


def test_feature_names_in_from_dataframe(clf_data):
    pd = pytest.importorskip("pandas")
    X, y = clf_data
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    search = HarmonicaSearchCV(
        LogisticRegression(), {"C": loguniform(0.01, 100)}, n_iter=3, cv=3, random_state=0
    ).fit(df, y)
    assert_array_equal(search.feature_names_in_, df.columns)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        assert_array_equal(search.predict(X), search.predict(df))


@pytest.mark.parametrize("method", ["transform", "inverse_transform", "score"])
def test_delegates_transformer_methods_unsupervised(method, reg_data):
    # y=None throughout: PCA is scored by its own log-likelihood
    X, _ = reg_data
    search = HarmonicaSearchCV(
        PCA(), {"n_components": [1, 2, 3, 4], "whiten": [True, False]}, n_iter=5,
        cv=3, random_state=0,
    ).fit(X)
    assert search.search_mode_ == "halving only"
    arg = search.transform(X) if method == "inverse_transform" else X
    assert_allclose(getattr(search, method)(arg), getattr(search.best_estimator_, method)(arg))


@pytest.mark.parametrize("method", ["predict_proba", "decision_function", "transform"])
def test_absent_methods_are_absent(method, reg_data):
    X, y = reg_data
    search = HarmonicaSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=3).fit(X, y)
    assert not hasattr(search, method)


def test_refit_false_has_no_best_estimator(reg_data):
    X, y = reg_data
    search = HarmonicaSearchCV(
        Ridge(), {"alpha": loguniform(1e-3, 1e3)}, n_iter=3, cv=3, refit=False, random_state=0
    ).fit(X, y)
    assert not hasattr(search, "best_estimator_")
    assert search.best_index_ in _full_rows(search)
    with pytest.raises(AttributeError, match="has no attribute 'predict'") as excinfo:
        search.predict(X)
    assert "refit=False" in str(excinfo.value.__cause__)  # as in GridSearchCV


@pytest.mark.parametrize(
    "space, n_iter",
    [({"alpha": [0.1, 1.0, 10.0]}, 10), ({"alpha": loguniform(1e-3, 1e3)}, 10)],
    ids=["exhaustive", "spectral"],
)
def test_sample_weight_is_routed_and_aligned(space, n_iter):
    # IdCheckingRegressor raises unless every fit gets the weights of its own
    # rows, including in the subsampled halving rungs.
    X, y = _id_data()
    sample_weight = 1.0 + X[:, 0]
    search = HarmonicaSearchCV(
        IdCheckingRegressor(), space, n_iter=n_iter, cv=3, error_score="raise",
        random_state=0,
    ).fit(X, y, sample_weight=sample_weight)
    if search.search_mode_ == "spectral":
        assert search.cv_results_["n_resources"].min() < len(X)
    expected = Ridge(alpha=search.best_params_["alpha"])
    expected.fit(X[:, 1:], y, sample_weight=sample_weight)
    assert_allclose(search.best_estimator_.ridge_.coef_, expected.coef_)


def test_sample_weight_matches_grid_search(reg_data):
    X, y = reg_data
    sample_weight = np.random.RandomState(0).uniform(0.1, 3, size=len(y))
    grid = {"alpha": [0.1, 10.0, 1000.0]}
    gs = GridSearchCV(Ridge(), grid, cv=3).fit(X, y, sample_weight=sample_weight)
    hs = HarmonicaSearchCV(Ridge(), grid, cv=3).fit(X, y, sample_weight=sample_weight)
    unweighted = HarmonicaSearchCV(Ridge(), grid, cv=3).fit(X, y)
    assert_array_equal(hs.cv_results_["mean_test_score"], gs.cv_results_["mean_test_score"])
    assert not np.array_equal(
        hs.cv_results_["mean_test_score"], unweighted.cv_results_["mean_test_score"]
    )


@pytest.mark.parametrize(
    "space, n_iter",
    [({"alpha": [0.1, 1.0, 10.0]}, 10), ({"alpha": loguniform(1e-3, 1e3)}, 10)],
    ids=["exhaustive", "spectral"],
)
def test_groups_are_passed_to_the_splitter(space, n_iter):
    # IdCheckingRegressor raises if a test fold shares a group with training.
    X, y = _id_data()
    groups = np.arange(len(X)) % 6
    search = HarmonicaSearchCV(
        IdCheckingRegressor(n_groups=6), space, n_iter=n_iter, cv=GroupKFold(n_splits=3),
        error_score="raise", random_state=0,
    ).fit(X, y, groups=groups)
    assert search.n_splits_ == 3
    if search.search_mode_ == "exhaustive":
        gs = GridSearchCV(IdCheckingRegressor(n_groups=6), space, cv=GroupKFold(3))
        gs.fit(X, y, groups=groups)
        assert_array_equal(
            search.cv_results_["mean_test_score"], gs.cv_results_["mean_test_score"]
        )


@pytest.mark.parametrize(
    "space, n_iter",
    [({"alpha": [0.1, 1.0, 10.0]}, 10), ({"alpha": loguniform(1e-3, 1e3)}, 10)],
    ids=["exhaustive", "spectral"],
)
def test_metadata_routing(space, n_iter):
    # With metadata routing on, sample_weight goes to fit and to the scorer
    # when requested, and groups to the splitter.
    X, y = _id_data()
    sample_weight, groups = 1.0 + X[:, 0], np.arange(len(X)) % 6
    with config_context(enable_metadata_routing=True):
        estimator = IdCheckingRegressor(n_groups=6).set_fit_request(sample_weight=True)
        scorer = get_scorer("r2").set_score_request(sample_weight=True)
        kw = dict(scoring=scorer, cv=GroupKFold(n_splits=3))
        search = HarmonicaSearchCV(
            estimator, space, n_iter=n_iter, error_score="raise", random_state=0, **kw
        ).fit(X, y, sample_weight=sample_weight, groups=groups)
        if search.search_mode_ == "exhaustive":
            gs = GridSearchCV(estimator, space, **kw)
            gs.fit(X, y, sample_weight=sample_weight, groups=groups)
            assert_array_equal(
                search.cv_results_["mean_test_score"], gs.cv_results_["mean_test_score"]
            )
    expected = Ridge(alpha=search.best_params_["alpha"])
    expected.fit(X[:, 1:], y, sample_weight=sample_weight)
    assert_allclose(search.best_estimator_.ridge_.coef_, expected.coef_)


def test_group_splitter_without_groups_raises(reg_data):
    X, y = reg_data
    search = HarmonicaSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=GroupKFold(n_splits=3))
    with pytest.raises(ValueError, match="'groups' parameter should not be None"):
        search.fit(X, y)


# ============================================ 4. reproducibility
REPRO_SPACE = {"alpha": loguniform(1e-3, 1e3), "fit_intercept": [True, False]}


def _repro_search(**kw):
    params = {"n_iter": 18, "n_stages": 1, "stage_size": 12, "cv": 2, **kw}
    return HarmonicaSearchCV(Ridge(), REPRO_SPACE, **params).fit(_Xr, _yr)


def _assert_same_search(a, b):
    ra, rb = a.cv_results_, b.cv_results_
    assert ra["params"] == rb["params"]
    for key in ["mean_test_score", "split0_test_score", "split1_test_score",
                "stage", "phase", "rung", "n_resources"]:
        assert_array_equal(ra[key], rb[key], err_msg=key)
    assert a.best_params_ == b.best_params_


@pytest.mark.parametrize(
    "backend, final_stage",
    [("loky", "halving"), ("threading", "halving"), ("threading", "random")],
)
def test_same_results_with_one_or_two_jobs(backend, final_stage):
    one = _repro_search(random_state=0, n_jobs=1, final_stage=final_stage)
    with parallel_config(backend=backend):
        two = _repro_search(random_state=0, n_jobs=2, final_stage=final_stage)
    _assert_same_search(one, two)


@pytest.mark.parametrize("random_state", [0, 42])
def test_same_results_in_two_runs(random_state):
    _assert_same_search(
        _repro_search(random_state=random_state), _repro_search(random_state=random_state)
    )


def test_fresh_random_state_instances_give_same_results():
    _assert_same_search(
        _repro_search(random_state=np.random.RandomState(7)),
        _repro_search(random_state=np.random.RandomState(7)),
    )


def test_different_random_state_gives_different_candidates():
    a, b = _repro_search(random_state=0), _repro_search(random_state=1)
    alphas_a = {p["alpha"] for p in a.cv_results_["params"]}
    alphas_b = {p["alpha"] for p in b.cv_results_["params"]}
    assert not alphas_a & alphas_b


# ============================================ 5. multimetric scoring
MULTI_SCORINGS = {
    "list": ["accuracy", "f1_macro"],
    "dict": {"acc": "accuracy", "bal": make_scorer(balanced_accuracy_score)},
}


@pytest.mark.parametrize("scoring_name, refit", [("list", "f1_macro"), ("dict", "bal")])
@pytest.mark.parametrize("n_iter", [10, 4], ids=["exhaustive", "spectral"])
def test_multimetric_refit_metric_drives_best(scoring_name, refit, n_iter, clf_data):
    X, y = clf_data
    scoring = MULTI_SCORINGS[scoring_name]
    space = {"max_depth": [1, 2, 3], "min_samples_leaf": [1, 5, 20]}  # 9 candidates
    search = HarmonicaSearchCV(
        DecisionTreeClassifier(random_state=0), space, scoring=scoring, refit=refit,
        n_iter=n_iter, cv=3, random_state=0,
    ).fit(X, y)
    results = search.cv_results_
    assert search.multimetric_
    assert set(search.scorer_) == set(scoring)
    for name in search.scorer_:
        assert f"mean_test_{name}" in results and f"rank_test_{name}" in results
    assert "mean_test_score" not in results
    full = _full_rows(search)
    assert search.best_score_ == results[f"mean_test_{refit}"][search.best_index_]
    assert search.best_score_ == results[f"mean_test_{refit}"][full].max()


def _pick_lowest_fit_time(results):
    return int(np.argmin(results["mean_fit_time"]))


@pytest.mark.parametrize("final_stage", ["halving", "random"])
def test_callable_refit_gets_full_resource_rows(final_stage, clf_data):
    X, y = clf_data
    received = {}

    def refit(results):
        received.update(results)
        return _pick_lowest_fit_time(results)

    search = HarmonicaSearchCV(
        LogisticRegression(), {"C": loguniform(0.01, 100)}, scoring=["accuracy", "f1_macro"],
        refit=refit, final_stage=final_stage, **_spectral_kwargs(),
    ).fit(X, y)
    results = search.cv_results_
    full = _full_rows(search)
    if final_stage == "halving":
        assert len(full) < len(results["params"])  # the mapping is not trivial
    assert set(received) == set(results)
    assert len({len(v) for v in received.values()}) == 1
    assert_array_equal(received["n_resources"], np.full(len(full), search.max_resources_))
    assert received["params"] == [results["params"][i] for i in full]
    # the index is mapped back to the full cv_results_
    assert search.best_index_ == full[_pick_lowest_fit_time(received)]
    assert search.best_params_ == results["params"][search.best_index_]
    assert results["mean_fit_time"][search.best_index_] == results["mean_fit_time"][full].min()
    assert not hasattr(search, "best_score_")  # as in GridSearchCV for a callable refit
    assert hasattr(search, "best_estimator_")


def test_callable_refit_picking_a_specific_candidate(clf_data):
    X, y = clf_data
    space = {"C": [0.01, 0.1, 1.0, 10.0, 100.0], "fit_intercept": [True, False]}

    def smallest_c(results):
        return min(range(len(results["params"])), key=lambda i: results["params"][i]["C"])

    search = HarmonicaSearchCV(
        LogisticRegression(), space, refit=smallest_c, n_iter=8, cv=3, random_state=0,
        min_train_rows=0,  # small data: keep the reduced rungs this test needs
    ).fit(X, y)
    assert search.search_mode_ == "halving only"
    full_params = [search.cv_results_["params"][i] for i in _full_rows(search)]
    assert len(full_params) < len(search.cv_results_["params"])
    assert search.best_params_ == min(full_params, key=lambda p: p["C"])
    assert search.best_estimator_.C == search.best_params_["C"]


@pytest.mark.parametrize(
    "refit, error, match",
    [
        (lambda results: 0.5, TypeError, "best_index_ returned is not an integer"),
        (lambda results: len(results["params"]), IndexError, "best_index_ index out of range"),
        (lambda results: -1, IndexError, "best_index_ index out of range"),
    ],
    ids=["not_int", "too_large", "negative"],
)
def test_callable_refit_bad_index(refit, error, match, reg_data):
    X, y = reg_data
    search = HarmonicaSearchCV(
        Ridge(), {"alpha": loguniform(1e-3, 1e3)}, refit=refit, n_iter=3, cv=3, random_state=0
    )
    with pytest.raises(error, match=match):
        search.fit(X, y)


@pytest.mark.parametrize("n_iter", [10, 4], ids=["exhaustive", "spectral"])
def test_multimetric_refit_false(n_iter, clf_data):
    X, y = clf_data
    search = HarmonicaSearchCV(
        LogisticRegression(), {"C": [0.01, 0.1, 1.0, 10.0, 100.0]},
        scoring=["accuracy", "f1_macro"], refit=False, n_iter=n_iter, cv=3, random_state=0,
    ).fit(X, y)
    for attr in ["best_estimator_", "best_index_", "best_params_", "best_score_"]:
        assert not hasattr(search, attr), attr
    assert "mean_test_f1_macro" in search.cv_results_
    with pytest.raises(AttributeError, match="has no attribute 'predict'") as excinfo:
        search.predict(X)
    assert "refit=False" in str(excinfo.value.__cause__)  # as in GridSearchCV


def test_multimetric_refit_true_raises(clf_data):
    X, y = clf_data
    search = HarmonicaSearchCV(
        LogisticRegression(), {"C": [0.1, 1.0]}, scoring=["accuracy", "f1_macro"], refit=True
    )
    with pytest.raises(ValueError, match="refit must be set to a scorer key"):
        search.fit(X, y)


def _dict_scorer(estimator, X, y):
    pred = estimator.predict(X)
    return {"acc": accuracy_score(y, pred), "bal": balanced_accuracy_score(y, pred)}


@pytest.mark.parametrize("n_iter", [10, 4], ids=["exhaustive", "spectral"])
def test_callable_scoring_returning_dict(n_iter, clf_data):
    X, y = clf_data
    search = HarmonicaSearchCV(
        KNeighborsClassifier(), {"n_neighbors": [1, 3, 5, 7, 9]}, scoring=_dict_scorer,
        refit="bal", n_iter=n_iter, cv=3, random_state=0,
    ).fit(X, y)
    results = search.cv_results_
    assert search.multimetric_
    assert {"mean_test_acc", "mean_test_bal", "rank_test_bal"} <= set(results)
    assert search.best_score_ == results["mean_test_bal"][_full_rows(search)].max()
    assert search.best_score_ == results["mean_test_bal"][search.best_index_]


# ============================================ 6. error_score
FAILING_SPACES = {
    # alpha > 1 fails: 2 of the 4 candidates
    "exhaustive": ({"alpha": [0.01, 0.1, 10.0, 100.0]}, {"n_iter": 10}),
    # about half of the alphas fail, in the spectral stage and the halving
    "spectral": ({"alpha": loguniform(1e-3, 1e3)}, _spectral_kwargs()),
}


@pytest.mark.parametrize("mode", list(FAILING_SPACES))
def test_failing_fits_give_nan_and_warn(mode, reg_data):
    X, y = reg_data
    space, kw = FAILING_SPACES[mode]
    search = HarmonicaSearchCV(FailingRegressor(fail_above=1.0), space, error_score=np.nan, **kw)
    with pytest.warns(FitFailedWarning, match="fits failed"):
        with pytest.warns(UserWarning, match="test scores are non-finite"):
            search.fit(X, y)
    results = search.cv_results_
    alphas = np.array([p["alpha"] for p in results["params"]])
    failed = alphas > 1.0
    assert failed.any() and (~failed).any()
    assert np.isnan(results["mean_test_score"][failed]).all()
    assert np.isfinite(results["mean_test_score"][~failed]).all()
    assert results["rank_test_score"][failed].min() > results["rank_test_score"][~failed].max()
    assert search.best_params_["alpha"] <= 1.0
    assert np.isfinite(search.best_score_)


@pytest.mark.parametrize("mode", list(FAILING_SPACES))
def test_numeric_error_score_is_used(mode, reg_data):
    X, y = reg_data
    space, kw = FAILING_SPACES[mode]
    search = HarmonicaSearchCV(FailingRegressor(fail_above=1.0), space, error_score=-123.0, **kw)
    with pytest.warns(FitFailedWarning):
        search.fit(X, y)
    results = search.cv_results_
    failed = np.array([p["alpha"] > 1.0 for p in results["params"]])
    assert_array_equal(results["split0_test_score"][failed], -123.0)


@pytest.mark.parametrize("mode", list(FAILING_SPACES))
def test_error_score_raise(mode, reg_data):
    X, y = reg_data
    space, kw = FAILING_SPACES[mode]
    search = HarmonicaSearchCV(FailingRegressor(fail_above=1.0), space, error_score="raise", **kw)
    with pytest.raises(ValueError, match="planted failure"):
        search.fit(X, y)


@pytest.mark.parametrize("mode", list(FAILING_SPACES))
def test_all_fits_failing_raises(mode, reg_data):
    X, y = reg_data
    space, kw = FAILING_SPACES[mode]
    search = HarmonicaSearchCV(FailingRegressor(fail_above=-1.0), space, **kw)
    with pytest.raises(ValueError, match=r"All the \d+ fits failed"):
        search.fit(X, y)


# ============================================ 7. parameter validation
@pytest.mark.parametrize(
    "param, value",
    [
        ("n_iter", 0),
        ("n_iter", 2.5),
        ("degree", 0),
        ("degree", 5),
        ("n_terms", 0),
        ("n_best", 0),
        ("alpha", 0.0),
        ("alpha", -1.0),
        ("distribution_bits", 0),
        ("distribution_bits", 9),
        ("n_stages", -1),
        ("n_stages", "many"),
        ("stage_size", 2),
        ("factor", 1),
        ("factor", 0.5),
        ("final_stage", "x"),
        ("resource", 3),
        ("min_resources", 0),
        ("max_resources", "all"),
        ("spectral_resource", 0),
        ("random_state", "seed"),
        ("param_space", "alpha"),
        ("param_space", ({"alpha": [1.0]},)),
        ("error_score", "ignore"),
        ("verbose", "loud"),
        ("n_iter", 10**9),
        ("factor", 1e300),
        ("min_train_rows", -1),
        ("time_budget", "10"),
        ("on_evaluation", "print"),
        ("warm_start", "yes"),
        ("initial_results", [1, 2]),
    ],
)
def test_invalid_constructor_parameter(param, value, reg_data):
    X, y = reg_data
    search = HarmonicaSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=3)
    search.set_params(**{param: value})
    match = f"The '{param}' parameter of HarmonicaSearchCV must be"
    with pytest.raises(InvalidParameterError, match=match):
        search.fit(X, y)


class _NeverFit(Ridge):
    def fit(self, X, y, sample_weight=None):
        raise RuntimeError("fit must not be called for an invalid search space")


@pytest.mark.parametrize(
    "space, error, match",
    [
        ({"alpha": []}, ValueError, "'alpha' has an empty list of values"),
        ([], ValueError, "param_space is an empty list"),
        ({"alpfa": [0.1, 1.0]}, ValueError, r"Invalid parameter\(s\) \['alpfa'\]"),
        ({"alpfa": [0.1, 1.0]}, ValueError, r"Valid parameters are: \[.*'alpha'.*'solver'"),
        ([{"alpha": [1.0]}, {"solvr": ["auto"]}], ValueError, r"\['solvr'\]"),
        ({"alpha": 1.0}, TypeError, "'alpha': expected a list of values"),
        ({"solver": "auto"}, TypeError, "'solver': expected a list of values"),
        ([{"alpha": [1.0]}, "solver"], TypeError, r"param_space\[1\] must be a dict"),
        ({1: [1.0]}, TypeError, "keys must be parameter names"),
    ],
    ids=[
        "empty_values", "empty_list", "unknown_name", "unknown_lists_valid",
        "unknown_in_branch", "scalar", "string", "non_dict_branch", "non_str_key",
    ],
)
def test_invalid_param_space(space, error, match, reg_data):
    X, y = reg_data
    search = HarmonicaSearchCV(_NeverFit(), space, cv=3)
    with pytest.raises(error, match=match):
        search.fit(X, y)


def test_unknown_nested_parameter_lists_step_parameters(reg_data):
    X, y = reg_data
    pipe = Pipeline([("scaler", StandardScaler()), ("ridge", _NeverFit())])
    search = HarmonicaSearchCV(pipe, {"ridge__alfa": [0.1, 1.0]}, cv=3)
    with pytest.raises(ValueError, match=r"\['ridge__alfa'\].*'ridge__alpha'"):
        search.fit(X, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_resources": 1000}, "max_resources=1000 exceeds the number of samples"),
        (
            {"min_resources": 50, "max_resources": 40},
            "min_resources=50 is larger than max_resources=40",
        ),
        ({"spectral_resource": 100}, "spectral_resource=100 is larger than max_resources"),
        (
            {"resource": "max_itr"},
            r"resource='max_itr' is neither 'n_samples' nor a parameter.*'max_iter'",
        ),
        ({"resource": "max_iter"}, "max_resources='auto' takes the estimator's max_iter"),
        # Full-resource stages (spectral_resource=None): each candidate costs 1.
        (
            {"n_stages": 2, "stage_size": 20, "n_iter": 30, "spectral_resource": None},
            "n_iter=30 is too small for n_stages=2",
        ),
        (
            {"n_stages": 3, "n_iter": 50, "spectral_resource": None},
            "n_iter=50 is too small for n_stages=3",
        ),
    ],
)
def test_invalid_resources_and_budget(kwargs, match, reg_data):
    X, y = reg_data
    search = HarmonicaSearchCV(_NeverFit(), {"alpha": loguniform(1e-3, 1e3)}, cv=3, **kwargs)
    with pytest.raises(ValueError, match=match):
        search.fit(X, y)


def test_resource_in_param_space_raises(reg_data):
    X, y = reg_data
    search = HarmonicaSearchCV(
        LogisticRegression(), {"max_iter": [10, 100], "C": [0.1, 1.0]}, resource="max_iter"
    )
    with pytest.raises(ValueError, match="resource='max_iter' is also a key of param_space"):
        search.fit(X, y > 0)


def test_report_before_fit_raises():
    with pytest.raises(AttributeError, match=re.escape("call fit before report()")):
        HarmonicaSearchCV(Ridge(), {"alpha": [1.0]}).report()


def test_string_data_cut_to_the_subsample_gives_the_same_search(monkeypatch):
    """A DataFrame with a string column is sent to a subsampled fit as the
    split's rows only: the search is the same as with the whole data, and
    across n_jobs."""
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from harmonica_sklearn import _evaluation

    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=600), "city": rng.choice(["a", "b", "c"], 600)})
    y = (X["x"] + (X["city"] == "b") + rng.normal(scale=0.5, size=600) > 0.5).astype(int)
    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["city"]), remainder="passthrough"),
        LogisticRegression(),
    )
    space = {"logisticregression__C": loguniform(1e-3, 1e3),
             "logisticregression__fit_intercept": [True, False]}

    def search(n_jobs):
        return HarmonicaSearchCV(
            pipe, space, n_iter=18, n_stages=1, stage_size=12, cv=2, min_train_rows=0,
            random_state=0, n_jobs=n_jobs,
        ).fit(X, y)

    cut = search(n_jobs=1)
    assert (cut.cv_results_["n_resources"] < 600).any()
    _assert_same_search(cut, search(n_jobs=2))
    monkeypatch.setattr(_evaluation, "MAX_SHARE_SENT_AS_ROWS", 0.0)
    _assert_same_search(cut, search(n_jobs=1))
