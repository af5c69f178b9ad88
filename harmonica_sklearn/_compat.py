"""Every private name of scikit-learn, joblib and skorch that the library uses.

The search owns its evaluation loop, which needs pieces of
``BaseSearchCV.fit`` that scikit-learn does not make public.  Each one is
reached here, and only here, through a thin wrapper whose docstring says
why it is needed and in which scikit-learn versions it exists.  Each is
pinned by a test of its own in ``tests/test_compat.py``, so that a release
that moves or renames one fails one named test instead of a search.

Supported: scikit-learn >= 1.6 (see ``setup.cfg``).  Checked against 1.6.1
and 1.9.
"""

from __future__ import annotations

import contextlib
import inspect

import sklearn
from sklearn.base import _fit_context
from sklearn.metrics._scorer import _MultimetricScorer
from sklearn.model_selection import _validation
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import _safe_indexing
from sklearn.utils import validation as _sk_validation
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.fixes import parse_version

__all__ = [
    "FIT_AND_SCORE_PARAMETERS",
    "LOST_WORKER_ERRORS",
    "SKLEARN_VERSION",
    "SKORCH_OVERRIDDEN_PRIVATE_METHODS",
    "BaseSearchCV",
    "HasMethods",
    "Interval",
    "StrOptions",
    "base_search_parameter_constraints",
    "callback_management",
    "check_method_params",
    "check_refit_for_multimetric",
    "fit_and_score",
    "fit_context",
    "format_results",
    "get_scorers",
    "init_callback_context",
    "insert_error_scores",
    "is_multimetric_scorer",
    "lost_worker",
    "multimetric_scorers",
    "num_samples",
    "routed_params_for_fit",
    "safe_indexing",
    "sklearn_version_at_least",
    "warn_or_raise_about_fit_failures",
]

# ----------------------------------------------------------------- versions
#: The installed scikit-learn version, without pre-release or dev suffixes.
SKLEARN_VERSION = parse_version(parse_version(sklearn.__version__).base_version)


def sklearn_version_at_least(version):
    """Whether the installed scikit-learn is ``version`` or newer.

    Uses ``sklearn.utils.fixes.parse_version`` (a private module;
    checked in 1.6.1 and 1.9.1), so that the library needs no ``packaging`` of its own.
    """
    return SKLEARN_VERSION >= parse_version(version)


# ----------------------------------------------------- parameter validation
# ``Interval`` and ``StrOptions`` (sklearn.utils._param_validation; checked in
# 1.6.1 and 1.9.1)
# declare the search's ``_parameter_constraints`` the way scikit-learn's own
# searches do; the module is private.  Imported above, re-exported here.


def base_search_parameter_constraints():
    """``BaseSearchCV._parameter_constraints``: the constraints of the
    parameters that the search shares with ``GridSearchCV`` (a private class
    attribute; checked in 1.6.1 and 1.9.1).  A copy: the caller may extend it."""
    return dict(BaseSearchCV._parameter_constraints)


def fit_context(*, prefer_skip_nested_validation):
    """``sklearn.base._fit_context`` (private;
    checked in 1.6.1 and 1.9.1): the decorator of every
    scikit-learn ``fit``.

    It validates the parameters (``_validate_params``) and, from 1.9 on,
    tears the callbacks set up by ``init_callback_context`` down when ``fit``
    ends, also on an error.  The search needs it once its ``fit`` no longer
    goes through ``BaseSearchCV.fit``.
    """
    return _fit_context(prefer_skip_nested_validation=prefer_skip_nested_validation)


# ---------------------------------------------------- one fit, one split
def _fit_and_score_parameters():
    return frozenset(inspect.signature(_validation._fit_and_score).parameters)


#: The parameters that the installed ``_fit_and_score`` accepts.
FIT_AND_SCORE_PARAMETERS = _fit_and_score_parameters()
_CALLBACK_PARAMETERS = ("caller", "callback_ctx")


def fit_and_score(estimator, X, y, **kwargs):
    """``sklearn.model_selection._validation._fit_and_score`` (private;
    checked in 1.6.1 and 1.9.1).

    Fits a clone on one training split and scores it, exactly as
    ``BaseSearchCV`` does for each (candidate, split) pair, including the
    failure semantics of ``error_score``.  scikit-learn 1.9 added ``caller``
    and ``callback_ctx`` (callbacks); on older versions they are dropped here
    (the signature was inspected once, at import).  Runs in the workers.
    """
    for name in _CALLBACK_PARAMETERS:
        if name not in FIT_AND_SCORE_PARAMETERS:
            kwargs.pop(name, None)
    return _validation._fit_and_score(estimator, X, y, **kwargs)


def warn_or_raise_about_fit_failures(results, error_score):
    """``sklearn.model_selection._validation._warn_or_raise_about_fit_failures``
    (private; checked in 1.6.1 and 1.9.1): the ``FitFailedWarning`` when some fits of a batch
    failed, the ``ValueError`` ("All the N fits failed") when all did."""
    return _validation._warn_or_raise_about_fit_failures(results, error_score)


def insert_error_scores(results, error_score):
    """``sklearn.model_selection._validation._insert_error_scores`` (private;
    checked in 1.6.1 and 1.9.1), in place: failed fits get ``error_score`` under every key of the
    successful fits' score dicts (a callable ``scoring`` returning a dict,
    whose keys are known only once one fit has succeeded).  A no-op when the
    scores are not dicts, or are already complete dicts (a multimetric
    scorer, for which ``_fit_and_score`` fills them)."""
    return _validation._insert_error_scores(results, error_score)


def check_method_params(X, params, indices=None):
    """``sklearn.utils.validation._check_method_params`` (private;
    checked in 1.6.1 and 1.9.1): makes fit parameters indexable, as
    ``BaseSearchCV.fit`` does before routing them."""
    return _sk_validation._check_method_params(X, params=params, indices=indices)


def num_samples(x):
    """``sklearn.utils.validation._num_samples`` (private;
    checked in 1.6.1 and 1.9.1): the number
    of samples of an array-like, a sparse matrix or a dataframe."""
    return _sk_validation._num_samples(x)


def safe_indexing(X, indices):
    """``sklearn.utils._safe_indexing`` (documented in scikit-learn's API
    reference despite its underscore; checked in 1.6.1 and 1.9.1): rows of
    an array, a sparse matrix, a dataframe or a list."""
    return _safe_indexing(X, indices)


# ------------------------------------------ BaseSearchCV on the search itself
def get_scorers(search):
    """``BaseSearchCV._get_scorers()`` (private; checked in 1.6.1
    and 1.9.1): ``(scorers,
    refit_metric)``, a ``_MultimetricScorer`` for several metrics, as
    ``BaseSearchCV.fit`` builds them."""
    return search._get_scorers()


def routed_params_for_fit(search, params):
    """``BaseSearchCV._get_routed_params_for_fit(params)`` (private; checked
    in 1.6.1 and 1.9.1): the fit, score and split parameters routed by metadata routing (or the
    legacy rules when it is off)."""
    return search._get_routed_params_for_fit(params)


def format_results(search, candidate_params, n_splits, out, more_results=None):
    """``BaseSearchCV._format_results`` (private; checked in 1.6.1 and
    1.9.1): ``cv_results_``
    from the flat list of ``_fit_and_score`` outputs, candidate-major
    (``out[i * n_splits + s]``), plus the extra columns ``more_results``."""
    return search._format_results(candidate_params, n_splits, out, more_results)


def check_refit_for_multimetric(search, scores):
    """``BaseSearchCV._check_refit_for_multimetric(scores)`` (private;
    checked in 1.6.1 and 1.9.1): ``refit`` must name one of the metrics; called once the first
    fit showed that a callable ``scoring`` returns a dict."""
    return search._check_refit_for_multimetric(scores)


def is_multimetric_scorer(scorers):
    """Whether ``scorers`` (from ``get_scorers``) is a
    ``sklearn.metrics._scorer._MultimetricScorer`` (private; checked in 1.6.1 and 1.9.1)."""
    return isinstance(scorers, _MultimetricScorer)


def multimetric_scorers(scorers):
    """The ``{name: scorer}`` dict inside a ``_MultimetricScorer``
    (``._scorers``, private; checked in 1.6.1 and 1.9.1), what ``BaseSearchCV`` stores as ``scorer_``;
    any other scorer is returned as it is."""
    if is_multimetric_scorer(scorers):
        return scorers._scorers
    return scorers


# ----------------------------------------------- callbacks (scikit-learn 1.9)
def init_callback_context(search, max_subtasks):
    """``search._init_callback_context(max_subtasks=...)`` (scikit-learn
    >= 1.9, from ``sklearn.callback.CallbackSupportMixin``): sets the
    callbacks up and returns the root ``CallbackContext`` of the fit, whose
    ``subcontext(...)`` give the tasks (batches, then one per (candidate,
    split) pair).  ``None`` before 1.9, or for a search without callback
    support: the caller then passes no context anywhere."""
    init = getattr(search, "_init_callback_context", None)
    if init is None:
        return None
    return init(max_subtasks=max_subtasks)


def callback_management(search):
    """A context manager that tears down the callbacks that
    ``init_callback_context`` set up when the block ends, also on an error:
    ``sklearn.callback._callback_support.callback_management_context``
    (private; new in 1.9, checked in 1.9.1; ``fit_context`` already applies it to ``fit``).  A
    no-op context before 1.9."""
    try:
        from sklearn.callback._callback_support import callback_management_context
    except ImportError:  # scikit-learn < 1.9
        return contextlib.nullcontext()
    return callback_management_context(search)


# ------------------------------------------------------------ lost workers
#: Exceptions by which a joblib backend says that a worker, or data only it
#: held, was lost: {top-level package: class names}.  Matched by the module
#: and name of the exception's classes, so that neither dask nor ray is
#: imported (distributed: ``KilledWorker`` and the cancelled futures of a
#: worker that left; ray: its actor and node failures; joblib: loky's
#: ``TerminatedWorkerError``).  Ray's ``OutOfMemoryError`` is left out: a
#: rerun would most likely be killed again.
LOST_WORKER_ERRORS = {
    "distributed": frozenset({"KilledWorker", "FutureCancelledError", "FuturesCancelledError"}),
    "ray": frozenset({"RayActorError", "WorkerCrashedError", "NodeDiedError", "ObjectLostError"}),
    "joblib": frozenset({"TerminatedWorkerError"}),
}


def lost_worker(exc):
    """Whether ``exc``, or an exception it was raised from (``__cause__``),
    says that a worker was lost: one of ``LOST_WORKER_ERRORS``, by the
    top-level package of its class's module and its class name (subclasses
    included)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for cls in type(exc).__mro__:
            package = cls.__module__.split(".")[0]
            if cls.__name__ in LOST_WORKER_ERRORS.get(package, ()):
                return True
        exc = exc.__cause__
    return False


# ------------------------------------------------------------------ skorch
#: Private methods of ``skorch.NeuralNet`` (checked in skorch 1.4.0) that
#: ``harmonica_sklearn.skorch`` overrides (calling ``super()``) to run them
#: on the device the net was given: skorch builds the module and the
#: criterion there.  Pinned by a test (when skorch is installed).
SKORCH_OVERRIDDEN_PRIVATE_METHODS = ("_initialize_module", "_initialize_criterion")
