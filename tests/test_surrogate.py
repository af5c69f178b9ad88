"""The final stage's surrogate: it ranks candidates, and the pool it ranks
keeps the whole budget in use."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from harmonica_sklearn import _surrogate
from harmonica_sklearn._surrogate import fit_surrogate
from planted import (
    fit_planted,
    planted_binary_problem,
    planted_mixed_problem,
    planted_polynomial,
)


def _planted(bits):
    return planted_polynomial(bits, [(0,), (3, 7), (11,)], [1.0, -0.8, 0.5])


def test_surrogate_ranks_a_planted_degree_two_function():
    rng = np.random.default_rng(0)
    train = rng.choice([-1, 1], size=(150, 20)).astype(np.int8)
    y = _planted(train) + 0.3 * rng.standard_normal(150)
    surrogate = fit_surrogate(train, y, np.arange(20))
    test = rng.choice([-1, 1], size=(500, 20)).astype(np.int8)
    assert surrogate.degree == 2
    assert spearmanr(surrogate.predict(test), _planted(test)).correlation > 0.7


def test_surrogate_falls_back_to_main_effects_on_huge_spaces(monkeypatch):
    monkeypatch.setattr(_surrogate, "MAX_SURROGATE_FEATURES", 100)
    rng = np.random.default_rng(0)
    bits = rng.choice([-1, 1], size=(50, 30)).astype(np.int8)
    surrogate = fit_surrogate(bits, bits[:, 0].astype(float), np.arange(30))
    assert surrogate.degree == 1
    assert surrogate.predict(bits).shape == (50,)


def _true_values(problem, search, rows):
    params = np.asarray(search.cv_results_["params"], dtype=object)[rows]
    return np.array([problem.value({**problem.defaults(), **p}) for p in params])


@pytest.mark.parametrize("seed", range(3))
def test_pool_spends_the_budget_when_the_restriction_runs_out(seed):
    # 12 bits, 4 strong terms: the stages fix most relevant bits and the
    # restricted space holds fewer new candidates than the final stage wants.
    problem = planted_binary_problem(seed, n_vars=12, n_terms=4)
    uniform = fit_planted(problem, seed, 0.1, n_iter=300, final_stage="random", final_pool=1)
    pooled = fit_planted(problem, seed, 0.1, n_iter=300, final_stage="random", final_pool=4)
    assert uniform.budget_spent_ < 0.9 * 300
    assert pooled.budget_spent_ >= 299
    # The pooled run still evaluates every candidate the uniform run did.
    seen = {tuple(sorted(p.items())) for p in pooled.cv_results_["params"]}
    assert all(tuple(sorted(p.items())) in seen for p in uniform.cv_results_["params"])
    # The report says that the pool went outside the restriction, and how far.
    final = pooled.final_stage_
    assert final["pool_from_outside"] > 0 and final["n_kept"] <= final["pool_size"]
    assert 0 <= final["kept_from_outside"] <= final["n_kept"]
    assert f"{final['pool_from_outside']} draws came from the whole space" in pooled.report()
    assert uniform.final_stage_["pool_from_outside"] == 0
    assert "first candidates" not in uniform.report()


def test_pool_raises_the_quality_of_the_final_stage_candidates():
    gains = []
    for seed in range(3):
        problem = planted_mixed_problem(seed)
        means = []
        for pool in (1, 4):
            search = fit_planted(problem, seed, 0.035, n_iter=200, final_pool=pool)
            first_rung = (np.asarray(search.cv_results_["phase"]) == "halving") & (
                np.asarray(search.cv_results_["rung"]) == 0
            )
            means.append(_true_values(problem, search, first_rung).mean())
        gains.append(means[1] - means[0])
    assert all(gain > 0 for gain in gains), gains
