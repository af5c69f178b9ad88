"""Cross-validation of batches of candidates, one (candidate, split) fit at a time.

``BaseSearchCV.fit`` hands a search a closure, ``evaluate_candidates``, that
returns only when every fit of a batch is done.  ``CandidateEvaluator`` runs
the same fits (``_fit_and_score``, through joblib, with the same arguments
and the same failure semantics) but gives the driver each finished fit as it
arrives, skips the fits the driver already knows, and, when a worker is lost,
runs again only the fits that did not come back.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import clone
from sklearn.utils import get_tags
from sklearn.utils.parallel import Parallel, delayed

from . import _compat

__all__ = ["MAX_LOST_WORKER_RETRIES", "CandidateEvaluator"]

#: Reruns of the fits lost with a worker, per ``evaluate`` call.
MAX_LOST_WORKER_RETRIES = 2

#: A split whose rows (train and test) are at most this share of data that
#: is pickled whole for every fit sends its workers only those rows.
MAX_SHARE_SENT_AS_ROWS = 0.5


class _SplitData(NamedTuple):
    X: Any
    y: Any
    train: np.ndarray
    test: np.ndarray


def _evaluate_pair(tag, estimator, X, y, **kwargs):
    """One (candidate, split) fit in a worker, returned with its tag, so that
    results arriving in any order can be put in their place."""
    return tag, _compat.fit_and_score(estimator, X, y, **kwargs)


class _Admission:
    """Which candidates of one ``evaluate`` call may start (a prefix)."""

    def __init__(self, admit, n_candidates):
        self.admit = admit
        self.n_admitted = n_candidates
        self.handed = self.returned = 0

    def filter(self, pending, make_task):
        """The tasks of ``pending``, in order, up to the first refused
        candidate (joblib pulls them as workers free up)."""
        started = set()
        self.handed = self.returned = 0
        for i, s in pending:
            if i not in started and self.admit is not None:
                if not self.admit(i, self.handed - self.returned):
                    self.n_admitted = i
                    return
            started.add(i)
            self.handed += 1
            yield make_task(i, s)


class CandidateEvaluator:
    """Cross-validates batches of candidates through joblib, streaming each
    finished fit to the driver.

    Parameters
    ----------
    base_estimator : estimator
        Cloned for every fit.
    X, y : array-like
        The data, already indexable (``sklearn.utils.indexable``).
    scorers : scorer or ``_MultimetricScorer``
        As ``BaseSearchCV._get_scorers`` builds them
        (``_compat.get_scorers``).
    fit_params, score_params : dict
        Routed parameters of the estimator's ``fit`` and of the scorers
        (``_compat.routed_params_for_fit``).
    return_train_score : bool
    error_score : 'raise' or float
    verbose : int
    n_jobs : int or None
    pre_dispatch : int or str
        As for ``joblib.Parallel``.
    caller : estimator, default=None
        The search, passed to ``_fit_and_score`` for scikit-learn >= 1.9's
        callbacks.

    Use it as a context manager, like ``BaseSearchCV.fit``'s ``with
    parallel:``: one ``joblib.Parallel`` (and its workers) then serves every
    ``evaluate`` call.  Outside a ``with`` block, each call starts its own.
    """

    def __init__(
        self,
        base_estimator,
        X,
        y,
        *,
        scorers,
        fit_params,
        score_params,
        return_train_score,
        error_score,
        verbose,
        n_jobs,
        pre_dispatch,
        caller=None,
    ):
        self.base_estimator = base_estimator
        self.X = X
        self.y = y
        self.scorers = scorers
        self.fit_params = fit_params
        self.score_params = score_params
        self.return_train_score = return_train_score
        self.error_score = error_score
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.pre_dispatch = pre_dispatch
        self.caller = caller
        self._entered = False
        self._parallel = None

    # ------------------------------------------------------------ workers
    def __enter__(self):
        self._entered = True
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self._entered = False
        self._release_parallel()

    def _new_parallel(self):
        kwargs = dict(n_jobs=self.n_jobs, pre_dispatch=self.pre_dispatch)
        try:
            parallel = Parallel(return_as="generator_unordered", **kwargs)
        except ValueError as exc:
            # A backend that cannot stream results (joblib's
            # multiprocessing, ray's): the fits of a call arrive together.
            if "return_as" not in str(exc):
                raise
            parallel = Parallel(**kwargs)
        return parallel

    def _acquire_parallel(self):
        """The Parallel for one call, and whether the call must close it."""
        if not self._entered:
            parallel = self._new_parallel()
            parallel.__enter__()
            return parallel, True
        if self._parallel is None:
            # Started lazily: the first call, or the first after an aborted
            # call, which leaves a Parallel that may still hold batches it
            # sliced but never sent.
            self._parallel = self._new_parallel()
            self._parallel.__enter__()
        return self._parallel, False

    def _release_parallel(self):
        parallel, self._parallel = self._parallel, None
        if parallel is not None:
            parallel.__exit__(None, None, None)

    def n_workers(self):
        """Fits that run at once under the active joblib backend."""
        return max(1, effective_n_jobs(self.n_jobs))

    # --------------------------------------------------------- evaluation
    def evaluate(
        self,
        candidate_params: list[dict],
        splits: list[tuple[np.ndarray, np.ndarray]],
        *,
        known: dict[tuple[int, int], dict] | None = None,
        on_result: Callable[[int, int, dict], None] | None = None,
        callback_ctx=None,
        admit: Callable[[int, int], bool] | None = None,
        order=None,
    ) -> list[list[dict]]:
        """Cross-validate every candidate on every split.

        Parameters
        ----------
        candidate_params : list of dict
            Parameters set on a clone of the base estimator.
        splits : list of (train, test) index arrays
        known : dict, default=None
            ``{(i, s): out}`` of pairs already evaluated (outputs of an
            earlier run, read back from a store): they are not run again.
        on_result : callable, default=None
            ``on_result(i, s, out)``, called in the driver as each pair that
            runs finishes, in any order; never for a pair in ``known``.  The
            ``out`` given is the raw ``_fit_and_score`` output (before
            ``insert_error_scores``, which needs the whole batch).  An
            exception it raises cancels the fits still running and
            propagates.
        callback_ctx : sklearn.callback.CallbackContext, default=None
            scikit-learn >= 1.9: the context of this batch, created with
            ``sequential_subtasks=False``; each pair that runs gets a
            subcontext "candidate-split-evaluation" with
            ``task_id = i * len(splits) + s``, as in ``BaseSearchCV.fit``.
        admit : callable, default=None
            ``admit(i, n_in_flight)``, called when candidate ``i``'s first
            fit is about to be handed to joblib, with the number of fits
            handed over and not yet returned: False refuses ``i`` and every
            later candidate (a deadline).  Candidates are started in order,
            so the ones evaluated are always the first ones.
        order : sequence of int, default=None
            The candidates in the order their fits start (without ``admit``
            only); the results do not depend on it.

        Returns
        -------
        out : list of list of dict
            One row per candidate evaluated (all of them, or the ones
            ``admit`` let start); ``out[i][s]``: ``_fit_and_score``'s output for candidate ``i``
            on split ``s`` (``return_n_test_samples=True``,
            ``return_times=True``, ``return_parameters=False``), after the
            batch's failure handling, as in ``BaseSearchCV``:
            ``warn_or_raise_about_fit_failures`` over the whole batch (known
            pairs included) and ``insert_error_scores``.  With
            ``error_score="raise"`` a failed fit's exception propagates.

        A worker lost while the batch runs (``_compat.lost_worker``): the
        pairs that did not come back run again, at most
        ``MAX_LOST_WORKER_RETRIES`` times, each time with a
        ``RuntimeWarning``.  Any other exception propagates.
        """
        candidate_params = list(candidate_params)
        splits = list(splits)
        n_candidates, n_splits = len(candidate_params), len(splits)
        if n_candidates == 0 or n_splits == 0:
            raise ValueError(
                "No fits were performed. Was the CV iterator empty? "
                "Were there no candidates?"
            )
        out = [[None] * n_splits for _ in range(n_candidates)]
        for (i, s), result in (known or {}).items():
            if not (0 <= i < n_candidates and 0 <= s < n_splits):
                raise ValueError(
                    f"known holds the pair {(i, s)!r}, outside the batch's "
                    f"{n_candidates} candidates and {n_splits} splits."
                )
            # A copy: insert_error_scores works in place.
            out[i][s] = dict(result)
        if order is None or admit is not None:
            order = range(n_candidates)
        pending = [(i, s) for i in order for s in range(n_splits) if out[i][s] is None]
        if self.verbose > 0:
            n_known = n_candidates * n_splits - len(pending)
            print(
                f"Fitting {n_splits} folds for each of {n_candidates} candidates, "
                f"totalling {n_candidates * n_splits} fits"
                + (f" ({n_known} already known, {len(pending)} to run)" if n_known else "")
            )
        # Created ahead of the parallel loop, as BaseSearchCV.fit does: a
        # context created while tasks are being pickled can fail to pickle.
        contexts = {}
        if callback_ctx is not None:
            contexts = {
                (i, s): callback_ctx.subcontext(
                    task_name="candidate-split-evaluation", task_id=i * n_splits + s
                )
                for i, s in pending
            }

        admission = _Admission(admit, n_candidates)
        for retry in range(MAX_LOST_WORKER_RETRIES + 1):
            try:
                self._run(
                    pending, candidate_params, splits, out, on_result, contexts, admission
                )
                break
            except Exception as exc:
                if not _compat.lost_worker(exc):
                    raise
                missing = [
                    (i, s) for i, s in pending
                    if out[i][s] is None and i < admission.n_admitted
                ]
                if not missing:
                    break
                if retry == MAX_LOST_WORKER_RETRIES:
                    raise
                message = str(exc).strip().split("\n")[0][:200]
                warnings.warn(
                    f"A worker was lost ({type(exc).__name__}: {message}); running "
                    f"again the {len(missing)} of {len(pending)} fits that did not "
                    f"come back (retry {retry + 1} of {MAX_LOST_WORKER_RETRIES}).",
                    RuntimeWarning,
                    stacklevel=2,
                )
                pending = missing

        out = out[: admission.n_admitted]
        if not out:
            return out
        flat = [result for row in out for result in row]
        _compat.warn_or_raise_about_fit_failures(flat, self.error_score)
        # Needed only for a callable scoring that returns a dict (the keys are
        # known once a fit succeeded); a no-op otherwise, as BaseSearchCV.
        _compat.insert_error_scores(flat, self.error_score)
        return out

    def _callback_kwargs(self, context):
        """``caller`` and ``callback_ctx`` for one pair: only with a context
        (``_fit_and_score`` uses the caller for nothing else), so that the
        search is not pickled with every task."""
        if context is None:
            return {}
        return {"caller": self.caller, "callback_ctx": context}

    def _data_of_split(self, train, test):
        """The data and indices of one split as its fits receive them.

        joblib shares a numeric array with the workers through one memory
        map, but pickles strings and Python objects (a DataFrame's string
        columns) whole for every fit: for a fit on a ninth of the rows, the
        worker then spends more time receiving the data than fitting.  Such
        data, on a split of a subsample (a reduced resource), is cut to the
        split's rows, its indices renumbered into them: the fits see the same
        training and test rows in the same order.  Numeric data is not cut
        (each batch's subsample would add a memory map of its own).  Nor is
        the kernel of a pairwise estimator (indexed on both axes), nor the
        data of a search with fit or score parameters (sample-aligned ones
        are cut by ``train`` and ``test`` against the whole data).
        """
        whole = _SplitData(self.X, self.y, train, test)
        if (
            self.fit_params
            or self.score_params
            or not _pickled_whole(self.X)
            or _pairwise(self.base_estimator)
        ):
            return whole
        rows = np.union1d(train, test)
        if len(rows) > MAX_SHARE_SENT_AS_ROWS * _compat.num_samples(self.X):
            return whole
        return _SplitData(
            _compat.safe_indexing(self.X, rows),
            None if self.y is None else _compat.safe_indexing(self.y, rows),
            np.searchsorted(rows, train),
            np.searchsorted(rows, test),
        )

    def _run(self, pending, candidate_params, splits, out, on_result, contexts, admission):
        """Run ``pending`` pairs once, filling ``out`` as results arrive."""
        n_candidates, n_splits = len(candidate_params), len(splits)
        fit_kwargs = dict(
            scorer=self.scorers,
            fit_params=self.fit_params,
            score_params=self.score_params,
            return_train_score=self.return_train_score,
            return_n_test_samples=True,
            return_times=True,
            return_parameters=False,
            error_score=self.error_score,
            verbose=self.verbose,
        )
        data = [self._data_of_split(train, test) for train, test in splits]
        tasks = admission.filter(
            pending,
            lambda i, s: delayed(_evaluate_pair)(
                (i, s),
                clone(self.base_estimator),
                data[s].X,
                data[s].y,
                train=data[s].train,
                test=data[s].test,
                parameters=candidate_params[i],
                split_progress=(s, n_splits),
                candidate_progress=(i, n_candidates),
                **fit_kwargs,
                **self._callback_kwargs(contexts.get((i, s))),
            ),
        )
        parallel, owned = self._acquire_parallel()
        results = None
        finished = False
        try:
            results = parallel(tasks)
            for (i, s), result in results:
                admission.returned += 1
                out[i][s] = result
                if on_result is not None:
                    on_result(i, s, result)
            finished = True
        finally:
            if finished:
                if owned:
                    parallel.__exit__(None, None, None)
            else:
                # Cancel what still runs (joblib warns that results were left
                # unread: the point here), and start a new Parallel for the
                # next call.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    close = getattr(results, "close", None)
                    if close is not None:
                        close()
                    if owned:
                        parallel.__exit__(None, None, None)
                    else:
                        self._release_parallel()


def _pickled_whole(X):
    """Whether joblib pickles ``X`` whole for every task: it holds strings or
    Python objects, which no memory map can share."""
    if isinstance(X, np.ndarray):
        return X.dtype.kind in "OSU"
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None:  # a DataFrame
        return any(getattr(dtype, "kind", "O") in "OSU" for dtype in dtypes)
    return isinstance(X, (list, tuple))


def _pairwise(estimator):
    try:
        return get_tags(estimator).input_tags.pairwise
    except Exception:
        return True  # unknown: index the whole data, as _fit_and_score will
