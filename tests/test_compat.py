"""One test per private name in harmonica_sklearn._compat.

Each pins the private scikit-learn (or joblib, skorch) name behind a wrapper:
it exists, is callable, has the parameters the library passes, and does what
the library relies on.  A release that moves one fails its own test.
"""

import inspect
import re
from numbers import Integral
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, _validation

from harmonica_sklearn import _compat

NEW_CALLBACKS = _compat.sklearn_version_at_least("1.9")


def _params(func):
    return set(inspect.signature(func).parameters)


@pytest.fixture
def data():
    return make_classification(n_samples=60, n_features=5, random_state=0)


# ------------------------------------------------------------- versions
def test_sklearn_version_at_least():
    from sklearn.utils.fixes import parse_version

    assert callable(parse_version)
    assert _compat.sklearn_version_at_least("1.6")
    assert not _compat.sklearn_version_at_least("99.0")
    assert _compat.SKLEARN_VERSION.base_version == str(_compat.SKLEARN_VERSION)


# --------------------------------------------------- parameter validation
def test_param_validation_interval_and_stroptions():
    from sklearn.utils import _param_validation

    assert _compat.Interval is _param_validation.Interval
    assert _compat.StrOptions is _param_validation.StrOptions
    assert {"type", "left", "right", "closed"} <= _params(_compat.Interval)
    interval = _compat.Interval(Integral, 1, None, closed="left")
    assert interval.is_satisfied_by(3) and not interval.is_satisfied_by(0)
    assert _compat.StrOptions({"auto"}).is_satisfied_by("auto")


def test_base_search_parameter_constraints():
    from sklearn.model_selection._search import BaseSearchCV

    assert _compat.BaseSearchCV is BaseSearchCV
    constraints = _compat.base_search_parameter_constraints()
    assert isinstance(constraints, dict)
    assert {
        "estimator", "scoring", "n_jobs", "refit", "cv", "verbose",
        "pre_dispatch", "error_score", "return_train_score",
    } <= set(constraints)
    constraints["extra"] = []  # a copy
    assert "extra" not in BaseSearchCV._parameter_constraints


def test_fit_context():
    from sklearn.base import _fit_context

    assert callable(_fit_context)
    assert "prefer_skip_nested_validation" in _params(_fit_context)

    class Est(DummyClassifier):
        @_compat.fit_context(prefer_skip_nested_validation=True)
        def fit(self, X, y):
            return super().fit(X, y)

    with pytest.raises(ValueError, match="strategy"):
        Est(strategy="nonsense").fit(np.zeros((4, 1)), [0, 1, 0, 1])


# ------------------------------------------------------ one fit, one split
def test_fit_and_score(data):
    X, y = data
    func = _validation._fit_and_score
    assert callable(func)
    needed = {
        "estimator", "X", "y", "scorer", "train", "test", "verbose", "parameters",
        "fit_params", "score_params", "return_train_score", "return_parameters",
        "return_n_test_samples", "return_times", "split_progress",
        "candidate_progress", "error_score",
    }
    assert needed <= _params(func)
    assert _compat.FIT_AND_SCORE_PARAMETERS == frozenset(_params(func))
    if NEW_CALLBACKS:
        assert {"caller", "callback_ctx"} <= _params(func)
    train, test = np.arange(40), np.arange(40, 60)
    result = _compat.fit_and_score(
        LogisticRegression(), X, y, scorer=_compat.get_scorers(
            GridSearchCV(LogisticRegression(), {"C": [1.0]})
        )[0],
        train=train, test=test, verbose=0, parameters={"C": 0.5}, fit_params={},
        score_params={}, return_train_score=True, return_parameters=False,
        return_n_test_samples=True, return_times=True, split_progress=(0, 1),
        candidate_progress=(0, 1), error_score=np.nan, caller=None, callback_ctx=None,
    )
    assert {"fit_error", "test_scores", "train_scores", "n_test_samples",
            "fit_time", "score_time"} <= set(result)
    assert result["fit_error"] is None and result["n_test_samples"] == 20
    expected = LogisticRegression(C=0.5).fit(X[train], y[train]).score(X[test], y[test])
    assert result["test_scores"] == pytest.approx(expected)


def test_warn_or_raise_about_fit_failures():
    func = _validation._warn_or_raise_about_fit_failures
    assert callable(func) and _params(func) == {"results", "error_score"}
    ok = {"fit_error": None, "test_scores": 1.0}
    bad = {"fit_error": "Traceback: boom", "test_scores": np.nan}
    _compat.warn_or_raise_about_fit_failures([ok, ok], np.nan)
    with pytest.warns(FitFailedWarning, match="1 fits failed out of a total of 2"):
        _compat.warn_or_raise_about_fit_failures([ok, bad], np.nan)
    with pytest.raises(ValueError, match="All the 2 fits failed"):
        _compat.warn_or_raise_about_fit_failures([bad, bad], np.nan)


def test_insert_error_scores():
    func = _validation._insert_error_scores
    assert callable(func) and _params(func) == {"results", "error_score"}
    results = [
        {"fit_error": "boom", "test_scores": -1.0, "train_scores": -1.0},
        {"fit_error": None, "test_scores": {"a": 0.5, "b": 0.7}, "train_scores": {"a": 1, "b": 1}},
    ]
    _compat.insert_error_scores(results, -1.0)
    assert results[0]["test_scores"] == {"a": -1.0, "b": -1.0}
    assert results[0]["train_scores"] == {"a": -1.0, "b": -1.0}
    scalars = [{"fit_error": "boom", "test_scores": -1.0}, {"fit_error": None, "test_scores": 0.5}]
    _compat.insert_error_scores(scalars, -1.0)
    assert scalars[0]["test_scores"] == -1.0


def test_check_method_params():
    from sklearn.utils import validation

    func = validation._check_method_params
    assert callable(func) and _params(func) == {"X", "params", "indices"}
    X = np.zeros((4, 2))
    checked = _compat.check_method_params(X, {"sample_weight": [1, 2, 3, 4], "other": "x"})
    assert list(checked["sample_weight"]) == [1, 2, 3, 4]
    assert checked["other"] == "x"
    subset = _compat.check_method_params(X, {"sample_weight": np.arange(4)}, indices=[1, 3])
    np.testing.assert_array_equal(subset["sample_weight"], [1, 3])


def test_num_samples():
    from sklearn.utils import validation

    func = validation._num_samples
    assert callable(func) and _params(func) == {"x"}
    assert _compat.num_samples(np.zeros((7, 2))) == 7
    assert _compat.num_samples([[1], [2]]) == 2
    assert _compat.num_samples(sp.csr_matrix((5, 3))) == 5


def test_safe_indexing():
    import pandas as pd
    from sklearn import utils

    func = utils._safe_indexing
    assert callable(func) and {"X", "indices"} <= _params(func)
    rows = [2, 0]
    np.testing.assert_array_equal(
        _compat.safe_indexing(np.arange(8).reshape(4, 2), rows), [[4, 5], [0, 1]]
    )
    frame = pd.DataFrame({"a": ["w", "x", "y", "z"]}, index=[10, 11, 12, 13])
    picked = _compat.safe_indexing(frame, rows)
    assert list(picked.index) == [12, 10] and list(picked["a"]) == ["y", "w"]
    assert _compat.safe_indexing(["w", "x", "y", "z"], rows) == ["y", "w"]
    assert _compat.safe_indexing(sp.csr_matrix(np.eye(4)), rows).toarray()[0, 2] == 1


# ------------------------------------------- BaseSearchCV on the search itself
def test_get_scorers():
    from sklearn.model_selection._search import BaseSearchCV

    assert _params(BaseSearchCV._get_scorers) == {"self"}
    scorers, refit_metric = _compat.get_scorers(
        GridSearchCV(LogisticRegression(), {"C": [1.0]}, scoring="accuracy")
    )
    assert callable(scorers) and refit_metric == "score"
    scorers, refit_metric = _compat.get_scorers(
        GridSearchCV(LogisticRegression(), {"C": [1.0]}, scoring=["accuracy", "f1"],
                     refit="f1")
    )
    assert _compat.is_multimetric_scorer(scorers) and refit_metric == "f1"


def test_routed_params_for_fit(data):
    from sklearn.model_selection._search import BaseSearchCV

    assert _params(BaseSearchCV._get_routed_params_for_fit) == {"self", "params"}
    _, y = data
    weights = np.ones(len(y))
    routed = _compat.routed_params_for_fit(
        GridSearchCV(LogisticRegression(), {"C": [1.0]}), {"sample_weight": weights}
    )
    assert routed.estimator.fit["sample_weight"] is weights
    assert isinstance(routed.scorer.score, dict)
    assert routed.splitter.split.get("groups") is None


def test_format_results(data):
    from sklearn.model_selection._search import BaseSearchCV

    assert _params(BaseSearchCV._format_results) == {
        "self", "candidate_params", "n_splits", "out", "more_results",
    }
    X, y = data
    splits = list(KFold(3).split(X))
    grid = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=splits).fit(X, y)
    scorer = _compat.get_scorers(grid)[0]
    candidates = [{"C": 0.1}, {"C": 1.0}]
    out = [
        _compat.fit_and_score(
            LogisticRegression(), X, y, scorer=scorer, train=train, test=test, verbose=0,
            parameters=c, fit_params={}, score_params={}, return_n_test_samples=True,
            return_times=True, error_score=np.nan,
        )
        for c in candidates
        for train, test in splits
    ]
    results = _compat.format_results(grid, candidates, 3, out, {"tag": ["a", "b"]})
    np.testing.assert_allclose(results["mean_test_score"], grid.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(results["rank_test_score"], grid.cv_results_["rank_test_score"])
    assert list(results["tag"]) == ["a", "b"]
    assert results["params"] == candidates


def test_check_refit_for_multimetric():
    from sklearn.model_selection._search import BaseSearchCV

    assert _params(BaseSearchCV._check_refit_for_multimetric) == {"self", "scores"}
    search = GridSearchCV(LogisticRegression(), {"C": [1.0]}, refit="b")
    _compat.check_refit_for_multimetric(search, {"a": 1.0, "b": 2.0})
    with pytest.raises(ValueError, match="refit"):
        _compat.check_refit_for_multimetric(search, {"a": 1.0})


def test_multimetric_scorer():
    from sklearn.metrics._scorer import _MultimetricScorer

    scorers, _ = _compat.get_scorers(
        GridSearchCV(LogisticRegression(), {"C": [1.0]}, scoring={"acc": "accuracy"},
                     refit="acc")
    )
    assert isinstance(scorers, _MultimetricScorer)
    assert _compat.is_multimetric_scorer(scorers)
    inner = _compat.multimetric_scorers(scorers)
    assert isinstance(inner, dict) and set(inner) == {"acc"}
    single, _ = _compat.get_scorers(GridSearchCV(LogisticRegression(), {"C": [1.0]}))
    assert not _compat.is_multimetric_scorer(single)
    assert _compat.multimetric_scorers(single) is single


# ------------------------------------------------ callbacks (scikit-learn 1.9)
@pytest.mark.skipif(NEW_CALLBACKS, reason="scikit-learn >= 1.9 has callbacks")
def test_init_callback_context_before_1_9():
    search = GridSearchCV(LogisticRegression(), {"C": [1.0]})
    assert not hasattr(search, "_init_callback_context")
    assert _compat.init_callback_context(search, max_subtasks=2) is None
    with _compat.callback_management(search):
        pass


@pytest.mark.skipif(not NEW_CALLBACKS, reason="callbacks are new in scikit-learn 1.9")
def test_init_callback_context():
    from sklearn.callback import CallbackContext
    from sklearn.callback._callback_support import callback_management_context

    assert callable(callback_management_context)
    search = GridSearchCV(LogisticRegression(), {"C": [1.0]})
    assert {"max_subtasks"} <= _params(search._init_callback_context)
    assert {"task_name", "task_id", "max_subtasks", "sequential_subtasks"} <= _params(
        CallbackContext.subcontext
    )
    with _compat.callback_management(search):
        ctx = _compat.init_callback_context(search, max_subtasks=2)
        assert isinstance(ctx, CallbackContext)
        batch = ctx.subcontext(task_name="batch", max_subtasks=4, sequential_subtasks=False)
        pair = batch.subcontext(task_name="candidate-split-evaluation", task_id=3)
        assert pair.task_id == 3
        assert hasattr(pair, "propagate_callback_context")
        assert hasattr(search, "_callback_fit_ctx")
    assert not hasattr(search, "_callback_fit_ctx")  # torn down


# ------------------------------------------------------------ lost workers
def _error(module, name, base=Exception):
    return type(name, (base,), {"__module__": module})


@pytest.mark.parametrize(
    "module, name",
    [
        ("distributed.scheduler", "KilledWorker"),
        ("distributed.client", "FutureCancelledError"),
        ("distributed.client", "FuturesCancelledError"),
        ("ray.exceptions", "RayActorError"),
        ("ray.exceptions", "WorkerCrashedError"),
        ("ray.exceptions", "NodeDiedError"),
        ("ray.exceptions", "ObjectLostError"),
        ("joblib.externals.loky.process_executor", "TerminatedWorkerError"),
    ],
)
def test_lost_worker_by_module_and_name(module, name):
    error = _error(module, name)
    assert _compat.lost_worker(error("gone"))
    # A subclass, and an exception raised from one.
    assert _compat.lost_worker(_error("mine", "Sub", error)("gone"))
    wrapper = RuntimeError("wrapped")
    wrapper.__cause__ = error("gone")
    assert _compat.lost_worker(wrapper)


def test_lost_worker_rejects_others():
    assert not _compat.lost_worker(ValueError("x"))
    assert not _compat.lost_worker(_error("mypackage", "KilledWorker")("x"))
    assert not _compat.lost_worker(_error("ray.exceptions", "OutOfMemoryError")("x"))
    assert not _compat.lost_worker(None)
    loop = RuntimeError("a")
    loop.__cause__ = loop
    assert not _compat.lost_worker(loop)


def test_lost_worker_real_joblib_class():
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    assert _compat.lost_worker(TerminatedWorkerError("killed"))


def test_lost_worker_real_distributed_classes():
    distributed = pytest.importorskip("distributed")
    assert _compat.lost_worker(distributed.scheduler.KilledWorker("key", None, 3))
    assert _compat.lost_worker(distributed.client.FutureCancelledError("key", "reason"))


# ------------------------------------------------------------------ skorch
def test_skorch_overridden_private_methods():
    skorch = pytest.importorskip("skorch")
    for name in _compat.SKORCH_OVERRIDDEN_PRIVATE_METHODS:
        method = getattr(skorch.NeuralNet, name)
        assert callable(method)
        assert "reason" in _params(method)


# --------------------------------------------------------------- the rule
_PRIVATE_IMPORT = re.compile(
    r"^\s*(from\s+(sklearn|joblib|skorch)\S*\._\w+\s+import"  # from a private module
    r"|from\s+(sklearn|joblib|skorch)\S*\s+import\s+.*\b_[a-zA-Z]\w*)",  # a private name
    re.MULTILINE,
)


def test_only_compat_imports_private_names():
    package = Path(_compat.__file__).parent
    offenders = [
        f"{path.name}: {match.group(0).strip()}"
        for path in sorted(package.glob("*.py"))
        if path.name != "_compat.py"
        for match in _PRIVATE_IMPORT.finditer(path.read_text())
    ]
    assert offenders == []
