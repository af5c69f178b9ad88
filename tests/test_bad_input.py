"""Bad input to HarmonicaSearchCV, and what it gets (issue #5).

Every error is checked with ``pytest.raises(..., match=...)`` for a message
that names the parameter at fault, raised before any fit (the estimator
``_NeverFit`` fails the test if it is fitted).  Inputs that are accepted
(single-valued parameters, ``[1, 1.0]``, fits or scorers that fail now and
then) are checked to work.  Where the library's behaviour is found wrong or
its message unclear, the test states what a demanding scikit-learn user
expects and is marked ``xfail(strict=True)`` until it is fixed (none is
today).  docs/bad_input.md has the whole table.

The last part holds property-based tests (hypothesis) that extend
tests/test_space.py: encoding round trips on spaces of any kind of value and
distribution, restricted sampling with several alternatives, and a real
search with an estimator that records every value it is handed.
"""

from __future__ import annotations

import math
import numbers
import contextlib
import re
import signal
import tracemalloc
import warnings
import zlib

import numpy as np
import pytest
import scipy.stats
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from scipy.stats import expon, loguniform, norm, randint, uniform
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_regression
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import ParameterGrid
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from harmonica_sklearn import HarmonicaSearchCV, SearchSpace
from harmonica_sklearn._restriction import Restriction

X, Y = make_regression(n_samples=60, n_features=5, noise=10.0, random_state=0)
CONTINUOUS = {"alpha": loguniform(1e-3, 1e3)}
_RIDGE_NAMES = ["alpha", "copy_X", "fit_intercept", "max_iter", "positive", "random_state"]
RIDGE_PARAMS = re.escape(str([*_RIDGE_NAMES, "solver", "tol"]))


class _NeverFit(Ridge):
    """Fails the test when fitted: validation must come before any fit."""

    def fit(self, X, y, sample_weight=None):
        raise RuntimeError("fit must not be called for an invalid input")


class _PpfOnly:
    """Looks like half a distribution: ``ppf`` but no ``rvs``."""

    def ppf(self, q):
        return q


class _Flaky(RegressorMixin, BaseEstimator):
    """Ridge whose fit raises for ``alpha > fail_above`` or fewer than
    ``min_rows`` training rows."""

    def __init__(self, alpha=1.0, fail_above=np.inf, min_rows=0):
        self.alpha = alpha
        self.fail_above = fail_above
        self.min_rows = min_rows

    def fit(self, X, y):
        if self.alpha > self.fail_above:
            raise ValueError(f"planted failure for alpha={self.alpha}")
        if len(X) < self.min_rows:
            raise ValueError(f"needs {self.min_rows} rows, got {len(X)}")
        self.ridge_ = Ridge(alpha=self.alpha).fit(X, y)
        return self

    def predict(self, X):
        return self.ridge_.predict(X)


# sklearn's own std of a column holding infinities.
pytestmark = pytest.mark.filterwarnings(
    "ignore:invalid value encountered in subtract:RuntimeWarning"
)


def _search(space, estimator=None, **kw):
    # 60 rows: min_train_rows=0 keeps the reduced resources these cases test.
    kw = {"cv": 3, "random_state": 0, "min_train_rows": 0, **kw}
    return HarmonicaSearchCV(_NeverFit() if estimator is None else estimator, space, **kw)


# ================================================================ 1. spaces
NOT_VALUES = "expected a list of values or an object with an 'rvs' method"
PARAM_SPACE_TYPE = (
    "The 'param_space' parameter of HarmonicaSearchCV must be an instance of 'dict' "
    "or an instance of 'list'"
)


@pytest.mark.parametrize(
    "space, error, match",
    [
        # nothing to search
        ([], ValueError, "param_space is an empty list"),
        # empty value lists, whatever the container
        ({"alpha": []}, ValueError, "Parameter 'alpha' has an empty list of values"),
        ({"alpha": ()}, ValueError, "Parameter 'alpha' has an empty list of values"),
        ({"alpha": np.array([])}, ValueError, "Parameter 'alpha' has an empty list of values"),
        ({"alpha": [1.0], "solver": []}, ValueError, "Parameter 'solver' has an empty list"),
        ([{"alpha": [1.0]}, {"solver": []}], ValueError, "Parameter 'solver' has an empty list"),
        # unknown names: which ones, and the valid ones
        (
            {"alfa": [0.1, 1.0]},
            ValueError,
            r"Invalid parameter\(s\) \['alfa'\] for estimator _NeverFit",
        ),
        ({"alfa": [0.1, 1.0]}, ValueError, "Valid parameters are: " + RIDGE_PARAMS),
        (
            {"sovler": ["auto"], "alfa": [1.0]},
            ValueError,
            r"Invalid parameter\(s\) \['alfa', 'sovler'\]",
        ),
        ({"alpha ": [0.1, 1.0]}, ValueError, r"Invalid parameter\(s\) \['alpha '\]"),
        ([{"alpha": [1.0]}, {"tol": [1e-3], "slover": ["svd"]}], ValueError, r"\['slover'\]"),
        # not a list of values, nor a distribution
        ({"alpha": _PpfOnly()}, TypeError, f"Parameter 'alpha': {NOT_VALUES}.*got _PpfOnly"),
        ({"alpha": object()}, TypeError, f"Parameter 'alpha': {NOT_VALUES}.*got object"),
        ({"alpha": None}, TypeError, f"Parameter 'alpha': {NOT_VALUES}.*got NoneType None"),
        ({"alpha": 1.0}, TypeError, f"Parameter 'alpha': {NOT_VALUES}.*got float 1.0"),
        ({"solver": "svd"}, TypeError, f"Parameter 'solver': {NOT_VALUES}.*got str 'svd'"),
        ({"alpha": {0.1, 1.0}}, TypeError, f"Parameter 'alpha': {NOT_VALUES}.*got set"),
        ({"alpha": {"low": 0.1}}, TypeError, f"Parameter 'alpha': {NOT_VALUES}.*got dict"),
        (
            {"alpha": (a for a in [0.1, 1.0])},
            TypeError,
            f"Parameter 'alpha': {NOT_VALUES}.*got generator",
        ),
        # malformed containers
        ("alpha", InvalidParameterError, PARAM_SPACE_TYPE + ". Got 'alpha' instead"),
        (({"alpha": [1.0]},), InvalidParameterError, PARAM_SPACE_TYPE),
        ([{"alpha": [1.0]}, ["solver"]], TypeError, r"param_space\[1\] must be a dict, got list"),
        ({("alpha",): [1.0]}, TypeError, "param_space keys must be parameter names"),
    ],
)
def test_bad_space_is_rejected_before_any_fit(space, error, match):
    with pytest.raises(error, match=match):
        _search(space).fit(X, Y)


def test_unknown_step_in_pipeline_lists_the_valid_names():
    pipe = Pipeline([("scale", StandardScaler()), ("ridge", _NeverFit())])
    with pytest.raises(ValueError, match=r"\['rigde__alpha'\].*'ridge__alpha'"):
        _search({"rigde__alpha": [0.1, 1.0]}, pipe).fit(X, Y)


def test_unfrozen_distribution_is_named():
    with pytest.raises((TypeError, ValueError), match="'alpha'.*(frozen|loguniform)"):
        _search({"alpha": loguniform}, n_iter=3).fit(X, Y)


@pytest.mark.parametrize(
    "family, signature",
    [(scipy.stats.uniform, "uniform(loc, scale)"), (randint, "randint(low, high)")],
)
def test_unfrozen_distribution_without_or_with_shapes_is_rejected(family, signature):
    # uniform alone would run (loc=0, scale=1): rejected too, it is rarely meant.
    match = (
        rf"Parameter 'alpha': scipy.stats.{family.name} is a distribution family, not a "
        rf"frozen distribution; pass it with its parameters, {re.escape(signature)}"
    )
    with pytest.raises(TypeError, match=match):
        _search({"alpha": family}).fit(X, Y)


def test_distribution_class_is_rejected():
    with pytest.raises(TypeError, match="Parameter 'alpha': got the class _RvsOnly"):
        _search({"alpha": _RvsOnly}).fit(X, Y)


def test_two_dimensional_values_rejected_in_spectral_mode_too():
    # As ParameterGrid (GridSearchCV) rejects them, in every mode, before any fit.
    space = {"alpha": np.array([[0.1, 1.0], [10.0, 100.0]]), "tol": loguniform(1e-5, 1e-2)}
    with pytest.raises(ValueError, match=r"'alpha' should be one-dimensional.*\(2, 2\)"):
        _search(space, n_iter=3).fit(X, Y)


def test_two_dimensional_values_rejected_in_exhaustive_mode():
    with pytest.raises(ValueError, match="'alpha' should be one-dimensional"):
        _search({"alpha": np.array([[0.1, 1.0]])}).fit(X, Y)


def test_arrays_as_values_are_given_as_a_list():
    # What the error message suggests: list(rows), each row one value.
    rows = np.array([[1.0, 0.0], [0.0, 1.0]])
    space = SearchSpace.from_param_space({"w": list(rows)})
    assert space.params[0].kind == "categorical" and space.params[0].n_values == 2
    assert_array_equal(space.params[0].values[1], [0.0, 1.0])


def test_zero_dimensional_array_is_not_a_list_of_values():
    with pytest.raises(TypeError, match=f"Parameter 'alpha': {NOT_VALUES}.*got ndarray"):
        _search({"alpha": np.array(1.0)}).fit(X, Y)


def test_numpy_and_python_float_duplicates_are_one_value():
    values = [*np.logspace(-2, 0, 3), 1.0]  # np.float64(1.0) and 1.0
    space = SearchSpace.from_param_space({"alpha": values})
    assert space.params[0].values == [0.01, 0.1, 1.0]
    assert_array_equal(space.params[0].weights, [0.25, 0.25, 0.5])
    assert space.grid() == list(ParameterGrid({"alpha": values}))


def test_duplicate_unhashable_values_are_evaluated_as_grid_search_does():
    space = {"class_weight": [{0: 1, 1: 2}, {0: 1, 1: 2}, None]}
    search = HarmonicaSearchCV(LogisticRegression(), space, cv=3).fit(X, Y > 0)
    assert search.search_mode_ == "exhaustive"
    assert search.cv_results_["params"] == list(ParameterGrid(space))


@pytest.mark.parametrize(
    "values, n_distinct",
    [
        ([np.int64(3), 1, 3], 2),
        ([np.float32(0.5), 0.5], 1),
        ([np.True_, True], 1),
        (["svd", np.str_("svd")], 1),
        ([[1, 2], (1, 2), [1, 2]], 2),
        ([np.array([1.0, 2.0]), np.array([1.0, 2.0])], 1),
        ([np.array([1, 2]), np.array([[1, 2]]), np.array([1, 2])], 2),
        ([0.1, 1.0, 0.1], 2),
        (["svd", "auto", "svd"], 2),
        ([None, 0, None], 2),
        ([True, True], 1),
    ],
    ids=[
        "np_int", "np_float32", "np_bool", "np_str", "list", "array", "array_shapes",
        "float", "str", "none", "bool",
    ],
)
def test_equal_values_of_one_kind_are_one_value_listed_twice(values, n_distinct):
    # Accepted, as by GridSearchCV: the grid holds every declared value, in
    # order, repeats included; sampling weights a value by its repeats.
    space = SearchSpace.from_param_space({"w": values})
    param = space.params[0]
    assert param.n_values == n_distinct
    assert math.isclose(param.weights.sum(), 1.0)
    assert len(space.grid()) == space.size() == len(values)
    assert all(g["w"] is v for g, v in zip(space.grid(), values))


@pytest.mark.parametrize(
    "values",
    [
        [1, 1.0, True],  # int, float and bool differ for sklearn
        [0, False, 0.0, 0j],
        [np.array([1, 2]), np.array([1.0, 2.0]), np.array([1, 2, 3]), [1, 2], (1, 2)],
        [[np.array([1, 2])], [np.array([1, 2])]],  # equality undecidable: kept
        [{"a": np.zeros(2)}, {"a": np.zeros(2)}],
        [float("nan"), float("nan")],  # nan != nan, as ParameterGrid keeps both
    ],
    ids=["int_float_bool", "zeros", "arrays", "lists_of_arrays", "dicts_of_arrays", "nan"],
)
def test_values_of_different_kinds_or_not_comparable_are_kept(values):
    space = SearchSpace.from_param_space({"w": values})
    assert space.params[0].n_values == len(values)


@pytest.mark.parametrize("space", [{}, [{}]], ids=["dict", "list"])
def test_empty_space_is_one_candidate_the_defaults(space):
    # As GridSearchCV: one candidate, params {}, the estimator as given.
    encoded = SearchSpace.from_param_space(space)
    assert (encoded.n_params, encoded.n_bits, encoded.size()) == (0, 0, 1)
    assert encoded.is_finite() and encoded.grid() == [{}] == list(ParameterGrid(space))
    index, offset = encoded.sample(3, np.random.RandomState(0))
    assert index.shape == (3, 0) and encoded.encode(index).shape == (3, 0)
    assert [encoded.decode(i, o) for i, o in zip(index, offset)] == [{}, {}, {}]
    search = _search(space, Ridge(), n_iter=5).fit(X, Y)
    assert search.search_mode_ == "exhaustive"
    assert search.cv_results_["params"] == [{}]
    assert search.best_params_ == {}


@pytest.mark.parametrize(
    "space",
    [
        {"alpha": [0.1, 0.1, 0.2], "solver": ["svd", "auto", "svd"]},
        [{"alpha": [1.0, 0.1, 1.0]}, {"alpha": [0.1, 1.0, 1.0], "tol": [1e-3, 1e-3]}],
        {"alpha": [1.0, 1.0]},
    ],
    ids=["dict", "branches", "one_value_twice"],
)
def test_repeated_values_are_evaluated_as_parameter_grid_does(space):
    search = _search(space, Ridge(), n_iter=50).fit(X, Y)
    assert search.search_mode_ == "exhaustive"
    assert search.cv_results_["params"] == list(ParameterGrid(space))
    assert SearchSpace.from_param_space(space).size() == len(ParameterGrid(space))


def test_repeated_value_is_sampled_more_often_in_spectral_mode():
    # As RandomizedSearchCV samples a list: 0.1 listed twice of three, 2/3.
    space = SearchSpace.from_param_space({"alpha": [0.1, 0.2, 0.1], "x": list(range(8))})
    param = space.params[0]
    assert param.values == [0.1, 0.2] and param.n_bits == 1
    assert_array_equal(param.weights, [2 / 3, 1 / 3])
    index, offset = space.sample(3000, np.random.RandomState(0))
    share = np.mean([space.decode(i, o)["alpha"] == 0.1 for i, o in zip(index, offset)])
    assert abs(share - 2 / 3) < 0.03


def test_list_with_nan_is_categorical_in_declared_order():
    # NaN has no place in an order: the list is coded as unordered values.
    nan = float("nan")
    space = SearchSpace.from_param_space({"alpha": [1.0, nan, 0.1]})
    param = space.params[0]
    assert param.kind == "categorical"
    assert param.values[0] == 1.0 and math.isnan(param.values[1]) and param.values[2] == 0.1
    assert_array_equal(param.codes, [[1, 1], [1, -1], [-1, 1]])  # plain binary
    without = SearchSpace.from_param_space({"alpha": [1.0, 0.1]}).params[0]
    assert without.kind == "ordered"


@contextlib.contextmanager
def _hang_guard(seconds=60):
    """Fail (rather than hang the suite) if the block runs past ``seconds``;
    not a timing assert: the inputs below took minutes or were OOM-killed."""
    def _raise(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(
    "dist, kind",
    [
        (scipy.stats.zipf(1.01), "free"),  # was OOM-killed (generic cdf sums the pmf)
        (scipy.stats.logser(0.999999), "free"),  # hung > 90 s
        (scipy.stats.nbinom(1, 1e-15), "distribution"),  # hung > 90 s
        (scipy.stats.poisson(1e18), "distribution"),  # "cannot convert float NaN"
        (scipy.stats.randint(-(2**63), 2**63 - 1), "free"),  # overflowed int64
        (scipy.stats.geom(1e-9), "distribution"),
    ],
    ids=["zipf", "logser", "nbinom", "poisson_1e18", "randint_int64", "geom"],
)
def test_extreme_discrete_distributions_are_bucketed_or_sampled_by_rvs(dist, kind):
    # Quantile buckets by bisection on the cdf when the distribution has a
    # closed-form cdf; otherwise drawn from its own rvs, as RandomizedSearchCV
    # does (no bits).  Memory stays small (tracemalloc), values are ints in
    # the support.
    tracemalloc.start()
    try:
        with _hang_guard():
            space = SearchSpace.from_param_space({"k": dist, "x": [1, 2]})
            index, offset = space.sample(20, np.random.RandomState(0))
            values = [space.decode(i, o)["k"] for i, o in zip(index, offset)]
            labels = [space.bit_label(b) for b in range(space.n_bits)]
            labels += space.params[0].labels(range(space.params[0].n_values))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20
    assert space.params[0].kind == kind
    low, high = dist.support()
    assert all(isinstance(v, numbers.Integral) for v in values)
    assert all(low <= v <= high for v in values)
    assert all(isinstance(label, str) for label in labels)


def test_extreme_discrete_distribution_in_a_search():
    space = {"alpha": scipy.stats.zipf(1.01), "solver": ["svd", "cholesky"]}
    with _hang_guard():
        search = _search(space, Ridge(), n_iter=6, n_stages=0).fit(X, Y)
    assert all(p["alpha"] >= 1 for p in search.cv_results_["params"])


def test_small_discrete_distribution_in_exhaustive_mode():
    # The space lists randint(1, 5) as [1, 2, 3, 4]: the grid is built from
    # that list (ParameterGrid would reject the distribution).
    from sklearn.neighbors import KNeighborsRegressor

    space = {"n_neighbors": randint(1, 5), "weights": ["uniform", "distance"]}
    search = _search(space, KNeighborsRegressor(), n_iter=10).fit(X, Y)
    assert search.search_mode_ == "exhaustive"
    params = search.cv_results_["params"]
    assert len(params) == 8
    assert sorted({p["n_neighbors"] for p in params}) == [1, 2, 3, 4]
    assert all(type(p["n_neighbors"]) is int for p in params)


def test_exhaustive_mode_keeps_parameter_grid_order():
    # Values in declared order (not sorted), names sorted, the last fastest;
    # alpha is one parameter shared by two branches that order it differently.
    space = [
        {"alpha": [10.0, 0.1, 1.0], "fit_intercept": [False, True]},
        {"tol": [1e-2, 1e-4]},
        {"alpha": [1.0, 10.0, 0.1]},
    ]
    search = _search(space, Ridge(), n_iter=20).fit(X, Y)
    assert search.search_mode_ == "exhaustive"
    assert [p.name for p in search.space_.params].count("alpha") == 1
    assert search.cv_results_["params"] == list(ParameterGrid(space))


def test_zero_probability_support_values_are_not_evaluated():
    # binom(3, 0.0) lists the support 0..3, but only 0 has any probability.
    search = _search({"alpha": [0.1, 1.0], "random_state": scipy.stats.binom(3, 0.0)}, Ridge())
    search.fit(X, Y)
    assert search.search_mode_ == "exhaustive"
    assert [p["random_state"] for p in search.cv_results_["params"]] == [0, 0]


def test_int_and_float_of_equal_value_are_distinct_values():
    # As for sklearn: max_features=1 is one feature, max_features=1.0 all of them.
    search = _search({"alpha": [1, 1.0]}, Ridge()).fit(X, Y)
    assert search.search_mode_ == "exhaustive"
    assert [type(p["alpha"]) for p in search.cv_results_["params"]] == [int, float]


# ============================================== 2. single-valued parameters
def test_single_valued_parameters_work_in_exhaustive_mode():
    search = _search({"alpha": [0.5], "fit_intercept": [True]}, Ridge()).fit(X, Y)
    assert search.cv_results_["params"] == [{"alpha": 0.5, "fit_intercept": True}]
    assert search.best_params_ == {"alpha": 0.5, "fit_intercept": True}


def test_single_valued_parameters_are_set_on_every_candidate_in_spectral_mode():
    space = {"alpha": loguniform(1e-3, 1e3), "fit_intercept": [False], "solver": ["svd"]}
    search = _search(space, Ridge(), n_iter=40).fit(X, Y)
    assert search.search_mode_ == "spectral" and search.stages_
    for params in search.cv_results_["params"]:
        assert params["fit_intercept"] is False and params["solver"] == "svd"
    assert search.best_estimator_.fit_intercept is False


def test_only_single_valued_parameters_and_branches():
    space = [{"alpha": [0.5]}, {"alpha": [2.0], "solver": ["svd"]}]
    search = _search(space, Ridge(), n_iter=10).fit(X, Y)
    assert search.cv_results_["params"] == [{"alpha": 0.5}, {"alpha": 2.0, "solver": "svd"}]


def test_two_empty_branches_are_two_default_candidates():
    # As GridSearchCV: each empty dict is one candidate, the estimator's defaults.
    search = _search([{}, {}], Ridge()).fit(X, Y)
    assert search.search_mode_ == "exhaustive"
    assert search.cv_results_["params"] == [{}, {}]


def test_nan_value_is_passed_on_and_its_fits_fail():
    search = _search({"alpha": [1.0, float("nan")]}, Ridge())
    with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6"):
        with pytest.warns(UserWarning, match="test scores are non-finite"):
            search.fit(X, Y)
    assert search.best_params_ == {"alpha": 1.0}


def test_huge_n_best_keeps_every_setting():
    search = _search(CONTINUOUS, Ridge(), n_best=10**6, n_iter=40).fit(X, Y)
    assert search.stages_ and np.isfinite(search.best_score_)


def test_one_evaluation_budget():
    search = _search(CONTINUOUS, Ridge(), n_iter=1).fit(X, Y)
    assert len(search.cv_results_["params"]) == 1
    assert search.budget_spent_ <= 1


# ==================================================================== 3. budget
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"n_stages": 2, "n_iter": 10},
            r"n_iter=10 is too small for n_stages=2: each stage would get \d+ candidates "
            r"\(at least 20 are needed\)",
        ),
        (
            {"n_stages": 1, "stage_size": 50, "n_iter": 10},
            "n_iter=10 is too small for n_stages=1 stages of stage_size=50",
        ),
        (
            {"n_stages": 3, "stage_size": 20, "n_iter": 59},
            r"n_iter=59 is too small for n_stages=3 stages of stage_size=20 candidates "
            r"\(they cost 60 full",
        ),
        # cheaper stages are counted at their cost: 50 * 12/60 = 10 > 9
        (
            {"n_stages": 1, "stage_size": 50, "n_iter": 9, "spectral_resource": 12},
            "they cost 10 full evaluations",
        ),
    ],
)
def test_budget_too_small_for_the_requested_stages(kwargs, match):
    # Spectral stages at full resource unless said otherwise.
    kwargs = {"spectral_resource": None, **kwargs}
    with pytest.raises(ValueError, match=match):
        _search(CONTINUOUS, **kwargs).fit(X, Y)


def test_cheap_spectral_stages_fit_a_small_budget():
    search = _search(
        CONTINUOUS, Ridge(), n_stages=1, stage_size=50, n_iter=11, spectral_resource=12
    ).fit(X, Y)
    assert np.sum(search.cv_results_["phase"] == "spectral") == 50
    assert search.budget_spent_ <= 11 + 1e-9


# ================================================================ 4. resources
class _Iterative(Ridge):
    """Ridge with an integer ``n_steps`` parameter to use as the resource."""

    def __init__(self, alpha=1.0, *, n_steps=12, solver="auto"):
        super().__init__(alpha=alpha, solver=solver)
        self.n_steps = n_steps


@pytest.mark.parametrize(
    "estimator, space, kwargs, match",
    [
        (_NeverFit(), CONTINUOUS, {"resource": "n_epochs"},
         "resource='n_epochs' is neither 'n_samples' nor a parameter of _NeverFit. "
         "Valid parameters are: " + RIDGE_PARAMS),
        (_NeverFit(), CONTINUOUS, {"resource": "max_iter"},
         "max_resources='auto' takes the estimator's max_iter, which is None; set max_resources"),
        (_NeverFit(max_iter=10.5), CONTINUOUS, {"resource": "max_iter"},
         "max_resources='auto' takes the estimator's max_iter, which is 10.5"),
        (_Iterative(), {**CONTINUOUS, "n_steps": [3, 9]}, {"resource": "n_steps"},
         "resource='n_steps' is also a key of param_space"),
        (_Iterative(), [{"alpha": [1.0, 2.0]}, {"n_steps": [3, 9]}], {"resource": "n_steps"},
         "resource='n_steps' is also a key of param_space"),
        (_NeverFit(), CONTINUOUS, {"min_resources": 50, "max_resources": 40},
         "min_resources=50 is larger than max_resources=40"),
        (_NeverFit(), CONTINUOUS, {"min_resources": 61},
         "min_resources=61 is larger than max_resources=60"),
        (_NeverFit(), CONTINUOUS, {"max_resources": 61},
         r"max_resources=61 exceeds the number of samples \(60\) for resource='n_samples'"),
        (_NeverFit(), CONTINUOUS, {"spectral_resource": 61},
         "spectral_resource=61 is larger than max_resources=60"),
        (_Iterative(), CONTINUOUS, {"resource": "n_steps", "spectral_resource": 13},
         "spectral_resource=13 is larger than max_resources=12"),
        (_Iterative(), CONTINUOUS, {"resource": "n_steps", "min_resources": 20},
         "min_resources=20 is larger than max_resources=12"),
    ],
    ids=[
        "resource_not_a_param", "auto_max_from_None", "auto_max_from_float",
        "resource_in_space", "resource_in_other_branch", "min_gt_max", "min_gt_n_samples",
        "max_gt_n_samples", "spectral_gt_max", "spectral_gt_param_max", "min_gt_param_max",
    ],
)
def test_bad_resources(estimator, space, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _search(space, estimator, **kwargs).fit(X, Y)


# ============================================= 5. constructor parameter values
@pytest.mark.parametrize(
    "param, value",
    [
        ("min_resources", 0), ("min_resources", -3), ("min_resources", 2.5),
        ("min_resources", "smallest"), ("min_resources", None),
        ("max_resources", 0), ("max_resources", 30.0), ("max_resources", "all"),
        ("spectral_resource", 0), ("spectral_resource", -1), ("spectral_resource", 10.5),
        ("spectral_resource", "full"),
        ("factor", 1), ("factor", 1.0), ("factor", 0.5), ("factor", 0), ("factor", -2),
        ("factor", float("nan")), ("factor", float("inf")), ("factor", "3"), ("factor", None),
        ("degree", 0), ("degree", 5), ("degree", -1), ("degree", 2.0), ("degree", "3"),
        ("n_terms", 0), ("n_terms", 51), ("n_terms", 2.5),
        ("n_best", 0), ("n_best", -1), ("n_best", 1.5),
        ("distribution_bits", 0), ("distribution_bits", 9), ("distribution_bits", 3.5),
        ("n_iter", 0), ("n_iter", -5), ("n_iter", 10.0), ("n_iter", None),
        ("n_stages", -1), ("n_stages", 1.5), ("n_stages", "many"),
        ("stage_size", 2), ("stage_size", 2.5), ("stage_size", None),
        ("alpha", 0.0), ("alpha", -0.1), ("alpha", "auto"),
        ("final_stage", "grid"), ("final_stage", None),
        ("final_pool", 0), ("final_pool", -1), ("final_pool", 2.5), ("final_pool", None),
        ("resource", None), ("resource", 3),
        ("random_state", "seed"), ("random_state", 1.5),
        ("error_score", "ignore"),
    ],
)
def test_out_of_range_constructor_parameter_is_named(param, value):
    search = _search(CONTINUOUS).set_params(**{param: value})
    got = re.escape(repr(value))
    match = f"The '{param}' parameter of HarmonicaSearchCV must be .* Got {got} instead"
    with pytest.raises(InvalidParameterError, match=match):
        search.fit(X, Y)


def test_factor_just_above_one_works():
    search = _search(CONTINUOUS, Ridge(), factor=1.0001, n_iter=10).fit(X, Y)
    assert search.n_resources_[-1] == search.max_resources_


# ===================================================================== 6. memory
class _ManyFlags(RegressorMixin, BaseEstimator):
    """An estimator with ``n`` binary parameters ``x0 .. x{n-1}``; its score
    is a sum of a few of them.  Fitting costs nothing."""

    def __init__(self, n=400, **flags):
        self.n = n
        for i in range(n):
            setattr(self, f"x{i}", flags.get(f"x{i}", 0))

    def get_params(self, deep=True):
        return {"n": self.n, **{f"x{i}": getattr(self, f"x{i}") for i in range(self.n)}}

    def set_params(self, **params):
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X, y=None):
        return float(self.x3 + self.x77 - self.x150 + 0.5 * self.x3 * self.x200)


def test_huge_space_lowers_the_degree_with_a_warning_instead_of_exhausting_memory():
    # 400 binary parameters: degree-3 parity features would be ~10.7 million
    # columns (the library caps the matrix at 512 MiB); the stage must fall
    # back to a lower degree and say so.
    space = {f"x{i}": [0, 1] for i in range(400)}
    search = HarmonicaSearchCV(
        _ManyFlags(), space, n_iter=30, n_stages=1, stage_size=20, degree=3, cv=2,
        random_state=0,
    )
    Xs, ys = np.zeros((20, 1)), np.zeros(20)
    warning = (
        r"Stage 1: parity features of degree 3 over 400 bits would not fit in memory; "
        r"using degree [12] at most"
    )
    with pytest.warns(UserWarning, match=warning):
        search.fit(Xs, ys)
    assert search.stages_[0].degree < 3
    assert len(search.cv_results_["params"]) > 20
    assert set(search.best_params_) == set(space)


# ================================================================= 7. failures
def test_some_fits_failing_with_numeric_error_score():
    search = _search(
        CONTINUOUS, _Flaky(fail_above=1.0), error_score=-1e6, n_iter=40
    )
    with pytest.warns(FitFailedWarning, match="fits failed"):
        search.fit(X, Y)
    results = search.cv_results_
    failed = np.array([p["alpha"] > 1.0 for p in results["params"]])
    assert failed.any() and (~failed).any()
    assert_array_equal(results["mean_test_score"][failed], -1e6)
    assert search.best_params_["alpha"] <= 1.0 and np.isfinite(search.best_score_)
    # The spectral stage learnt to avoid the failing half: the halving stage
    # samples mostly working candidates.
    halving = results["phase"] == "halving"
    assert failed[halving].mean() < failed[results["phase"] == "spectral"].mean()


def test_minus_inf_error_score():
    search = _search(CONTINUOUS, _Flaky(fail_above=1.0), error_score=-np.inf, n_iter=40)
    with pytest.warns(FitFailedWarning):
        with pytest.warns(UserWarning, match="test scores are non-finite"):
            search.fit(X, Y)
    assert search.best_params_["alpha"] <= 1.0 and np.isfinite(search.best_score_)


@pytest.mark.parametrize("n_iter", [10, 40], ids=["exhaustive", "spectral"])
def test_all_fits_failing_raises_with_the_underlying_error(n_iter):
    space = {"alpha": [2.0, 3.0, 4.0]} if n_iter == 10 else CONTINUOUS
    search = _search(space, _Flaky(fail_above=-1.0), n_iter=n_iter)
    match = r"(?s)All the \d+ fits failed.*ValueError: planted failure for alpha="
    with pytest.raises(ValueError, match=match):
        search.fit(X, Y)


def test_error_score_raise_propagates_the_first_failure():
    search = _search(CONTINUOUS, _Flaky(fail_above=1.0), error_score="raise", n_iter=40)
    with pytest.raises(ValueError, match="^planted failure for alpha="):
        search.fit(X, Y)


def test_rung_failing_for_lack_of_resource_points_to_min_resources():
    # Spectral stage at full resource (40 training rows): it succeeds.
    search = _search(CONTINUOUS, _Flaky(min_rows=30), n_iter=40, spectral_resource=None)
    match = (
        r"(?s)^All the fits of halving rung 0 failed at a reduced resource, n_samples=20 "
        r"\(about 13 training rows per fold instead of 40\), below max_resources_=60.*"
        r"Raise min_resources \(now 7\) above 20.*"
        r"All the 72 fits failed.*ValueError: needs 30 rows, got 13"
    )
    with pytest.raises(ValueError, match=match):
        search.fit(X, Y)


def test_spectral_stage_failing_for_lack_of_resource_points_to_spectral_resource():
    search = _search(CONTINUOUS, _Flaky(min_rows=30), n_iter=40)
    match = (
        r"(?s)^All the fits of the spectral stage failed at a reduced resource, n_samples=20 "
        r".*Raise spectral_resource above 20 \(None: max_resources_\).*needs 30 rows"
    )
    with pytest.raises(ValueError, match=match):
        search.fit(X, Y)


def test_fits_failing_at_full_resource_keep_sklearns_message():
    search = _search(CONTINUOUS, _Flaky(fail_above=-1.0), n_iter=40, spectral_resource=None)
    with pytest.raises(ValueError, match=r"^\nAll the \d+ fits failed") as excinfo:
        search.fit(X, Y)
    assert "min_resources" not in str(excinfo.value)


# ================================================================== 8. scorers
def _nan_scorer(estimator, X, y):
    return float("nan")


def _nan_above_one(estimator, X, y):
    if estimator.alpha > 1.0:
        return float("nan")
    return -float(np.mean((estimator.predict(X) - y) ** 2))


def _minus_inf_above_one(estimator, X, y):
    if estimator.alpha > 1.0:
        return -np.inf
    return -float(np.mean((estimator.predict(X) - y) ** 2))


ALPHAS = [round(0.1 * i, 1) for i in range(1, 28)]  # 27 values


def _inf_for_two(estimator, X, y):
    """A perfect score (+inf, like a PSNR of an exact fit) for alpha=2.0."""
    if estimator.alpha == 2.0:
        return np.inf
    return -float(np.mean((estimator.predict(X) - y) ** 2))


@pytest.mark.parametrize("n_iter", [10, 40], ids=["exhaustive", "spectral"])
def test_scorer_returning_nan_everywhere_warns_and_completes(n_iter):
    space = {"alpha": [0.1, 1.0, 10.0]} if n_iter == 10 else CONTINUOUS
    search = _search(space, Ridge(), scoring=_nan_scorer, n_iter=n_iter)
    with pytest.warns(UserWarning, match="One or more of the test scores are non-finite"):
        search.fit(X, Y)  # as GridSearchCV: a warning, any candidate is "best"
    assert np.isnan(search.best_score_)
    assert hasattr(search, "best_estimator_")


@pytest.mark.parametrize("scorer", [_nan_above_one, _minus_inf_above_one], ids=["nan", "-inf"])
def test_scorer_non_finite_for_some_candidates_is_avoided(scorer):
    search = _search(CONTINUOUS, Ridge(), scoring=scorer, n_iter=40)
    with pytest.warns(UserWarning, match="non-finite"):
        search.fit(X, Y)
    assert search.best_params_["alpha"] <= 1.0 and np.isfinite(search.best_score_)
    results = search.cv_results_
    bad = np.array([p["alpha"] > 1.0 for p in results["params"]])
    assert results["rank_test_score"][bad].min() > results["rank_test_score"][~bad].max()


def test_plus_inf_score_is_best_in_exhaustive_mode():
    search = _search({"alpha": [0.1, 2.0, 5.0]}, Ridge(), scoring=_inf_for_two)
    with pytest.warns(UserWarning, match="non-finite"):
        search.fit(X, Y)
    assert search.best_params_ == {"alpha": 2.0} and search.best_score_ == np.inf


def test_plus_inf_score_is_treated_as_failed_by_halving():
    # A +inf score is as likely a broken scorer (a division by zero) as a
    # perfect fit, and it cannot be compared with the others: the search's own
    # choices treat it as failed, like NaN and -inf, and say so. cv_results_
    # keeps sklearn's ranks (+inf first). HalvingGridSearchCV, unlike this,
    # would keep the +inf candidate to the last rung.
    search = _search({"alpha": ALPHAS}, Ridge(), scoring=_inf_for_two, n_iter=12, n_stages=0)
    warning = (
        r"Halving rung 0: 1 of \d+ candidates got a non-finite mean test score \(1 \+inf\)\. "
        r"The search treats them as failed"
    )
    with pytest.warns(UserWarning, match=warning):
        search.fit(X, Y)
    assert search.search_mode_ == "halving only" and len(search.n_resources_) > 1
    results = search.cv_results_
    two = np.array([p["alpha"] == 2.0 for p in results["params"]])
    assert two.sum() == 1 and results["rung"][two] == [0]  # dropped after rung 0
    assert results["rank_test_score"][two] == [1]
    assert search.best_params_ != {"alpha": 2.0} and np.isfinite(search.best_score_)


def _plus_inf_above_one(estimator, X, y):
    if estimator.alpha > 1.0:
        return np.inf
    return -float(np.mean((estimator.predict(X) - y) ** 2))


def test_plus_inf_scores_do_not_drive_the_spectral_fit():
    search = _search(CONTINUOUS, Ridge(), scoring=_plus_inf_above_one, n_iter=40)
    warning = r"Stage 1: \d+ of \d+ candidates got a non-finite mean test score \(\d+ \+inf\)"
    with pytest.warns(UserWarning, match=warning):
        search.fit(X, Y)
    results = search.cv_results_
    bad = np.array([p["alpha"] > 1.0 for p in results["params"]])
    spectral, halving = results["phase"] == "spectral", results["phase"] == "halving"
    assert bad[spectral].any()
    # The stage learnt to avoid them, as it avoids failures, not to seek them.
    assert bad[halving].mean() < bad[spectral].mean()
    assert search.best_params_["alpha"] <= 1.0 and np.isfinite(search.best_score_)


# ========================================================== 9. restrictions
def test_infeasible_restriction_is_rejected():
    space = SearchSpace.from_param_space({"a": ["x", "y", "z"], "b": [1, 2]})
    with pytest.raises(ValueError, match="infeasible|no value"):
        Restriction.from_signs(space, np.array([0, 1]), np.array([[-1, -1]]))


def test_infeasible_restriction_names_the_alternative_and_parameter():
    space = SearchSpace.from_param_space({"a": ["x", "y", "z"], "b": [1, 2]})
    # Alternative 0 is "x" (code +1 +1), alternative 1 the unused code of a.
    signs = np.array([[1, 1, -1], [-1, -1, 1]])
    match = (
        r"Alternative 1 is infeasible: its signs \{0: -1, 1: -1\} on the bits of "
        r"parameter 'a' match no value of it"
    )
    with pytest.raises(ValueError, match=match):
        Restriction.from_signs(space, np.array([0, 1, 2]), signs)


@pytest.mark.parametrize(
    "signs, match",
    [([1, 1], r"signs must have shape \(n_alternatives, 2\)"), ([[1, 0]], "-1 or \\+1")],
)
def test_malformed_restriction_signs_are_rejected(signs, match):
    space = SearchSpace.from_param_space({"a": ["x", "y", "z"], "b": [1, 2]})
    with pytest.raises(ValueError, match=match):
        Restriction.from_signs(space, np.array([0, 1]), np.array(signs))


# ======================================================= 10. property tests
# Values of every kind a parameter list may hold (no duplicates as the
# library judges them: equal and of one kind, which for these Python scalars
# means the same type and equal).
_scalars = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.text("abcxyz", min_size=0, max_size=3),
    st.booleans(),
    st.none(),
)
_value_lists = st.one_of(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=9, unique=True),
    st.lists(st.booleans(), min_size=1, max_size=2, unique=True),
    st.lists(_scalars, min_size=1, max_size=7, unique_by=lambda v: (type(v), v)),
)


class _RvsOnly:
    """A distribution with ``rvs`` only (sklearn accepts it): sampled freely."""

    def __init__(self, scale):
        self.scale = scale

    def rvs(self, random_state=None):
        return float(np.random.RandomState(random_state).uniform(0, self.scale))

    def __repr__(self):
        return f"_RvsOnly({self.scale})"


_distributions = st.one_of(
    st.builds(uniform, st.floats(-10, 10), st.floats(0.1, 10)),
    st.builds(lambda a, r: loguniform(a, a * r), st.floats(1e-4, 1.0), st.floats(2.0, 1e4)),
    st.builds(norm, st.floats(-5, 5), st.floats(0.1, 5)),
    st.builds(lambda s: expon(scale=s), st.floats(0.1, 10)),
    st.builds(lambda lo, k: randint(lo, lo + k), st.integers(-5, 5), st.integers(1, 70)),
    st.builds(_RvsOnly, st.floats(0.5, 5)),
)
_specs = st.one_of(_value_lists, _value_lists, _distributions)
_names = st.sampled_from(["a", "b", "c", "d", "e", "f"])
_branch = st.dictionaries(_names, _specs, min_size=1, max_size=4)
_any_space = st.one_of(_branch, st.lists(_branch, min_size=2, max_size=3))
# For real searches too, small discrete distributions included (a finite
# space holding one is searched exhaustively, from its listed support).
_search_specs = _specs
_search_branch = st.dictionaries(_names, _search_specs, min_size=1, max_size=4)
_search_space = st.one_of(_search_branch, st.lists(_search_branch, min_size=2, max_size=3))


def _branches_of(space):
    return space if isinstance(space, list) else [space]


def _same_value(a, b):
    return a is b or (type(a) is type(b) and a == b)


def _check_value(spec, value, param, index, offset):
    """``value`` is what the spec allows, and re-encodes to ``index``."""
    if isinstance(spec, list):
        assert any(_same_value(value, v) for v in spec), (value, spec)
        assert _same_value(param.values[index], value)
        return
    if isinstance(spec, _RvsOnly):
        assert 0 <= value <= spec.scale
        return
    low, high = spec.support()
    assert low <= value <= high
    n = param.n_values
    if param.kind == "ordered":  # small discrete support, listed
        assert isinstance(value, int) and param.values[index] == value
        return
    q = np.clip((index + offset) / n, 1e-12, 1 - 1e-12)
    if isinstance(spec.dist, scipy.stats.rv_discrete):
        # discrete quantile: the smallest value whose cdf reaches q
        assert isinstance(value, int)
        assert spec.cdf(value) >= q - 1e-9 and spec.cdf(value - 1) < q + 1e-9
    else:
        bucket = spec.cdf(value) * n
        assert index - 1e-6 <= bucket <= index + 1 + 1e-6, (bucket, index)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=_any_space, seed=st.integers(0, 2**16))
def test_encode_decode_round_trip_any_space(space, seed):
    encoded = SearchSpace.from_param_space(space, distribution_bits=3)
    branches = _branches_of(space)
    rng = np.random.RandomState(seed)
    index, offset = encoded.sample(25, rng)
    bits = encoded.encode(index)
    assert bits.shape == (25, encoded.n_bits) and set(np.unique(bits)) <= {-1, 1}
    for row in range(25):
        params = encoded.decode(index[row], offset[row])
        # deterministic, also for rvs-only distributions
        assert params.keys() == encoded.decode(index[row], offset[row]).keys()
        branch = branches[encoded.branch_of(index[row])]
        assert set(params) == set(branch)
        for p in encoded.active_params(encoded.branch_of(index[row])):
            param = encoded.params[p]
            if param.n_bits:  # the bits give back the index
                hits = np.flatnonzero(np.all(param.codes == bits[row, param.bit_slice], axis=1))
                assert list(hits) == [index[row, p]]
            assert param.weights[index[row, p]] > 0  # never an unused code
            value = params[param.name]
            _check_value(branch[param.name], value, param, index[row, p], offset[row, p])
    if all(isinstance(spec, list) for b in branches for spec in b.values()):
        # shared parameters are counted once per branch
        assert encoded.size() == sum(math.prod(len(v) for v in b.values()) for b in branches)
    elif not encoded.is_finite():
        assert encoded.size() == math.inf


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=_any_space, seed=st.integers(0, 2**16), n_alternatives=st.integers(1, 4))
def test_restricted_sampling_respects_every_alternative(space, seed, n_alternatives):
    encoded = SearchSpace.from_param_space(space)
    if encoded.n_bits == 0:
        return
    rng = np.random.RandomState(seed)
    # Alternatives taken from real candidates are feasible by construction.
    reference, _ = encoded.sample(n_alternatives, rng)
    ref_bits = encoded.encode(reference)
    n_fixed = rng.randint(1, encoded.n_bits + 1)
    fixed = np.sort(rng.choice(encoded.n_bits, size=n_fixed, replace=False))
    signs = np.unique(ref_bits[:, fixed], axis=0)
    restriction = Restriction.from_signs(encoded, fixed, signs)
    assert restriction.n_alternatives == len(signs)
    index, offset, alternative = restriction.sample(encoded, 60, rng)
    bits = encoded.encode(index)
    assert_array_equal(bits[:, fixed], signs[alternative])
    assert_array_equal(restriction.match(bits), alternative)  # rows are distinct
    for row in range(60):
        allowed = restriction.allowed[alternative[row]]
        for p in range(encoded.n_params):
            assert allowed[p][index[row, p]]
        params = encoded.decode(index[row], offset[row])
        assert set(params) == set(_branches_of(space)[encoded.branch_of(index[row])])


_RECORDED = []
_UNSET = "<unset>"


class _Recorder(RegressorMixin, BaseEstimator):
    """Records the parameters it is fitted with; scores a hash of them."""

    NAMES = ("a", "b", "c", "d", "e", "f")

    def __init__(self, n_steps=9, **params):
        self.n_steps = n_steps
        for name in self.NAMES:
            setattr(self, name, params.get(name, _UNSET))

    def get_params(self, deep=True):
        return {"n_steps": self.n_steps, **{n: getattr(self, n) for n in self.NAMES}}

    def set_params(self, **params):
        for name, value in params.items():
            if name not in self.get_params():
                raise ValueError(f"Invalid parameter {name!r}")
            setattr(self, name, value)
        return self

    def fit(self, X, y=None):
        _RECORDED.append(self.get_params())
        self.n_rows_ = len(X)
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X, y=None):
        key = repr(sorted((k, repr(v)) for k, v in self.get_params().items() if k != "n_steps"))
        return zlib.crc32(key.encode()) / 2**32 + 0.01 * self.n_steps


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    space=_search_space,
    seed=st.integers(0, 1000),
    resource=st.sampled_from(["n_samples", "n_steps"]),
    final_stage=st.sampled_from(["halving", "random"]),
)
# Branches sharing a name, one with a distribution, one with a list of
# values that a distribution could not give (found by hypothesis).
@example(
    space=[{"a": [0.0]}, {"b": expon(scale=1.0)}, {"b": [None, "y", 648]}],
    seed=0,
    resource="n_samples",
    final_stage="halving",
)
def test_estimator_only_ever_gets_declared_values(space, seed, resource, final_stage):
    _RECORDED.clear()
    data = np.arange(40, dtype=float).reshape(-1, 1)
    search = HarmonicaSearchCV(
        _Recorder(), space, n_iter=16, n_stages=1, stage_size=10, cv=2, random_state=seed,
        resource=resource, final_stage=final_stage, error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search.fit(data, np.zeros(40))
    branches = _branches_of(space)
    assert _RECORDED
    evaluated = [dict(p) for p in search.cv_results_["params"]]
    for record in _RECORDED:
        handed = {k: v for k, v in record.items() if k != "n_steps" and v is not _UNSET}
        # one whole branch, nothing of the others (branches may share names:
        # one of those with these names must allow every value)
        assert any(
            set(handed) == set(b) and all(_allowed(b[k], v) for k, v in handed.items())
            for b in branches
        ), (handed, branches)
        if resource == "n_steps":
            assert record["n_steps"] in set(search.cv_results_["n_resources"].tolist())
            assert 1 <= record["n_steps"] <= 9
        else:
            assert record["n_steps"] == 9
    # Every evaluated candidate was fitted (n_splits times), the best one
    # once more by the refit.
    searched = {k for b in branches for k in b}
    fitted = [
        {k: v for k, v in r.items() if k in searched and v is not _UNSET} for r in _RECORDED
    ]
    for candidate in evaluated:
        candidate.pop("n_steps", None)
        assert sum(_same_params(candidate, f) for f in fitted) >= search.n_splits_
    assert len(_RECORDED) == search.n_splits_ * len(evaluated) + 1


def _allowed(spec, value):
    """Whether ``value`` is one ``spec`` may give."""
    if isinstance(spec, list):
        return any(_same_value(value, v) for v in spec)
    if not _is_number(value):  # another branch's value of the same name, e.g. ''
        return False
    if isinstance(spec, _RvsOnly):
        return 0 <= value <= spec.scale
    low, high = spec.support()
    return bool(low <= value <= high)


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _same_params(a, b):
    return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)


# ======================================================= halving schedule
def _halving_schedule_by_counting(budget, min_resources, max_resources, factor, max_candidates=None):
    """The schedule as it was computed before (counting the first rung up
    from 1): the reference for the O(log) search."""
    from harmonica_sklearn._halving import _rung_sizes, rung_resources, schedule_cost

    resources = rung_resources(min_resources, max_resources, factor)
    while True:
        n_first = 1
        while True:
            sizes = _rung_sizes(n_first + 1, len(resources), factor)
            if schedule_cost(sizes, resources, max_resources) > budget:
                break
            if max_candidates is not None and n_first + 1 > max_candidates:
                break
            n_first += 1
        sizes = _rung_sizes(n_first, len(resources), factor)
        if len(resources) == 1 or sizes[0] >= factor:
            return sizes, resources
        resources = resources[1:]


@pytest.mark.parametrize("factor", [1.2, 1.5, 2, 3, 4.5])
@pytest.mark.parametrize("min_resources, max_resources", [(1, 1), (1, 60), (7, 60), (3, 1000), (50, 60)])
def test_halving_schedule_equals_counting_over_a_grid(factor, min_resources, max_resources):
    from harmonica_sklearn._halving import halving_schedule

    budgets = [0, 0.3, 1, 1.5, 2, 3, 7, 10, 12.5, 30, 99, 100, 257, 1000]
    for budget in budgets:
        for max_candidates in (None, 1, 5, 64):
            schedule = halving_schedule(budget, min_resources, max_resources, factor, max_candidates)
            expected = _halving_schedule_by_counting(
                budget, min_resources, max_resources, factor, max_candidates
            )
            assert (schedule.n_candidates, schedule.resources) == expected, (budget, max_candidates)


def test_halving_schedule_of_a_huge_budget_is_computed_at_once():
    # n_iter=10**9 took about 40 minutes (the first rung counted up one by one).
    from harmonica_sklearn._halving import halving_schedule

    with _hang_guard(30):
        schedule = halving_schedule(10**9, 1, 1000, 3)
    assert schedule.resources[-1] == 1000 and schedule.n_candidates[-1] >= 1
    cost = sum(n * r / 1000 for n, r in zip(schedule.n_candidates, schedule.resources))
    assert cost <= 10**9
    bigger = [schedule.n_candidates[0] + 1]
    for _ in schedule.resources[1:]:
        bigger.append(max(1, math.ceil(bigger[-1] / 3)))
    assert sum(n * r / 1000 for n, r in zip(bigger, schedule.resources)) > 10**9


# ============================================================ restriction
def test_refine_on_a_list_of_32768_values_stays_small():
    # The dense (settings x codes x bits) comparison allocated 14 GiB here.
    from harmonica_sklearn._restriction import refine
    from harmonica_sklearn._spectral import SparsePolynomial

    space = SearchSpace.from_param_space({"a": list(range(32768)), "b": ["x", "y"]})
    free = np.arange(space.n_bits)
    poly = SparsePolynomial(0.0, [(i,) for i in free], np.linspace(1, 2, space.n_bits))
    tracemalloc.start()
    try:
        with _hang_guard():
            new, _ = refine(Restriction.unrestricted(space), space, poly, free, np.zeros(1), 4)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20
    assert new.n_alternatives == 4


@pytest.mark.parametrize("seed", range(5))
def test_feasible_settings_equal_the_dense_comparison(seed):
    from harmonica_sklearn._restriction import _feasible_settings
    from harmonica_sklearn._spectral import enumerate_settings

    rng = np.random.RandomState(seed)
    space = SearchSpace.from_param_space(
        {"a": list(range(5)), "b": ["x", "y", "z"], "c": list(range(11))}
    )
    fixed_bits = np.asarray([0], dtype=np.intp)
    fixed_signs = np.asarray([1], dtype=np.int8)
    positions = np.sort(rng.choice(np.arange(1, space.n_bits), size=5, replace=False))
    settings = enumerate_settings(len(positions))
    got = _feasible_settings(space, fixed_bits, fixed_signs, positions, settings)
    owner = space.bit_owner()
    allowed = space.allowed_values({0: 1})
    expected = np.ones(len(settings), bool)
    for p in np.unique(owner[positions]):
        columns = np.flatnonzero(owner[positions] == p)
        param = space.params[p]
        patterns = param.codes[allowed[p]][:, positions[columns] - param.bit_offset]
        chosen = settings[:, columns]
        expected &= np.any(np.all(chosen[:, None, :] == patterns[None], axis=2), axis=1)
    assert_array_equal(got, expected)


# ================================================= memory of the spectral fit
def test_spectral_fit_peak_memory_stays_under_the_cap():
    # 50 parameters of 10 values (4 bits each) at degree 2 peaked at 1.34 GB
    # while the docs capped the feature matrix at 512 MiB: the cap now holds
    # for the fit's whole peak, at the largest sample count it allows.
    from harmonica_sklearn._spectral import (
        FEATURE_MEMORY_LIMIT, fit_sparse_polynomial, n_parity_features,
        spectral_fit_memory, supported_degree,
    )

    groups = np.repeat(np.arange(50), 4)
    n_features = n_parity_features(groups, 2)
    n = 1
    while spectral_fit_memory(n + 1, n_features, 2, 5) <= FEATURE_MEMORY_LIMIT:
        n += 1
    assert supported_degree(groups, n, 2, 5) == 2
    assert supported_degree(groups, n + 1, 2, 5) == 1
    rng = np.random.RandomState(0)
    bits = np.where(rng.rand(n, 200) < 0.5, 1, -1).astype(np.int8)
    y = bits[:, 0] + bits[:, 5] * bits[:, 9] + 0.1 * rng.randn(n)
    tracemalloc.start()
    try:
        poly = fit_sparse_polynomial(bits, y, degree=2, n_terms=5, groups=groups)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= FEATURE_MEMORY_LIMIT
    assert (0,) in poly.subsets and (5, 9) in poly.subsets


def test_an_enormous_n_iter_is_refused_by_name_before_any_fit():
    # n_iter=10**9 once allocated 4.5 GiB for its first stage; a fit holds at
    # most 100,000 full evaluations (warm_start continues a longer search).
    search = _search(CONTINUOUS, n_iter=10**9)
    with pytest.raises(ValueError, match=r"'n_iter' parameter .* range \[1, 100000\]"):
        search.fit(X, Y)


def test_the_largest_n_iter_plans_stages_of_bounded_size():
    from harmonica_sklearn._decisions import MAX_AUTO_STAGE_SIZE, MAX_N_ITER, stage_plan

    n_stages, stage_size = stage_plan(MAX_N_ITER, 1 / 3)
    assert n_stages == 3 and stage_size == MAX_AUTO_STAGE_SIZE


class _UndeclaredClassifier(BaseEstimator):
    """Predicts classes but does not say it is a classifier (no ClassifierMixin):
    fails, as many real ones do, on a training fold with a single class."""

    def __init__(self, c=1.0):
        self.c = c

    def fit(self, X, y):
        if len(np.unique(y)) < 3:
            raise ValueError("a training fold with fewer than 3 classes")
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y):
        return float(np.mean(self.predict(X) == y)) + 0.01 * self.c


def test_subsamples_keep_every_class_for_an_undeclared_classifier():
    # 3 classes, one of them 15 rows: a random ninth of a training fold
    # misses it one time in three; stratified subsamples never do.
    rng = np.random.RandomState(0)
    Xc = rng.rand(3000, 2)
    yc = rng.permutation(np.r_[np.zeros(1492), np.ones(1493), np.full(15, 2)].astype(int))
    search = HarmonicaSearchCV(
        _UndeclaredClassifier(), {"c": uniform(0, 1)}, n_iter=30, cv=3,
        random_state=0, min_train_rows=0, error_score="raise",
    ).fit(Xc, yc)
    assert min(search.cv_results_["n_resources"]) < 3000
