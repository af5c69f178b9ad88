"""One ``HarmonicaSearchCV.fit``: the optimizer's batches cross-validated.

:class:`SearchRun` holds what a fit needs and the search must not keep (the
data, the materialised splits, the evaluator and its workers, the store):
it asks the optimizer for a batch, cross-validates it with the
:class:`~._evaluation.CandidateEvaluator`, writes each finished fit to the
checkpoint store as it arrives (the driver writes, never the workers), calls
the user's ``on_evaluation`` hook once per finished candidate, and tells the
scores back.  ``cv_results_`` is derived from the optimizer's history.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from . import _compat
from ._budget import (
    TimeBudget,
    longest_first,
    measured_cost_function,
    pilot_size,
    promoted_seconds,
)
from ._halving import SubsampledSplits
from ._report import score_column
from ._store import evaluation_key

__all__ = ["SearchRun", "STORED_KEYS"]

# The part of a _fit_and_score output that the checkpoint stores: numbers,
# strings and None only.
STORED_KEYS = (
    "test_scores",
    "train_scores",
    "n_test_samples",
    "fit_time",
    "score_time",
    "fit_error",
)


class SearchRun:
    """The state of one fit of a :class:`HarmonicaSearchCV`.

    Parameters
    ----------
    search : HarmonicaSearchCV
    evaluator : CandidateEvaluator
    splits : list of (train, test)
        The fixed CV splits.
    n_samples : int
    y_classes : ndarray or None
        Class index of every sample (classifiers), for stratified subsamples.
    store : EvaluationStore or None
    callback_ctx : sklearn.callback.CallbackContext or None
    clock : callable
        The clock of the time budget and of the cost records.
    """

    def __init__(
        self, search, evaluator, splits, n_samples, y_classes, store, callback_ctx, clock
    ):
        self.search = search
        self.evaluator = evaluator
        self.splits = splits
        self.n_samples = n_samples
        self.y_classes = y_classes
        self.store = store
        self.root_ctx = callback_ctx
        self.search_ctx = None
        self.budget = TimeBudget(search.time_budget, clock=clock)
        self.optimizer = None
        self.n_run = 0  # candidates of the last batch that ran at least one fit

    # ------------------------------------------------------------ the loop
    def run(self, optimizer):
        """Ask, evaluate, tell until the optimizer is done or time is up."""
        # With a time budget the plan prices resource levels at what they
        # were measured to cost, not at their nominal share.
        optimizer.measured_costs = self.search.time_budget is not None
        self.optimizer = optimizer
        if self.root_ctx is not None:
            # With a time budget the clock decides how many batches run
            # (pilots, rounds bought by time left): not known in advance.
            max_batches = (
                None if self.search.time_budget is not None else optimizer.max_batches()
            )
            self.search_ctx = self.root_ctx.subcontext(
                task_name="search", max_subtasks=max_batches
            ).call_on_fit_task_begin(estimator=self.search)
        try:
            while (batch := optimizer.ask_batch()) is not None:
                if self.search.time_budget is None:
                    optimizer.tell_batch(batch, *self._timed(batch))
                    self._log_progress(optimizer, batch)
                    continue
                told = self._evaluate_in_time(optimizer, batch)
                if told is None:
                    break
                # Before telling: the plan's next step reads the cap.
                self._cap_budget(optimizer, done=len(told[0]) * batch.resource)
                optimizer.tell_batch(batch, *told)
                self._log_progress(optimizer, batch)
        finally:
            if self.search_ctx is not None:
                self.search_ctx.call_on_fit_task_end(estimator=self.search)

    def _evaluate_in_time(self, optimizer, batch):
        """Scores and details of the part of ``batch`` that finishes before
        the deadline (None when nothing does: the run stops).

        While nothing is measured yet, the batch's first trials (enough to
        keep every worker busy) run as a pilot; the optimizer then resizes
        the batch to what the time left affords.  A candidate starts only
        when its fits, queued behind those still running, are expected to
        end before the deadline.
        """
        scores, details = np.empty(0), []
        if self.budget.costs.per_candidate(batch.resource) is None and len(batch) > 1:
            n_pilot = min(
                len(batch) - 1, pilot_size(self.evaluator.n_workers(), len(self.splits))
            )
            scores, details = self._timed(batch.part(0, n_pilot))
            self._cap_budget(optimizer, done=n_pilot * batch.resource)
            batch = optimizer.resize_pending() or batch
        if len(batch) > len(scores):
            share = optimizer.budget_share_by_end_of(batch)
            more_scores, more_details = self._timed(
                batch.part(len(scores), len(batch)), deadline=self.budget.by_share(share)
            )
            scores = np.concatenate([scores, more_scores])
            details += more_details
        if len(scores) < len(batch):
            self.budget.cut_short = True
        if len(scores) == 0:
            # Out of time: end with a full-resource answer all the same (one
            # full evaluation past the budget at most).
            last = optimizer.confirm_now()
            if last is not None:
                optimizer.tell_batch(last, *self._timed(last))
            return None
        optimizer.truncate_pending(len(scores))
        return scores, details

    def _cap_budget(self, optimizer, done):
        """Cap the optimizer's budget at what the time left affords, after
        ``done`` resource units of the pending batch have run."""
        optimizer.budget_cap = (
            optimizer.budget_spent_
            + done / optimizer.max_resources_
            + self.budget.full_evaluations_left(self._full_candidate_seconds(optimizer))
        )
        # The time left no longer affords n_iter: the plan shrinks.
        self.budget.cut_short |= optimizer.budget_cap < optimizer.n_iter

    def _full_candidate_seconds(self, optimizer):
        """Measured wall seconds that one full evaluation adds to a batch
        keeping the workers busy (None while nothing is measured)."""
        max_resources = optimizer.max_resources_
        return self.budget.costs.full_candidate_seconds(
            max_resources,
            len(self.splits) / self.evaluator.n_workers(),
            measured_cost_function(optimizer.history_, max_resources),
        )

    def _admit(self, batch, deadline):
        """``admit(i, n_in_flight)`` for the evaluator: candidate ``i`` of
        ``batch`` starts when its fits, queued behind the fits in flight,
        should end before ``deadline``.

        A fit is priced at the mean measured at the batch's resource; a
        promoted candidate at its own seconds at the level below, scaled by
        the measured costs, when they are longer.  A level never measured
        admits its candidates: their fits measure it."""
        n_splits, n_workers = len(self.splits), self.evaluator.n_workers()
        optimizer = self.optimizer
        cost = measured_cost_function(optimizer.history_, optimizer.max_resources_)
        own = promoted_seconds(optimizer.history_, batch.trials, batch.resource, cost)

        def admit(i, n_in_flight):
            mean = self.budget.costs.fit_seconds(batch.resource)
            if mean is None:
                return True
            seconds = n_splits * mean
            if np.isfinite(own[i]):
                seconds = max(seconds, own[i])
            ends = self.budget.clock() + (n_in_flight * mean + seconds) / n_workers
            return ends <= deadline

        return admit

    def _log_progress(self, optimizer, batch):
        """``verbose`` line after a batch: time so far, and an estimate of
        the time left (the budget left at the measured seconds of a full
        evaluation, or the time budget's remainder)."""
        if self.search.verbose <= 0:
            return
        elapsed = self.budget.elapsed()
        if self.search.time_budget is not None:
            left = self.budget.remaining()
        else:
            per_full = self._full_candidate_seconds(optimizer) or 0.0
            left = max(0.0, self.search.n_iter - optimizer.budget_spent_) * per_full
        print(
            f"[{type(self.search).__name__}] {batch_name(batch)}: {len(batch)} "
            f"candidates done; {elapsed:.1f} s elapsed, about {left:.0f} s left "
            f"({optimizer.budget_spent_:.1f} of n_iter={self.search.n_iter} used)"
        )

    def _timed(self, batch, deadline=None):
        start = self.budget.clock()
        scores, details = self.evaluate(batch, deadline=deadline)
        # Candidates read back from the checkpoint cost nothing: they would
        # make the level look cheaper than it is.
        self.budget.costs.record(batch.resource, self.n_run, self.budget.clock() - start)
        return scores, details

    # ------------------------------------------------------------ one batch
    def evaluate(self, batch, deadline=None):
        """Cross-validate the trials of ``batch`` (with a ``deadline``, the
        first ones that can end before it, on the clock of the budget).

        Returns
        -------
        scores : ndarray
            The driving mean test score of each trial evaluated.
        details : list of dict
            Per trial, the ``params`` the estimator got and the per-split
            ``outs`` of ``_fit_and_score``.
        """
        search = self.search
        candidates = [dict(t.params) for t in batch.trials]
        if search.resource != "n_samples":
            candidates = [{**c, search.resource: batch.resource} for c in candidates]
        splits = self._splits_for(batch)
        keys, known = self._stored(batch, splits)
        # Each candidate's fits as they arrive; a candidate is finished when
        # its row is full.
        rows = [[None] * len(splits) for _ in candidates]
        for (i, s), out in known.items():
            rows[i][s] = out
        runs = [None in row for row in rows]

        def on_result(i, s, out):
            rows[i][s] = out
            self.budget.costs.record_fit(batch.resource, out["fit_time"] + out["score_time"])
            if self.store is not None:
                self.store.put(keys[i][s], {k: out.get(k) for k in STORED_KEYS})
            if search.on_evaluation is not None and None not in rows[i]:
                self._call_hook(batch, i, candidates[i], rows[i])

        ctx = self._batch_context(batch, len(candidates) * len(splits))
        try:
            outs = self.evaluator.evaluate(
                candidates,
                splits,
                known=known,
                on_result=on_result,
                callback_ctx=ctx,
                admit=None if deadline is None else self._admit(batch, deadline),
                order=self._dispatch_order(batch) if deadline is None else None,
            )
        except ValueError as exc:
            if batch.resource < search.max_resources_ and _all_fits_failed(exc):
                self._raise_if_resource_too_small(batch, candidates, exc)
            raise
        finally:
            if ctx is not None:
                # Also when a batch fails: a task left open would keep a
                # progress bar waiting.
                ctx.call_on_fit_task_end(estimator=search)
        candidates = candidates[: len(outs)]
        self.n_run = sum(runs[: len(outs)])
        if not outs:
            return np.empty(0), []
        flat = [out for row in outs for out in row]
        with warnings.catch_warnings():
            # Said once, by cv_results_ at the end of the fit, as sklearn does.
            warnings.filterwarnings("ignore", message="One or more of the")
            results = _compat.format_results(search, candidates, len(splits), flat, None)
        scores = np.asarray(results[score_column(results, search.refit)], dtype=float)
        details = [{"params": c, "outs": row} for c, row in zip(candidates, outs)]
        return scores, details

    def _dispatch_order(self, batch):
        optimizer = self.optimizer
        if optimizer is None:
            return None
        return longest_first(optimizer.space_, optimizer.history_, batch.trials, batch.resource)

    def _splits_for(self, batch):
        if batch.seed is None:
            return self.splits
        subsampled = SubsampledSplits(
            self.splits,
            batch.resource / self.n_samples,
            random_state=batch.seed,
            y_classes=self.y_classes,
        )
        return list(subsampled.split())

    def _stored(self, batch, splits):
        """Store keys of every (trial, split), and the stored outputs."""
        if self.store is None:
            return None, {}
        keys = [
            [evaluation_key(t.key, batch.resource, train, test) for train, test in splits]
            for t in batch.trials
        ]
        stored = self.store.get_many([k for row in keys for k in row])
        known = {
            (i, s): _as_out(stored[key])
            for i, row in enumerate(keys)
            for s, key in enumerate(row)
            if key in stored
        }
        return keys, known

    def _batch_context(self, batch, n_fits):
        if self.search_ctx is None:
            return None
        return self.search_ctx.subcontext(
            task_name=batch_name(batch),
            max_subtasks=n_fits,
            sequential_subtasks=False,
        ).call_on_fit_task_begin(estimator=self.search)

    def _call_hook(self, batch, i, params, outs):
        scores = [_driving_split_score(out, self.search) for out in outs]
        self.search.on_evaluation(
            {
                "params": dict(batch.trials[i].params),
                "estimator_params": dict(params),
                "stage": batch.stage,
                "phase": batch.phase,
                "rung": batch.rung,
                "n_resources": batch.resource,
                "split_test_scores": scores,
                "mean_test_score": float(np.mean(scores)),
                "fit_time": float(sum(out["fit_time"] for out in outs)),
                "score_time": float(sum(out["score_time"] for out in outs)),
                "failed": any(out.get("fit_error") is not None for out in outs),
            }
        )

    def _raise_if_resource_too_small(self, batch, candidates, exc):
        """Every fit of a reduced-resource batch failed: blame the resource
        only if the first candidate fits at full resource."""
        search = self.search
        probe = dict(candidates[0])
        if search.resource != "n_samples":
            probe[search.resource] = search.max_resources_
        try:
            self.evaluator.evaluate([probe], self.splits)
        except ValueError as full_exc:
            if _all_fits_failed(full_exc):
                return  # they fail at every resource: the real error, as is
            raise
        raise ValueError(
            _resource_too_small(search, batch, self.splits, self.n_samples, exc)
        ) from exc

    # ------------------------------------------------------------ results
    @staticmethod
    def cv_results(search, history, n_splits):
        """``cv_results_`` of every evaluation in ``history``, in order."""
        # Evaluations told from outside (a warm start) have no splits here.
        evaluations = [e for e in history if e.batch.phase != "told"]
        params = [e.details["params"] for e in evaluations]
        flat = [out for e in evaluations for out in e.details["outs"]]
        more = {
            "stage": [e.batch.stage for e in evaluations],
            "phase": [e.batch.phase for e in evaluations],
            "rung": [e.batch.rung for e in evaluations],
            "n_resources": [e.batch.resource for e in evaluations],
        }
        return _compat.format_results(search, params, n_splits, flat, more)


def _as_out(record):
    """A stored record as ``_fit_and_score`` returns it (no ``train_scores``
    key when train scores were not asked for)."""
    if record.get("train_scores", 0) is None:
        record = {k: v for k, v in record.items() if k != "train_scores"}
    return record


def batch_name(batch):
    """Task name of one batch, as callbacks show it."""
    if batch.phase == "exhaustive":
        return "exhaustive"
    if batch.phase == "halving":
        return f"halving stage {batch.stage} rung {batch.rung}"
    return f"{batch.phase} stage {batch.stage}"


def _driving_split_score(out, search):
    scores = out["test_scores"]
    if not isinstance(scores, dict):
        return float(scores)
    if isinstance(search.refit, str) and search.refit in scores:
        return float(scores[search.refit])
    return float(next(iter(scores.values())))


def _all_fits_failed(exc):
    # sklearn's message when every fit of a batch raised (error_score not "raise").
    return re.search(r"All the \d+ fits failed", str(exc)) is not None


def _resource_too_small(search, batch, splits, n_samples, exc):
    """The message for a batch at a reduced resource whose fits all failed
    while its first candidate fits at full resource."""
    if batch.phase == "halving":
        where = f"halving rung {batch.rung}"
        fix = f"Raise min_resources (now {search.min_resources_}) above {batch.resource}"
    else:
        where = f"the {batch.phase} stage"
        fix = f"Raise spectral_resource above {batch.resource} (None: max_resources_)"
    amount = f"{search.resource}={batch.resource}"
    if search.resource == "n_samples":
        n_train = len(splits[0][0])
        rows = max(1, round(batch.resource / n_samples * n_train))
        amount += f" (about {rows} training rows per fold instead of {n_train})"
    return (
        f"All the fits of {where} failed at a reduced resource, {amount}, below "
        f"max_resources_={search.max_resources_}, while the same candidate fits at "
        f"full resource: the estimator needs more {search.resource} than that. "
        f"{fix}, or see the failures below.\n{exc}"
    )
