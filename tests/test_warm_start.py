"""Warm starts and the per-evaluation hook."""

import warnings

import numpy as np
import pytest
from scipy.stats import uniform
from sklearn.model_selection import RandomizedSearchCV

from harmonica_sklearn import HarmonicaOptimizer, HarmonicaSearchCV
from planted import CountingRegressor, count_lines

SPACE = {"a": uniform(-1, 2), "b": uniform(-1, 2), "c": ["x", "y", "z"]}
X = np.arange(60.0).reshape(-1, 1)
Y = np.zeros(60)


def search(**params):
    params = {"n_iter": 40, "cv": 3, "random_state": 0, "refit": False, **params}
    return HarmonicaSearchCV(CountingRegressor(**params.pop("estimator_params", {})),
                             SPACE, **params)


def quiet_fit(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, Y)


def test_warm_start_continues_with_more_budget_without_refitting(tmp_path):
    log = tmp_path / "fits.log"
    first = quiet_fit(search(estimator_params={"log_path": str(log)}, warm_start=True))
    rows_before = len(first.cv_results_["params"])
    fits_before = count_lines(log)
    params_before = list(first.cv_results_["params"])
    first.set_params(n_iter=100)
    quiet_fit(first)
    results = first.cv_results_
    # Every earlier evaluation is kept, in its place, and none is run again.
    assert results["params"][:rows_before] == params_before
    assert count_lines(log) - fits_before == 3 * (len(results["params"]) - rows_before)
    assert len(results["params"]) > rows_before
    assert first.budget_spent_ <= 100 + 1e-9
    # New stages are numbered after the earlier ones.
    assert min(results["stage"][rows_before:]) > max(results["stage"][:rows_before])


def test_without_warm_start_a_second_fit_starts_afresh():
    s = quiet_fit(search())
    before = list(s.cv_results_["params"])
    quiet_fit(s)
    assert s.cv_results_["params"] == before


def test_earlier_random_search_results_count_as_spectral_samples():
    random = RandomizedSearchCV(
        CountingRegressor(), SPACE, n_iter=30, cv=3, random_state=1
    ).fit(X, Y)
    seeded = quiet_fit(search(initial_results=random))
    told = [e for e in seeded.history_ if e.batch.phase == "told"]
    assert len(told) == 30
    # They inform the first stage's fit but are not cv_results_ rows.
    assert seeded.stages_[0].n_fit_samples >= 30 + seeded.stages_[0].n_candidates
    assert "told" not in set(seeded.cv_results_["phase"])
    # And cost no budget.
    assert seeded.budget_spent_ <= 40 + 1e-9


def test_initial_results_outside_the_space_are_left_out_with_a_warning():
    results = {"params": [{"a": 0.3, "b": -0.2, "c": "x"}, {"a": 0.1, "c": "nope", "b": 0.0}],
               "mean_test_score": [1.0, 0.5]}
    with pytest.warns(UserWarning, match="1 of 2 earlier evaluations lie outside"):
        search(initial_results=results, n_iter=30).fit(X, Y)


def test_initial_results_must_be_results():
    with pytest.raises(ValueError, match="initial_results must be a fitted search"):
        search(initial_results={"mean_test_score": [1.0]}).fit(X, Y)


def test_optimizer_warm_start_from_a_plain_function_history():
    def objective(a, b, c):
        return -((a - 0.3) ** 2) - (b + 0.2) ** 2 + 0.1 * (c == "y")

    rng = np.random.RandomState(0)
    earlier = [{"a": rng.uniform(-1, 1), "b": rng.uniform(-1, 1), "c": c}
               for c in ["x", "y", "z"] * 10]
    opt = HarmonicaOptimizer(SPACE, n_iter=40, random_state=0)
    opt.tell(earlier, [objective(**p) for p in earlier])
    while not opt.done:
        batch = opt.ask()
        opt.tell(batch, [objective(**p) for p in batch])
    assert opt.budget_spent_ <= 40 + 1e-9
    assert len([e for e in opt.history_ if e.batch.phase == "told"]) == 30
    assert opt.best_params_["c"] == "y"


# --------------------------------------------------------------- the hook
class Recorder:
    def __init__(self):
        self.records = []

    def __call__(self, record):
        self.records.append(record)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_the_hook_sees_every_finished_candidate_once(n_jobs):
    hook = Recorder()
    s = quiet_fit(search(on_evaluation=hook, n_jobs=n_jobs))
    results = s.cv_results_
    assert len(hook.records) == len(results["params"])
    # Each record matches its cv_results_ row (the order of arrival may differ).
    by_params = {
        (repr(sorted(r["estimator_params"].items())), r["n_resources"]): r
        for r in hook.records
    }
    for i, params in enumerate(results["params"]):
        record = by_params[(repr(sorted(params.items())), results["n_resources"][i])]
        assert record["mean_test_score"] == pytest.approx(results["mean_test_score"][i])
        assert record["phase"] == results["phase"][i]
        assert len(record["split_test_scores"]) == 3


def test_the_hook_is_not_called_again_for_stored_evaluations(tmp_path):
    first, second = Recorder(), Recorder()
    quiet_fit(search(on_evaluation=first, checkpoint=tmp_path / "store"))
    quiet_fit(search(on_evaluation=second, checkpoint=tmp_path / "store"))
    assert first.records and second.records == []


def test_a_failing_hook_stops_the_search_with_its_error():
    def broken(record):
        raise RuntimeError("logging server down")

    with pytest.raises(RuntimeError, match="logging server down"):
        search(on_evaluation=broken).fit(X, Y)
