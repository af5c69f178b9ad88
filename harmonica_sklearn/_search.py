"""HarmonicaSearchCV: spectral hyperparameter search for scikit-learn."""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import queue
import re
import time
import warnings

import joblib
import numpy as np
import sklearn
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.fixes import parse_version
from sklearn.utils.validation import _num_samples

from ._checkpoint import CheckpointStore, fingerprint
from ._budget import TimeBudget, resource_costs
from ._halving import SubsampledSplits
from ._history import Batch
from ._optimizer import HarmonicaOptimizer
from ._report import format_report
from ._space import SearchSpace, _as_branch_list

__all__ = ["HarmonicaSearchCV"]

# The clock of time_budget (tests replace it with a fake one).
_clock = time.monotonic

# scikit-learn >= 1.9's BaseSearchCV.fit calls the _check_input_parameters
# hook itself, after checking cv; earlier versions leave it to subclasses.
_BASE_FIT_CHECKS_INPUT = parse_version(
    parse_version(sklearn.__version__).base_version
) >= parse_version("1.9")

# Reruns of a batch of fits lost with a worker (see _SearchRun._evaluate_batch).
_MAX_BATCH_RETRIES = 2
# Exceptions by which a joblib backend says that a worker, or data only it
# held, was lost: {top-level package: class names}, matched on the exception's
# classes so that neither dask nor ray has to be imported.  Ray's
# OutOfMemoryError is left out: a rerun would most likely be killed again.
_LOST_WORKER_ERRORS = {
    "distributed": {"KilledWorker", "FutureCancelledError", "FuturesCancelledError"},
    "ray": {"RayActorError", "WorkerCrashedError", "NodeDiedError", "ObjectLostError"},
    "joblib": {"TerminatedWorkerError"},
}


class HarmonicaSearchCV(BaseSearchCV):
    """Hyperparameter search by spectral recovery (Harmonica).

    The search space is encoded into +/-1 bits.  Each *spectral stage*
    cross-validates a batch of candidates sampled from the current space (in
    parallel, through joblib, like :class:`~sklearn.model_selection.GridSearchCV`),
    fits a sparse low-degree polynomial over parity features of the free
    bits, and restricts the space to the few settings of the important bits
    that maximise it.  A final stage of successive halving (or random search)
    on the restricted space picks the best candidate, which is then refitted.

    When the space is finite and holds at most ``n_iter`` candidates, every
    candidate is evaluated at full resource, exactly as ``GridSearchCV`` does.

    Parameters
    ----------
    estimator : estimator object
        An object implementing ``fit``; either ``score`` or ``scoring`` is
        used to evaluate it.
    param_space : dict or list of dicts
        Parameter names mapped to lists of values or to scipy.stats
        distributions (anything with ``rvs``), as accepted by ``GridSearchCV``
        and ``RandomizedSearchCV``.  A list of dicts is a conditional space:
        one dict (branch) is chosen per candidate.
    n_iter : int, default=100
        Total budget, counted in full-resource candidate evaluations (each
        one cross-validated over all folds).  An evaluation at resource ``r``
        costs ``r / max_resources``.
    scoring : str, callable, list, tuple or dict, default=None
        As in ``GridSearchCV``.  With several metrics, the ``refit`` metric
        (or the first metric when ``refit`` is a callable or False) drives
        the search.
    n_jobs : int, default=None
        Number of jobs to run in parallel (joblib).  A batch of fits lost
        with a worker (Dask, Ray, loky) is run again, at most twice, with a
        ``RuntimeWarning``; the result is unchanged.
    refit : bool, str or callable, default=True
        As in ``GridSearchCV``.  The best candidate is chosen among those
        evaluated at full resource; a callable receives ``cv_results_``
        restricted to those rows and its index is mapped back.
    cv : int, cross-validation generator or iterable, default=None
        As in ``GridSearchCV``.  The splits are computed once per ``fit`` so
        every stage sees the same folds.
    verbose : int, default=0
        0: silent; 1: a line per stage and per halving rung; >1 also
        sklearn's per-fit messages.
    pre_dispatch : int or str, default="2*n_jobs"
        As in ``GridSearchCV``.
    random_state : int, RandomState instance or None, default=None
        Drives every random decision of the search (sampling, subsampling).
        The search itself is reproducible for a fixed value, whatever
        ``n_jobs`` or the joblib backend.
    error_score : "raise" or numeric, default=np.nan
        Score of a failing fit.  The spectral stages and the halving rungs
        treat non-finite scores (NaN, -inf and +inf) as failed: as the worst
        finite score seen, with a warning giving their number.
    return_train_score : bool, default=False
        As in ``GridSearchCV``.
    n_stages : int or "auto", default="auto"
        Number of spectral stages (0 skips them).  "auto": up to 3 stages of
        about 100 candidates within 60% of ``n_iter``.
    stage_size : int or "auto", default="auto"
        Candidates sampled per spectral stage.
    degree : int, default=3
        Highest degree of the parity features.  Lowered (with a warning)
        when the feature matrix would exceed 512 MiB.
    n_terms : int, default=5
        Number of polynomial terms kept per stage.
    n_best : int, default=4
        Number of settings of the important bits kept after each stage; the
        next stage samples among them.  1 is the greedy choice of the
        original code; more is safer when weak terms decide between them.
    alpha : float or None, default=None
        Lasso strength on the standardised scores.  None walks the Lasso
        path until ``n_terms`` terms are active, which needs no tuning.
    distribution_bits : int, default=3
        Bits per continuous distribution: ``2**distribution_bits`` buckets
        of equal probability.  The final stage samples freely inside the
        chosen buckets.
    final_stage : {"halving", "random"}, default="halving"
        Search on the restricted space after the spectral stages.
    final_pool : int, default=32
        The final stage draws ``final_pool`` times more new candidates than
        it evaluates and keeps the best of them by a ridge surrogate over
        all parity features of degree <= 2, fitted on every spectral-stage
        evaluation.  When the restricted space runs out of new candidates
        the pool is topped up from the whole space, so the budget is never
        left unspent.  1 samples the restricted space uniformly (the
        original algorithm).  The default won on the benchmarks
        (docs/algorithm.md).
    resource : str, default="n_samples"
        Resource of successive halving: ``"n_samples"`` (training rows of
        each fold) or the name of an integer estimator parameter such as
        ``"max_iter"``, ``"n_estimators"`` or skorch's ``"max_epochs"``.
    factor : float, default=3
        Halving keeps ``1 / factor`` of the candidates per rung and
        multiplies the resource by ``factor``.
    min_resources : int or "auto", default="auto"
        Resource of the first rung.  "auto": ``max_resources / factor**2``,
        and for ``n_samples`` at least ``2 * n_splits`` (times the number of
        classes for classifiers).
    max_resources : int or "auto", default="auto"
        Full resource.  "auto": the number of samples, or the estimator's
        current value of the ``resource`` parameter.
    spectral_resource : int, "auto" or None, default="auto"
        Resource of the spectral-stage evaluations.  A smaller value makes
        the spectral stages cheaper, the paper's "tune small, train big":
        each evaluation costs ``spectral_resource / max_resources`` of the
        budget, so the stages see more candidates.  "auto":
        ``max_resources / factor`` (one halving rung below full, at least
        ``min_resources``), which beat full-resource stages on the
        benchmarks (docs/algorithm.md); None: ``max_resources``.
    checkpoint : str, path-like or None, default=None
        Directory of a durable store of finished evaluations.  Each
        fit-and-score is written there as soon as it finishes; calling
        ``fit`` again with the same arguments after an interruption (a
        crash, a killed process, KeyboardInterrupt) reads the stored
        evaluations instead of recomputing them and ends with the result of
        an uninterrupted run.  A store written for other data, estimator,
        space, splits or scoring is refused with an error.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        As in ``GridSearchCV``, plus ``stage`` (1, 2, ... for spectral
        stages, then the final stage; 0 in exhaustive mode), ``phase``
        ("spectral", "halving", "random" or "exhaustive"), ``rung`` (halving
        rung, 0 elsewhere) and ``n_resources``.
    best_estimator_ : estimator
        Refitted on the whole data with the best parameters (if ``refit``).
    best_score_ : float
        Mean cross-validated score of the best candidate.
    best_params_ : dict
        Parameters of the best candidate.
    best_index_ : int
        Row of the best candidate in ``cv_results_``.
    scorer_ : function or dict
    n_splits_ : int
    refit_time_ : float
    multimetric_ : bool
    space_ : SearchSpace
        The encoded search space.
    search_mode_ : {"spectral", "exhaustive"}
        Whether the space was small enough to be evaluated whole.
    stages_ : list of StageReport
        Per spectral stage: the recovered terms in hyperparameter names and
        values with their coefficients, and the settings kept.
    param_importances_ : dict
        Each hyperparameter's share of the summed effects, in score units
        (sums to 1 when any effect was found, else all 0): its effect is the
        largest spread of predicted mean score over its values that a stage
        measured (``StageReport.effects``), and an interaction's effect is
        split evenly among its parameters.
    n_candidates_ : list of int
        Candidates per rung of the final stage.
    n_resources_ : list of int
        Resource per rung of the final stage.
    final_stage_ : dict
        How the final stage chose its first candidates (spectral mode):
        ``pool_size`` new candidates were ranked by the surrogate
        (``pool_from_outside`` of them drawn from the whole space, because
        the restricted space had too few left), ``n_kept`` of them were
        evaluated, ``kept_from_outside`` of those lie outside the last
        stage's restriction. Empty in exhaustive mode.
    max_resources_, min_resources_ : int
    budget_spent_ : float
        Full-resource evaluations spent (at most ``n_iter``, up to rounding
        of the last halving rung).

    See Also
    --------
    sklearn.model_selection.GridSearchCV : Exhaustive search over a grid.
    sklearn.model_selection.RandomizedSearchCV : Random search.

    Notes
    -----
    Hazan, Klivans and Yuan, "Hyperparameter Optimization: A Spectral
    Approach", ICLR 2018.

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from harmonica_sklearn import HarmonicaSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> space = {"C": loguniform(1e-3, 1e3), "fit_intercept": [True, False]}
    >>> search = HarmonicaSearchCV(
    ...     LogisticRegression(max_iter=500), space, n_iter=30, random_state=0
    ... ).fit(X, y)
    >>> sorted(search.best_params_)
    ['C', 'fit_intercept']
    >>> bool(search.best_score_ > 0.9)
    True
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "param_space": [dict, list],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_stages": [Interval(numbers.Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "stage_size": [
            Interval(numbers.Integral, 3, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "degree": [Interval(numbers.Integral, 1, 4, closed="both")],
        "n_terms": [Interval(numbers.Integral, 1, 50, closed="both")],
        "n_best": [Interval(numbers.Integral, 1, None, closed="left")],
        "alpha": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "distribution_bits": [Interval(numbers.Integral, 1, 8, closed="both")],
        "final_stage": [StrOptions({"halving", "random"})],
        "final_pool": [Interval(numbers.Integral, 1, None, closed="left")],
        "resource": [str],
        "factor": [Interval(numbers.Real, 1, None, closed="neither")],
        "min_resources": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "max_resources": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "spectral_resource": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            None,
        ],
        "checkpoint": [str, os.PathLike, None],
        "time_budget": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "min_train_rows": [Interval(numbers.Integral, 0, None, closed="left")],
        "on_evaluation": [callable, None],
    }

    def __init__(
        self,
        estimator,
        param_space,
        *,
        n_iter=100,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        n_stages="auto",
        stage_size="auto",
        degree=3,
        n_terms=5,
        n_best=4,
        alpha=None,
        distribution_bits=3,
        final_stage="halving",
        final_pool=32,
        resource="n_samples",
        factor=3,
        min_resources="auto",
        max_resources="auto",
        spectral_resource="auto",
        checkpoint=None,
        time_budget=None,
        min_train_rows=1000,
        on_evaluation=None,
    ):
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.param_space = param_space
        self.n_iter = n_iter
        self.random_state = random_state
        self.n_stages = n_stages
        self.stage_size = stage_size
        self.degree = degree
        self.n_terms = n_terms
        self.n_best = n_best
        self.alpha = alpha
        self.distribution_bits = distribution_bits
        self.final_stage = final_stage
        self.final_pool = final_pool
        self.resource = resource
        self.factor = factor
        self.min_resources = min_resources
        self.max_resources = max_resources
        self.spectral_resource = spectral_resource
        self.checkpoint = checkpoint
        self.time_budget = time_budget
        self.min_train_rows = min_train_rows
        self.on_evaluation = on_evaluation

    def fit(self, X, y=None, **params):
        """Run the search and refit the best candidate.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Target; None for unsupervised learning.
        **params : dict
            Passed to the estimator's ``fit``, the scorer and the CV splitter
            (``groups``), as in ``GridSearchCV.fit``.

        Returns
        -------
        self : object
            The fitted search.
        """
        if self.checkpoint is None:
            return self._fit(X, y, **params)
        self._validate_params()
        with CheckpointStore(self.checkpoint).intercepting():
            return self._fit(X, y, **params)

    def _fit(self, X, y, **params):
        self._search_fit(X, y, **params)
        _warn_undercounted_costs(self.resource_costs_, self.resource)
        return self

    def _search_fit(self, X, y, **params):
        if not _BASE_FIT_CHECKS_INPUT:
            # scikit-learn < 1.9: BaseSearchCV.fit neither calls the
            # _check_input_parameters hook nor keeps the checked cv; do both
            # here, as its successive-halving searches do.
            self._validate_params()
            self._checked_cv_orig = check_cv(
                self.cv, y, classifier=is_classifier(self.estimator)
            )
            routed_params = self._get_routed_params_for_fit(params)
            self._check_input_parameters(X, y, routed_params.splitter.split)
        return super().fit(X, y, **params)

    def report(self, max_terms=10):
        """A plain-text report: best candidate, terms learned, importances.

        Parameters
        ----------
        max_terms : int, default=10
            Effects (groups of terms) shown per stage.

        Returns
        -------
        str
        """
        if not hasattr(self, "cv_results_"):
            raise AttributeError(
                "This HarmonicaSearchCV is not fitted yet: call fit before report()."
            )
        return format_report(self, max_terms=max_terms)

    # ------------------------------------------------------------ set-up
    def _check_input_parameters(self, X, y, split_params):
        # BaseSearchCV.fit calls this hook after checking `cv` and before the
        # search: the place to validate everything that needs the data.
        if self.time_budget is not None and not math.isfinite(self.time_budget):
            raise ValueError(
                "The 'time_budget' parameter of HarmonicaSearchCV must be a finite "
                f"number of seconds > 0 or None. Got {self.time_budget!r} instead."
            )
        self.space_ = SearchSpace.from_param_space(
            self.param_space, distribution_bits=self.distribution_bits
        )
        _check_param_names(self.estimator, self.param_space)
        # Fixed splits: every stage and rung must see the same folds.
        self._splits = list(self._checked_cv_orig.split(X, y, **split_params))
        self._checked_cv_orig = check_cv(self._splits)
        self._y_classes = None
        if is_classifier(self.estimator) and y is not None and np.asarray(y).ndim == 1:
            self._y_classes = np.unique(np.asarray(y), return_inverse=True)[1]
        self._n_samples = _num_samples(X)
        self._set_resources()
        if self.checkpoint is not None:
            CheckpointStore(self.checkpoint).open(
                fingerprint(
                    self.estimator,
                    self.param_space,
                    X,
                    y,
                    self._splits,
                    self.scoring,
                    self.error_score,
                    self.return_train_score,
                )
            )

    def _set_resources(self):
        n_splits = len(self._splits)
        if self.resource == "n_samples":
            max_r = self._n_samples if self.max_resources == "auto" else self.max_resources
            if max_r > self._n_samples:
                raise ValueError(
                    f"max_resources={max_r} exceeds the number of samples "
                    f"({self._n_samples}) for resource='n_samples'."
                )
            n_classes = 1 if self._y_classes is None else self._y_classes.max() + 1
            smallest = max(2 * n_splits * n_classes, self._row_floor())
        else:
            max_r = self._max_resources_from_estimator()
            smallest = 1
        if self.min_resources == "auto":
            min_r = max(smallest, int(round(max_r / self.factor**2)))
            min_r = min(min_r, max_r)
            if self.resource == "n_samples" and min_r * self.factor > max_r:
                # No rung fits between min_r and max_r: do not subsample.
                min_r = max_r
        else:
            min_r = self.min_resources
        if min_r > max_r:
            raise ValueError(
                f"min_resources={min_r} is larger than max_resources={max_r}."
            )
        if self.spectral_resource == "auto":
            spectral = min(max_r, max(min_r, int(round(max_r / self.factor))))
        elif self.spectral_resource is None:
            spectral = max_r
        else:
            spectral = self.spectral_resource
        if spectral > max_r:
            raise ValueError(
                f"spectral_resource={spectral} is larger than max_resources={max_r}."
            )
        self.max_resources_, self.min_resources_ = int(max_r), int(min_r)
        self._spectral_resource = int(spectral)

    def _row_floor(self):
        """The n_samples resource whose folds keep ``min_train_rows``
        training rows (a subsample fit on fewer rows costs far more than its
        share of a full one: its fixed costs and the scoring of the whole
        test fold do not shrink)."""
        n_train = min(len(train) for train, _ in self._splits)
        if self.min_train_rows == 0 or n_train == 0:
            return 0
        return math.ceil(self.min_train_rows * self._n_samples / n_train)

    def _max_resources_from_estimator(self):
        valid = self.estimator.get_params(deep=True)
        if self.resource not in valid:
            raise ValueError(
                f"resource={self.resource!r} is neither 'n_samples' nor a parameter "
                f"of {type(self.estimator).__name__}. Valid parameters are: "
                f"{sorted(valid)}."
            )
        if any(self.resource in branch for branch in _as_branch_list(self.param_space)):
            raise ValueError(
                f"resource={self.resource!r} is also a key of param_space; the "
                "search sets the resource itself, remove it from param_space."
            )
        if self.max_resources != "auto":
            return self.max_resources
        current = valid[self.resource]
        if not isinstance(current, numbers.Integral) or current < 1:
            raise ValueError(
                f"max_resources='auto' takes the estimator's {self.resource}, which "
                f"is {current!r}; set max_resources to a positive integer."
            )
        return int(current)

    # ------------------------------------------------------------ search
    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        optimizer = self._optimizer()
        run = _SearchRun(
            self,
            evaluate_candidates,
            callback_ctx,
            # With a time budget a batch may run as a pilot and the rest.
            max_batches=optimizer.max_batches() * (1 if self.time_budget is None else 2),
        )
        budget = TimeBudget(self.time_budget, clock=_clock)
        while (batch := optimizer.ask_batch()) is not None:
            if self.time_budget is None:
                optimizer.tell_batch(batch, self._timed(run, batch, budget))
                continue
            scores = self._evaluate_in_time(optimizer, batch, run, budget)
            if scores is None:
                break
            optimizer.tell_batch(batch, scores)
            optimizer.budget_cap = optimizer.budget_spent_ + budget.full_evaluations_left(
                self.max_resources_
            )
        run.close()
        self.history_ = optimizer.history_
        self.space_ = optimizer.space_
        self.search_mode_ = optimizer.search_mode_
        self.stages_ = optimizer.stages_
        self.n_candidates_ = optimizer.n_candidates_
        self.n_resources_ = optimizer.n_resources_
        self.final_stage_ = optimizer.final_stage_
        self.budget_spent_ = optimizer.budget_spent_
        self.param_importances_ = optimizer.param_importances_
        self.resource_costs_ = resource_costs(budget.costs, self.max_resources_)
        self.time_budget_ = None if self.time_budget is None else {
            "budget": float(self.time_budget),
            "used": float(budget.elapsed()),
            "stopped_early": budget.cut_short,
        }
        del self._splits, self._y_classes

    def _evaluate_in_time(self, optimizer, batch, run, budget):
        """Scores of the part of ``batch`` that finishes before the deadline
        (None when nothing does: the run stops).

        While the cost of the batch's resource is unknown, its first trial
        runs alone and measures it.
        """
        scores = []
        if budget.costs.per_candidate(batch.resource) is None:
            pilot = Batch(batch.trials[:1], batch.stage, batch.phase, batch.rung,
                          batch.resource, batch.seed)
            scores = list(self._timed(run, pilot, budget))
        n_fit = len(scores) + budget.affordable(batch.resource, len(batch) - len(scores))
        budget.cut_short |= n_fit < len(batch)
        if n_fit == 0:
            optimizer.stop()
            return None
        optimizer.truncate_pending(n_fit)
        if n_fit > len(scores):
            rest = Batch(batch.trials[len(scores):], batch.stage, batch.phase,
                         batch.rung, batch.resource, batch.seed)
            scores += list(self._timed(run, rest, budget))
        return np.array(scores)

    @staticmethod
    def _timed(run, batch, budget):
        start = budget.clock()
        scores = run.evaluate(batch)
        budget.costs.record(batch.resource, len(batch), budget.clock() - start)
        return scores

    def _optimizer(self):
        """The ask/tell optimizer with this search's settings and resources."""
        optimizer = HarmonicaOptimizer(
            self.param_space,
            n_iter=self.n_iter,
            random_state=self.random_state,
            n_stages=self.n_stages,
            stage_size=self.stage_size,
            degree=self.degree,
            n_terms=self.n_terms,
            n_best=self.n_best,
            alpha=self.alpha,
            distribution_bits=self.distribution_bits,
            final_stage=self.final_stage,
            final_pool=self.final_pool,
            factor=self.factor,
            min_resources=self.min_resources_,
            max_resources=self.max_resources_,
            spectral_resource=self._spectral_resource,
            resource=self.resource,
            verbose=self.verbose,
        )
        optimizer._log_prefix = type(self).__name__
        optimizer._draws_subsample_seed = self._subsamples
        return optimizer

    def _subsamples(self, resource):
        """Whether an evaluation at ``resource`` trains on subsampled folds."""
        return self.resource == "n_samples" and (
            resource < self.max_resources_ or self.max_resources_ < self._n_samples
        )

    def _select_best_index(self, refit, refit_metric, results):
        """Best row among the candidates evaluated at full resource."""
        full = np.flatnonzero(np.asarray(results["n_resources"]) == self.max_resources_)
        if callable(refit):
            subset = _take_rows(results, full)
            best = refit(subset)
            if not isinstance(best, numbers.Integral):
                raise TypeError("best_index_ returned is not an integer")
            if best < 0 or best >= len(full):
                raise IndexError("best_index_ index out of range")
            return int(full[best])
        ranks = np.asarray(results[f"rank_test_{refit_metric}"])[full]
        return int(full[np.argmin(ranks)])


class _SearchRun:
    """Evaluation of the optimizer's batches through ``evaluate_candidates``."""

    def __init__(self, search, evaluate_candidates, callback_ctx=None, max_batches=None):
        self.search = search
        # sklearn >= 1.9 callbacks (e.g. ProgressBar): one "search" task whose
        # subtasks are the evaluated batches (stages, rungs).
        self.callback_ctx = None
        if callback_ctx is not None:
            self.callback_ctx = callback_ctx.subcontext(
                task_name="search", max_subtasks=max_batches
            ).call_on_fit_task_begin(estimator=search)
        self.evaluate_candidates = evaluate_candidates

    # ---------------------------------------------------------- evaluation
    def evaluate(self, batch):
        """Cross-validate the trials of ``batch``; return their scores."""
        search = self.search
        candidates = [t.params for t in batch.trials]
        stage, phase, rung, resource = batch.stage, batch.phase, batch.rung, batch.resource
        n = len(candidates)
        # The fixed splits, also where BaseSearchCV (sklearn < 1.9) would
        # split the user's cv again for every batch.
        cv = search._checked_cv_orig
        if batch.seed is not None:
            cv = SubsampledSplits(
                search._splits,
                resource / search._n_samples,
                random_state=batch.seed,
                y_classes=search._y_classes,
            )
        elif search.resource != "n_samples":
            candidates = [{**c, search.resource: resource} for c in candidates]
        more_results = {
            "stage": [stage] * n,
            "phase": [phase] * n,
            "rung": [rung] * n,
            "n_resources": [resource] * n,
        }
        name = _batch_name(stage, phase, rung)
        try:
            results = self._evaluate_batch(name, candidates, cv, more_results)
        except ValueError as exc:
            if resource < search.max_resources_ and _all_fits_failed(exc):
                raise ValueError(self._resource_too_small(phase, rung, resource, exc)) from exc
            raise
        return np.asarray(results[_driving_key(search, results)][-n:], dtype=float)

    def _evaluate_batch(self, batch, candidates, cv, more_results):
        """``evaluate_candidates``, run again when a worker was lost.

        Safe: the candidates and the splits are fixed before the call, and
        ``evaluate_candidates`` adds nothing to ``cv_results_`` unless every
        fit of the batch came back, so a rerun gives what the lost run would.
        """
        for retry in range(_MAX_BATCH_RETRIES + 1):
            try:
                return self._evaluate_once(batch, candidates, cv, more_results, retry)
            except Exception as exc:
                if retry == _MAX_BATCH_RETRIES or not _lost_worker(exc):
                    raise
                if not _discard_unsent_batches(self.evaluate_candidates):
                    raise
                message = str(exc).strip().split("\n")[0][:200]
                warnings.warn(
                    f"{batch.capitalize()}: a worker was lost ({type(exc).__name__}: "
                    f"{message}); evaluating the batch again (retry {retry + 1} of "
                    f"{_MAX_BATCH_RETRIES}).",
                    RuntimeWarning,
                )

    def _evaluate_once(self, batch, candidates, cv, more_results, retry=0):
        # The search task announced its number of batches to the callbacks;
        # a rerun after a lost worker is not announced, so it runs unreported.
        if self.callback_ctx is None or retry > 0:
            return self.evaluate_candidates(candidates, cv=cv, more_results=more_results)
        batch_ctx = self.callback_ctx.subcontext(
            task_name=batch,
            max_subtasks=len(candidates) * self.search.n_splits_,
            sequential_subtasks=False,
        ).call_on_fit_task_begin(estimator=self.search)
        try:
            return self.evaluate_candidates(
                candidates, cv=cv, more_results=more_results, callback_ctx=batch_ctx
            )
        finally:
            # Also when a lost worker cut the batch short: its rerun is
            # unreported, and a task left open would keep a progress bar waiting.
            batch_ctx.call_on_fit_task_end(estimator=self.search)

    def _resource_too_small(self, phase, rung, resource, exc):
        """The message for a batch at a reduced resource whose fits all failed."""
        search = self.search
        if phase == "halving":
            where = f"halving rung {rung}"
            fix = f"Raise min_resources (now {search.min_resources_}) above {resource}"
        else:
            where = f"the {phase} stage"
            fix = f"Raise spectral_resource above {resource} (None: max_resources_)"
        amount = f"{search.resource}={resource}"
        if search.resource == "n_samples":
            n_train = len(search._splits[0][0])
            rows = max(1, round(resource / search._n_samples * n_train))
            amount += f" (about {rows} training rows per fold instead of {n_train})"
        return (
            f"All the fits of {where} failed at a reduced resource, {amount}, below "
            f"max_resources_={search.max_resources_}: the estimator may need more "
            f"{search.resource} than that. {fix}, or see the failures below.\n{exc}"
        )

    def close(self):
        if self.callback_ctx is not None:
            self.callback_ctx.call_on_fit_task_end(estimator=self.search)



def _warn_undercounted_costs(costs, resource):
    """Warn when reduced-resource evaluations cost over twice their charge."""
    def extra_seconds(c):
        full_seconds = c["seconds_per_candidate"] / c["relative_cost"]
        return c["n_evaluations"] * (c["seconds_per_candidate"] - c["charged"] * full_seconds)

    # Undercounts that cost under a second in all are noise, not news.
    worst = max(
        (
            c for c in costs.values()
            if c["charged"] < 1 and c["undercount"] > 2 and extra_seconds(c) >= 1.0
        ),
        key=lambda c: c["undercount"],
        default=None,
    )
    if worst is None:
        return
    level = next(r for r, c in costs.items() if c is worst)
    warnings.warn(
        f"Evaluations at {resource}={level} cost {worst['relative_cost']:.0%} of a "
        f"full-resource evaluation but n_iter counts them as {worst['charged']:.0%} "
        f"({worst['undercount']:.1f}x less): the search took longer than n_iter "
        "full evaluations. Raise min_resources (or min_train_rows) and "
        "spectral_resource, or set time_budget to bound the search in seconds; "
        "resource_costs_ has the figures.",
        UserWarning,
    )


def _batch_name(stage, phase, rung):
    """Task name of one ``evaluate_candidates`` call, as callbacks show it."""
    if phase == "exhaustive":
        return "exhaustive"
    if phase == "halving":
        return f"halving stage {stage} rung {rung}"
    return f"{phase} stage {stage}"


def _driving_key(search, results):
    """The ``mean_test_*`` column that drives the search."""
    if "mean_test_score" in results:
        return "mean_test_score"
    if isinstance(search.refit, str) and f"mean_test_{search.refit}" in results:
        return f"mean_test_{search.refit}"
    return next(key for key in results if key.startswith("mean_test_"))


def _lost_worker(exc):
    """Whether ``exc``, or one it was raised from, says a worker was lost."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for cls in type(exc).__mro__:
            package = cls.__module__.split(".")[0]
            if cls.__name__ in _LOST_WORKER_ERRORS.get(package, ()):
                return True
        exc = exc.__cause__
    return False


def _discard_unsent_batches(evaluate_candidates):
    """Empty the queue of batches that an aborted joblib call sliced but
    never sent; return False when that queue cannot be found.

    sklearn runs every batch of a search through one ``joblib.Parallel``
    (the ``parallel`` of ``evaluate_candidates``' closure).  joblib keeps the
    batches it sliced ahead in ``Parallel._ready_batches`` and does not empty
    it when a call aborts: the next call would run those fits of the lost
    batch and return their results with its own.  Private names of sklearn
    and joblib: without them the batch is not run again.
    """
    cells = dict(
        zip(
            getattr(getattr(evaluate_candidates, "__code__", None), "co_freevars", ()),
            getattr(evaluate_candidates, "__closure__", None) or (),
        )
    )
    try:
        parallel = cells["parallel"].cell_contents
    except (KeyError, ValueError):  # no such variable, or an empty cell
        return False
    ready = getattr(parallel, "_ready_batches", None)
    lock = getattr(parallel, "_lock", None)
    if not isinstance(parallel, joblib.Parallel) or not isinstance(ready, queue.Queue):
        return False
    # Under joblib's lock: a dispatch running in a callback thread finishes first.
    with lock if lock is not None else contextlib.nullcontext():
        while True:
            try:
                ready.get_nowait()
            except queue.Empty:
                return True


def _all_fits_failed(exc):
    # sklearn's message when every fit of a batch raised (error_score not "raise").
    return re.search(r"All the \d+ fits failed", str(exc)) is not None








def _take_rows(results, rows):
    subset = {}
    for key, value in results.items():
        if key == "params":
            subset[key] = [value[i] for i in rows]
        else:
            subset[key] = value[rows]
    return subset




def _check_param_names(estimator, param_space):
    """Unknown parameter names fail here, with the valid names, before any fit.

    A name is valid if ``get_params`` lists it (also through an estimator
    given as a value in the same branch) or if ``set_params`` accepts it on a
    clone: skorch, for one, routes ``module__*`` and ``optimizer__*`` names
    that ``get_params`` lists only once they are set.
    """
    base = set(estimator.get_params(deep=True))
    for branch in _as_branch_list(param_space):
        valid = set(base)
        for name, spec in branch.items():
            if isinstance(spec, (list, tuple)):
                for value in spec:
                    if hasattr(value, "get_params") and not isinstance(value, type):
                        valid |= {f"{name}__{k}" for k in value.get_params(deep=True)}
        unknown = sorted(
            name
            for name in branch
            if name not in valid and not _settable(estimator, name, branch[name])
        )
        if unknown:
            raise ValueError(
                f"Invalid parameter(s) {unknown} for estimator "
                f"{type(estimator).__name__} in param_space. Valid parameters "
                f"are: {sorted(valid)}."
            )


def _settable(estimator, name, spec):
    """Whether ``set_params`` accepts ``name`` on a clone of ``estimator``."""
    if "__" not in name:
        return False
    value = spec[0] if isinstance(spec, (list, tuple)) and len(spec) else None
    try:
        clone(estimator).set_params(**{name: value})
    except Exception:
        return False
    return True
