"""Earlier evaluations brought into a run: candidates found in the space.

A warm start seeds the optimizer with evaluations it did not ask for (the
``cv_results_`` of a ``GridSearchCV`` or ``RandomizedSearchCV`` the user
already ran, or scores of a plain function).  Each candidate is located in
the encoded space — the value's code for a list, the bucket and the position
inside it for a distribution — so that it counts as spectral-stage data.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._history import Trial
from ._params import _equal

__all__ = ["trial_of", "trials_and_scores_from_results"]


def trial_of(space, params):
    """The :class:`~._history.Trial` of the candidate ``params``.

    Raises
    ------
    ValueError
        When no branch of the space declares exactly these parameter names,
        or a value is not one the space can produce.
    """
    branch = _branch_of(space, params)
    index = np.zeros(space.n_params, dtype=np.intp)
    offset = np.full(space.n_params, 0.5)
    if space.branch_param is not None:
        index[space.branch_param] = branch
    for p in space.active_params(branch):
        param = space.params[p]
        index[p], offset[p] = _locate(param, params[param.name])
    # Inactive parameters take their first allowed value: their bits then act
    # as dummies, as for sampled candidates.
    for p, param in enumerate(space.params):
        if p != space.branch_param and p not in space.active_params(branch):
            index[p] = int(np.flatnonzero(param.weights > 0)[0])
    key = ("told",) + space.candidate_key(index, offset)
    return Trial(dict(params), key, index, offset)


def _branch_of(space, params):
    names = set(params)
    for branch in range(space.n_branches):
        declared = {space.params[p].name for p in space.active_params(branch)}
        declared.discard("<branch>")
        if declared == names:
            return branch
    raise ValueError(
        f"The candidate {params!r} names parameters that no branch of param_space "
        "declares exactly."
    )


def _locate(param, value):
    """``(index, offset)`` of ``value`` for one parameter."""
    if param.kind in ("categorical", "ordered"):
        for i, candidate in enumerate(param.values):
            if param.weights[i] > 0 and _equal(candidate, value):
                return i, 0.5
        raise ValueError(f"{param.name}={value!r} is not one of its declared values.")
    if param.kind == "free":
        return 0, 0.5
    try:
        quantile = float(param.distribution.cdf(value))
    except Exception as exc:
        raise ValueError(f"{param.name}={value!r} is not a value of its distribution.") from exc
    if not 0.0 <= quantile <= 1.0 or not np.isfinite(quantile):
        raise ValueError(f"{param.name}={value!r} is outside its distribution's support.")
    position = min(quantile * param.n_values, param.n_values - 1e-9)
    return int(position), float(position - int(position))


def trials_and_scores_from_results(space, results, score_key):
    """Trials and scores of the rows of a ``cv_results_`` that lie in the space.

    Rows outside the space (other values, other names) are left out with one
    warning saying how many; rows with a non-finite score are kept (they are
    failures, ranked below every finite score).
    """
    trials, scores, outside = [], [], 0
    for params, score in zip(results["params"], results[score_key]):
        try:
            trials.append(trial_of(space, params))
        except ValueError:
            outside += 1
            continue
        scores.append(float(score))
    if outside:
        warnings.warn(
            f"{outside} of {len(results['params'])} earlier evaluations lie outside "
            "param_space and were left out of the warm start.",
            UserWarning,
        )
    return trials, np.array(scores)
