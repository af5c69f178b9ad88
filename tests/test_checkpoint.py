"""Resume a search from its checkpoint after a crash or an interruption."""

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
from planted import CountingRegressor, count_lines

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
    assert not list((tmp_path / "store").glob(".*.tmp"))


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
    stored = len(list(store.glob("*.pkl")))
    assert stored >= 80

    before = count_lines(log)
    resumed = make_search(checkpoint=store, log_path=str(log), delay=0.02).fit(X, Y)
    total = 3 * len(resumed.cv_results_["params"])
    executed = count_lines(log) - before
    assert executed <= total - stored  # the stored evaluations were not redone
    assert executed < total
    assert_same_search(resumed, uninterrupted)


def test_a_corrupt_entry_is_recomputed(tmp_path, uninterrupted):
    make_search(checkpoint=tmp_path / "store").fit(X, Y)
    entry = sorted((tmp_path / "store").glob("*.pkl"))[0]
    entry.write_bytes(b"\x80truncated")
    assert_same_search(make_search(checkpoint=tmp_path / "store").fit(X, Y), uninterrupted)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"X": X + 1}, "its data differ"),
        ({"space": {**SPACE, "c": ["x", "y"]}}, "its param_space differ"),
        ({"cv": 4}, "its cv differ"),
        ({"estimator": CountingRegressor(delay=0.001)}, "its estimator differ"),
        ({"scoring": "neg_mean_squared_error"}, "its scoring differ"),
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
    with pytest.raises(ValueError, match=match):
        search.fit(change.get("X", X), Y)


def test_checkpoint_parameter_is_validated():
    with pytest.raises(Exception, match="checkpoint"):
        make_search(checkpoint=3).fit(X, Y)


def test_sklearn_hook_is_restored_after_fit(tmp_path):
    from sklearn.model_selection import _search, _validation

    make_search(checkpoint=tmp_path / "store").fit(X, Y)
    assert _search._fit_and_score is _validation._fit_and_score
