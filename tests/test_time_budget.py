"""time_budget, the cost records and the anytime incumbent, driven by a fake
clock that the estimator's fits advance (no wall-clock timing)."""

import math
import time
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import ParameterGrid

from harmonica_sklearn import HarmonicaSearchCV
from harmonica_sklearn import _search
from harmonica_sklearn._budget import (
    CostModel,
    longest_first,
    paired_cost_ratios,
    pilot_size,
    promoted_seconds,
    relative_cost_function,
)
from harmonica_sklearn._decisions import draw_unseen
from harmonica_sklearn._restriction import Restriction
from harmonica_sklearn._space import SearchSpace
from harmonica_sklearn._halving import halving_schedule, schedule_cost
from harmonica_sklearn._history import Batch, History, Trial
from harmonica_sklearn._search_run import SearchRun

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
    # The fit and score times that _fit_and_score records, too.
    monkeypatch.setattr(time, "time", CLOCK)
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
    # The report gives each level's measured share next to its charge.
    paired = next(r for r, c in s.resource_costs_.items() if c["n_paired"])
    cost = s.resource_costs_[paired]
    assert (
        f"{cost['relative_cost']:.2f} ({cost['charged']:.2f}; on {cost['n_paired']} "
        "candidates evaluated at both)" in s.report()
    )


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


# ---------------------------------------------- planning with measured costs
def test_a_time_budget_sizes_the_stages_to_leave_time_for_the_final_stage():
    planned = search(n_iter=200, min_train_rows=0).cv_results_
    n_planned = int(np.sum(np.asarray(planned["phase"]) == "spectral"))
    s = search(time_budget=1000.0, min_train_rows=0)
    phases = np.asarray(s.cv_results_["phase"])
    full = np.asarray(s.cv_results_["n_resources"]) == s.max_resources_
    # The first stage shrank to the time left (it alone would have taken
    # all of it at n_iter's size), so the run still confirmed its best and
    # ran a successive halving up to full resource.
    assert np.sum(phases == "spectral") < n_planned / 2
    assert np.sum(phases == "confirm") == 1
    assert np.sum(full & (phases == "halving")) >= 2


def details(seconds, n_splits=3):
    out = {"fit_time": seconds / n_splits, "score_time": 0.0}
    return {"params": {}, "outs": [dict(out) for _ in range(n_splits)]}


def test_paired_cost_ratios_compare_the_same_candidates():
    history = History()
    trials = [Trial({"a": i}, ("k", i), None, None) for i in range(4)]
    # At a third of the resource, two cheap configurations (1 s) and two
    # slow ones (6 s); only a slow one (10 s at full) reached full resource.
    history.add(
        Batch(trials, 1, "spectral", 0, 100, None), [0.0] * 4,
        [details(1), details(1), details(6), details(6)],
    )
    history.add(Batch([trials[2]], 1, "confirm", 0, 300, None), [0.0], [details(10)])
    paired = paired_cost_ratios(history, 300)
    # 0.6, where comparing the levels' averages (3.5 s / 10 s) says 0.35.
    assert paired == {100: (pytest.approx(0.6), 1)}
    cost = relative_cost_function(paired, 300)
    assert cost(100) == pytest.approx(0.6)
    assert cost(300) == 1.0
    # An unmeasured level follows the power law through the measured one.
    assert cost(33) == pytest.approx((33 / 300) ** (math.log(0.6) / math.log(1 / 3)))
    assert relative_cost_function({}, 300)(100) == pytest.approx(1 / 3)


def test_told_evaluations_without_times_are_not_paired():
    history = History()
    trial = Trial({"a": 0}, ("k", 0), None, None)
    history.add(Batch([trial], 0, "told", 0, 300, None), [0.0])
    history.add(Batch([trial], 1, "spectral", 0, 100, None), [0.0], [details(1)])
    assert paired_cost_ratios(history, 300) == {}


def test_measured_costs_drop_the_rungs_that_are_barely_cheaper():
    assert halving_schedule(20, 33, 300, 3).resources == [33, 100, 300]
    # Gradient boosting on rows: a third costs 0.6 of a full fit.
    boosting = relative_cost_function({100: (0.6, 3)}, 300)
    schedule = halving_schedule(20, 33, 300, 3, cost=boosting)
    assert schedule.resources == [300] and schedule.n_candidates == [20]
    # A third at 0.45 of a full fit (a ninth then at 0.2): every rung is
    # kept, priced at what it costs, so fewer candidates start.
    sublinear = relative_cost_function({100: (0.45, 3)}, 300)
    schedule = halving_schedule(20, 33, 300, 3, cost=sublinear)
    assert schedule.resources == [33, 100, 300]
    assert schedule_cost(schedule.n_candidates, schedule.resources, 300, sublinear) <= 20
    nominal = halving_schedule(20, 33, 300, 3)
    assert schedule.n_candidates[0] < nominal.n_candidates[0]


def test_with_a_time_budget_a_costly_subsample_is_not_used_for_halving():
    # 30 s of overhead per fit: a ninth of the rows costs 0.6 of a full fit.
    s = search(
        estimator=TimedRegressor(overhead=30.0), time_budget=3000.0, min_train_rows=0
    )
    phases = np.asarray(s.cv_results_["phase"])
    resources = np.asarray(s.cv_results_["n_resources"])
    assert set(resources[phases == "halving"]) == {s.max_resources_}
    assert s.resource_costs_[1000]["relative_cost"] > 0.5


def test_longest_first_puts_the_slow_configurations_first():
    space = SearchSpace.from_param_space({"slow": [False, True], "x": [0, 1, 2, 3]})
    rng = np.random.RandomState(0)
    seen = draw_unseen(space, Restriction.unrestricted(space), 6, rng, set())
    history = History()
    seconds = [10.0 if t.params["slow"] else 1.0 for t in seen]
    history.add(
        Batch(seen, 1, "spectral", 0, 100, None), [0.0] * len(seen),
        [details(s) for s in seconds],
    )
    new = draw_unseen(space, Restriction.unrestricted(space), 2, rng, set())
    trials = new + seen[:2]
    order = longest_first(space, history, trials, 300)
    predicted_slow = [trials[i].params["slow"] for i in order]
    assert predicted_slow == sorted(predicted_slow, reverse=True)
    # Nothing timed, or a grid's trials (no codes): no order.
    assert longest_first(space, History(), trials, 300) is None
    grid = [Trial({"slow": True, "x": 0}, ("grid", 0), None, None)] * 2
    assert longest_first(space, history, grid, 300) is None


def test_a_full_candidate_is_priced_from_fit_seconds_and_measured_costs():
    costs = CostModel()
    assert costs.full_candidate_seconds(300, 1.5, lambda r: r / 300) is None
    for seconds in (1.0, 3.0):
        costs.record_fit(100, seconds)
    # 3 splits on 2 workers: 1.5 fits per worker; a third costs half a full.
    half = relative_cost_function({100: (0.5, 2)}, 300)
    assert costs.full_candidate_seconds(300, 1.5, half) == pytest.approx(2.0 * 1.5 / 0.5)
    costs.record_fit(300, 5.0)
    assert costs.full_candidate_seconds(300, 1.5, half) == pytest.approx(7.5)


class SlowingRegressor(TimedRegressor):
    """A TimedRegressor whose fits take five times longer after the first
    three (the pilot): a pilot that made the stage look cheap."""

    n_fits = 0

    def fit(self, X, y=None):
        SlowingRegressor.n_fits += 1
        slow = 1 if SlowingRegressor.n_fits <= 3 else 5
        CLOCK.now += slow * (self.overhead + self.seconds_per_row * len(X))
        return self


def test_the_spectral_stages_stop_at_their_share_of_the_time_budget(fake_clock):
    ends = {}

    def record(evaluation):
        ends.setdefault(evaluation["phase"], []).append(fake_clock.now)

    budget = 3000.0
    SlowingRegressor.n_fits = 0
    search(
        estimator=SlowingRegressor(), time_budget=budget, min_train_rows=0,
        on_evaluation=record,
    )
    one_candidate = 5 * 3 * (1.0 + 0.01 * 667)  # 3 slow folds of a third of the rows
    assert max(ends["spectral"]) <= 0.6 * budget + one_candidate
    # The rest of the budget went to the confirmation and the final stage.
    assert "confirm" in ends
    assert min(ends["halving"]) > max(ends["spectral"])
    assert max(ends["halving"]) <= budget


def test_a_promoted_candidate_is_priced_at_its_own_seconds():
    space = SearchSpace.from_param_space({"slow": [False, True], "x": [0, 1, 2, 3]})
    seen = draw_unseen(space, Restriction.unrestricted(space), 4, np.random.RandomState(0), set())
    history = History()
    history.add(
        Batch(seen, 1, "spectral", 0, 100, None), [0.0] * len(seen),
        [details(10.0 if t.params["slow"] else 1.0) for t in seen],
    )
    new = draw_unseen(space, Restriction.unrestricted(space), 1, np.random.RandomState(1), set())
    nominal = relative_cost_function({}, 300)
    seconds = promoted_seconds(history, seen + new, 300, nominal)
    # Measured at a third of the resource, priced at three times that.
    expected = [30.0 if t.params["slow"] else 3.0 for t in seen]
    np.testing.assert_allclose(seconds[:4], expected)
    assert np.isnan(seconds[4])  # never evaluated: the level's mean prices it


def test_the_deadline_refuses_a_slow_promoted_candidate_that_the_mean_admits():
    space = SearchSpace.from_param_space({"slow": [False, True], "x": [0, 1, 2, 3]})
    trials = draw_unseen(space, Restriction.unrestricted(space), 8, np.random.RandomState(0), set())
    slow = next(t for t in trials if t.params["slow"])
    quick = next(t for t in trials if not t.params["slow"])
    history = History()
    history.add(Batch([slow, quick], 1, "halving", 0, 100, None), [1.0, 0.0],
                [details(30.0), details(3.0)])
    run = SearchRun(
        SimpleNamespace(time_budget=100.0), SimpleNamespace(n_workers=lambda: 1),
        [None] * 3, 300, None, None, None, clock=lambda: 0.0,
    )
    run.optimizer = SimpleNamespace(history_=history, max_resources_=300)
    for _ in range(3):
        run.budget.costs.record_fit(300, 2.0)  # the level's mean fit: 2 s
    admit = run._admit(Batch([slow, quick], 1, "halving", 1, 300, None), deadline=40.0)
    # The level's mean says 3 x 2 s; the slow one took 30 s on a third of
    # the rows, so about 90 s at full resource: past the deadline.
    assert not admit(0, 0)
    assert admit(1, 0)


def test_callbacks_see_every_batch_of_a_time_budget(fake_clock):
    # The time decides how many batches a time budget runs (pilots, rounds
    # bought by leftover time): the search task cannot announce a number of
    # subtasks. A bound derived from n_iter was exceeded on a real task
    # (kernel_sgd, seed 1): sklearn's callback context raised a ValueError
    # in the middle of the search.
    pytest.importorskip("sklearn.callback", reason="callbacks need scikit-learn >= 1.9")
    from planted import RecordingCallback

    recorder = RecordingCallback()
    s = HarmonicaSearchCV(
        TimedRegressor(), SPACE, n_iter=200, cv=3, random_state=0, refit=False,
        time_budget=3000.0, min_train_rows=0,
    ).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s.fit(X, Y)
    search_task = next(c for c in recorder.begun if c.task_name == "search")
    assert search_task.max_subtasks is None
    batches = [c for c in recorder.begun if c.parent is search_task]
    assert len(batches) >= 3
    assert all(c in recorder.ended for c in batches)


def test_a_grid_cut_short_by_the_time_budget_is_a_random_sample_of_it(fake_clock):
    # The 768-candidate grid fits n_iter, so the search is exhaustive; the
    # time affords about 15 of them.
    s = search(n_iter=1000, time_budget=1000.0)
    assert s.search_mode_ == "exhaustive"
    evaluated = s.cv_results_["params"]
    assert 5 <= len(evaluated) < 100
    grid_order = list(ParameterGrid(SPACE))
    assert evaluated != grid_order[: len(evaluated)]
    # Spread over the grid rather than its first values of the last keys.
    assert len({p["a"] for p in evaluated}) > 1


@pytest.mark.parametrize(
    "n_workers, n_splits, expected",
    [
        (1, 3, 1),
        (2, 3, 2),  # 6 fits in 3 whole rounds, not 3 fits in 2 rounds
        (2, 5, 2),
        (4, 3, 4),
        (3, 3, 1),
        (8, 3, 3),  # whole rounds would take 8 candidates: not worth it
        (8, 4, 2),
    ],
)
def test_the_pilot_fills_whole_rounds_of_the_workers_when_cheap(
    n_workers, n_splits, expected
):
    assert pilot_size(n_workers, n_splits) == expected
