"""HarmonicaSearchCV: spectral hyperparameter search for scikit-learn."""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import queue
import re
import warnings

import joblib
import numpy as np
import sklearn
from scipy.stats import norm, rankdata
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.fixes import parse_version
from sklearn.utils.validation import _num_samples

from ._checkpoint import CheckpointStore, fingerprint
from ._halving import SubsampledSplits, halving_schedule, rung_resources
from ._report import (
    StageReport,
    best_observed,
    effect_importances,
    format_report,
    readable_term,
    scores_at_normal_scores,
    stage_effects,
    stage_log_line,
    term_effects,
)
from ._restriction import Restriction, refine
from ._space import SearchSpace, _as_branch_list
from ._spectral import fit_sparse_polynomial, supported_degree
from ._surrogate import fit_surrogate

__all__ = ["HarmonicaSearchCV"]

# scikit-learn >= 1.9's BaseSearchCV.fit calls the _check_input_parameters
# hook itself, after checking cv; earlier versions leave it to subclasses.
_BASE_FIT_CHECKS_INPUT = parse_version(
    parse_version(sklearn.__version__).base_version
) >= parse_version("1.9")

# Share of n_iter given to the spectral stages when they are sized
# automatically; the rest goes to the final stage.
SPECTRAL_SHARE = 0.6
# A spectral stage with fewer samples than this cannot separate terms from
# noise; smaller budgets skip the spectral stages.
MIN_STAGE_SIZE = 20
# Automatic stages hold at least this many samples each (at most
# MAX_AUTO_STAGES): several small stages beat one large one on the planted
# benchmarks, as each stage re-fits inside a smaller space.
AUTO_STAGE_SIZE = 60
MAX_AUTO_STAGES = 3
# Largest pool of the final stage's surrogate (candidates drawn and scored).
MAX_POOL_SIZE = 20_000
# Draw rounds when looking for candidates not evaluated yet.
_UNIQUE_DRAW_ROUNDS = 20
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
        self._plan = self._stage_plan()
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
            smallest = 2 * n_splits * n_classes
        else:
            max_r = self._max_resources_from_estimator()
            smallest = 1
        if self.min_resources == "auto":
            min_r = max(smallest, int(round(max_r / self.factor**2)))
            min_r = min(min_r, max_r)
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
        space = self.space_
        exhaustive = space.is_finite() and space.size() <= self.n_iter
        run = _SearchRun(
            self,
            evaluate_candidates,
            check_random_state(self.random_state),
            callback_ctx,
            max_batches=self._max_batches(exhaustive),
        )
        self.stages_ = []
        self.n_candidates_, self.n_resources_ = [], []
        self.final_stage_ = {}
        if exhaustive:
            self.search_mode_ = "exhaustive"
            run.evaluate_grid()
        else:
            self.search_mode_ = "spectral"
            n_stages, stage_size = self._plan
            restriction = Restriction.unrestricted(space)
            for stage in range(1, n_stages + 1):
                restriction, report = run.spectral_stage(stage, stage_size, restriction)
                if report is None:  # the restricted space is exhausted
                    break
                self.stages_.append(report)
            final = len(self.stages_) + 1
            if self.final_stage == "halving":
                run.halving(final, restriction)
            else:
                run.random(final, restriction)
        run.close()
        self.budget_spent_ = run.spent
        self.param_importances_ = effect_importances(space, [r.effects for r in self.stages_])
        del self._splits, self._y_classes, self._plan

    def _max_batches(self, exhaustive):
        """Most calls to ``evaluate_candidates``: spectral stages, then rungs.

        An upper bound (a stage or a rung can be skipped), which lets
        progress callbacks show the search's progress while it runs.
        """
        if exhaustive:
            return 1
        if self.final_stage == "random":
            return self._plan[0] + 1
        rungs = rung_resources(self.min_resources_, self.max_resources_, self.factor)
        return self._plan[0] + len(rungs)

    def _stage_plan(self):
        """(n_stages, stage_size) for the spectral stages."""
        cost = self._spectral_resource / self.max_resources_
        affordable = int(self.n_iter / cost)
        if self.n_stages == "auto" and self.stage_size == "auto":
            samples = int(SPECTRAL_SHARE * affordable)
            n_stages = min(MAX_AUTO_STAGES, max(1, samples // AUTO_STAGE_SIZE))
            stage_size = samples // n_stages
            if stage_size < MIN_STAGE_SIZE:
                return 0, 0
            return n_stages, stage_size
        if self.n_stages == "auto":
            samples = int(SPECTRAL_SHARE * affordable)
            n_stages = min(MAX_AUTO_STAGES, samples // self.stage_size)
            return n_stages, self.stage_size
        if self.stage_size == "auto":
            if self.n_stages == 0:
                return 0, 0
            stage_size = int(SPECTRAL_SHARE * affordable) // self.n_stages
            if stage_size < MIN_STAGE_SIZE:
                raise ValueError(
                    f"n_iter={self.n_iter} is too small for n_stages={self.n_stages}: "
                    f"each stage would get {stage_size} candidates (at least "
                    f"{MIN_STAGE_SIZE} are needed). Raise n_iter or lower n_stages."
                )
            return self.n_stages, stage_size
        needed = self.n_stages * self.stage_size * cost
        if needed > self.n_iter:
            raise ValueError(
                f"n_iter={self.n_iter} is too small for n_stages={self.n_stages} "
                f"stages of stage_size={self.stage_size} candidates (they cost "
                f"{needed:g} full evaluations). Raise n_iter or lower them."
            )
        return self.n_stages, self.stage_size

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
    """The state of one ``_run_search``: budget, evaluated candidates, data."""

    def __init__(
        self, search, evaluate_candidates, rng, callback_ctx=None, max_batches=None
    ):
        self.search = search
        # sklearn >= 1.9 callbacks (e.g. ProgressBar): one "search" task whose
        # subtasks are the evaluated batches (stages, rungs).
        self.callback_ctx = None
        if callback_ctx is not None:
            self.callback_ctx = callback_ctx.subcontext(
                task_name="search", max_subtasks=max_batches
            ).call_on_fit_task_begin(estimator=search)
        self.space = search.space_
        self.evaluate_candidates = evaluate_candidates
        self.rng = rng
        self.spent = 0.0
        self.seen = set()
        # Spectral-stage evaluations: candidates, encoded bits, driving score.
        self.evaluated = []
        self.bits = np.zeros((0, self.space.n_bits), dtype=np.int8)
        self.scores = np.zeros(0)

    # ---------------------------------------------------------- evaluation
    def evaluate(self, candidates, *, stage, phase, rung, resource):
        """Cross-validate ``candidates`` (dicts) at ``resource``; return scores."""
        search = self.search
        n = len(candidates)
        # The fixed splits, also where BaseSearchCV (sklearn < 1.9) would
        # split the user's cv again for every batch.
        cv = search._checked_cv_orig
        if search.resource == "n_samples":
            if resource < search.max_resources_ or search.max_resources_ < search._n_samples:
                cv = SubsampledSplits(
                    search._splits,
                    resource / search._n_samples,
                    random_state=self.rng.randint(2**31 - 1),
                    y_classes=search._y_classes,
                )
        else:
            candidates = [{**c, search.resource: resource} for c in candidates]
        more_results = {
            "stage": [stage] * n,
            "phase": [phase] * n,
            "rung": [rung] * n,
            "n_resources": [resource] * n,
        }
        batch = _batch_name(stage, phase, rung)
        try:
            results = self._evaluate_batch(batch, candidates, cv, more_results)
        except ValueError as exc:
            if resource < search.max_resources_ and _all_fits_failed(exc):
                raise ValueError(self._resource_too_small(phase, rung, resource, exc)) from exc
            raise
        self.spent += n * resource / search.max_resources_
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

    def draw_unseen(self, restriction, n, exclude=()):
        """Up to ``n`` distinct candidates from ``restriction`` never evaluated
        before and not in ``exclude`` (candidate keys).

        Returns ``index, offset, keys``; nothing is marked as seen.
        """
        index_rows, offset_rows, keys = [], [], []
        taken = set(exclude)
        for _ in range(_UNIQUE_DRAW_ROUNDS):
            index, offset, _ = restriction.sample(self.space, n, self.rng)
            for i in range(n):
                key = self.space.candidate_key(index[i], offset[i])
                if key in self.seen or key in taken:
                    continue
                taken.add(key)
                keys.append(key)
                index_rows.append(index[i])
                offset_rows.append(offset[i])
                if len(index_rows) == n:
                    return np.array(index_rows), np.array(offset_rows), keys
        if not index_rows:
            empty_index = np.zeros((0, self.space.n_params), np.intp)
            return empty_index, np.zeros((0, self.space.n_params)), keys
        return np.array(index_rows), np.array(offset_rows), keys

    def draw_new(self, restriction, n):
        """Up to ``n`` candidates from ``restriction`` never evaluated before,
        marked as seen."""
        index, offset, keys = self.draw_unseen(restriction, n)
        self.seen.update(keys)
        return index, offset

    def best_evaluated(self, restriction, n):
        """The ``n`` best spectral-stage candidates inside ``restriction``."""
        if not self.evaluated:
            return []
        inside = np.flatnonzero(restriction.match(self.bits) >= 0)
        best = inside[np.argsort(-_impute_failures(self.scores[inside]), kind="stable")]
        return [self.evaluated[i] for i in best[:n]]

    def new_or_best(self, restriction, n):
        """``n`` candidates for the final stage: new draws from the restricted
        space, completed (when a finite restricted space is exhausted) by the
        best spectral-stage candidates inside it, so that the final stage
        always evaluates something at full resource."""
        candidates = self.decode(*self.draw_new(restriction, n))
        self.search.final_stage_ = _final_stage_summary(len(candidates), 0, len(candidates), 0)
        return candidates + self.best_evaluated(restriction, n - len(candidates))

    def final_candidates(self, restriction, n):
        """``n`` candidates for the final stage, ranked by the surrogate.

        The pool holds ``final_pool * n`` new draws from ``restriction``,
        topped up from the whole space when the restricted space has too few
        left; the surrogate keeps the best ``n`` of it.
        """
        pool_size = min(self.search.final_pool * n, max(n, MAX_POOL_SIZE))
        if pool_size == n or len(self.scores) < MIN_STAGE_SIZE:
            return self.new_or_best(restriction, n)
        index, offset, keys = self.draw_unseen(restriction, pool_size)
        n_restricted = len(keys)
        if n_restricted < pool_size and restriction.fixed_bits.size > 0:
            more = self.draw_unseen(
                Restriction.unrestricted(self.space), pool_size - n_restricted, keys
            )
            index = np.concatenate([index, more[0]])
            offset = np.concatenate([offset, more[1]])
            keys = keys + more[2]
        surrogate = fit_surrogate(
            self.bits, _normal_scores(_impute_failures(self.scores)), self.space.bit_owner()
        )
        predicted = surrogate.predict(self.space.encode(index))
        chosen = np.argsort(-predicted, kind="stable")[:n]
        self.seen.update(keys[i] for i in chosen)
        self.search.final_stage_ = _final_stage_summary(
            len(keys), len(keys) - n_restricted, len(chosen), int(np.sum(chosen >= n_restricted))
        )
        self.log(
            f"final stage: the surrogate kept {len(chosen)} of {len(keys)} new "
            f"candidates ({len(keys) - n_restricted} from outside the restriction)"
        )
        candidates = self.decode(index[chosen], offset[chosen])
        return candidates + self.best_evaluated(restriction, n - len(candidates))

    def decode(self, index, offset):
        return [self.space.decode(i, o) for i, o in zip(index, offset)]

    # --------------------------------------------------------------- modes
    def evaluate_grid(self):
        search = self.search
        # From the space, not ParameterGrid(param_space): the space has
        # listed small discrete distributions, which ParameterGrid rejects.
        candidates = self.space.grid()
        self.evaluate(
            candidates, stage=0, phase="exhaustive", rung=0, resource=search.max_resources_
        )
        self.log(f"exhaustive: {len(candidates)} candidates at full resource")

    def spectral_stage(self, stage, stage_size, restriction):
        """Sample, evaluate, fit, restrict.

        Returns the new restriction and the stage's report (None, with the
        restriction unchanged, when no new candidate is left to draw).
        """
        search, space = self.search, self.space
        index, offset = self.draw_new(restriction, stage_size)
        if len(index) == 0:
            return restriction, None
        resource = search._spectral_resource
        candidates = self.decode(index, offset)
        scores = self.evaluate(
            candidates, stage=stage, phase="spectral", rung=0, resource=resource
        )
        _warn_non_finite(scores, f"Stage {stage}")
        self.evaluated.extend(candidates)
        self.bits = np.vstack([self.bits, space.encode(index)])
        self.scores = np.concatenate([self.scores, scores])

        alternative = restriction.match(self.bits)
        inside = alternative >= 0
        y = _normal_scores(_impute_failures(self.scores[inside]))
        alternative = alternative[inside]
        effects = np.array(
            [
                y[alternative == a].mean() if np.any(alternative == a) else y.mean()
                for a in range(restriction.n_alternatives)
            ]
        )
        free = restriction.free_bits(space.n_bits)
        groups = space.bit_owner()[free]
        within_memory = supported_degree(groups, len(y), search.degree, n_terms=0)
        if within_memory < search.degree:
            warnings.warn(
                f"Stage {stage}: parity features of degree {search.degree} over "
                f"{len(free)} bits would not fit in memory; using degree "
                f"{within_memory} at most.",
                UserWarning,
            )
        degree = supported_degree(groups, len(y), within_memory, search.n_terms)
        polynomial = fit_sparse_polynomial(
            self.bits[inside][:, free],
            y - effects[alternative],
            degree=degree,
            n_terms=search.n_terms,
            alpha=search.alpha,
            groups=groups,
        )
        new_restriction, predicted = refine(
            restriction, space, polynomial, free, effects - effects.mean(), search.n_best
        )
        term_bits = [tuple(int(free[i]) for i in subset) for subset in polynomial.subsets]
        raw = self.scores[inside]
        effects_in_score_units = term_effects(
            self.bits[inside], raw, alternative, term_bits
        )
        finite = raw[np.isfinite(raw)]
        value_effects = stage_effects(
            space, self.bits[inside], _impute_failures(raw), alternative,
            restriction.allowed, term_bits,
        )
        report = StageReport(
            stage=stage,
            n_candidates=len(index),
            n_fit_samples=int(inside.sum()),
            n_resources=resource,
            degree=degree,
            terms=[
                (readable_term(space, bits), float(c))
                for bits, c in zip(term_bits, polynomial.coefs)
            ],
            term_bits=term_bits,
            intercept=float(polynomial.intercept),
            restriction=new_restriction.describe(space),
            predicted_scores=[float(p + polynomial.intercept) for p in predicted],
            best_score=best_observed(scores),
            importances=effect_importances(space, [value_effects]),
            effects=value_effects,
            term_effects=effects_in_score_units,
            score_mean=float(finite.mean()) if finite.size else float("nan"),
            score_std=float(finite.std()) if finite.size else float("nan"),
            predicted_raw_scores=scores_at_normal_scores(
                _impute_failures(raw), predicted + polynomial.intercept + effects.mean()
            ),
        )
        self.log(stage_log_line(report, search.resource))
        return new_restriction, report

    def halving(self, stage, restriction):
        search = self.search
        budget = search.n_iter - self.spent
        schedule = halving_schedule(
            budget, search.min_resources_, search.max_resources_, search.factor
        )
        candidates = self.final_candidates(restriction, schedule.n_candidates[0])
        for rung, resource in enumerate(schedule.resources):
            if not candidates:
                break
            scores = self.evaluate(
                candidates, stage=stage, phase="halving", rung=rung, resource=resource
            )
            search.n_candidates_.append(len(candidates))
            search.n_resources_.append(resource)
            self.log(
                f"halving rung {rung}: {len(candidates)} candidates at "
                f"{search.resource}={resource}, best {best_observed(scores):.4f}"
            )
            if rung + 1 < schedule.n_rungs:
                _warn_non_finite(scores, f"Halving rung {rung}")
            n_keep = math.ceil(len(candidates) / search.factor)
            candidates, scores = self.with_stage_candidates(candidates, scores, resource)
            order = np.argsort(-_impute_failures(scores), kind="stable")[:n_keep]
            candidates = [candidates[i] for i in order]

    def with_stage_candidates(self, candidates, scores, resource):
        """``candidates`` and ``scores`` joined by the spectral-stage
        evaluations made at the same ``resource``.

        They compete for promotion to the next rung at no cost: the best
        settings the stages met (often inside the final restriction, and
        never drawn again) then reach the full resource too.
        """
        if resource != self.search._spectral_resource or not self.evaluated:
            return candidates, scores
        present = {id(c) for c in candidates}
        earlier = [i for i, c in enumerate(self.evaluated) if id(c) not in present]
        return (
            candidates + [self.evaluated[i] for i in earlier],
            np.concatenate([scores, self.scores[earlier]]),
        )

    def random(self, stage, restriction):
        search = self.search
        n = int(search.n_iter - self.spent + 1e-9)
        candidates = self.final_candidates(restriction, max(n, 1))
        if candidates:
            self.evaluate(
                candidates, stage=stage, phase="random", rung=0, resource=search.max_resources_
            )
            search.n_candidates_.append(len(candidates))
            search.n_resources_.append(search.max_resources_)

    def close(self):
        if self.callback_ctx is not None:
            self.callback_ctx.call_on_fit_task_end(estimator=self.search)

    def log(self, message):
        if self.search.verbose > 0:
            print(f"[HarmonicaSearchCV] {message}")


def _final_stage_summary(pool_size, pool_from_outside, n_kept, kept_from_outside):
    return {
        "pool_size": int(pool_size),
        "pool_from_outside": int(pool_from_outside),
        "n_kept": int(n_kept),
        "kept_from_outside": int(kept_from_outside),
    }


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


def _warn_non_finite(scores, where):
    """Say how many candidates of a batch the search will treat as failed."""
    scores = np.asarray(scores, dtype=float)
    counts = {
        "NaN": int(np.isnan(scores).sum()),
        "+inf": int(np.isposinf(scores).sum()),
        "-inf": int(np.isneginf(scores).sum()),
    }
    n_bad = sum(counts.values())
    if n_bad:
        detail = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        warnings.warn(
            f"{where}: {n_bad} of {len(scores)} candidates got a non-finite mean "
            f"test score ({detail}). The search treats them as failed, as worse "
            "than every finite score (+inf too), when it chooses where to search "
            "next; cv_results_ keeps their scores and ranks.",
            UserWarning,
        )


def _impute_failures(scores):
    """Non-finite scores (failed fits, NaN scorers, +inf or -inf) become the
    worst finite one.

    +inf included: it comes from a broken scorer (a division by zero) more
    often than from a perfect fit, and the spectral fit and the halving
    rungs must not chase it.
    """
    scores = np.asarray(scores, dtype=float)
    finite = np.isfinite(scores)
    if finite.all() or not finite.any():
        return np.where(finite, scores, 0.0)
    return np.where(finite, scores, scores[finite].min())


def _normal_scores(scores):
    """Scores replaced by normal quantiles of their ranks.

    The spectral fit then sees the *order* of the candidates, not the size of
    a few catastrophic failures (a diverged net, a 10% accuracy): least
    squares and its F-tests are not dragged by outliers, and the scale of
    the scoring function does not matter.  Ties share their mean rank.
    """
    ranks = rankdata(scores)
    return norm.ppf((ranks - 0.5) / len(scores))


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
