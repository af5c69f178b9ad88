"""Resume a search from its checkpoint after a crash or an interruption."""

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from scipy.stats import uniform

from harmonica_sklearn import HarmonicaSearchCV
from harmonica_sklearn._store import STORE_FILE
from planted import CountingRegressor, count_lines


def stored_rows(store):
    """Evaluations in a checkpoint directory (read with sqlite3 directly)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(store / STORE_FILE)) as connection:
        return connection.execute("SELECT count(*) FROM evaluations").fetchone()[0]

SPACE = {"a": uniform(-1, 2), "b": uniform(-1, 2), "c": ["x", "y", "z"]}
X = np.arange(60.0).reshape(-1, 1)
Y = np.zeros(60)


def make_search(**params):
    estimator_params = {k: params.pop(k) for k in ("log_path", "delay") if k in params}
    return HarmonicaSearchCV(
        CountingRegressor(**estimator_params),
        SPACE,
        n_iter=60,
        cv=3,
        random_state=0,
        refit=False,  # the final refit would add a fit to the counts
        **params,
    )


@pytest.fixture(scope="module")
def uninterrupted():
    return make_search().fit(X, Y)


def assert_same_search(a, b):
    assert a.cv_results_["params"] == b.cv_results_["params"]
    np.testing.assert_array_equal(a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"])
    assert a.best_params_ == b.best_params_
    assert a.best_score_ == b.best_score_


def test_second_fit_reads_every_evaluation_from_the_store(tmp_path, uninterrupted):
    log = tmp_path / "fits.log"
    first = make_search(checkpoint=tmp_path / "store", log_path=str(log)).fit(X, Y)
    n_fits = count_lines(log)
    assert n_fits == 3 * len(first.cv_results_["params"])
    second = make_search(checkpoint=tmp_path / "store", log_path=str(log)).fit(X, Y)
    assert count_lines(log) == n_fits  # nothing recomputed
    assert_same_search(second, first)
    # Fit times are the stored ones too.
    np.testing.assert_array_equal(first.cv_results_["mean_fit_time"], second.cv_results_["mean_fit_time"])
    assert_same_search(first, uninterrupted)
    assert stored_rows(tmp_path / "store") == n_fits


def test_resume_after_keyboard_interrupt(tmp_path, uninterrupted):
    log = tmp_path / "fits.log"
    (tmp_path / "fits.log.interrupt").write_text("100")
    with pytest.raises(KeyboardInterrupt):
        make_search(checkpoint=tmp_path / "store", log_path=str(log)).fit(X, Y)
    (tmp_path / "fits.log.interrupt").unlink()
    before = count_lines(log)
    resumed = make_search(checkpoint=tmp_path / "store", log_path=str(log)).fit(X, Y)
    total = 3 * len(resumed.cv_results_["params"])
    # 99 evaluations survived the interruption (the 100th raised).
    assert count_lines(log) - before == total - 99
    assert_same_search(resumed, uninterrupted)


KILLED_RUN = textwrap.dedent(
    """
    import sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from test_checkpoint import make_search, X, Y
    make_search(checkpoint={store!r}, log_path={log!r}, delay=0.02).fit(X, Y)
    """
)


def test_resume_after_sigkill_of_a_real_process(tmp_path, uninterrupted):
    store, log = tmp_path / "store", tmp_path / "fits.log"
    script = KILLED_RUN.format(
        tests=os.path.dirname(__file__), store=str(store), log=str(log)
    )
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 120
    while count_lines(log) < 90 and time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the search process ended early with code {process.returncode}")
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    stored = stored_rows(store)
    assert stored >= 80

    before = count_lines(log)
    resumed = make_search(checkpoint=store, log_path=str(log), delay=0.02).fit(X, Y)
    total = 3 * len(resumed.cv_results_["params"])
    executed = count_lines(log) - before
    assert executed <= total - stored  # the stored evaluations were not redone
    assert executed < total
    assert_same_search(resumed, uninterrupted)


def test_a_corrupt_entry_is_recomputed(tmp_path, uninterrupted):
    import sqlite3

    make_search(checkpoint=tmp_path / "store").fit(X, Y)
    with contextlib.closing(sqlite3.connect(tmp_path / "store" / STORE_FILE)) as db:
        db.execute("UPDATE evaluations SET record = 'garbage' WHERE rowid = 1")
        db.commit()
    assert_same_search(make_search(checkpoint=tmp_path / "store").fit(X, Y), uninterrupted)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"X": X + 1}, "not the same data as this fit"),
        ({"space": {**SPACE, "c": ["x", "y"]}}, "not the same param_space as this fit"),
        ({"sample_weight": np.linspace(1, 2, 60)}, "not the same fit params as this fit"),
        ({"cv": 4}, "not the same splits as this fit"),
        ({"estimator": CountingRegressor(delay=0.001)}, "not the same estimator as this fit"),
        ({"scoring": "neg_mean_squared_error"}, "not the same scoring as this fit"),
    ],
)
def test_a_store_of_another_search_is_refused(tmp_path, change, match):
    make_search(checkpoint=tmp_path / "store").fit(X, Y)
    search = HarmonicaSearchCV(
        change.get("estimator", CountingRegressor()),
        change.get("space", SPACE),
        n_iter=60,
        cv=change.get("cv", 3),
        scoring=change.get("scoring"),
        random_state=0,
        checkpoint=tmp_path / "store",
    )
    fit_params = {"sample_weight": change["sample_weight"]} if "sample_weight" in change else {}
    with pytest.raises(ValueError, match=match):
        search.fit(change.get("X", X), Y, **fit_params)


def test_checkpoint_parameter_is_validated():
    with pytest.raises(Exception, match="checkpoint"):
        make_search(checkpoint=3).fit(X, Y)


class _InspectsSklearn(CountingRegressor):
    """Records, at each fit, whether sklearn's evaluation function is the
    original one (a checkpoint must never patch it)."""

    seen = []

    def fit(self, X, y=None):
        from sklearn.model_selection import _search, _validation

        type(self).seen.append(_search._fit_and_score is _validation._fit_and_score)
        return super().fit(X, y)


def test_nothing_of_sklearn_is_patched_during_a_checkpointed_fit(tmp_path):
    _InspectsSklearn.seen = []
    HarmonicaSearchCV(
        _InspectsSklearn(), SPACE, n_iter=20, cv=3, random_state=0, refit=False,
        checkpoint=tmp_path / "store",
    ).fit(X, Y)
    assert _InspectsSklearn.seen and all(_InspectsSklearn.seen)


def test_a_nested_grid_search_is_not_intercepted(tmp_path):
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, cross_val_score

    rng = np.random.RandomState(0)
    Xr, yr = rng.randn(80, 3), rng.randn(80)
    inner = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0, 10.0]}, cv=3)
    expected = cross_val_score(inner, Xr, yr, cv=3)
    grids = [{"alpha": [0.1, 1.0, 10.0]}, {"alpha": [0.01, 100.0]}]
    outer = HarmonicaSearchCV(
        inner, {"param_grid": grids}, n_iter=5, cv=3, checkpoint=tmp_path / "store",
        random_state=0,
    ).fit(Xr, yr)
    row = outer.cv_results_["params"].index({"param_grid": {"alpha": [0.1, 1.0, 10.0]}})
    splits = [outer.cv_results_[f"split{k}_test_score"][row] for k in range(3)]
    np.testing.assert_allclose(splits, expected)


def test_a_search_in_another_thread_is_not_intercepted(tmp_path):
    import threading

    from sklearn.linear_model import Lasso
    from sklearn.model_selection import GridSearchCV

    rng = np.random.RandomState(1)
    Xl, yl = rng.randn(60, 3), rng.randn(60)
    alone = GridSearchCV(Lasso(), {"alpha": [0.01, 0.1, 1.0]}, cv=3).fit(Xl, yl)
    result = {}

    def other():
        result["search"] = GridSearchCV(Lasso(), {"alpha": [0.01, 0.1, 1.0]}, cv=3).fit(Xl, yl)

    thread = threading.Thread(target=other)
    thread.start()
    make_search(checkpoint=tmp_path / "store", delay=0.001).fit(X, Y)
    thread.join(timeout=120)
    np.testing.assert_array_equal(
        result["search"].cv_results_["mean_test_score"], alone.cv_results_["mean_test_score"]
    )


def test_checkpointed_searches_in_threads_nested_in_threads_do_not_deadlock(
    tmp_path, uninterrupted
):
    import joblib

    def fit(name):
        return make_search(checkpoint=tmp_path / name, n_jobs=2).fit(X, Y)

    with joblib.parallel_backend("threading", n_jobs=2):
        searches = joblib.Parallel(n_jobs=2, backend="threading")(
            joblib.delayed(fit)(name) for name in ("a", "b")
        )
    for search in searches:
        assert_same_search(search, uninterrupted)


def test_one_store_for_different_data_is_refused_inside_nested_cv(tmp_path):
    # cross_val_score fits the search on other rows per fold: one store for
    # both would mix evaluations, so the second fold is refused by name.
    from sklearn.model_selection import cross_val_score

    inner = make_search(checkpoint=tmp_path / "inner").set_params(refit=True)
    with pytest.raises(ValueError, match="not the same data as this fit"):
        cross_val_score(inner, X, Y, cv=2, error_score="raise")


@pytest.mark.parametrize(
    "location, match",
    [
        ("", "checkpoint"),
        ("a_file", "checkpoint"),
        ("missing_parent/store", "checkpoint"),
    ],
)
def test_bad_checkpoint_locations_are_refused_before_any_fit(tmp_path, location, match):
    (tmp_path / "a_file").write_text("not a directory")
    path = "" if location == "" else str(tmp_path / location)
    log = tmp_path / "fits.log"
    with pytest.raises(ValueError, match=match):
        make_search(checkpoint=path, log_path=str(log)).fit(X, Y)
    assert count_lines(log) == 0


def test_a_full_disk_warns_and_the_search_goes_on(tmp_path, uninterrupted, monkeypatch):
    import sqlite3

    from harmonica_sklearn import _store

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(_store.EvaluationStore, "_write", full)
    with pytest.warns(RuntimeWarning, match="disk is full"):
        search = make_search(checkpoint=tmp_path / "store").fit(X, Y)
    assert_same_search(search, uninterrupted)


def test_a_lambda_among_the_values_is_refused_with_its_name(tmp_path):
    space = {**SPACE, "c": ["x", lambda v: v]}
    with pytest.raises(ValueError, match="module level"):
        HarmonicaSearchCV(
            CountingRegressor(), space, n_iter=10, cv=3, checkpoint=tmp_path / "s"
        ).fit(X, Y)
