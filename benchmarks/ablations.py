"""Design choices of HarmonicaSearchCV, measured on planted problems.

Each row compares variants of the search at equal budget on the same seeds
of a problem whose optimum is known, and reports the median regret and the
number of seeds that found the exact optimum:

* ordered values coded with a reflected Gray code against plain binary;
* ``n_best`` (settings kept per stage): 1 (the original code's greedy
  choice) against the default 4;
* the automatic stage plan against one large stage.

Run::

    python -m benchmarks.ablations --seeds 10

The problems are built here from :class:`benchmarks.tasks.AdditiveObjective`
and scored by :class:`benchmarks.tasks.MockEstimator` (noise 0.05): an
"ordered" problem of log-grid parameters with unimodal effects, and a mixed
problem with categorical parameters, ordered grids, an interaction and dummies.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.tasks import AdditiveObjective, MockEstimator
from harmonica_sklearn import HarmonicaSearchCV
from harmonica_sklearn import _codes

ONE_SPLIT = [(np.arange(10), np.arange(10, 20))]
NOISE = 0.05


def ordered_problem(seed, n_ordered=6, n_values=8, n_dummies=20):
    """Ordered grids with unimodal effects peaking at a random index."""
    rng = np.random.RandomState(seed)
    grid = [10.0**e for e in np.linspace(-4, 2, n_values)]
    space, factors = {}, []
    for i in range(n_ordered):
        name = f"lr{i}"
        space[name] = grid
        peak, scale = rng.randint(n_values), rng.uniform(0.05, 0.2)
        factors.append(((name,), -scale * (np.arange(n_values) - peak) ** 2))
    space.update({f"d{i}": [False, True] for i in range(n_dummies)})
    return AdditiveObjective(space, factors)


def mixed_problem(seed, n_dummies=30):
    """Categorical effects, ordered unimodal effects, one interaction."""
    rng = np.random.RandomState(seed)
    cats = ["a", "b", "c", "d", "e"]
    grid = [10.0**e for e in range(-5, 3)]
    depths = [1, 2, 3, 4, 5, 6]
    acts = ["relu", "tanh", "gelu"]
    space = {"cat": cats, "lr": grid, "depth": depths, "act": acts, "bn": [False, True]}
    space.update({f"d{i}": [False, True] for i in range(n_dummies)})
    lr_peak, depth_peak = rng.randint(1, 7), rng.randint(6)
    cat_effects = rng.uniform(-1, 1, 5)
    act_and_bn = np.zeros((len(acts), 2))
    act_and_bn[rng.randint(3), 1] = 0.8  # one activation works with batch norm
    factors = [
        (("cat",), cat_effects),
        (("lr",), -0.15 * (np.arange(len(grid)) - lr_peak) ** 2),
        (("depth",), -0.1 * np.abs(np.arange(len(depths)) - depth_peak)),
        (("act", "bn"), act_and_bn),
    ]
    return AdditiveObjective(space, factors)


def run(problem, seed, budget, params):
    """Return the regret of one search of ``problem``."""
    X = np.arange(20.0).reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = HarmonicaSearchCV(
            MockEstimator(problem, noise=NOISE),
            problem.param_space,
            n_iter=budget,
            cv=ONE_SPLIT,
            random_state=seed,
            **params,
        ).fit(X, np.zeros(20))
    optimum, _ = problem.maximize()
    return optimum - problem.value(search.best_params_)


def compare(name, make_problem, budget, variants, seeds):
    print(f"\n{name}, budget {budget}, {seeds} seeds")
    print(f"| variant | median regret | mean regret | optimum found | time (s) |")
    print("|---|---|---|---|---|")
    for label, (code, params) in variants.items():
        _codes.ORDERED_CODE = code
        start = time.perf_counter()
        regrets = np.array([run(make_problem(s), s, budget, params) for s in range(seeds)])
        elapsed = time.perf_counter() - start
        found = int(np.sum(regrets < 1e-9))
        print(
            f"| {label} | {np.median(regrets):.4f} | {regrets.mean():.4f} | "
            f"{found}/{seeds} | {elapsed:.0f} |"
        )
    _codes.ORDERED_CODE = "gray"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    with threadpool_limits(1):
        encoding = {"gray code (default)": ("gray", {}), "plain binary": ("binary", {})}
        compare("Ordered grids, unimodal effects", ordered_problem, 150, encoding, args.seeds)
        compare("Mixed space", mixed_problem, 300, encoding, args.seeds)
        keep = {
            "n_best=4 (default)": ("gray", {}),
            "n_best=1 (greedy, original code)": ("gray", {"n_best": 1}),
            "one stage of 180": ("gray", {"n_stages": 1, "stage_size": 180}),
        }
        compare("Mixed space", mixed_problem, 300, keep, args.seeds)


if __name__ == "__main__":
    main()
