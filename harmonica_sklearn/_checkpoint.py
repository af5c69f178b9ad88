"""A durable store of finished evaluations, to resume a search after a crash.

Every fit-and-score of one candidate on one split is written to the store by
the worker that ran it, as soon as it finishes: pickled to a temporary file,
flushed to disk, then atomically renamed into place, so a crash mid-write
leaves at worst a stray temporary file and never a corrupt entry.

Re-running the same ``fit`` replays the search: every random decision is made
in the driver from ``random_state``, so the same candidates come up in the
same order, and each evaluation already in the store is read instead of
recomputed.  The result is that of an uninterrupted run, fit times included.

The store is tied to one search problem: a fingerprint of the data, the
estimator, the space, the splits and the scoring is written when the store
is created and checked on every later use; a mismatch is refused with an
error naming what differs.

How evaluations are intercepted: ``BaseSearchCV.fit`` dispatches
``sklearn.model_selection._search._fit_and_score`` through joblib; while a
fit with a checkpoint runs, that name points to :func:`checkpointed_fit_and_score`,
a picklable module-level function that workers of any joblib backend
(loky, Dask, Ray) can run.  This relies on a private sklearn name, checked
when the store opens; the tests pin it for each supported sklearn version.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import pickle
import threading
import uuid
from pathlib import Path

import joblib
from sklearn.model_selection import _search as sklearn_search
from sklearn.model_selection import _validation

from ._space import _as_branch_list

__all__ = ["CheckpointStore", "checkpointed_fit_and_score"]

_FINGERPRINT_FILE = "fingerprint.json"
_PATCH_LOCK = threading.RLock()


class CheckpointStore:
    """A directory of finished evaluations for one search problem.

    Parameters
    ----------
    path : str or path-like
        Directory; created if missing.
    """

    def __init__(self, path):
        self.path = Path(path)

    def open(self, fingerprint):
        """Create the store, or check that it belongs to this search.

        Parameters
        ----------
        fingerprint : dict of str -> str
            Hash of each component of the search problem.

        Raises
        ------
        ValueError
            If the store was written for a different search problem.
        """
        if not hasattr(sklearn_search, "_fit_and_score"):
            raise RuntimeError(
                "checkpoint is not supported with this scikit-learn version: "
                "sklearn.model_selection._search._fit_and_score is missing."
            )
        self.path.mkdir(parents=True, exist_ok=True)
        stored_file = self.path / _FINGERPRINT_FILE
        if stored_file.exists():
            stored = json.loads(stored_file.read_text())
            different = sorted(k for k in fingerprint if stored.get(k) != fingerprint[k])
            if different:
                raise ValueError(
                    f"checkpoint={str(self.path)!r} holds evaluations of a different "
                    f"search: its {', '.join(different)} differ from this fit's. Use "
                    "another directory, or delete this one to start afresh."
                )
        else:
            _atomic_write(stored_file, json.dumps(fingerprint, indent=1).encode())

    def entry(self, key):
        return self.path / f"{key}.pkl"

    def load(self, key):
        """The stored result of evaluation ``key``, or None."""
        try:
            with open(self.entry(key), "rb") as f:
                return pickle.load(f)
        except FileNotFoundError:
            return None
        except Exception:  # unreadable (truncated by hand, other Python): redo it
            return None

    def save(self, key, result):
        _atomic_write(self.entry(key), pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))

    def __len__(self):
        return sum(1 for _ in self.path.glob("*.pkl"))

    @contextlib.contextmanager
    def intercepting(self):
        """Route sklearn's per-split evaluations through this store."""
        with _PATCH_LOCK:
            original = sklearn_search._fit_and_score
            sklearn_search._fit_and_score = functools.partial(
                checkpointed_fit_and_score, store_path=str(self.path)
            )
            try:
                yield self
            finally:
                sklearn_search._fit_and_score = original


def checkpointed_fit_and_score(estimator, X, y, *, store_path, **kwargs):
    """``_fit_and_score`` that reads a finished evaluation from the store, or
    runs it and writes it there before returning."""
    store = CheckpointStore(store_path)
    key = joblib.hash((kwargs["parameters"], kwargs["train"], kwargs["test"]))
    result = store.load(key)
    if result is None:
        result = _validation._fit_and_score(estimator, X, y, **kwargs)
        store.save(key, result)
    return result


def fingerprint(estimator, param_space, X, y, splits, scoring, error_score, train_score):
    """Hashes of the components that make evaluations comparable."""
    return {
        "estimator": type(estimator).__name__ + _hash(estimator.get_params(deep=False)),
        "param_space": _hash(_declared(param_space)),
        "data": _hash((X, y)),
        "cv": _hash([(train, test) for train, test in splits]),
        "scoring": _hash((scoring, error_score, train_score)),
    }


def _declared(param_space):
    """The space as declared, distributions by name and arguments: their
    pickles hold a random generator whose state differs between processes."""

    def canonical(spec):
        if hasattr(spec, "rvs"):
            dist = getattr(spec, "dist", spec)
            name = getattr(dist, "name", type(dist).__name__)
            return ("distribution", name, getattr(spec, "args", ()), getattr(spec, "kwds", {}))
        return spec

    return [
        {name: canonical(spec) for name, spec in b.items()}
        for b in _as_branch_list(param_space)
    ]


def _hash(obj):
    try:
        return joblib.hash(obj)
    except Exception:  # unpicklable (a lambda scorer): fall back to its text
        return joblib.hash(repr(obj))


def _atomic_write(path, data):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
