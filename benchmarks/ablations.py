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

The problems are defined here (not in the test suite) so that this script
only needs the library: an "ordered" problem of log-grid parameters with
unimodal effects, and a mixed problem with categorical parameters, ordered
grids, an interaction and dummies.
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings
import zlib

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from threadpoolctl import threadpool_limits

from harmonica_sklearn import HarmonicaSearchCV
from harmonica_sklearn import _space

ONE_SPLIT = [(np.arange(10), np.arange(10, 20))]


class Problem:
    """Sum of per-parameter effect tables plus pairwise interaction tables."""

    def __init__(self, space, mains, pairs):
        self.space = space
        self.mains = mains  # name -> {value: effect}
        self.pairs = pairs  # (a, b) -> {(va, vb): effect}

    def value(self, params):
        total = sum(table[params[name]] for name, table in self.mains.items())
        total += sum(t.get((params[a], params[b]), 0.0) for (a, b), t in self.pairs.items())
        return float(total)

    def optimum(self):
        names = sorted(set(self.mains) | {n for pair in self.pairs for n in pair})
        default = {n: v[0] for n, v in self.space.items()}
        return max(
            self.value({**default, **dict(zip(names, values))})
            for values in itertools.product(*(self.space[n] for n in names))
        )


def ordered_problem(seed, n_ordered=6, n_values=8, n_dummies=20):
    """Ordered grids with unimodal effects peaking at a random index."""
    rng = np.random.RandomState(seed)
    grid = [10.0**e for e in np.linspace(-4, 2, n_values)]
    space, mains = {}, {}
    for i in range(n_ordered):
        name = f"lr{i}"
        space[name] = grid
        peak, scale = rng.randint(n_values), rng.uniform(0.05, 0.2)
        mains[name] = {v: -scale * (j - peak) ** 2 for j, v in enumerate(grid)}
    space.update({f"d{i}": [False, True] for i in range(n_dummies)})
    return Problem(space, mains, {})


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
    mains = {
        "cat": dict(zip(cats, rng.uniform(-1, 1, 5))),
        "lr": {v: -0.15 * (j - lr_peak) ** 2 for j, v in enumerate(grid)},
        "depth": {v: -0.1 * abs(j - depth_peak) for j, v in enumerate(depths)},
    }
    good = acts[rng.randint(3)]
    pairs = {("act", "bn"): {(good, True): 0.8}}
    return Problem(space, mains, pairs)


class ProblemEstimator(RegressorMixin, BaseEstimator):
    """``score`` is the problem's value plus deterministic Gaussian noise."""

    def __init__(self, problem=None, noise=0.05, **values):
        self.problem = problem
        self.noise = noise
        for name, value in values.items():
            setattr(self, name, value)

    def get_params(self, deep=True):
        params = {"problem": self.problem, "noise": self.noise}
        if self.problem is not None:
            for name, values in self.problem.space.items():
                params[name] = getattr(self, name, values[0])
        return params

    def set_params(self, **params):
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X, y=None):
        params = self.get_params()
        key = repr(sorted((k, v) for k, v in params.items() if k != "problem"))
        rng = np.random.RandomState(zlib.crc32(key.encode()))
        return self.problem.value(params) + self.noise * rng.randn()


def run(problem, seed, budget, params):
    X = np.arange(20.0).reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = HarmonicaSearchCV(
            ProblemEstimator(problem=problem),
            problem.space,
            n_iter=budget,
            cv=ONE_SPLIT,
            random_state=seed,
            **params,
        ).fit(X, np.zeros(20))
    default = {n: v[0] for n, v in problem.space.items()}
    return problem.optimum() - problem.value({**default, **search.best_params_})


def compare(name, make_problem, budget, variants, seeds):
    print(f"\n{name}, budget {budget}, {seeds} seeds")
    print(f"| variant | median regret | mean regret | optimum found | time (s) |")
    print("|---|---|---|---|---|")
    for label, (code, params) in variants.items():
        _space.ORDERED_CODE = code
        start = time.perf_counter()
        regrets = np.array([run(make_problem(s), s, budget, params) for s in range(seeds)])
        elapsed = time.perf_counter() - start
        found = int(np.sum(regrets < 1e-9))
        print(
            f"| {label} | {np.median(regrets):.4f} | {regrets.mean():.4f} | "
            f"{found}/{seeds} | {elapsed:.0f} |"
        )
    _space.ORDERED_CODE = "gray"


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
