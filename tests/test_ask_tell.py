"""HarmonicaOptimizer: ask/tell on plain functions, and its decisions tested
on crafted histories."""

import concurrent.futures

import numpy as np
import pytest

from harmonica_sklearn import HarmonicaOptimizer
from harmonica_sklearn import _decisions as decide
from harmonica_sklearn._history import Batch, History, Trial
from harmonica_sklearn._restriction import Restriction
from harmonica_sklearn._space import SearchSpace

SPACE = {
    "x": list(range(16)),
    "flag": ["on", "off"],
    **{f"dummy{i}": [False, True] for i in range(6)},
}


def objective(x, flag, **dummies):
    return -abs(x - 11) / 4 + (flag == "on")


def run(optimizer, function=objective):
    while not optimizer.done:
        batch = optimizer.ask()
        optimizer.tell(batch, [function(**params) for params in batch])
    return optimizer


@pytest.mark.parametrize("seed", range(3))
def test_ask_tell_finds_the_optimum_of_a_plain_function(seed):
    # 2048 candidates, 120 evaluations: the first stage ranks the optimum
    # first among the settings it keeps, and the answer is at most one step
    # of x away from it.
    opt = run(HarmonicaOptimizer(SPACE, n_iter=120, random_state=seed))
    assert opt.best_params_["flag"] == "on" and abs(opt.best_params_["x"] - 11) <= 1
    assert opt.best_score_ == objective(**opt.best_params_)
    assert opt.stages_[0].restriction[0]["x"] == ["11"]
    assert opt.search_mode_ == "spectral" and opt.stages_
    assert opt.budget_spent_ <= 120 + 1e-9
    assert opt.ask() == []


def test_a_fixed_random_state_gives_the_same_batches():
    def batches(seed):
        opt, asked = HarmonicaOptimizer(SPACE, n_iter=80, random_state=seed), []
        while not opt.done:
            batch = opt.ask()
            asked.append(batch)
            opt.tell(batch, [objective(**p) for p in batch])
        return asked

    assert batches(3) == batches(3)
    assert batches(3) != batches(4)


def test_candidates_carry_the_resource_and_halving_raises_it():
    seen = []

    def noisy_at_low_resource(x, flag, resource, **dummies):
        seen.append(resource)
        return objective(x, flag) - 1.0 / resource

    opt = HarmonicaOptimizer(SPACE, n_iter=60, max_resources=27, random_state=0)
    run(opt, noisy_at_low_resource)
    assert set(seen) <= {3, 9, 27} and 27 in seen and min(seen) < 27
    # Full-resource evaluations only decide the answer.
    assert opt.history_.incumbent(27).resource == 27
    assert "resource" not in opt.best_params_


def _spectral_then(n_iter, measured_costs=False, **params):
    """The phases of a run's batches, and the run."""
    opt = HarmonicaOptimizer(SPACE, n_iter=n_iter, max_resources=27, random_state=0, **params)
    opt.measured_costs = measured_costs  # what a client with a time budget sets
    run(opt, lambda x, flag, resource, **d: objective(x, flag) - 1.0 / resource)
    return [b.phase for b in opt.history_.batches], opt


def test_the_first_stage_is_confirmed_half_way_on_one_subsample():
    phases, opt = _spectral_then(60)
    assert phases[:3] == ["spectral", "confirm", "spectral"]
    first, confirm, second = opt.history_.batches[:3]
    assert first.stage == confirm.stage == second.stage == 1
    assert len(first) == len(second) == opt.stages_[0].n_candidates // 2
    assert first.seed == second.seed  # the same rows for the whole stage
    # The confirmed candidate is the first half's best, at full resource.
    half = [e for e in opt.history_ if e.batch is first]
    assert confirm.trials[0].key == max(half, key=lambda e: e.score).trial.key
    assert confirm.resource == 27


def test_no_half_way_confirmation_for_a_small_n_iter_or_a_time_budget():
    # A stage of 102 candidates at a ninth, but n_iter=19: the extra full
    # evaluation would cost over a twentieth of the budget.
    phases, opt = _spectral_then(19, spectral_resource=3)
    assert opt.stages_[0].n_candidates >= 2 * decide.MIN_STAGE_SIZE
    assert phases.count("spectral") == 1 and phases[:2] == ["spectral", "confirm"]
    # A time budget sizes the stage after a pilot: it runs whole.
    phases, _ = _spectral_then(60, measured_costs=True)
    assert phases.count("spectral") == 1 and phases[:2] == ["spectral", "confirm"]


def test_batches_can_run_on_a_concurrent_futures_pool():
    opt = HarmonicaOptimizer(SPACE, n_iter=60, random_state=1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        while not opt.done:
            batch = opt.ask()
            futures = [pool.submit(objective, **params) for params in batch]
            opt.tell(batch, [f.result() for f in futures])
    sequential = run(HarmonicaOptimizer(SPACE, n_iter=60, random_state=1))
    assert opt.best_params_ == sequential.best_params_


def test_tell_accepts_the_batch_in_any_order():
    a, b = (HarmonicaOptimizer(SPACE, n_iter=60, random_state=2) for _ in range(2))
    batch_a, batch_b = a.ask(), b.ask()
    a.tell(batch_a, [objective(**p) for p in batch_a])
    b.tell(batch_b[::-1], [objective(**p) for p in batch_b[::-1]])
    assert a.ask() == b.ask()


def test_ask_again_before_tell_is_an_error():
    opt = HarmonicaOptimizer(SPACE, n_iter=60, random_state=0)
    opt.ask()
    with pytest.raises(RuntimeError, match="before the scores of the previous batch"):
        opt.ask()


def test_tell_of_an_unknown_candidate_or_a_partial_batch_is_an_error():
    opt = HarmonicaOptimizer(SPACE, n_iter=60, random_state=0)
    batch = opt.ask()
    with pytest.raises(ValueError, match="did not return"):
        opt.tell([{"x": 99}], [0.0])
    with pytest.raises(ValueError, match="all of them at once"):
        opt.tell(batch[:2], [0.0, 0.0])
    with pytest.raises(ValueError, match="candidates and 1 scores"):
        opt.tell(batch, [0.0])


def test_failed_evaluations_never_win():
    def fails_on_the_best(x, flag, **dummies):
        return np.nan if (x == 11 and flag == "on") else objective(x, flag)

    opt = run(HarmonicaOptimizer(SPACE, n_iter=120, random_state=0), fails_on_the_best)
    assert np.isfinite(opt.best_score_)
    assert (opt.best_params_["x"], opt.best_params_["flag"]) != (11, "on")


def test_a_small_space_is_evaluated_whole():
    opt = run(HarmonicaOptimizer({"x": [1, 2, 3], "flag": ["on", "off"]}, n_iter=10))
    assert opt.search_mode_ == "exhaustive"
    assert len(opt.history_) == 6


def test_explicit_stages_on_a_small_grid_run_the_grid():
    # The stage plan is checked only when the space is not evaluated whole.
    opt = HarmonicaOptimizer({"x": [1, 2], "y": [0, 1]}, n_iter=10, n_stages=2)
    run(opt, lambda x, y: x + y)
    assert opt.search_mode_ == "exhaustive" and opt.best_params_ == {"x": 2, "y": 1}


def test_stop_ends_the_run_and_truncate_cuts_the_batch():
    opt = HarmonicaOptimizer(SPACE, n_iter=60, random_state=0)
    opt.ask_batch()
    batch = opt.truncate_pending(3)
    assert len(batch) == 3
    opt.tell_batch(batch, np.zeros(3))
    opt.stop()
    assert opt.done and opt.ask() == []


# ---------------------------------------------------------------- decisions
def space_and_history(scores_by_x, resource=1, phase="spectral"):
    space = SearchSpace.from_param_space({"x": list(range(4)), "y": [0, 1]})
    history = History()
    trials = []
    for x, score in scores_by_x:
        index = np.array([x, 0])
        offset = np.zeros(2)
        trials.append(Trial(space.decode(index, offset), space.candidate_key(index, offset),
                            index, offset))
    batch = Batch(trials, stage=1, phase=phase, rung=0, resource=resource)
    history.add(batch, [s for _, s in scores_by_x])
    return space, history


def test_promote_ranks_failures_below_every_finite_score():
    trials = ["failed", "worst", "best", "inf"]
    kept = decide.promote(trials, [np.nan, -5.0, 1.0, np.inf], 3)
    assert kept == ["best", "worst", "failed"]


def test_best_inside_skips_failures_and_respects_the_restriction():
    space, history = space_and_history([(0, np.nan), (1, 0.2), (2, 0.9), (3, 0.5)])
    everything = Restriction.unrestricted(space)
    best = decide.best_inside(space, everything, history.evaluations, 2)
    assert [t.params["x"] for t in best] == [2, 3]


def test_to_confirm_picks_the_best_reduced_resource_candidate_once():
    space, history = space_and_history([(1, 0.2), (2, 0.9), (3, np.nan)], resource=3)
    trial = decide.to_confirm(history.evaluations, [], max_resources=9)
    assert trial.params["x"] == 2
    confirmed = History()
    confirmed.add(Batch([trial], 1, "confirm", 0, 9), [0.95])
    assert decide.to_confirm(history.evaluations, confirmed.evaluations, 9) is None
    # Already at full resource: nothing to confirm.
    assert decide.to_confirm(history.evaluations, [], max_resources=3) is None


def test_draw_unseen_never_returns_a_seen_candidate():
    space, history = space_and_history([(x, 0.0) for x in range(4)])
    rng = np.random.RandomState(0)
    trials = decide.draw_unseen(
        space, Restriction.unrestricted(space), 8, rng, history.seen_keys()
    )
    keys = [t.key for t in trials]
    assert len(keys) == len(set(keys)) == 4  # 8 candidates in all, 4 seen
    assert not set(keys) & history.seen_keys()


def test_the_final_pool_is_decoded_only_where_it_is_evaluated(monkeypatch):
    # The surrogate ranks a pool of final_pool * n draws by their codes; a
    # distribution's quantile function costs about 0.2 ms a value, so
    # decoding the whole pool made the driver's work seconds long.
    from scipy.stats import loguniform

    decoded = []
    real_decode = SearchSpace.decode

    def counting_decode(self, index_row, offset_row):
        decoded.append(1)
        return real_decode(self, index_row, offset_row)

    monkeypatch.setattr(SearchSpace, "decode", counting_decode)
    space = {"c": loguniform(1e-3, 1e3), "x": list(range(8)), "flag": [False, True]}
    opt = run(
        HarmonicaOptimizer(space, n_iter=60, final_stage="random", random_state=0),
        lambda c, x, flag: -abs(np.log10(c)) - abs(x - 5) + flag,
    )
    assert opt.final_stage_["pool_size"] > 100
    assert len(decoded) == len(opt.history_.evaluations)


def test_fit_stage_restricts_to_the_planted_best_value():
    space = SearchSpace.from_param_space(
        {"a": [0, 1, 2, 3], **{f"d{i}": [False, True] for i in range(5)}}
    )
    rng = np.random.RandomState(0)
    index, offset = space.sample(120, rng)
    trials = [Trial(space.decode(i, o), space.candidate_key(i, o), i, o)
              for i, o in zip(index, offset)]
    scores = [float(t.params["a"] == 2) + 0.01 * rng.randn() for t in trials]
    history = History()
    history.add(Batch(trials, 1, "spectral", 0, 1), scores)
    settings = type("S", (), {"degree": 2, "n_terms": 5, "alpha": None, "n_best": 1})
    restriction, report = decide.fit_stage(
        space, Restriction.unrestricted(space), history.evaluations, settings, stage=1
    )
    assert restriction.describe(space)[0]["a"] == ["2"]
    assert report.n_candidates == 120


def test_stage_plan_names_the_settings_that_do_not_fit():
    with pytest.raises(ValueError, match="n_iter=10 is too small for n_stages=2"):
        decide.stage_plan(10, 1.0, n_stages=2, stage_size="auto")
    assert decide.stage_plan(10, 1.0) == (0, 0)
    assert decide.stage_plan(300, 1 / 3) == (3, 180)


def test_the_inspection_tables_read_an_optimizer():
    pytest.importorskip("pandas")
    from harmonica_sklearn.inspection import (
        effects_frame,
        importances_frame,
        restrictions_frame,
    )

    opt = run(HarmonicaOptimizer(SPACE, n_iter=100, random_state=0))
    effects = effects_frame(opt).set_index("parameters")["effect"]
    # x spans 11/4 between its best and worst values, flag 1; dummies nothing.
    assert effects[("x",)].max() == pytest.approx(11 / 4, rel=0.25)
    assert effects[("flag",)].max() == pytest.approx(1.0, rel=0.25)
    assert len(importances_frame(opt)) == len(SPACE)
    assert len(restrictions_frame(opt)) >= 1
    report = opt.report()
    assert "x" in report
    # No fit times reach an optimizer: the report says so rather than
    # printing zero seconds.
    assert "times not measured" in report and "0.000 s" not in report
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harmonica_sklearn.inspection import plot_history, plot_importances

    plot_history(opt)
    plot_importances(opt)
    plt.close("all")


def test_the_inspection_tables_refuse_an_optimizer_told_nothing():
    from sklearn.exceptions import NotFittedError

    from harmonica_sklearn.inspection import effects_frame

    pytest.importorskip("pandas")
    with pytest.raises(NotFittedError, match="told no score yet"):
        effects_frame(HarmonicaOptimizer(SPACE))
