"""HarmonicaSearchCV: spectral hyperparameter search for scikit-learn."""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import time
import warnings

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import indexable
from sklearn.utils.multiclass import type_of_target

from . import _compat
from ._budget import paired_cost_ratios, resource_costs
from ._compat import BaseSearchCV, HasMethods, Interval, StrOptions
from ._decisions import MAX_N_ITER
from ._evaluation import CandidateEvaluator
from ._optimizer import HarmonicaOptimizer
from ._report import format_report, score_column
from ._search_run import SearchRun
from ._space import SearchSpace, _as_branch_list
from ._store import EvaluationStore, check_location, fingerprint
from ._warm_start import trials_and_scores_from_results

__all__ = ["HarmonicaSearchCV"]

# The clock of time_budget and of resource_costs_ (tests replace it).
_clock = time.monotonic


class _SpaceKeywordGuard:
    """Names ``param_space`` to a user who passes GridSearchCV's or
    RandomizedSearchCV's keyword, before ``__init__``'s bare TypeError.

    A base class, so that ``inspect.signature(HarmonicaSearchCV)`` (which
    prefers a ``__new__`` defined on the class itself) still reads
    ``__init__``.
    """

    def __new__(cls, *args, **kwargs):
        for name in ("param_grid", "param_distributions"):
            if name in kwargs:
                raise TypeError(
                    f"{cls.__name__} takes the space as param_space=, not {name}=: "
                    f"{cls.__name__}(estimator, param_space={{...}})."
                )
        return super().__new__(cls)


class HarmonicaSearchCV(_SpaceKeywordGuard, BaseSearchCV):
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
        one cross-validated over all folds), at most 100,000 per fit (a
        longer search continues with ``warm_start``).  An evaluation at resource ``r``
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
        multiplies the resource by ``factor`` (greater than 1, at most 1000).
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
        Directory of a durable store of finished evaluations (one SQLite
        file of numbers and strings: reading it never executes code).  The
        driver writes each fit-and-score there as soon as it comes back from
        a worker (workers need no shared disk); calling ``fit`` again with
        the same arguments after an interruption (a crash, a killed process,
        KeyboardInterrupt) reads the stored evaluations instead of
        recomputing them and, without ``time_budget``, ends with the result
        of an uninterrupted run.  A store written for other data, estimator,
        space, splits, scoring or fit parameters is refused with an error
        naming what differs; a location that cannot hold a store is refused
        before any fit; a failing write (a full disk) warns once and the
        search goes on without the store.  Callables (in the estimator, the
        space or the scoring) must be defined at module level.
    time_budget : float or None, default=None
        Wall-clock seconds the search may spend (the refit comes on top).
        The search then plans with measured costs: the stages are sized to
        the time left, halving rungs are priced at what their resource
        levels were measured to cost (and dropped when barely cheaper than
        the next), a candidate starts only if it should end before the
        deadline, and the search ends with the best candidate evaluated at
        full resource (one more full evaluation past the budget at most,
        when none was made yet).  ``n_iter`` still caps the number of
        evaluations; a grid of at most ``n_iter`` candidates is evaluated in
        a random order, so that a grid cut short is a sample of it.  Results
        then depend on the machine's speed: a fixed ``random_state`` no
        longer gives the same search.
    min_train_rows : int, default=1000
        With ``resource="n_samples"``, the smallest number of training rows
        per fold that a reduced resource may leave; below it the search does
        not subsample (a small subsample costs far more than its share of a
        full fit).  0 lifts the floor.
    on_evaluation : callable or None, default=None
        Called in the driver with a dict (``params``, ``estimator_params``,
        ``stage``, ``phase``, ``rung``, ``n_resources``,
        ``split_test_scores``, ``mean_test_score``, ``fit_time``,
        ``score_time``, ``failed``) each time a candidate's last split
        finishes, e.g. to log it to MLflow.  Not called for evaluations read
        from the checkpoint.  An exception it raises stops the search.
    warm_start : bool, default=False
        When True, ``fit`` continues the previous fit of this search: its
        evaluations are kept (none is run again), its stages inform the new
        ones, and ``n_iter`` is the budget of both fits together.  The data
        and ``cv`` must be those of the previous fit.
    initial_results : dict, fitted search or None, default=None
        Earlier evaluations on the same space (the ``cv_results_`` of a
        ``GridSearchCV``, ``RandomizedSearchCV`` or another search, or the
        search itself): each candidate is located in the space and counts
        as a spectral-stage sample, at no budget.  They are not rows of
        ``cv_results_``; the best of them is confirmed with this search's
        own cross-validation.  Candidates outside the space are left out
        with a warning.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        As in ``GridSearchCV``, plus ``stage`` (1, 2, ... for spectral
        stages, then the final stage; 0 in exhaustive mode), ``phase``
        ("spectral", "confirm", "halving", "random" or "exhaustive"),
        ``rung`` (halving rung, 0 elsewhere) and ``n_resources``.  A
        "confirm" row evaluates at full resource the best candidate the
        spectral stages saw at a reduced one (half-way through the first
        stage, then after each stage), so that the search holds a
        full-resource answer early.
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
    search_mode_ : {"spectral", "exhaustive", "halving only", "random only"}
        "exhaustive" when the space was small enough to be evaluated whole;
        "halving only" / "random only" when ``n_iter`` afforded no spectral
        stage (with a ``UserWarning`` saying what ``n_iter`` would).
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
    spectral_resource_ : int
        Resource of the spectral-stage evaluations.
    resource_costs_ : dict of int -> dict
        Per resource level: ``n_evaluations``, ``seconds_per_candidate``
        (wall seconds of its batches per candidate, all folds),
        ``charged`` (the share of a full evaluation ``n_iter`` counts),
        ``relative_cost`` (the measured share: the median ratio of fit +
        score seconds over the ``n_paired`` candidates evaluated at this
        level and at full resource, or, when ``n_paired`` is 0, the ratio
        of the levels' seconds per candidate) and ``undercount``
        (relative_cost / charged).  A ``UserWarning`` says when a level
        cost over twice its charge.
    time_budget_ : dict or None
        With ``time_budget``: ``budget``, ``used`` (seconds) and
        ``stopped_early`` (whether the time, not ``n_iter``, ended the search:
        a batch cut, or the plan shrunk to the time left).
    history_ : History
        Every evaluation in order (the optimizer's record, from which
        ``cv_results_`` is derived); ``warm_start`` continues from it.

    See Also
    --------
    sklearn.model_selection.GridSearchCV : Exhaustive search over a grid.
    sklearn.model_selection.RandomizedSearchCV : Random search.

    Notes
    -----
    Hazan, Klivans and Yuan, "Hyperparameter Optimization: A Spectral
    Approach", ICLR 2018.

    Where it differs from scikit-learn's searches, on purpose (each checked
    in ``tests/test_sklearn_port.py``):

    - With several metrics the search is driven by the ``refit`` metric (or
      the first one when ``refit`` is callable or False).
    - The best candidate is chosen among those evaluated at full resource; a
      callable ``refit`` sees only those rows (its index is mapped back) and
      ``best_score_`` is then absent.
    - When ``n_iter`` covers the whole grid, the grid is evaluated once,
      without ``RandomizedSearchCV``'s warning.
    - The splits are computed once per fit, so shuffling splitters are
      accepted (scikit-learn's halving searches refuse them).
    - Halving rungs are aligned on ``max_resources`` (1, 3, 10 rather than
      1, 3, 9); ``min_resources`` is an int or "auto"; the rungs are in
      ``n_resources_`` and ``n_candidates_`` (no ``n_iterations_``) and
      ``cv_results_`` has ``stage``, ``phase``, ``rung``, ``n_resources``
      instead of ``iter``.
    - At a reduced resource the training and test rows of each fold are
      subsampled (stratified when the target holds classes, as
      scikit-learn's, even for an estimator not declared a classifier), the
      same rows for every candidate of a batch; no subsampling below
      ``min_train_rows`` training rows.
    - Spectral-stage candidates compete for promotion in the rung of their
      resource, so a rung may hold candidates that were not in the previous
      one.
    - Callbacks (scikit-learn >= 1.9) see one task per batch (stage, rung)
      between the search and the per-split evaluations.

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
        **_compat.base_search_parameter_constraints(),
        "param_space": [dict, list],
        "n_iter": [Interval(numbers.Integral, 1, MAX_N_ITER, closed="both")],
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
        # Above 1000 a rung keeps one candidate in a thousand: meaningless,
        # and factor**2 overflows for huge values.
        "factor": [Interval(numbers.Real, 1, 1000, closed="right")],
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
        "warm_start": ["boolean"],
        "initial_results": [dict, HasMethods(["fit"]), None],
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
        warm_start=False,
        initial_results=None,
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
        self.warm_start = warm_start
        self.initial_results = initial_results

    @_compat.fit_context(prefer_skip_nested_validation=False)
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
        scorers, refit_metric = _compat.get_scorers(self)
        X, y = indexable(X, y)
        params = _compat.check_method_params(X, params)
        routed = _compat.routed_params_for_fit(self, params)
        metadata = {"sample_weight": params["sample_weight"]} if (
            params.get("sample_weight") is not None
        ) else None
        root_ctx = _compat.init_callback_context(
            self, max_subtasks=1 + (self.refit is not False)
        )
        if root_ctx is not None:
            root_ctx = root_ctx.call_on_fit_task_begin(
                estimator=self, X=X, y=y, metadata=metadata
            )
        splits, n_samples, y_classes = self._prepare(X, y, routed)
        optimizer = self._optimizer(n_samples)
        self._warm_start(optimizer)
        store = self._open_store(X, y, splits, routed)
        evaluator = CandidateEvaluator(
            clone(self.estimator),
            X,
            y,
            scorers=scorers,
            fit_params=routed.estimator.fit,
            score_params=routed.scorer.score,
            return_train_score=self.return_train_score,
            error_score=self.error_score,
            verbose=self.verbose,
            n_jobs=self.n_jobs,
            pre_dispatch=self.pre_dispatch,
            caller=self,
        )
        run = SearchRun(self, evaluator, splits, n_samples, y_classes, store, root_ctx, _clock)
        try:
            with evaluator:
                run.run(optimizer)
        finally:
            if store is not None:
                store.close()
        self._set_search_results(optimizer, run)
        self._choose_best(refit_metric)
        if self.refit:
            self._refit(X, y, routed, root_ctx, metadata)
        self.scorer_ = _compat.multimetric_scorers(scorers)
        if root_ctx is not None:
            root_ctx.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata)
        _warn_undercounted_costs(self.resource_costs_, self.resource)
        return self

    def _set_search_results(self, optimizer, run):
        """Every fitted attribute of the search, from the optimizer's history."""
        self.history_ = optimizer.history_
        self.cv_results_ = SearchRun.cv_results(self, self.history_, self.n_splits_)
        first = next(e for e in self.history_ if e.batch.phase != "told")
        first_scores = first.details["outs"][0]["test_scores"]
        self.multimetric_ = isinstance(first_scores, dict)
        if callable(self.scoring) and self.multimetric_:
            _compat.check_refit_for_multimetric(self, first_scores)
        self.space_ = optimizer.space_
        self.search_mode_ = optimizer.search_mode_
        self.stages_ = optimizer.stages_
        self.n_candidates_ = optimizer.n_candidates_
        self.n_resources_ = optimizer.n_resources_
        self.final_stage_ = optimizer.final_stage_
        self.budget_spent_ = optimizer.budget_spent_
        self.param_importances_ = optimizer.param_importances_
        self.resource_costs_ = resource_costs(
            run.budget.costs,
            self.max_resources_,
            paired_cost_ratios(self.history_, self.max_resources_),
        )
        self.time_budget_ = None if self.time_budget is None else {
            "budget": float(self.time_budget),
            "used": float(run.budget.elapsed()),
            "stopped_early": run.budget.cut_short,
        }

    def _choose_best(self, refit_metric):
        if callable(self.scoring) and self.multimetric_:
            refit_metric = self.refit
        if self.refit or not self.multimetric_:
            results = self.cv_results_
            self.best_index_ = self._select_best_index(self.refit, refit_metric, results)
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]

    def _refit(self, X, y, routed, root_ctx, metadata):
        # The parameters are cloned too: they may be estimators themselves
        # (a search over a Pipeline's steps).
        self.best_estimator_ = clone(self.estimator).set_params(
            **clone(self.best_params_, safe=False)
        )
        fit_params = routed.estimator.fit
        refit_ctx = None
        if root_ctx is not None:
            refit_ctx = root_ctx.subcontext(task_name="refit-with-best-params")
        with (
            refit_ctx.propagate_callback_context(self.best_estimator_)
            if refit_ctx is not None
            else contextlib.nullcontext()
        ):
            if refit_ctx is not None:
                refit_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
            start = time.time()
            if y is not None:
                self.best_estimator_.fit(X, y, **fit_params)
            else:
                self.best_estimator_.fit(X, **fit_params)
            self.refit_time_ = time.time() - start
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_
        if refit_ctx is not None:
            refit_ctx.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata)

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
    def _prepare(self, X, y, routed):
        """Validate what needs the data, before any fit; return the fixed
        splits, the number of samples and the class of each sample."""
        self.space_ = SearchSpace.from_param_space(
            self.param_space, distribution_bits=self.distribution_bits
        )
        _check_param_names(self.estimator, self.param_space)
        if self.checkpoint is not None:
            check_location(self.checkpoint)
        splits = _fixed_splits(self.cv, self.estimator, X, y, routed.splitter.split)
        self.n_splits_ = len(splits)
        y_classes = _class_of_each_sample(self.estimator, y)
        n_samples = _compat.num_samples(X)
        self._set_resources(splits, n_samples, y_classes)
        return splits, n_samples, y_classes

    def _warm_start(self, optimizer):
        """Earlier evaluations into the optimizer: this search's own (with
        ``warm_start``) and ``initial_results``."""
        if self.warm_start and hasattr(self, "history_"):
            previous_splits = len(self.history_.evaluations[0].details["outs"])
            if previous_splits != self.n_splits_:
                raise ValueError(
                    "warm_start=True continues the previous fit, which used "
                    f"{previous_splits} CV splits; "
                    f"this fit has {self.n_splits_}. Fit on the same data and cv, or "
                    "set warm_start=False."
                )
            optimizer.resume_from(self.history_, self.stages_)
        if self.initial_results is not None:
            results = getattr(self.initial_results, "cv_results_", self.initial_results)
            if not isinstance(results, dict) or "params" not in results:
                raise ValueError(
                    "initial_results must be a fitted search or its cv_results_ "
                    f"(a dict with 'params'); got {type(self.initial_results).__name__}."
                )
            key = score_column(results, self.refit)
            if key is None:
                raise ValueError("initial_results has no mean_test_* column to learn from.")
            trials, scores = trials_and_scores_from_results(optimizer.space_, results, key)
            optimizer.tell_trials(trials, scores)

    def _open_store(self, X, y, splits, routed):
        """The checkpoint's store of evaluations, checked against this fit."""
        if self.checkpoint is None:
            return None
        return EvaluationStore.open(
            self.checkpoint,
            fingerprint(
                self.estimator,
                self.param_space,
                X,
                y,
                splits,
                self.scoring,
                self.error_score,
                self.return_train_score,
                {**routed.estimator.fit, **routed.scorer.score},
                self.resource,
                # A stored candidate is known by its codes in the encoded
                # space, whose meaning these settle.
                extra={"distribution_bits": str(self.distribution_bits), "encoding": "1"},
            ),
        )

    def _set_resources(self, splits, n_samples, y_classes):
        if self.resource == "n_samples":
            max_r = n_samples if self.max_resources == "auto" else self.max_resources
            if max_r > n_samples:
                raise ValueError(
                    f"max_resources={max_r} exceeds the number of samples "
                    f"({n_samples}) for resource='n_samples'."
                )
            n_classes = 1 if y_classes is None else y_classes.max() + 1
            smallest = max(2 * len(splits) * n_classes, self._row_floor(splits, n_samples))
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
        self.spectral_resource_ = int(spectral)

    def _row_floor(self, splits, n_samples):
        """The n_samples resource whose folds keep ``min_train_rows``
        training rows (a subsample fit on fewer rows costs far more than its
        share of a full one: its fixed costs and the scoring of the whole
        test fold do not shrink)."""
        n_train = min(len(train) for train, _ in splits)
        if self.min_train_rows == 0 or n_train == 0:
            return 0
        return math.ceil(self.min_train_rows * n_samples / n_train)

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
    def _optimizer(self, n_samples):
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
            spectral_resource=self.spectral_resource_,
            resource=self.resource,
            verbose=self.verbose,
        )
        optimizer._log_prefix = type(self).__name__
        # Whether an evaluation at a resource trains on subsampled folds.
        optimizer._draws_subsample_seed = lambda resource: self.resource == "n_samples" and (
            resource < self.max_resources_ or self.max_resources_ < n_samples
        )
        optimizer._setup()
        return optimizer

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












def _class_of_each_sample(estimator, y):
    """The class index of each sample (per distinct row for multi-output
    targets), or None when ``y`` does not hold classes: subsamples are then
    stratified, so that no fold is left with a single class.

    Targets that look like classes count also for an estimator that does
    not declare itself a classifier, when they hold few distinct values (an
    integer regression target with many values is not stratified: each
    value would keep a row of its own).
    """
    if y is None:
        return None
    kind = type_of_target(y)
    if kind not in _CLASS_TARGETS:
        return None
    y = np.asarray(y)
    classes = np.unique(y, axis=0 if y.ndim > 1 else None, return_inverse=True)[1]
    classes = classes.reshape(-1)
    if not is_classifier(estimator) and classes.max() + 1 > _MAX_UNDECLARED_CLASSES:
        return None
    return classes


_CLASS_TARGETS = ("binary", "multiclass", "multiclass-multioutput", "multilabel-indicator")
_MAX_UNDECLARED_CLASSES = 50


def _fixed_splits(cv, estimator, X, y, split_params):
    """The CV splits, materialised once: every stage and rung sees the same
    folds.  A splitter whose ``split`` disagrees with its ``get_n_splits``
    is refused, as scikit-learn's searches do."""
    checked = check_cv(cv, y, classifier=is_classifier(estimator))
    # Boolean masks (a cv given as a list of them) become row indices.
    splits = [
        tuple(_as_indices(fold) for fold in split)
        for split in checked.split(X, y, **split_params)
    ]
    n_splits = checked.get_n_splits(X, y, **split_params)
    if len(splits) != n_splits:
        raise ValueError(
            "cv.split and cv.get_n_splits return inconsistent results. "
            f"Expected {n_splits} splits, got {len(splits)}"
        )
    if not splits:
        raise ValueError(
            "No fits were performed. Was the CV iterator empty? Were there no "
            "candidates?"
        )
    return splits


def _as_indices(fold):
    fold = np.asarray(fold)
    return np.flatnonzero(fold) if fold.dtype == bool else fold


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
