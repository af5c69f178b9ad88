"""Harmonica as an ask/tell optimizer.

:class:`HarmonicaOptimizer` proposes batches of candidates (``ask``) and
learns from their scores (``tell``); it never evaluates anything itself, so
it tunes any objective: a scikit-learn estimator (``HarmonicaSearchCV`` is
its client), a PyTorch training loop, a simulator, a remote job.

A run is a sequence of batches: spectral stages (sample, fit a sparse
polynomial, restrict), then successive halving (or random search) on the
restricted space.  Every decision reads the :class:`~._history.History` of
evaluations told so far (see ``_decisions.py``); the sequencing lives in
:meth:`HarmonicaOptimizer._plan`, a generator that yields each batch and
receives its scores.
"""

from __future__ import annotations

import math
import numbers
import warnings

from types import SimpleNamespace

import numpy as np
from sklearn.utils import check_random_state

from . import _decisions as decide
from ._budget import measured_cost_function
from ._halving import halving_schedule, rung_resources
from ._history import Batch, History, Trial
from ._report import best_observed, effect_importances, stage_log_line
from ._restriction import Restriction
from ._space import SearchSpace
from ._warm_start import trial_of

__all__ = ["HarmonicaOptimizer"]


class HarmonicaOptimizer:
    """Spectral hyperparameter optimization (Harmonica) by ask and tell.

    Parameters
    ----------
    param_space : dict or list of dicts
        Parameter names mapped to lists of values or to scipy.stats
        distributions, as for ``HarmonicaSearchCV``.
    n_iter : int, default=100
        Budget in full-resource evaluations.
    random_state : int, RandomState instance or None, default=None
    n_stages, stage_size, degree, n_terms, n_best, alpha, distribution_bits, \
final_stage, final_pool, factor, spectral_resource :
        As for :class:`HarmonicaSearchCV`.
    max_resources : int or None, default=None
        Full resource of an evaluation (epochs, iterations, rows...).  None:
        no resource, every evaluation is a full one and the final stage
        evaluates its candidates once.
    min_resources : int or "auto", default="auto"
        Resource of the first halving rung; "auto": ``max_resources /
        factor**2``.
    resource : str, default="resource"
        Key under which ``ask`` puts the resource in each candidate (only
        when ``max_resources`` is set).
    verbose : int, default=0
        1: a line per batch.

    Attributes
    ----------
    history_ : History
        Every evaluation told so far.
    space_ : SearchSpace
    done : bool
        Whether the budget is spent (``ask`` then returns an empty list).
    best_params_, best_score_ :
        The best candidate evaluated at full resource, and its score.
    stages_ : list of StageReport
    search_mode_ : {"spectral", "exhaustive", "halving only", "random only"}

    Examples
    --------
    >>> from harmonica_sklearn import HarmonicaOptimizer
    >>> def objective(x, y, flag):
    ...     return -((x - 3) ** 2) - (y - 1) ** 2 + (flag == "on")
    >>> opt = HarmonicaOptimizer(
    ...     {"x": list(range(8)), "y": list(range(4)), "flag": ["on", "off"]},
    ...     n_iter=40, random_state=0,
    ... )
    >>> while not opt.done:
    ...     batch = opt.ask()
    ...     opt.tell(batch, [objective(**params) for params in batch])
    >>> opt.best_params_
    {'x': 3, 'y': 1, 'flag': 'on'}
    """

    def __init__(
        self,
        param_space,
        *,
        n_iter=100,
        random_state=None,
        n_stages="auto",
        stage_size="auto",
        degree=3,
        n_terms=5,
        n_best=4,
        alpha=None,
        distribution_bits=3,
        final_stage="halving",
        final_pool=32,
        factor=3,
        min_resources="auto",
        max_resources=None,
        spectral_resource="auto",
        resource="resource",
        verbose=0,
    ):
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
        self.factor = factor
        self.min_resources = min_resources
        self.max_resources = max_resources
        self.spectral_resource = spectral_resource
        self.resource = resource
        self.verbose = verbose

    # ------------------------------------------------------------ public
    def ask(self):
        """The next batch of candidates to evaluate (empty when done).

        Returns
        -------
        list of dict
            One dict of parameters per candidate; with ``max_resources``
            set, each also holds the resource under the key ``resource``.
        """
        batch = self.ask_batch()
        if batch is None:
            return []
        self._asked = self.ask_candidates_of(batch)
        return list(self._asked)

    def tell(self, candidates, scores):
        """Record the scores (greater is better; NaN for a failure) of the
        candidates of the last ``ask``.

        Parameters
        ----------
        candidates : list of dict
            The list ``ask`` returned (the same dicts, in any order), or
            candidates evaluated elsewhere on the same space (a warm start:
            told before the first ``ask``, they join the first spectral
            stage's data).
        scores : array-like of float
        """
        self._setup()
        scores = np.asarray(scores, dtype=float).reshape(-1)
        if len(scores) != len(candidates):
            raise ValueError(
                f"tell got {len(candidates)} candidates and {len(scores)} scores."
            )
        if self._pending is None:
            self.tell_external(candidates, scores)
            return
        order = self._match_pending(candidates)
        self.tell_batch(self._pending, scores[np.argsort(order)])

    @property
    def done(self):
        self._setup()
        if self._pending is None and self._next is None:
            self._advance(None)
        return self._next is None and self._pending is None

    def report(self, max_terms=10):
        """Plain-text report of what the run learned (as for the search)."""
        from ._report import format_report

        return format_report(self, max_terms=max_terms)

    @property
    def cv_results_(self):
        """The evaluations made by this run (told ones left out), as columns
        in the layout of ``HarmonicaSearchCV.cv_results_``: ``params``,
        ``mean_test_score``, ``stage``, ``phase``, ``rung``, ``n_resources``
        (times are not measured here: zeros)."""
        own = [e for e in self.history_ if e.batch.phase != "told"]
        return {
            "params": [dict(e.trial.params) for e in own],
            "mean_test_score": np.array([e.score for e in own]),
            "stage": np.array([e.batch.stage for e in own], dtype=int),
            "phase": np.array([e.batch.phase for e in own]),
            "rung": np.array([e.batch.rung for e in own], dtype=int),
            "n_resources": np.array([e.resource for e in own], dtype=int),
            "mean_fit_time": np.zeros(len(own)),
            "mean_score_time": np.zeros(len(own)),
        }

    @property
    def best_index_(self):
        """Row of ``best_params_`` in ``cv_results_``."""
        best = self.history_.incumbent(self.max_resources_) if self._is_setup else None
        own = [e for e in self.history_ if e.batch.phase != "told"]
        if best is None or best not in own:
            raise AttributeError("No evaluation of this run at full resource yet.")
        return own.index(best)

    # ------------------------------------------------- batch-level client API
    def ask_batch(self):
        """The next :class:`~._history.Batch` (None when done)."""
        self._setup()
        if self._pending is not None:
            raise RuntimeError(
                "ask() was called again before the scores of the previous batch "
                "were told: call tell(candidates, scores) first."
            )
        if self._next is None:
            self._advance(None)
        batch, self._next = self._next, None
        self._pending = batch
        return batch

    def tell_batch(self, batch, scores, details=None):
        """Record the scores (and the client's ``details``) of ``batch``."""
        if batch is not self._pending:
            raise ValueError("tell_batch got a batch that is not the one asked last.")
        evaluations = self.history_.add(batch, scores, details)
        self._pending = self._asked = None
        self._advance(np.array([e.score for e in evaluations]))
        return evaluations

    def tell_external(self, candidates, scores, resource=None):
        """Evaluations made elsewhere on the same space (a warm start).

        They are located in the space and count as spectral-stage data; they
        cost no budget.  Only before the first ``ask``.

        Raises
        ------
        ValueError
            For a candidate that is not in the space.
        """
        self._setup()
        self.tell_trials([trial_of(self.space_, params) for params in candidates], scores,
                         resource=resource)

    def tell_trials(self, trials, scores, resource=None):
        """As :meth:`tell_external`, for trials already located in the space."""
        self._setup()
        if self._started:
            raise RuntimeError("Earlier evaluations can only be told before the first ask().")
        resource = self.max_resources_ if resource is None else resource
        batch = Batch(list(trials), stage=0, phase="told", rung=0, resource=resource)
        self.history_.add(batch, scores)

    def resume_from(self, history, stages):
        """Continue a finished run: its evaluations and stage reports become
        this run's, nothing is evaluated again, and ``n_iter`` is the budget
        of both runs together.  Only before the first ``ask``."""
        self._setup()
        if self._started:
            raise RuntimeError("A run can only be resumed before the first ask().")
        for batch in history.batches:
            evaluations = [e for e in history if e.batch is batch]
            self.history_.add(batch, [e.score for e in evaluations],
                              [e.details for e in evaluations])
        self.stages_ = list(stages)

    def truncate_pending(self, n):
        """Keep only the first ``n`` trials of the batch asked last (a client
        that cannot evaluate them all in time); 0 stops the run."""
        if self._pending is None:
            raise RuntimeError("No batch is pending.")
        if n <= 0:
            self.stop()
            return None
        self._pending.trials = self._pending.trials[:n]
        return self._pending

    def resize_pending(self):
        """Shrink a pending spectral-stage batch to the stage size that the
        budget, capped since it was drawn (``budget_cap``), plans; returns
        the pending batch."""
        batch = self._pending
        if batch is not None and batch.phase == "spectral":
            size = max(self._stage_plan()[1], decide.MIN_STAGE_SIZE)
            batch.trials = batch.trials[:size]
        return batch

    def budget_share_by_end_of(self, batch):
        """The share of its budget the plan means to have used when
        ``batch`` ends: the spectral stages split ``SPECTRAL_SHARE`` of it
        between them, the rest goes to the final stage.  A client with a time
        budget stops a stage that runs past its share (measured costs vary
        tenfold between configurations, so counting candidates is not
        enough)."""
        if batch.phase != "spectral":
            return 1.0
        n_stages = max(1, self._stage_plan()[0])
        done = batch.stage - self._first_stage + 1
        return decide.SPECTRAL_SHARE * min(1.0, done / n_stages)

    def confirm_now(self):
        """Stop the run, and return a last batch that evaluates at full
        resource the best candidate seen at a reduced one, when no candidate
        was evaluated at full resource yet (None otherwise): a client out of
        time still ends with a full-resource answer.  Tell its scores as
        for any batch."""
        self._setup()
        self.stop()
        if self._has_full_resource_answer():
            return None
        reduced = [
            e for e in self.history_
            if e.resource < self.max_resources_ and e.batch.phase != "told"
        ]
        trial = decide.to_confirm(reduced, [], self.max_resources_)
        if trial is None:
            return None
        stage = max((b.stage for b in self.history_.batches), default=0)
        self._pending = self._batch(
            [trial], stage=stage, phase="confirm", rung=0, resource=self.max_resources_
        )
        return self._pending

    def stop(self):
        """End the run now: ``done`` becomes True, ``ask`` returns nothing."""
        self._setup()
        if self._plan_steps is None:
            self._plan_steps = self._plan()
        self._plan_steps.close()
        self._pending = self._next = None

    # ------------------------------------------------------------ results
    @property
    def best_params_(self):
        return dict(self._best().trial.params)

    @property
    def best_score_(self):
        return self._best().score

    def _best(self):
        best = self.history_.incumbent(self.max_resources_) if self._is_setup else None
        if best is None:
            raise AttributeError("No evaluation at full resource was told yet.")
        return best

    @property
    def budget_spent_(self):
        return self.history_.spent(self.max_resources_)

    @property
    def param_importances_(self):
        return effect_importances(self.space_, [r.effects for r in self.stages_])

    # ------------------------------------------------------------ set-up
    _is_setup = False
    _first_stage = 1
    # Whether halving prices a resource level at its measured share of a
    # full evaluation (from the fit and score times of evaluations told with
    # details: a client with a time budget sets it) rather than at its
    # nominal resource / max_resources.
    measured_costs = False

    def _setup(self):
        if self._is_setup:
            return
        if not isinstance(self.n_iter, numbers.Integral) or not (
            1 <= self.n_iter <= decide.MAX_N_ITER
        ):
            raise ValueError(
                f"n_iter must be an integer from 1 to {decide.MAX_N_ITER}; got "
                f"{self.n_iter!r}."
            )
        if not isinstance(self.factor, numbers.Real) or not 1 < self.factor <= 1000:
            raise ValueError(f"factor must be a number in (1, 1000]; got {self.factor!r}.")
        self.space_ = SearchSpace.from_param_space(
            self.param_space, distribution_bits=self.distribution_bits
        )
        self._resolve_resources()
        self.search_mode_ = "exhaustive" if self._exhaustive() else "spectral"
        self.history_ = History()
        self.stages_ = []
        self.n_candidates_, self.n_resources_ = [], []
        self.final_stage_ = {}
        self._rng = check_random_state(self.random_state)
        self._pending = None
        self._next = None
        self._started = False
        self._plan_steps = None
        self.budget_cap = float("inf")
        self._spent_before_plan = 0.0
        self._is_setup = True

    def _resolve_resources(self):
        if self.max_resources is None:
            self.max_resources_ = self.min_resources_ = self.spectral_resource_ = 1
            return
        max_r = int(self.max_resources)
        if self.min_resources == "auto":
            min_r = min(max_r, max(1, int(round(max_r / self.factor**2))))
        else:
            min_r = int(self.min_resources)
        if min_r > max_r:
            raise ValueError(f"min_resources={min_r} is larger than max_resources={max_r}.")
        if self.spectral_resource == "auto":
            spectral = min(max_r, max(min_r, int(round(max_r / self.factor))))
        elif self.spectral_resource is None:
            spectral = max_r
        else:
            spectral = int(self.spectral_resource)
        if spectral > max_r:
            raise ValueError(
                f"spectral_resource={spectral} is larger than max_resources={max_r}."
            )
        self.max_resources_, self.min_resources_ = max_r, min_r
        self.spectral_resource_ = spectral

    def max_batches(self):
        """Upper bound of the number of batches (for progress displays)."""
        self._setup()
        if self._exhaustive():
            return 1
        # Each stage may be followed by a confirmation, the first may run in
        # two halves with one between them, and a run cut short by its client
        # may end with one.
        n_stages = 2 * self._stage_plan()[0] + 3
        if self.final_stage == "random":
            return n_stages + 1
        return n_stages + len(
            rung_resources(self.min_resources_, self.max_resources_, self.factor)
        )

    def _exhaustive(self):
        return self.space_.is_finite() and self.space_.size() <= self.n_iter

    def _stage_plan(self):
        # A resumed run plans what is left of n_iter; a capped one what the
        # cap leaves.
        spent = self._spent_before_plan if self._started else self.budget_spent_
        return decide.stage_plan(
            max(0, self._n_iter() - spent),
            self.spectral_resource_ / self.max_resources_,
            self.n_stages,
            self.stage_size,
        )

    # ------------------------------------------------------------ the plan
    def _advance(self, scores):
        """Run the plan up to its next batch, giving it ``scores``."""
        try:
            if self._plan_steps is None:
                self._started = True
                self._plan_steps = self._plan()
                self._next = next(self._plan_steps)
            else:
                self._next = self._plan_steps.send(scores)
        except StopIteration:
            self._next = None

    def _batch(self, trials, *, stage, phase, rung, resource):
        seed = None
        rule = getattr(self, "_draws_subsample_seed", None)
        if rule is not None and rule(resource):
            seed = int(self._rng.randint(2**31 - 1))
        return Batch(list(trials), stage, phase, rung, int(resource), seed)

    def _plan(self):
        space = self.space_
        if self.search_mode_ == "exhaustive":
            seen = self.history_.seen_keys()  # a resumed grid is not run again
            trials = [
                Trial(p, ("grid", i), None, None)
                for i, p in enumerate(space.grid())
                if ("grid", i) not in seen
            ]
            if not trials:
                return
            if self.measured_costs:
                # A client with a time budget may cut the grid short: in a
                # random order, what it evaluates is a uniform sample of it.
                trials = [trials[i] for i in self._rng.permutation(len(trials))]
            yield self._batch(
                trials, stage=0, phase="exhaustive", rung=0, resource=self.max_resources_
            )
            self._log(f"exhaustive: {len(trials)} candidates at full resource")
            return
        self._spent_before_plan = self.budget_spent_
        if self._stage_plan()[0] == 0:
            self._name_the_mode_without_stages()
        restriction = Restriction.unrestricted(space)
        first = self._first_stage = 1 + max((b.stage for b in self.history_.batches), default=0)
        stage = first
        # The plan is read again before each stage: a client's budget_cap
        # (a time budget) may have shrunk it.
        while stage - first < (plan := self._stage_plan())[0]:
            stage_size = plan[1]
            trials = decide.draw_unseen(
                space, restriction, stage_size, self._rng, self.history_.seen_keys()
            )
            if not trials:  # the restricted space is exhausted
                break
            scores = yield from self._spectral_stage(trials, stage)
            decide.warn_non_finite(scores, f"Stage {stage}")
            restriction, report = decide.fit_stage(
                space, restriction, self._spectral_data(), self._stage_settings(), stage
            )
            self.stages_.append(report)
            self._log(stage_log_line(report, self.resource))
            yield from self._confirm(stage)
            stage += 1
        final = 1 + max((b.stage for b in self.history_.batches), default=0)
        final_stage = self._halving if self.final_stage == "halving" else self._random
        yield from final_stage(final, restriction)
        # A time budget whose plan, priced at measured costs, left time for
        # more full evaluations: more candidates ranked by the surrogate.
        while self.measured_costs and self._n_iter() - self.budget_spent_ >= 1:
            spent = self.budget_spent_
            final += 1
            yield from final_stage(final, restriction)
            if self.budget_spent_ == spent:
                break

    def _spectral_stage(self, trials, stage):
        """Evaluate a stage's ``trials``; return their scores.

        The run's first stage at a reduced resource, without a time budget,
        runs in two halves on the same subsample, the best candidate of the
        first confirmed at full resource in between: the run holds a
        full-resource answer half-way through its first stage rather than
        at its end.  (A time budget sizes the stage after a pilot, so it
        runs whole.)
        """
        resource = self.spectral_resource_
        preview = (
            stage == self._first_stage
            and not self.measured_costs
            and resource < self.max_resources_
            and len(trials) >= 2 * decide.MIN_STAGE_SIZE
            and self._n_iter() >= decide.MIN_N_ITER_FOR_PREVIEW
        )
        whole = self._batch(trials, stage=stage, phase="spectral", rung=0, resource=resource)
        if not preview:
            return (yield whole)
        half = len(trials) // 2
        first_scores = yield whole.part(0, half)
        yield from self._confirm(stage)
        second_scores = yield whole.part(half, len(trials))
        return np.concatenate([first_scores, second_scores])

    def _confirm(self, stage):
        """Evaluate at full resource the best reduced-resource candidate seen,
        when it beats the ones confirmed so far.

        So that from the first stage on the run holds an incumbent evaluated
        at full resource: a time budget, an interruption or a small n_iter
        still ends with an answer as good as what the run has seen.
        """
        trial = decide.to_confirm(
            self._spectral_data(),
            self.history_.where(phase="confirm"),
            self.max_resources_,
        )
        if trial is None or self.budget_spent_ + 1 > self._n_iter():
            return
        scores = yield self._batch(
            [trial], stage=stage, phase="confirm", rung=0, resource=self.max_resources_
        )
        self._log(f"confirmed the best candidate so far at full resource: {scores[0]:.4f}")

    def _n_iter(self):
        """The budget: ``n_iter``, or less when the client capped it."""
        return min(self.n_iter, self.budget_cap)

    def _name_the_mode_without_stages(self):
        """``search_mode_`` of a run without spectral stage; a warning saying
        what to do when the budget, not the user, ruled them out."""
        self.search_mode_ = f"{self.final_stage} only"
        if self.n_stages == 0:
            return
        cost = self.spectral_resource_ / self.max_resources_
        needed = math.ceil(decide.MIN_STAGE_SIZE * cost / decide.SPECTRAL_SHARE)
        warnings.warn(
            f"n_iter={self.n_iter} affords no spectral stage (one needs "
            f"{decide.MIN_STAGE_SIZE} candidates, n_iter >= {needed} at this "
            f"resource): the search ran {'successive halving' if self.final_stage == 'halving' else 'random search'} "
            "alone, without learning which hyperparameters matter "
            f"(search_mode_='{self.search_mode_}'). Raise n_iter to at least "
            f"{needed} for a spectral stage.",
            UserWarning,
        )

    def _stage_settings(self):
        return SimpleNamespace(
            degree=self.degree, n_terms=self.n_terms, alpha=self.alpha, n_best=self.n_best
        )

    def _spectral_data(self):
        return self.history_.where(phase=("told", "spectral"))

    def _halving(self, stage, restriction):
        budget = self._n_iter() - self.budget_spent_
        if budget < 1 - 1e-9 and self._has_full_resource_answer():
            return  # not one more full evaluation: the confirmed answer stands
        schedule = halving_schedule(
            budget, self.min_resources_, self.max_resources_, self.factor,
            cost=(
                measured_cost_function(self.history_, self.max_resources_)
                if self.measured_costs
                else None
            ),
        )
        trials = self._final_candidates(restriction, schedule.n_candidates[0])
        for rung, resource in enumerate(schedule.resources):
            if not trials:
                break
            known = {e.trial.key: e.score for e in self.history_.where(resource=resource)}
            new = [t for t in trials if t.key not in known]
            if new:
                batch = self._batch(
                    new, stage=stage, phase="halving", rung=rung, resource=resource
                )
                new_scores = yield batch
                # The client may have cut the batch short (a time budget).
                known.update((t.key, score) for t, score in zip(batch.trials, new_scores))
                trials = [t for t in trials if t.key in known]
            # A trial met at this resource before (a confirmed one) is not
            # evaluated again: its earlier score competes.
            scores = np.array([known[t.key] for t in trials])
            self.n_candidates_.append(len(trials))
            self.n_resources_.append(resource)
            self._log(
                f"halving rung {rung}: {len(trials)} candidates at resource "
                f"{resource}, best {best_observed(scores):.4f}"
            )
            if rung + 1 < schedule.n_rungs:
                decide.warn_non_finite(scores, f"Halving rung {rung}")
            n_keep = decide.halving_keep(len(trials), self.factor)
            trials, scores = self._with_stage_candidates(trials, scores, resource)
            trials = decide.promote(trials, scores, n_keep)

    def _has_full_resource_answer(self):
        """Whether this run evaluated a candidate at full resource (told
        evaluations are not this run's)."""
        return any(
            e.batch.phase != "told" for e in self.history_.where(resource=self.max_resources_)
        )

    def _with_stage_candidates(self, trials, scores, resource):
        """``trials`` and ``scores`` joined by the spectral-stage evaluations
        made at the same ``resource``.

        They compete for promotion to the next rung at no cost: the best
        settings the stages met (often inside the final restriction, and
        never drawn again) then reach the full resource too.
        """
        present = {t.key for t in trials}
        earlier = [
            e for e in self._spectral_data()
            if e.resource == resource and e.trial.key not in present
        ]
        return (
            trials + [e.trial for e in earlier],
            np.concatenate([scores, [e.score for e in earlier]]),
        )

    def _random(self, stage, restriction):
        n = int(self._n_iter() - self.budget_spent_ + 1e-9)
        if n < 1 and self._has_full_resource_answer():
            return
        trials = self._final_candidates(restriction, max(n, 1))
        if trials:
            yield self._batch(
                trials, stage=stage, phase="random", rung=0, resource=self.max_resources_
            )
            self.n_candidates_.append(len(trials))
            self.n_resources_.append(self.max_resources_)

    def _final_candidates(self, restriction, n):
        """``n`` trials for the final stage, ranked by the surrogate.

        The pool holds ``final_pool * n`` new draws from ``restriction``,
        topped up from the whole space when the restricted space has too few
        left; the surrogate keeps the best ``n`` of it.  A finite restricted
        space that runs out is completed by the best spectral-stage
        candidates inside it, so that the final stage always evaluates
        something at full resource.
        """
        space, seen = self.space_, self.history_.seen_keys()
        data = self._spectral_data()
        pool_size = min(self.final_pool * n, max(n, decide.MAX_POOL_SIZE))
        if pool_size == n or len(data) < decide.MIN_STAGE_SIZE:
            trials = decide.draw_unseen(space, restriction, n, self._rng, seen)
            self.final_stage_ = decide.final_stage_summary(len(trials), 0, len(trials), 0)
        else:
            pool = decide.draw_unseen(
                space, restriction, pool_size, self._rng, seen, decode=False
            )
            n_restricted = len(pool)
            if n_restricted < pool_size and restriction.fixed_bits.size > 0:
                pool += decide.draw_unseen(
                    space,
                    Restriction.unrestricted(space),
                    pool_size - n_restricted,
                    self._rng,
                    seen,
                    exclude={t.key for t in pool},
                    decode=False,
                )
            chosen = decide.rank_by_surrogate(space, data, pool, n)
            self.final_stage_ = decide.final_stage_summary(
                len(pool), len(pool) - n_restricted, len(chosen),
                int(np.sum(chosen >= n_restricted)),
            )
            self._log(
                f"final stage: {len(chosen)} candidates chosen from {len(pool)} random "
                "draws by a model of the scores so far (ridge regression on pairs of "
                f"parameters); {len(pool) - n_restricted} draws lie outside the settings "
                "the stages kept"
            )
            trials = decide.decoded(space, [pool[i] for i in chosen])
        return trials + decide.best_inside(space, restriction, data, n - len(trials))

    # ------------------------------------------------------------ helpers
    def _match_pending(self, candidates):
        """Position in the pending batch of each told candidate: the dicts
        ``ask`` returned (by identity), or equal ones."""
        asked = getattr(self, "_asked", None)
        if asked is None or len(asked) != len(self._pending):
            asked = self.ask_candidates_of(self._pending)
        by_id = {id(a): i for i, a in enumerate(asked)}
        used, positions = set(), []
        for candidate in candidates:
            match = by_id.get(id(candidate))
            if match is None or match in used:
                match = next(
                    (
                        i for i, a in enumerate(asked)
                        if i not in used and _same_params(a, candidate)
                    ),
                    None,
                )
            if match is None:
                raise ValueError(
                    f"tell got a candidate that the last ask() did not return: {candidate!r}."
                )
            used.add(match)
            positions.append(match)
        if len(positions) != len(asked):
            raise ValueError(
                f"tell got {len(positions)} candidates; the last ask() returned "
                f"{len(asked)}: tell the scores of all of them at once."
            )
        return np.array(positions)

    def ask_candidates_of(self, batch):
        extra = {} if self.max_resources is None else {self.resource: batch.resource}
        return [{**t.params, **extra} for t in batch.trials]

    def _log(self, message):
        if self.verbose > 0:
            prefix = getattr(self, "_log_prefix", type(self).__name__)
            print(f"[{prefix}] {message}")


def _same_params(a, b):
    if a.keys() != b.keys():
        return False
    try:
        return all(bool(np.all(a[k] == b[k])) for k in a)
    except Exception:
        return False

