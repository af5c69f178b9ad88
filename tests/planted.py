"""Mock estimators whose CV score is a planted function of their parameters.

``fit`` costs nothing; ``score`` returns the planted value plus Gaussian
noise that is a deterministic function of the parameters and the test fold,
so searches are reproducible and fast.  The true optimum is known exactly.
"""

from __future__ import annotations

import itertools
import os
import warnings
import zlib

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin


class PlantedProblem:
    """A function of named parameters with a known maximum.

    Parameters
    ----------
    space : dict
        Parameter name -> list of values (the search space).
    effects : list of (tuple of names, callable)
        Each callable takes the values of its names and returns a float; the
        planted value is the sum of the effects.
    """

    def __init__(self, space, effects):
        self.space = space
        self.effects = effects
        self._defaults = {name: values[0] for name, values in space.items()}

    def value(self, params):
        return float(sum(f(*(params[n] for n in names)) for names, f in self.effects))

    def relevant(self):
        return sorted({n for names, _ in self.effects for n in names})

    def optimum(self):
        """(best value, best setting of the relevant parameters), cached."""
        if getattr(self, "_optimum", None) is None:
            self._optimum = self._enumerate_optimum()
        return self._optimum

    def _enumerate_optimum(self):
        names = self.relevant()
        best = (-np.inf, None)
        for values in itertools.product(*(self.space[n] for n in names)):
            setting = dict(zip(names, values))
            v = self.value({**self.defaults(), **setting})
            if v > best[0]:
                best = (v, setting)
        return best

    def defaults(self):
        return dict(self._defaults)


class _Term:
    """coef * prod of +/-1 variables (picklable, unlike a lambda)."""

    def __init__(self, coef):
        self.coef = coef

    def __call__(self, *signs):
        return self.coef * float(np.prod(signs))


class _Table:
    """Effect given by a lookup table over the values of its parameters."""

    def __init__(self, table):
        self.table = table

    def __call__(self, *values):
        return self.table.get(values, 0.0)


def planted_polynomial(bits, terms, coefs):
    """Value on each row of +/-1 ``bits`` of ``sum_t coefs[t] * prod(bits[:, terms[t]])``.

    The spectral fit's view of a planted problem: terms are tuples of bit
    positions, not parameter names.
    """
    return sum(c * np.prod(bits[:, list(t)], axis=1) for t, c in zip(terms, coefs))


def planted_binary_problem(seed, n_vars=50, n_terms=5, max_degree=3):
    """A random sparse polynomial over ``n_vars`` +/-1 parameters.

    Coefficients have magnitude in [0.5, 1] so that the optimum stands out
    from small noise; most variables are dummies.
    """
    rng = np.random.RandomState(seed)
    names = [f"x{i}" for i in range(n_vars)]
    chosen = rng.choice(n_vars, size=n_terms * max_degree, replace=False)
    effects, pos = [], 0
    for j in range(n_terms):
        degree = 1 + j % max_degree
        variables = tuple(names[i] for i in chosen[pos : pos + degree])
        pos += degree
        coef = rng.choice([-1, 1]) * rng.uniform(0.5, 1.0)
        effects.append((variables, _Term(coef)))
    return PlantedProblem({n: [-1, 1] for n in names}, effects)


def planted_mixed_problem(seed, n_dummies=30):
    """Categorical and ordered numeric parameters with a known optimum.

    * ``optimizer``: 5 categories with random effects;
    * ``lr``: a log grid of 8 values, effect unimodal around a random peak;
    * ``depth``: 6 integers, unimodal;
    * ``activation`` x ``batch_norm``: an interaction;
    * ``n_dummies`` binary parameters and two categorical dummies.
    """
    rng = np.random.RandomState(seed)
    optimizers = ["sgd", "adam", "rmsprop", "adagrad", "lbfgs"]
    lrs = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]
    depths = [1, 2, 3, 4, 5, 6]
    activations = ["relu", "tanh", "gelu"]
    space = {
        "optimizer": optimizers,
        "lr": lrs,
        "depth": depths,
        "activation": activations,
        "batch_norm": [False, True],
        "dummy_cat_a": ["a", "b", "c"],
        "dummy_cat_b": ["p", "q", "r", "s", "t"],
    }
    space.update({f"d{i}": [False, True] for i in range(n_dummies)})
    opt_effect = dict(zip(((o,) for o in optimizers), rng.uniform(-1, 1, 5)))
    lr_peak = rng.randint(1, 7)
    lr_effect = {(v,): -0.15 * (i - lr_peak) ** 2 for i, v in enumerate(lrs)}
    depth_peak = rng.randint(0, 6)
    depth_effect = {(v,): -0.1 * abs(i - depth_peak) for i, v in enumerate(depths)}
    good_act = activations[rng.randint(3)]
    interaction = {
        (a, b): (0.8 if (a == good_act and b) else 0.0)
        for a in activations
        for b in (False, True)
    }
    effects = [
        (("optimizer",), _Table(opt_effect)),
        (("lr",), _Table(lr_effect)),
        (("depth",), _Table(depth_effect)),
        (("activation", "batch_norm"), _Table(interaction)),
    ]
    return PlantedProblem(space, effects)


class PlantedEstimator(RegressorMixin, BaseEstimator):
    """Its ``score`` is ``problem.value(params) + noise``.

    The searched parameters are not in ``__init__``'s signature (their number
    depends on the problem), so ``get_params`` and ``set_params`` list them
    from ``problem.space``.
    """

    def __init__(self, problem=None, noise=0.0, **values):
        self.problem = problem
        self.noise = noise
        for name, value in values.items():
            setattr(self, name, value)

    def get_params(self, deep=True):
        params = {"problem": self.problem, "noise": self.noise}
        if self.problem is not None:
            for name, default in self.problem.defaults().items():
                params[name] = getattr(self, name, default)
        return params

    def set_params(self, **params):
        for name, value in params.items():
            if name not in self.get_params():
                raise ValueError(f"Invalid parameter {name!r} for PlantedEstimator")
            setattr(self, name, value)
        return self

    def fit(self, X, y=None):
        self.n_fit_rows_ = len(X)
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def true_value(self):
        return self.problem.value(self.get_params())

    def score(self, X, y=None):
        params = self.get_params()
        value = self.problem.value(params)
        if self.noise:
            key = repr(sorted((k, v) for k, v in params.items() if k != "problem"))
            key += repr(np.asarray(X)[:, 0].round(6).tolist())
            rng = np.random.RandomState(zlib.crc32(key.encode()))
            value += self.noise * rng.randn()
        return value


# One fixed split: the mock ignores the data, one fold halves the run time.
ONE_SPLIT = [(np.arange(10), np.arange(10, 20))]


def fit_planted(problem, seed, noise=0.0, **params):
    """``HarmonicaSearchCV`` fitted on ``problem`` with ``ONE_SPLIT``, its
    warnings (non-significant stages, failed fits) silenced."""
    from harmonica_sklearn import HarmonicaSearchCV

    X, y = planted_data()
    estimator = PlantedEstimator(problem=problem, noise=noise)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The mock ignores the data: subsampling its 20 rows costs nothing,
        # so the halving rungs stay (min_train_rows=0).
        params = {"min_train_rows": 0, **params}
        return HarmonicaSearchCV(
            estimator, problem.space, cv=ONE_SPLIT, random_state=seed, **params
        ).fit(X, y)


def planted_data(n_samples=20):
    """Data the mock estimator ignores, except to tell folds apart."""
    X = np.arange(n_samples, dtype=float).reshape(-1, 1)
    return X, np.zeros(n_samples)


class CountingRegressor(RegressorMixin, BaseEstimator):
    """A smooth score of ``a``, ``b`` and ``c``; each fit appends a line to
    ``log_path`` (so tests can count fits across processes) and may sleep.
    If the file ``log_path + ".interrupt"`` holds a number N, the N-th fit
    raises KeyboardInterrupt (a file, not a parameter, so that the
    interrupted and the resumed searches have the same estimator)."""

    def __init__(self, a=0.0, b=0.0, c="x", log_path=None, delay=0.0):
        self.a = a
        self.b = b
        self.c = c
        self.log_path = log_path
        self.delay = delay

    def fit(self, X, y=None):
        if self.log_path is not None:
            with open(self.log_path, "a") as log:
                log.write(f"{self.a} {self.b} {self.c}\n")
            trigger = self.log_path + ".interrupt"
            if os.path.exists(trigger):
                with open(trigger) as f:
                    if count_lines(self.log_path) == int(f.read()):
                        raise KeyboardInterrupt
        if self.delay:
            import time

            time.sleep(self.delay)
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X, y=None):
        return -((self.a - 0.3) ** 2) - (self.b + 0.2) ** 2 + 0.1 * (self.c == "y")


def count_lines(path):
    try:
        with open(path) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


class RecordingCallback:
    """A scikit-learn >= 1.9 fit callback that keeps the contexts of the
    tasks it sees begin and end (``context.task_name``, ``.parent``, ...)."""

    def __init__(self):
        self.begun, self.ended = [], []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        self.begun.append(context)

    def on_fit_task_end(self, estimator, context, **kwargs):
        self.ended.append(context)

    def names(self, contexts):
        return [context.task_name for context in contexts]
