"""CandidateEvaluator: the fits of BaseSearchCV, streamed to the driver."""

import os
import re
import warnings

import joblib
import numpy as np
import pytest
from planted import CountingRegressor, count_lines
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from harmonica_sklearn import _compat
from harmonica_sklearn._evaluation import MAX_LOST_WORKER_RETRIES, CandidateEvaluator

TIMES = ("fit_time", "score_time")


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=200, n_features=8, random_state=0)


@pytest.fixture(scope="module")
def splits(data):
    X, y = data
    return list(KFold(3, shuffle=True, random_state=0).split(X, y))


def evaluator(estimator, X, y, *, scoring=None, refit=True, error_score=np.nan,
              n_jobs=1, return_train_score=False, caller=None, pre_dispatch="2*n_jobs"):
    search = GridSearchCV(estimator, {}, scoring=scoring, refit=refit, error_score=error_score)
    scorers, _ = _compat.get_scorers(search)
    return CandidateEvaluator(
        estimator, X, y, scorers=scorers, fit_params={}, score_params={},
        return_train_score=return_train_score, error_score=error_score, verbose=0,
        n_jobs=n_jobs, pre_dispatch=pre_dispatch, caller=caller,
    )


def without_times(out):
    """``out`` with the times dropped and scores made comparable (NaN == NaN)."""

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, float) and np.isnan(value):
            return "nan"
        return value

    return [
        [{k: clean(v) for k, v in result.items() if k not in TIMES} for result in row]
        for row in out
    ]


def flat(out):
    return [result for row in out for result in row]


LOGREG_CANDIDATES = [{"C": 0.01}, {"C": 0.1}, {"C": 1.0}, {"C": 10.0}]


# --------------------------------------------------- the same as sklearn's
def test_matches_grid_search(data, splits):
    X, y = data
    grid = GridSearchCV(
        LogisticRegression(), {"C": [c["C"] for c in LOGREG_CANDIDATES]}, cv=splits,
        return_train_score=True,
    ).fit(X, y)
    with evaluator(LogisticRegression(), X, y, return_train_score=True) as ev:
        out = ev.evaluate(LOGREG_CANDIDATES, splits)
    assert len(out) == 4 and all(len(row) == 3 for row in out)
    assert set(out[0][0]) == {
        "fit_error", "test_scores", "train_scores", "n_test_samples", *TIMES,
    }
    results = _compat.format_results(grid, LOGREG_CANDIDATES, 3, flat(out))
    for key in grid.cv_results_:
        if "time" in key:
            continue
        if key == "params":
            assert results[key] == grid.cv_results_[key]
        else:
            np.testing.assert_array_equal(
                np.asarray(results[key]), np.asarray(grid.cv_results_[key]), err_msg=key
            )


def test_matches_cross_validate_multimetric(data, splits):
    X, y = data
    scoring = ["accuracy", "f1"]
    candidates = [{"strategy": "most_frequent"}, {"strategy": "stratified", "random_state": 0}]
    out = evaluator(DummyClassifier(), X, y, scoring=scoring, refit="f1").evaluate(
        candidates, splits
    )
    for i, params in enumerate(candidates):
        expected = cross_validate(DummyClassifier(**params), X, y, cv=splits, scoring=scoring)
        for s in range(len(splits)):
            assert out[i][s]["test_scores"] == {
                "accuracy": expected["test_accuracy"][s],
                "f1": expected["test_f1"][s],
            }
            assert out[i][s]["n_test_samples"] == len(splits[s][1])


def test_no_fits_and_bad_known(data, splits):
    X, y = data
    ev = evaluator(DummyClassifier(), X, y)
    with pytest.raises(ValueError, match="No fits were performed"):
        ev.evaluate([], splits)
    with pytest.raises(ValueError, match="No fits were performed"):
        ev.evaluate([{}], [])
    with pytest.raises(ValueError, match=r"known holds the pair \(1, 0\)"):
        ev.evaluate([{}], splits, known={(1, 0): {}})


# ---------------------------------------------- streaming and known pairs
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_on_result_once_per_pair_and_known_pairs_not_refitted(tmp_path, n_jobs):
    log = str(tmp_path / "fits.log")
    X, y = np.zeros((30, 1)), np.zeros(30)
    splits = list(KFold(3).split(X))
    candidates = [{"a": a, "b": b} for a in (0.0, 0.5) for b in (-0.5, 0.5)]
    seen = []
    with evaluator(CountingRegressor(log_path=log), X, y, n_jobs=n_jobs) as ev:
        full = ev.evaluate(candidates, splits, on_result=lambda i, s, r: seen.append((i, s, r)))
        n_pairs = len(candidates) * len(splits)
        assert count_lines(log) == n_pairs
        assert sorted((i, s) for i, s, _ in seen) == sorted(
            (i, s) for i in range(4) for s in range(3)
        )
        for i, s, result in seen:  # the very dicts returned
            assert result is full[i][s]

        known = {(i, s): full[i][s] for i in range(4) for s in range(3) if (i + s) % 2 == 0}
        seen.clear()
        again = ev.evaluate(candidates, splits, known=known,
                            on_result=lambda i, s, r: seen.append((i, s)))
    assert count_lines(log) == n_pairs + (n_pairs - len(known))
    assert sorted(seen) == sorted(set(np.ndindex(4, 3)) - set(known))
    assert without_times(again) == without_times(full)
    # The known dicts are copied, not changed in place.
    assert all(again[i][s] is not known[(i, s)] for i, s in known)


def test_everything_known_runs_nothing(tmp_path):
    log = str(tmp_path / "fits.log")
    X, y = np.zeros((30, 1)), np.zeros(30)
    splits = list(KFold(3).split(X))
    ev = evaluator(CountingRegressor(log_path=log), X, y)
    full = ev.evaluate([{"a": 0.1}], splits)
    calls = []
    again = ev.evaluate([{"a": 0.1}], splits, known={(0, s): full[0][s] for s in range(3)},
                        on_result=lambda *args: calls.append(args))
    assert count_lines(log) == 3 and calls == []
    assert without_times(again) == without_times(full)


# --------------------------------------------------------- backends agree
def _reference_and_candidates(data, splits):
    X, y = data
    candidates = LOGREG_CANDIDATES + [{"C": -1.0}]  # the last one fails to fit
    with pytest.warns(FitFailedWarning):
        reference = evaluator(LogisticRegression(), X, y, return_train_score=True).evaluate(
            candidates, splits
        )
    return candidates, without_times(reference)


@pytest.mark.parametrize("backend, n_jobs", [("loky", 2), ("threading", 2), ("loky", 1)])
def test_same_out_across_backends(data, splits, backend, n_jobs):
    X, y = data
    candidates, reference = _reference_and_candidates(data, splits)
    with joblib.parallel_config(backend=backend):
        with evaluator(LogisticRegression(), X, y, n_jobs=n_jobs,
                       return_train_score=True) as ev:
            for _ in range(2):  # one Parallel serves several calls
                with pytest.warns(FitFailedWarning):
                    out = ev.evaluate(candidates, splits)
                assert without_times(out) == reference


def test_same_out_with_a_backend_that_cannot_stream(data, splits):
    X, y = data
    candidates, reference = _reference_and_candidates(data, splits)
    seen = []
    with joblib.parallel_config(backend="multiprocessing", n_jobs=2):
        with pytest.warns(FitFailedWarning):
            out = evaluator(LogisticRegression(), X, y, n_jobs=2, return_train_score=True
                            ).evaluate(candidates, splits,
                                       on_result=lambda i, s, r: seen.append((i, s)))
    assert without_times(out) == reference
    assert sorted(seen) == sorted(np.ndindex(5, 3))


def test_same_out_on_dask(data, splits):
    distributed = pytest.importorskip("distributed")
    X, y = data
    candidates, reference = _reference_and_candidates(data, splits)
    # In-process workers (inproc:// addresses): no host to bind, quick start.
    with distributed.LocalCluster(
        dashboard_address=None, n_workers=2, threads_per_worker=1, processes=False
    ) as cluster, distributed.Client(cluster):
        with joblib.parallel_config(backend="dask"):
            with evaluator(LogisticRegression(), X, y, n_jobs=-1,
                           return_train_score=True) as ev:
                seen = []
                with pytest.warns(FitFailedWarning):
                    out = ev.evaluate(candidates, splits,
                                      on_result=lambda i, s, r: seen.append((i, s)))
    assert without_times(out) == reference
    assert sorted(seen) == sorted(np.ndindex(5, 3))


# ------------------------------------------------------------ error_score
def test_error_score_numeric_matches_grid_search(data, splits):
    X, y = data
    candidates = [{"C": 1.0}, {"C": -1.0}]
    with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6"):
        grid = GridSearchCV(LogisticRegression(), {"C": [1.0, -1.0]}, cv=splits,
                            error_score=-7.0).fit(X, y)
    with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6"):
        out = evaluator(LogisticRegression(), X, y, error_score=-7.0).evaluate(
            candidates, splits
        )
    assert [r["test_scores"] for r in out[1]] == [-7.0] * 3
    assert all(r["fit_error"] for r in out[1])
    results = _compat.format_results(grid, candidates, 3, flat(out))
    np.testing.assert_array_equal(results["mean_test_score"], grid.cv_results_["mean_test_score"])


def test_all_fits_failed_raises(data, splits):
    X, y = data
    with pytest.raises(ValueError, match="All the 3 fits failed"):
        evaluator(LogisticRegression(), X, y).evaluate([{"C": -1.0}], splits)


def test_fit_failures_counted_over_the_whole_batch_known_included(data, splits):
    X, y = data
    ev = evaluator(LogisticRegression(), X, y)
    good = ev.evaluate([{"C": 1.0}], splits)
    # Every fit that runs fails, but the batch holds known successes: a
    # warning about 3 of 6, as the uninterrupted batch would give.
    with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6"):
        ev.evaluate([{"C": 1.0}, {"C": -1.0}], splits,
                    known={(0, s): good[0][s] for s in range(3)})


def test_error_score_raise_propagates_the_fit_error(data, splits):
    X, y = data
    for n_jobs in (1, 2):
        with evaluator(LogisticRegression(), X, y, error_score="raise", n_jobs=n_jobs) as ev:
            with pytest.raises(ValueError, match="C"):
                ev.evaluate([{"C": 1.0}, {"C": -1.0}], splits)
            # The evaluator still works after an aborted call.
            out = ev.evaluate([{"C": 1.0}], splits)
        assert all(r["fit_error"] is None for r in out[0])


def _dict_scorer(estimator, X, y):
    return {"acc": estimator.score(X, y), "half": 0.5}


def test_callable_dict_scoring_gets_error_scores_inserted(data, splits):
    X, y = data
    candidates = [{"C": 1.0}, {"C": -1.0}]
    with pytest.warns(FitFailedWarning):
        grid = GridSearchCV(LogisticRegression(), {"C": [1.0, -1.0]}, cv=splits,
                            scoring=_dict_scorer, refit=False, error_score=-1.0).fit(X, y)
    with pytest.warns(FitFailedWarning):
        out = evaluator(LogisticRegression(), X, y, scoring=_dict_scorer, refit=False,
                        error_score=-1.0).evaluate(candidates, splits)
    assert out[1][0]["test_scores"] == {"acc": -1.0, "half": -1.0}
    results = _compat.format_results(grid, candidates, 3, flat(out))
    for key in ("mean_test_acc", "mean_test_half", "split2_test_acc"):
        np.testing.assert_array_equal(results[key], grid.cv_results_[key])


# ------------------------------------------------------------ lost workers
def _lost(module="distributed.scheduler", name="KilledWorker"):
    return type(name, (Exception,), {"__module__": module})


def _losing_fit_and_score(monkeypatch, lose_at, error):
    """Make the fit number ``lose_at`` (0-based, then the following ones in
    ``lose_at``) raise ``error`` instead of running, in this process."""
    real = _compat.fit_and_score
    calls = []
    lose_at = list(lose_at)

    def fit_and_score(estimator, X, y, **kwargs):
        calls.append(1)
        if lose_at and len(calls) - 1 == lose_at[0]:
            lose_at.pop(0)
            raise error("worker tcp://127.0.0.1:1234 died")
        return real(estimator, X, y, **kwargs)

    monkeypatch.setattr(_compat, "fit_and_score", fit_and_score)


def test_lost_worker_reruns_only_the_missing_pairs(tmp_path, monkeypatch):
    log = str(tmp_path / "fits.log")
    X, y = np.zeros((30, 1)), np.zeros(30)
    splits = list(KFold(3).split(X))
    candidates = [{"a": a} for a in (0.0, 0.2, 0.4, 0.6)]
    reference = without_times(evaluator(CountingRegressor(), X, y).evaluate(candidates, splits))
    # Sequential: fits 0..4 come back, the 6th (index 5) is lost with its
    # worker, and the 6 after it never ran.
    _losing_fit_and_score(monkeypatch, [5], _lost())
    seen = []
    with evaluator(CountingRegressor(log_path=log), X, y) as ev:
        with pytest.warns(RuntimeWarning) as record:
            out = ev.evaluate(candidates, splits, on_result=lambda i, s, r: seen.append((i, s)))
        assert len(record) == 1
        assert re.search(
            r"worker was lost \(KilledWorker: worker tcp://127.0.0.1:1234 died\); "
            r"running again the 7 of 12 fits .*retry 1 of 2", str(record[0].message)
        )
        assert without_times(out) == reference
        assert count_lines(log) == 12  # each pair fitted once
        assert sorted(seen) == sorted(np.ndindex(4, 3))
        # The same evaluator goes on (a new Parallel after the aborted call).
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert without_times(ev.evaluate(candidates, splits)) == reference
    assert count_lines(log) == 24


def test_lost_worker_on_a_retry_reruns_what_is_still_missing(monkeypatch):
    X, y = np.zeros((30, 1)), np.zeros(30)
    splits = list(KFold(3).split(X))
    candidates = [{"a": a} for a in (0.0, 0.2, 0.4)]
    reference = without_times(evaluator(CountingRegressor(), X, y).evaluate(candidates, splits))
    # Call 2 is lost (7 of 9 missing), then call 5, the 3rd of the retry
    # (5 of 7 missing); the second retry runs those 5.
    _losing_fit_and_score(monkeypatch, [2, 5], _lost("ray.exceptions", "NodeDiedError"))
    with pytest.warns(RuntimeWarning) as record:
        out = evaluator(CountingRegressor(), X, y).evaluate(candidates, splits)
    messages = [str(w.message) for w in record]
    assert "NodeDiedError" in messages[0] and "the 7 of 9 fits" in messages[0]
    assert "the 5 of 7 fits" in messages[1] and "retry 2 of 2" in messages[1]
    assert without_times(out) == reference


def test_lost_worker_gives_up_after_the_retries(monkeypatch):
    X, y = np.zeros((30, 1)), np.zeros(30)
    splits = list(KFold(3).split(X))
    lost = _lost()
    _losing_fit_and_score(monkeypatch, [0, 1, 2], lost)  # the first fit of each try
    with pytest.warns(RuntimeWarning) as record:
        with pytest.raises(lost):
            evaluator(CountingRegressor(), X, y).evaluate([{"a": 0.0}], splits)
    assert len(record) == MAX_LOST_WORKER_RETRIES


def test_other_errors_are_not_retried(monkeypatch):
    X, y = np.zeros((30, 1)), np.zeros(30)
    splits = list(KFold(3).split(X))
    _losing_fit_and_score(monkeypatch, [1], _lost("mypackage", "KilledWorker"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(Exception, match="died") as info:
            evaluator(CountingRegressor(), X, y).evaluate([{"a": 0.0}], splits)
    assert type(info.value).__name__ == "KilledWorker"


class DyingRegressor(RegressorMixin, BaseEstimator):
    """Kills the process running its first fit (the marker file does not exist
    yet): loky reports a TerminatedWorkerError."""

    def __init__(self, a=0.0, marker=None):
        self.a = a
        self.marker = marker

    def fit(self, X, y=None):
        if self.marker is not None and not os.path.exists(self.marker):
            with open(self.marker, "w") as f:
                f.write("died")
            os._exit(1)
        return self

    def predict(self, X):
        return np.full(len(X), self.a)

    def score(self, X, y=None):
        return -((self.a - 0.3) ** 2)


def test_real_lost_loky_worker(tmp_path):
    X, y = np.zeros((30, 1)), np.zeros(30)
    splits = list(KFold(3).split(X))
    candidates = [{"a": a} for a in (0.0, 0.2, 0.4, 0.6)]
    reference = without_times(evaluator(DyingRegressor(), X, y).evaluate(candidates, splits))
    seen = []
    marker = str(tmp_path / "died")
    with joblib.parallel_config(backend="loky"):
        with evaluator(DyingRegressor(marker=marker), X, y, n_jobs=2) as ev:
            with pytest.warns(RuntimeWarning, match="TerminatedWorkerError") as record:
                out = ev.evaluate(candidates, splits,
                                  on_result=lambda i, s, r: seen.append((i, s)))
            assert without_times(out) == reference
            assert sorted(seen) == sorted(np.ndindex(4, 3))  # each pair once
            assert len(record) == 1
            # Workers are back for the next call.
            assert without_times(ev.evaluate(candidates, splits)) == reference


# -------------------------------------------------------------- on_result
def test_an_error_in_on_result_propagates_and_the_evaluator_goes_on(tmp_path):
    log = str(tmp_path / "fits.log")
    X, y = np.zeros((30, 1)), np.zeros(30)
    splits = list(KFold(3).split(X))
    candidates = [{"a": a} for a in (0.0, 0.2, 0.4)]

    def stop(i, s, result):
        raise KeyError("budget spent")

    with evaluator(CountingRegressor(log_path=log), X, y) as ev:
        with pytest.raises(KeyError, match="budget spent"):
            ev.evaluate(candidates, splits, on_result=stop)
        assert count_lines(log) == 1  # sequential: nothing ran after it
        out = ev.evaluate(candidates, splits)
    assert count_lines(log) == 10
    assert all(r["fit_error"] is None for r in flat(out))


def test_an_error_in_on_result_with_workers(data, splits):
    X, y = data
    with evaluator(LogisticRegression(), X, y, n_jobs=2) as ev:
        with pytest.raises(KeyError):
            ev.evaluate(LOGREG_CANDIDATES, splits, on_result=lambda *a: {}["x"])
        seen = []
        out = ev.evaluate(LOGREG_CANDIDATES[:2], splits,
                          on_result=lambda i, s, r: seen.append((i, s)))
    # Nothing of the aborted call leaks into the next one.
    assert sorted(seen) == sorted(np.ndindex(2, 3))
    assert len(out) == 2


# ----------------------------------------------- callbacks (scikit-learn 1.9)
class Recorder:
    def __init__(self):
        self.events = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        self.events.append(("begin", context.task_name, context.task_id))

    def on_fit_task_end(self, estimator, context, **kwargs):
        self.events.append(("end", context.task_name, context.task_id))


def _pair_events(recorder):
    return sorted(e for e in recorder.events if e[1] == "candidate-split-evaluation")


@pytest.mark.skipif(not _compat.sklearn_version_at_least("1.9"),
                    reason="callbacks are new in scikit-learn 1.9")
def test_callback_subcontexts_as_in_grid_search(data, splits):
    X, y = data
    # GridSearchCV's own events for the same 4 x 3 pairs.
    grid_recorder = Recorder()
    grid = GridSearchCV(LogisticRegression(), {"C": [c["C"] for c in LOGREG_CANDIDATES]},
                        cv=splits, refit=False)
    grid.set_callbacks(grid_recorder).fit(X, y)
    assert len(_pair_events(grid_recorder)) == 24

    recorder = Recorder()
    search = GridSearchCV(LogisticRegression(), {}, refit=False).set_callbacks(recorder)
    with _compat.callback_management(search):
        root = _compat.init_callback_context(search, max_subtasks=2)
        with evaluator(LogisticRegression(), X, y, caller=search) as ev:
            batch = root.subcontext(task_name="batch", max_subtasks=12,
                                    sequential_subtasks=False)
            full = ev.evaluate(LOGREG_CANDIDATES, splits, callback_ctx=batch)
            assert _pair_events(recorder) == _pair_events(grid_recorder)

            # Known pairs are not reported; the others keep their task ids.
            recorder.events.clear()
            batch = root.subcontext(task_name="batch", max_subtasks=12,
                                    sequential_subtasks=False)
            ev.evaluate(LOGREG_CANDIDATES, splits, callback_ctx=batch,
                        known={(0, s): full[0][s] for s in range(3)})
    ids = sorted({task_id for _, _, task_id in _pair_events(recorder)})
    assert ids == list(range(3, 12))


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_admit_starts_a_prefix_of_the_candidates(data, splits, n_jobs):
    X, y = data
    params = [{"C": c} for c in (0.1, 1.0, 10.0, 100.0)]
    asked, seen = [], []

    def admit(i, n_in_flight):
        asked.append((i, n_in_flight))
        return i < 2

    out = evaluator(LogisticRegression(), X, y, n_jobs=n_jobs).evaluate(
        params, splits, admit=admit, on_result=lambda i, s, r: seen.append(i)
    )
    assert len(out) == 2 and all(None not in row for row in out)
    # Asked once per candidate, in order, up to the first refusal.
    assert [i for i, _ in asked] == [0, 1, 2]
    assert sorted(set(seen)) == [0, 1]
    # The first candidate was asked with nothing in flight.
    assert asked[0][1] == 0
    full = evaluator(LogisticRegression(), X, y).evaluate(params[:2], splits)
    assert without_times(out) == without_times(full)


def test_admit_refusing_everything_runs_nothing(data, splits):
    X, y = data
    ran = []
    out = evaluator(LogisticRegression(), X, y).evaluate(
        [{"C": 1.0}], splits, admit=lambda i, n: False,
        on_result=lambda i, s, r: ran.append(i),
    )
    assert out == [] and ran == []


def test_order_sets_the_dispatch_order_not_the_results(data, splits):
    X, y = data
    params = [{"C": c} for c in (0.1, 1.0, 10.0)]
    started = []
    out = evaluator(LogisticRegression(), X, y, n_jobs=1).evaluate(
        params, splits, order=[2, 0, 1], on_result=lambda i, s, r: started.append(i)
    )
    # One worker: the fits run in the order given, candidate by candidate.
    assert started == [2] * 3 + [0] * 3 + [1] * 3
    default = evaluator(LogisticRegression(), X, y, n_jobs=1).evaluate(params, splits)
    assert without_times(out) == without_times(default)


# ------------------------------------------- what a fit of a subsample gets
def _rows_sent(monkeypatch):
    """Rows of X handed to each fit (n_jobs=1: the tasks run in this process)."""
    from harmonica_sklearn import _evaluation

    sent = []
    run_pair = _evaluation._evaluate_pair

    def recording(tag, estimator, X, y, **kwargs):
        sent.append(len(X))
        return run_pair(tag, estimator, X, y, **kwargs)

    monkeypatch.setattr(_evaluation, "_evaluate_pair", recording)
    return sent


def subsample_splits(splits, n_train, n_test, seed=0):
    rng = np.random.RandomState(seed)
    return [
        (np.sort(rng.choice(train, n_train, replace=False)),
         rng.choice(test, n_test, replace=False))  # test rows in no sorted order
        for train, test in splits
    ]


def string_frame(X, y):
    """A DataFrame with a string column (pickled whole for every fit) and an
    index of its own."""
    import pandas as pd

    frame = pd.DataFrame(X, columns=NUMERIC, index=np.arange(1000, 1200))
    frame["tag"] = pd.Series(np.where(y == 1, "one", "zero"), index=frame.index, dtype="string")
    return frame


def test_a_subsample_split_sends_only_its_rows_and_scores_the_same(
    data, splits, monkeypatch
):
    X, y = data
    frame = string_frame(X, y)
    estimator = numeric_columns_pipeline()
    candidates = [{"logisticregression__C": c} for c in (0.01, 1.0, 100.0)]
    small = subsample_splits(splits, 30, 15)
    sent = _rows_sent(monkeypatch)
    out = evaluator(estimator, frame, y).evaluate(candidates, small)
    assert sent and max(sent) <= 45
    # The same fits on the whole data: the same scores, train and test rows.
    monkeypatch.setattr(
        "harmonica_sklearn._evaluation.MAX_SHARE_SENT_AS_ROWS", 0.0
    )
    sent.clear()
    whole = evaluator(estimator, frame, y).evaluate(candidates, small)
    assert set(sent) == {200}
    assert without_times(out) == without_times(whole)


NUMERIC = [f"x{i}" for i in range(8)]


def numeric_columns_pipeline():
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        ColumnTransformer([("num", "passthrough", NUMERIC)]), LogisticRegression()
    )


def test_numeric_data_full_splits_pairwise_estimators_and_fit_params_get_the_whole_data(
    data, splits, monkeypatch
):
    from sklearn.svm import SVC

    X, y = data
    frame = string_frame(X, y)
    small = subsample_splits(splits, 30, 15)
    sent = _rows_sent(monkeypatch)
    # Numeric data goes through one memory map: not cut.
    evaluator(LogisticRegression(), X, y).evaluate([{"C": 1.0}], small)
    assert set(sent) == {200}
    # A K-fold split holds every row.
    sent.clear()
    evaluator(numeric_columns_pipeline(), frame, y).evaluate([{}], splits)
    assert set(sent) == {200}
    # A kernel is indexed on both axes.
    sent.clear()
    kernel = (X @ X.T).astype(object)
    out = evaluator(SVC(kernel="precomputed"), kernel, y).evaluate([{"C": 1.0}], small)
    assert set(sent) == {200}
    assert all(np.isfinite(result["test_scores"]) for result in flat(out))
    # Sample-aligned fit parameters are cut against the whole data.
    search = GridSearchCV(numeric_columns_pipeline(), {})
    scorers, _ = _compat.get_scorers(search)
    weighted = CandidateEvaluator(
        numeric_columns_pipeline(), frame, y, scorers=scorers,
        fit_params={"logisticregression__sample_weight": np.linspace(0.5, 1.5, 200)},
        score_params={}, return_train_score=False, error_score="raise", verbose=0,
        n_jobs=1, pre_dispatch="2*n_jobs",
    )
    sent.clear()
    weighted.evaluate([{}], small)
    assert set(sent) == {200}
