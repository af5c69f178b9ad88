"""Hyperparameter search methods behind one interface, for equal-budget comparisons.

Every runner has the signature ``run(task, budget, seed, n_jobs=1) -> Result``
and is registered in :data:`METHODS`:

* ``"random"``: :class:`~sklearn.model_selection.RandomizedSearchCV`.
* ``"grid"``: :class:`~sklearn.model_selection.GridSearchCV`, only when the
  space is made of lists and its grid fits the budget.
* ``"halving_random"``: :class:`~sklearn.model_selection.HalvingRandomSearchCV`
  (resource ``n_samples``, factor 3) with as many candidates as the budget
  allows.
* ``"optuna_tpe"``: Optuna's TPE sampler, each trial cross-validated with the
  task's estimator, folds and scoring.
* ``"skopt_bayes"``: scikit-optimize's ``BayesSearchCV`` (Gaussian process).
* ``"harmonica"``: ``harmonica_sklearn.HarmonicaSearchCV``, imported when run.

The budget counts full evaluations: one configuration scored on every fold at
full resource. An evaluation at resource ``r`` (successive halving) costs
``r / max_resources`` of one. Runners skip the final refit (``refit=False``);
the task's ``true_value`` judges the chosen configuration instead, see
:func:`regret`.

Every search runs with BLAS and OpenMP limited to one thread in this process
(joblib's workers get the same limit with ``n_jobs=2`` on 2 cores), so that
parallelism comes from ``n_jobs`` only: on a busy 2-core machine, native
threads made HistGradientBoosting fits 40 times and LogisticRegression fits
and skopt's Gaussian process up to 10 times slower.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import rv_discrete
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    RandomizedSearchCV,
    check_cv,
    cross_validate,
)
from threadpoolctl import threadpool_limits

from benchmarks.tasks import Task

__all__ = [
    "METHODS",
    "Evaluation",
    "MethodNotApplicable",
    "Result",
    "distribution_bounds",
    "has_time_budget",
    "regret",
    "run_grid_search",
    "run_halving_random_search",
    "run_harmonica",
    "run_optuna_tpe",
    "run_random_search",
    "run_skopt_bayes",
    "suggest_params",
    "to_skopt_space",
]

# Elimination factor of the successive halving runner.
_HALVING_FACTOR = 3


class MethodNotApplicable(Exception):
    """Raised when a method cannot run on a task within a budget."""


@dataclass(frozen=True)
class Evaluation:
    """One evaluation made by a search method.

    Attributes
    ----------
    params : dict
        The configuration evaluated.
    score : float
        Its mean cross-validation score (NaN when fitting failed).
    elapsed : float
        Seconds from the start of the search to the end of this evaluation
        (its last fold's scoring). Exact for Optuna, for the other methods
        with ``n_jobs=1`` (rows of ``cv_results_`` are evaluated in order),
        and with ``n_jobs > 1`` when every fold's scoring was clocked in the
        worker that ran it (see :class:`_ClockedScorer`; the trace is then in
        order of completion). Otherwise (failed fits, evaluations the search
        did not run itself) the search's wall time is apportioned to rows in
        proportion to their fit and score times.
    cost : float, default=1.0
        Fraction of a full evaluation: ``n_resources / max_resources`` for
        successive halving rows, 1 otherwise.
    fold_time : float, default=nan
        Mean seconds of one fold's fit + score (``mean_fit_time +
        mean_score_time`` of ``cv_results_``).
    n_folds : int, default=0
        Folds the evaluation fitted (``fold_time * n_folds`` is its compute).
    batch : int, default=0
        Batch of the method the evaluation belongs to: evaluations of one
        batch were dispatched together, and the method waited for all of
        them before the next batch (random search: one batch; halving: one
        per rung; Harmonica: one per spectral stage and per halving rung;
        Optuna: one per trial). Used by :mod:`benchmarks.simulate`.
    """

    params: dict[str, Any]
    score: float
    elapsed: float
    cost: float = 1.0
    fold_time: float = math.nan
    n_folds: int = 0
    batch: int = 0


@dataclass
class Result:
    """Outcome of one run of a search method on a task.

    Attributes
    ----------
    method : str
        Key of the method in :data:`METHODS`.
    task : str
        Name of the task.
    seed : int
        Seed of the run.
    budget : int
        Budget asked for, in full evaluations.
    trace : list of Evaluation
        Every evaluation, in the order the method made them.
    best_params : dict
        The configuration the method chose.
    wall_time : float
        Seconds the whole search took.
    search_overhead : float or None, default=None
        Seconds of ``wall_time`` not spent in the estimator's ``fit`` and
        ``score`` (the method's own computation plus bookkeeping), or None
        when unmeasurable (``n_jobs != 1``).
    compute_time : float or None, default=None
        Seconds spent in the estimator's ``fit`` and ``score``, summed over
        all folds and all evaluations (whatever process ran them), or None
        when unknown. With ``n_jobs > 1``, ``compute_time / (wall_time *
        n_jobs)`` is the parallel efficiency.
    exact_elapsed : bool, default=True
        Whether the trace's ``elapsed`` times were measured (False: apportioned).
    resource_costs : object, default=None
        The search's fitted ``resource_costs_``, when it has one
        (HarmonicaSearchCV, once that attribute exists).
    full_cost : float, default=1.0
        Cost of an evaluation at the method's full resource: 1, except for
        HalvingRandomSearchCV, whose last rung may use fewer than all rows.
    """

    method: str
    task: str
    seed: int
    budget: int
    trace: list[Evaluation] = field(repr=False)
    best_params: dict[str, Any]
    wall_time: float
    search_overhead: float | None = None
    compute_time: float | None = None
    exact_elapsed: bool = True
    resource_costs: Any = None
    full_cost: float = 1.0

    @property
    def total_cost(self) -> float:
        """Budget actually spent, in full evaluations."""
        return float(sum(evaluation.cost for evaluation in self.trace))


def regret(
    task: Task,
    params: Mapping[str, Any] | Result,
    best_known: float | None = None,
) -> float:
    """Return how far a configuration's true value is from the best one.

    Parameters
    ----------
    task : Task
        The task the configuration belongs to.
    params : mapping or Result
        The configuration, or a result whose ``best_params`` to judge.
    best_known : float or None, default=None
        Reference used when ``task.optimum`` is None (e.g. the best true value
        found by any run).

    Returns
    -------
    float
        ``task.optimum (or best_known) - task.true_value(params)``.

    Raises
    ------
    ValueError
        If the task has no optimum and ``best_known`` is None.
    """
    reference = task.optimum if task.optimum is not None else best_known
    if reference is None:
        raise ValueError(f"task {task.name!r} has no known optimum: pass best_known")
    if isinstance(params, Result):
        params = params.best_params
    return reference - task.true_value(params)


def _subspaces(param_space: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list:
    """Return a search space as a list of dicts."""
    if isinstance(param_space, Mapping):
        return [param_space]
    return list(param_space)


def _is_distribution(values: Any) -> bool:
    """Tell whether a space entry is a distribution rather than a list."""
    return hasattr(values, "rvs")


def distribution_bounds(distribution: Any) -> tuple[float, float, bool, bool]:
    """Describe a scipy.stats distribution as a range to search.

    Parameters
    ----------
    distribution : scipy.stats frozen distribution
        ``uniform``, ``loguniform`` (alias ``reciprocal``) or ``randint``.

    Returns
    -------
    low, high : float or int
        Inclusive bounds of the support.
    is_integer : bool
        Whether the values are integers (``randint``).
    log : bool
        Whether the values are uniform on a log scale (``loguniform``).

    Raises
    ------
    ValueError
        For any other distribution.
    """
    name = distribution.dist.name
    low, high = distribution.support()
    if isinstance(distribution.dist, rv_discrete) and name == "randint":
        return int(low), int(high), True, False
    if name in ("loguniform", "reciprocal"):
        return float(low), float(high), False, True
    if name == "uniform":
        return float(low), float(high), False, False
    raise ValueError(
        f"cannot convert the scipy.stats distribution {name!r}: only uniform, "
        "loguniform and randint are supported"
    )


def _is_optuna_choice(value: Any) -> bool:
    """Tell whether Optuna accepts a value as a categorical choice."""
    return value is None or isinstance(value, (bool, int, float, str))


def _suggest_one(trial: Any, name: str, values: Any) -> Any:
    """Suggest the value of one space entry with an Optuna trial."""
    if _is_distribution(values):
        low, high, is_integer, log = distribution_bounds(values)
        if is_integer:
            return trial.suggest_int(name, low, high, log=log)
        return trial.suggest_float(name, low, high, log=log)
    values = list(values)
    if all(_is_optuna_choice(value) for value in values):
        return trial.suggest_categorical(name, values)
    # Other objects (estimators, numpy scalars, ...) are chosen by position.
    return values[trial.suggest_categorical(name, list(range(len(values))))]


def suggest_params(
    trial: Any, param_space: Mapping[str, Any] | Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Draw a configuration of a scikit-learn search space with an Optuna trial.

    Lists become ``suggest_categorical`` (by position when they hold values
    Optuna cannot store, such as estimators); ``uniform`` and ``loguniform``
    distributions become ``suggest_float`` (with ``log``), ``randint`` becomes
    ``suggest_int``. For a list of sub-spaces, a categorical ``"subspace"``
    picks one first and its parameters are named ``"{index}/{name}"`` in
    Optuna.

    Parameters
    ----------
    trial : optuna.trial.Trial
        The trial to suggest with.
    param_space : dict or list of dict
        Space in the format of ``RandomizedSearchCV``.

    Returns
    -------
    dict
        Parameter names mapped to scikit-learn values.
    """
    subspaces = _subspaces(param_space)
    if len(subspaces) == 1:
        index, prefix = 0, ""
    else:
        index = trial.suggest_categorical("subspace", list(range(len(subspaces))))
        prefix = f"{index}/"
    return {
        name: _suggest_one(trial, prefix + name, values)
        for name, values in subspaces[index].items()
    }


def to_skopt_space(
    param_space: Mapping[str, Any] | Sequence[Mapping[str, Any]], budget: int
) -> list[tuple[dict[str, Any], int]]:
    """Convert a scikit-learn search space for ``skopt.BayesSearchCV``.

    Lists become ``Categorical`` (explicitly: skopt would read a two-number
    list as a range), ``uniform`` and ``loguniform`` become ``Real`` (with a
    log-uniform prior for the latter) and ``randint`` becomes ``Integer``.

    Parameters
    ----------
    param_space : dict or list of dict
        Space in the format of ``RandomizedSearchCV``.
    budget : int
        Number of evaluations, split as evenly as possible over sub-spaces.

    Returns
    -------
    list of (dict, int)
        The ``search_spaces`` argument of ``BayesSearchCV``.
    """
    from skopt.space import Categorical, Integer, Real

    def dimension(values: Any) -> Any:
        if not _is_distribution(values):
            return Categorical(list(values))
        low, high, is_integer, log = distribution_bounds(values)
        if is_integer:
            return Integer(low, high)
        return Real(low, high, prior="log-uniform" if log else "uniform")

    subspaces = _subspaces(param_space)
    share, extra = divmod(budget, len(subspaces))
    return [
        (
            {name: dimension(values) for name, values in subspace.items()},
            share + (i < extra),
        )
        for i, subspace in enumerate(subspaces)
    ]


def _n_splits(task: Task) -> int:
    """Return the number of CV folds of a task."""
    cv = check_cv(task.cv, task.y, classifier=is_classifier(task.estimator))
    return cv.get_n_splits(task.X, task.y)


def _evaluation_key(estimator: Any, names: Sequence[str]) -> str:
    """Digest of ``estimator``'s values of the parameters ``names``."""
    params = estimator.get_params(deep=True)
    text = repr([(name, repr(params.get(name))) for name in sorted(names)])
    return hashlib.sha1(text.encode()).hexdigest()[:20]


class _ClockedScorer:
    """Scorer that records when each of its calls ends.

    Calls made in this process (``n_jobs=1``) are appended to ``times``.
    With a ``log`` file, every call, in whichever process, also appends a
    line ``<time.perf_counter()> <key>`` to it, where the key identifies the
    configuration scored (:func:`_evaluation_key` over ``names``); the
    monotonic clock is shared by the processes of one machine, so the driver
    can date the end of every fold of a parallel search. Lines are shorter
    than ``PIPE_BUF`` and written with ``O_APPEND`` in one call, so the
    workers' lines do not interleave.

    Parameters
    ----------
    scorer : callable
        ``scorer(estimator, X, y)`` to wrap.
    log : str or None, default=None
        File to append a line to per call.
    names : sequence of str, default=()
        Parameters identifying a configuration in the log.
    """

    def __init__(
        self,
        scorer: Callable[..., float],
        log: str | None = None,
        names: Sequence[str] = (),
    ):
        self.scorer = scorer
        self.times: list[float] = []
        self.log = log
        self.names = tuple(names)

    def __call__(self, estimator: Any, X: Any, y: Any = None, **kwargs: Any) -> float:
        score = self.scorer(estimator, X, y, **kwargs)
        now = time.perf_counter()
        self.times.append(now)
        if self.log is not None:
            line = f"{now!r} {_evaluation_key(estimator, self.names)}\n".encode()
            fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        return score

    def read_log(self) -> list[tuple[float, str]]:
        """Return the logged ``(time, key)`` pairs, in time order."""
        if self.log is None or not os.path.exists(self.log):
            return []
        with open(self.log) as handle:
            pairs = [
                (float(stamp), key)
                for stamp, key in (line.split() for line in handle if line.strip())
            ]
        return sorted(pairs)


def _space_names(
    param_space: Mapping[str, Any] | Sequence[Mapping[str, Any]], resource: str
) -> list[str]:
    """Parameters of a space, and the resource when it is a parameter."""
    names = {name for subspace in _subspaces(param_space) for name in subspace}
    if resource != "n_samples":
        names.add(resource)
    return sorted(names)


def _clocked_scorer(
    task: Task,
    n_jobs: int | None = 1,
    param_space: Any = None,
    resource: str | None = None,
) -> _ClockedScorer:
    """Return the task's scoring wrapped in a :class:`_ClockedScorer`.

    With ``n_jobs`` other than 1 (or None), the scorer logs its calls to a
    temporary file, removed by :func:`_result_from_search`.
    """
    scorer = check_scoring(task.estimator, scoring=task.scoring)
    if n_jobs in (1, None):
        return _ClockedScorer(scorer)
    handle, log = tempfile.mkstemp(prefix="harmonica-bench-", suffix=".log")
    os.close(handle)
    names = _space_names(
        task.param_space if param_space is None else param_space,
        resource or task.resource,
    )
    return _ClockedScorer(scorer, log=log, names=names)


def _logged_elapsed(
    task: Task,
    results: Mapping[str, Any],
    scorer: _ClockedScorer,
    n_splits: int,
    start: float,
    resource: str,
) -> np.ndarray | None:
    """End time of every row of ``cv_results_`` from the scorer's log.

    The k-th row with a given configuration (and resource) takes the k-th
    group of ``n_splits`` logged calls with its key; a row ends with its
    last fold. None when some row has no complete group (failed fits, rows
    the search copied rather than evaluated).
    """
    logged = scorer.read_log()
    if not logged:
        return None
    calls: dict[str, list[float]] = {}
    for stamp, key in logged:
        calls.setdefault(key, []).append(stamp)
    used: dict[str, int] = {}
    ends = np.empty(len(results["params"]))
    for i, params in enumerate(results["params"]):
        estimator = clone(task.estimator).set_params(**clone(dict(params), safe=False))
        if resource != "n_samples" and "n_resources" in results:
            estimator.set_params(**{resource: int(results["n_resources"][i])})
        key = _evaluation_key(estimator, scorer.names)
        first = used.get(key, 0)
        stamps = calls.get(key, [])[first : first + n_splits]
        if len(stamps) < n_splits:
            return None
        used[key] = first + n_splits
        ends[i] = max(stamps) - start
    return ends


def _batches(results: Mapping[str, Any]) -> np.ndarray:
    """Batch of every row of ``cv_results_`` (see :class:`Evaluation`)."""
    n_rows = len(results["params"])
    if "stage" in results:  # HarmonicaSearchCV: a stage, or a rung of one
        rungs = results["rung"] if "rung" in results else [0] * n_rows
        keys = [(int(a), int(b)) for a, b in zip(results["stage"], rungs, strict=True)]
    elif "iter" in results:  # scikit-learn's successive halving
        keys = [int(k) for k in results["iter"]]
    else:
        return np.zeros(n_rows, dtype=int)
    ids: dict[Any, int] = {}
    return np.array([ids.setdefault(key, len(ids)) for key in keys], dtype=int)


def _result_from_search(
    method: str,
    task: Task,
    budget: int,
    seed: int,
    n_jobs: int | None,
    search: Any,
    scorer: _ClockedScorer,
    resource: str | None = None,
) -> Result:
    """Fit a search scoring with ``scorer`` and turn its ``cv_results_`` into a Result.

    Rows are taken to be evaluated in order, each on all folds, when the
    scorer saw every call in this process; with a log (parallel runs), each
    row ends with its last logged fold and the trace is put in order of
    completion; otherwise elapsed times are apportioned.
    """
    start = time.perf_counter()
    try:
        with threadpool_limits(limits=1):
            search.fit(task.X, task.y)
        wall_time = time.perf_counter() - start
        results = search.cv_results_
        n_rows = len(results["params"])
        n_splits = _n_splits(task)
        logged = None
        if scorer.log is not None:
            try:
                logged = _logged_elapsed(
                    task, results, scorer, n_splits, start, resource or task.resource
                )
            except Exception as error:  # noqa: BLE001 (timing is secondary: apportion)
                warnings.warn(f"could not date evaluations from the log: {error!r}")
    finally:
        if scorer.log is not None and os.path.exists(scorer.log):
            os.remove(scorer.log)
    fold_time = np.asarray(results["mean_fit_time"]) + np.asarray(
        results["mean_score_time"]
    )
    compute = fold_time * n_splits
    exact = True
    if len(scorer.times) == n_rows * n_splits:
        elapsed = np.asarray(scorer.times[n_splits - 1 :: n_splits]) - start
    elif logged is not None:
        elapsed = logged
    else:
        cumulative = np.cumsum(compute)
        elapsed = wall_time * cumulative / cumulative[-1]
        exact = False
    if "n_resources" in results:
        max_resources = getattr(search, "max_resources_", None) or max(
            results["n_resources"]
        )
        costs = np.asarray(results["n_resources"], dtype=float) / max_resources
    else:
        costs = np.ones(n_rows)
    batches = _batches(results)
    trace = [
        Evaluation(
            dict(params), float(score), float(t), float(cost), float(f), n_splits, int(b)
        )
        for params, score, t, cost, f, b in zip(
            results["params"],
            results["mean_test_score"],
            elapsed,
            costs,
            fold_time,
            batches,
            strict=True,
        )
    ]
    if logged is not None:
        # Order of completion: the incumbent after each evaluation is then
        # what the search knew at that time.
        trace.sort(key=lambda evaluation: evaluation.elapsed)
    overhead = wall_time - float(np.sum(compute)) if n_jobs in (1, None) else None
    return Result(
        method=method,
        task=task.name,
        seed=seed,
        budget=budget,
        trace=trace,
        best_params=dict(search.best_params_),
        wall_time=wall_time,
        search_overhead=overhead,
        compute_time=float(np.sum(compute)),
        exact_elapsed=exact,
        resource_costs=getattr(search, "resource_costs_", None),
    )


def run_random_search(
    task: Task, budget: int, seed: int, n_jobs: int | None = 1
) -> Result:
    """Run ``RandomizedSearchCV`` with ``budget`` sampled configurations.

    Parameters
    ----------
    task : Task
        The task to tune.
    budget : int
        Number of full evaluations.
    seed : int
        Seeds the sampling.
    n_jobs : int or None, default=1
        Parallel jobs of the search.

    Returns
    -------
    Result
    """
    scorer = _clocked_scorer(task, n_jobs)
    search = RandomizedSearchCV(
        task.estimator,
        task.param_space,
        n_iter=budget,
        cv=task.cv,
        scoring=scorer,
        n_jobs=n_jobs,
        random_state=seed,
        refit=False,
    )
    return _result_from_search("random", task, budget, seed, n_jobs, search, scorer)


def run_grid_search(
    task: Task, budget: int, seed: int, n_jobs: int | None = 1
) -> Result:
    """Run ``GridSearchCV`` over the whole space when its grid fits the budget.

    Parameters
    ----------
    task : Task
        The task to tune; its space must hold only lists.
    budget : int
        Number of full evaluations; the grid must not be larger.
    seed : int
        Recorded in the result only (the grid is deterministic).
    n_jobs : int or None, default=1
        Parallel jobs of the search.

    Returns
    -------
    Result

    Raises
    ------
    MethodNotApplicable
        If the space holds a distribution or its grid exceeds the budget.
    """
    subspaces = _subspaces(task.param_space)
    if any(_is_distribution(v) for subspace in subspaces for v in subspace.values()):
        raise MethodNotApplicable(f"{task.name}: the space has distributions, no grid")
    size = len(ParameterGrid(task.param_space))
    if size > budget:
        raise MethodNotApplicable(
            f"{task.name}: grid of {size} exceeds budget {budget}"
        )
    scorer = _clocked_scorer(task, n_jobs)
    search = GridSearchCV(
        task.estimator,
        task.param_space,
        cv=task.cv,
        scoring=scorer,
        n_jobs=n_jobs,
        refit=False,
    )
    return _result_from_search("grid", task, budget, seed, n_jobs, search, scorer)


def _halving_plan(
    n_candidates: int, smallest: int, max_resources: int, factor: int
) -> tuple[int, float]:
    """Return sklearn's ``min_resources="exhaust"`` and the cost of a halving run.

    Mirrors ``BaseSuccessiveHalving._run_search`` without aggressive
    elimination; the cost is in full evaluations.
    """
    n_required = 1 + math.floor(math.log(n_candidates, factor))
    min_resources = max(smallest, max_resources // factor ** (n_required - 1))
    n_possible = 1 + math.floor(math.log(max_resources // min_resources, factor))
    cost, remaining = 0.0, n_candidates
    for iteration in range(min(n_required, n_possible)):
        resources = min(int(factor**iteration * min_resources), max_resources)
        cost += remaining * resources / max_resources
        remaining = math.ceil(remaining / factor)
    return min_resources, cost


def run_halving_random_search(
    task: Task, budget: int, seed: int, n_jobs: int | None = 1
) -> Result:
    """Run ``HalvingRandomSearchCV`` with the most candidates the budget allows.

    The resource is the task's (the number of training rows unless the task
    names an estimator parameter, such as a net's epochs) and the factor 3. For each
    candidate count, ``min_resources`` is chosen as sklearn's "exhaust" does
    (the last round uses as many rows as possible, starting no lower than
    sklearn's "smallest", or than the task's ``min_resources`` when it sets
    one), and the largest count whose total cost fits the budget is used.

    Parameters
    ----------
    task : Task
        The task to tune.
    budget : int
        Number of full evaluations (a row at resource ``r`` costs
        ``r / max_resources``).
    seed : int
        Seeds the sampling and the subsampling.
    n_jobs : int or None, default=1
        Parallel jobs of the search.

    Returns
    -------
    Result
    """
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    if task.resource == "n_samples":
        max_resources = len(task.X)
        smallest = 2 * _n_splits(task)
        if is_classifier(task.estimator):
            smallest *= len(np.unique(task.y))
    else:
        max_resources = int(task.estimator.get_params()[task.resource])
        smallest = 1
    if task.min_resources is not None:
        smallest = max(smallest, int(task.min_resources))
    n_candidates, min_resources = 1, max_resources
    for candidates in range(1, budget * max_resources // smallest + 1):
        resources, cost = _halving_plan(
            candidates, smallest, max_resources, _HALVING_FACTOR
        )
        if cost <= budget:
            n_candidates, min_resources = candidates, resources
    scorer = _clocked_scorer(task, n_jobs)
    search = HalvingRandomSearchCV(
        task.estimator,
        task.param_space,
        n_candidates=n_candidates,
        factor=_HALVING_FACTOR,
        resource=task.resource,
        min_resources=min_resources,
        max_resources=max_resources,
        cv=task.cv,
        scoring=scorer,
        n_jobs=n_jobs,
        random_state=seed,
        refit=False,
        return_train_score=False,
    )
    result = _result_from_search(
        "halving_random", task, budget, seed, n_jobs, search, scorer, task.resource
    )
    result.full_cost = float(search.n_resources_[-1]) / float(search.max_resources_)
    return result


def run_optuna_tpe(
    task: Task, budget: int, seed: int, n_jobs: int | None = 1
) -> Result:
    """Run Optuna's TPE sampler for ``budget`` cross-validated trials.

    Each trial draws a configuration with :func:`suggest_params` and scores it
    with ``cross_validate`` using the task's estimator, folds and scoring.
    The chosen configuration is the trial with the best CV score.

    Parameters
    ----------
    task : Task
        The task to tune.
    budget : int
        Number of trials.
    seed : int
        Seed of ``TPESampler``.
    n_jobs : int or None, default=1
        Parallel jobs over the folds of a trial.

    Returns
    -------
    Result
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cv = check_cv(task.cv, task.y, classifier=is_classifier(task.estimator))
    trace: list[Evaluation] = []
    compute = 0.0
    start = time.perf_counter()

    def objective(trial: optuna.trial.Trial) -> float:
        nonlocal compute
        params = suggest_params(trial, task.param_space)
        estimator = clone(task.estimator).set_params(
            **{name: clone(value, safe=False) for name, value in params.items()}
        )
        scores = cross_validate(
            estimator, task.X, task.y, cv=cv, scoring=task.scoring, n_jobs=n_jobs
        )
        fold_times = np.asarray(scores["fit_time"]) + np.asarray(scores["score_time"])
        compute += float(np.sum(fold_times))
        score = float(np.mean(scores["test_score"]))
        trace.append(
            Evaluation(
                params,
                score,
                time.perf_counter() - start,
                fold_time=float(np.mean(fold_times)),
                n_folds=len(fold_times),
                batch=len(trace),
            )
        )
        return score

    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed)
    )
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        # Optuna warns about every trial whose score is NaN (failed fits).
        warnings.simplefilter("ignore", UserWarning)
        study.optimize(objective, n_trials=budget)
    wall_time = time.perf_counter() - start
    scores = np.array([evaluation.score for evaluation in trace])
    best = 0 if np.isnan(scores).all() else int(np.nanargmax(scores))
    return Result(
        method="optuna_tpe",
        task=task.name,
        seed=seed,
        budget=budget,
        trace=trace,
        best_params=trace[best].params,
        wall_time=wall_time,
        search_overhead=wall_time - compute if n_jobs in (1, None) else None,
        compute_time=compute,
    )


def run_skopt_bayes(
    task: Task, budget: int, seed: int, n_jobs: int | None = 1
) -> Result:
    """Run scikit-optimize's ``BayesSearchCV`` for ``budget`` evaluations.

    The space is converted with :func:`to_skopt_space`; evaluations are
    sequential (``n_points=1``). After its 10 random initial points, the
    Gaussian process is refit at every evaluation, costing 1.5 to 5 s each on
    a 2-core machine (budget 20 on the mock tasks: 15 to 47 s, against under
    a second for the other methods), so keep it to small budgets.

    Parameters
    ----------
    task : Task
        The task to tune.
    budget : int
        Number of full evaluations, split over sub-spaces.
    seed : int
        Seeds the optimizer.
    n_jobs : int or None, default=1
        Parallel jobs over the folds of an evaluation.

    Returns
    -------
    Result
    """
    from skopt import BayesSearchCV

    scorer = _clocked_scorer(task, n_jobs)
    search = BayesSearchCV(
        task.estimator,
        to_skopt_space(task.param_space, budget),
        cv=task.cv,
        scoring=scorer,
        n_jobs=n_jobs,
        random_state=seed,
        refit=False,
        return_train_score=False,
    )
    return _result_from_search(
        "skopt_bayes", task, budget, seed, n_jobs, search, scorer
    )


def run_harmonica(
    task: Task,
    budget: int,
    seed: int,
    n_jobs: int | None = 1,
    method: str = "harmonica",
    **search_params: Any,
) -> Result:
    """Run ``harmonica_sklearn.HarmonicaSearchCV`` with ``n_iter=budget``.

    The trace is its ``cv_results_`` in row order; rows at a resource below
    the maximum (its final successive halving) cost ``n_resources /
    max_resources_`` (or the largest ``n_resources`` when the search has no
    ``max_resources_``). Check ``Result.total_cost`` against the budget.

    Parameters
    ----------
    task : Task
        The task to tune.
    budget : int
        Passed as ``n_iter``.
    seed : int
        Passed as ``random_state``.
    n_jobs : int or None, default=1
        Passed as ``n_jobs``.
    method : str, default="harmonica"
        Name recorded in the result (e.g. of a variant).
    **search_params
        Other parameters of ``HarmonicaSearchCV`` (``n_best``, ``degree``,
        ``time_budget``, ...), for variants of the method. A ``time_budget``
        raises :class:`MethodNotApplicable` while ``HarmonicaSearchCV`` has no
        such parameter (:func:`has_time_budget`). A ``resource`` that names a key of
        the task's space is taken out of the space, since the search sets it;
        unless ``max_resources`` is given, it is the largest value the space
        listed for that key.

    Returns
    -------
    Result

    Raises
    ------
    ImportError
        If ``harmonica_sklearn`` is not importable.
    """
    from harmonica_sklearn import HarmonicaSearchCV

    param_space = task.param_space
    search_params.setdefault("resource", task.resource)
    resource = search_params["resource"]
    if resource not in ("n_samples", task.resource):
        param_space, largest = _without_resource(param_space, resource)
        if largest is not None:
            search_params.setdefault("max_resources", largest)
    if search_params.get("time_budget") is not None and not has_time_budget():
        raise MethodNotApplicable("HarmonicaSearchCV has no time_budget parameter (yet)")
    scorer = _clocked_scorer(task, n_jobs, param_space, resource)
    search = HarmonicaSearchCV(
        task.estimator,
        param_space,
        n_iter=budget,
        cv=task.cv,
        n_jobs=n_jobs,
        random_state=seed,
        scoring=scorer,
        refit=False,
        **search_params,
    )
    return _result_from_search(
        method, task, budget, seed, n_jobs, search, scorer, resource
    )


def has_time_budget() -> bool:
    """Whether ``HarmonicaSearchCV`` takes a ``time_budget`` (seconds) parameter."""
    from harmonica_sklearn import HarmonicaSearchCV

    return "time_budget" in HarmonicaSearchCV._get_param_names()


def _without_resource(
    param_space: Mapping[str, Any] | Sequence[Mapping[str, Any]], resource: str
) -> tuple[list[dict[str, Any]], int | None]:
    """Drop ``resource`` from every sub-space; return them and its largest listed value.

    The value is None when no sub-space lists ``resource`` with integers.
    """
    subspaces, listed = [], []
    for subspace in _subspaces(param_space):
        values = subspace.get(resource)
        if isinstance(values, Sequence) and not isinstance(values, str):
            listed += [v for v in values if isinstance(v, int)]
        subspaces.append({k: v for k, v in subspace.items() if k != resource})
    return subspaces, max(listed, default=None)


METHODS: dict[str, Callable[..., Result]] = {
    "random": run_random_search,
    "grid": run_grid_search,
    "halving_random": run_halving_random_search,
    "optuna_tpe": run_optuna_tpe,
    "skopt_bayes": run_skopt_bayes,
    "harmonica": run_harmonica,
}
"""Runners by method name, each ``run(task, budget, seed, n_jobs=1) -> Result``."""
