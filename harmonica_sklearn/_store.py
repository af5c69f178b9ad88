"""A durable store of finished evaluations, to resume a search after a crash.

What is stored
--------------
One record per evaluation of one candidate, at one resource, on one CV
split: the numeric part of scikit-learn's ``_fit_and_score`` output, a dict
of JSON values only::

    {"test_scores": float or {metric: float},
     "train_scores": same form, or None,
     "fit_time": float, "score_time": float,
     "n_test_samples": int, "fit_error": str or None}

(further keys are allowed if their values are JSON: numbers, strings, None,
lists and dicts of them).  NaN and +-inf round-trip exactly, as do all
floats (written with ``repr``, read with ``float``).  Only the search's
driver process reads and writes the store: workers may run on machines
without a shared disk.

Why SQLite, and why JSON
------------------------
The store is one SQLite database, ``evaluations.sqlite3`` in the checkpoint
directory, from the standard library: table ``evaluations(key TEXT PRIMARY
KEY, record TEXT)`` holds each record as JSON text, table ``meta`` the
format version and the fingerprint of the search.  SQLite gives, with no
code of ours: atomic transactions (a process killed mid-write leaves the
last committed state, never a torn record); durability of each commit
(``synchronous=FULL``: a ``put`` that returned survives a SIGKILL, and a
power loss on a disk that honours flushes); locking between processes (two
searches starting at once on one path cannot both create the store); and
one file instead of one per evaluation.  JSON lines would need all of these
written by hand (fsync of file and directory, torn last lines, locking).
While a search has the store open it writes through SQLite's write-ahead
log (``-wal`` and ``-shm`` files beside it: one flush per ``put`` instead
of three); closing folds the log back, leaving one self-contained file.

Records are JSON, never pickle: reading a store parses numbers and strings
and cannot execute code, whoever wrote the file; no Python function is
registered with SQLite and ``trusted_schema`` is off.  A record that is not
valid JSON of the documented form is treated as missing (the evaluation is
simply run again and overwritten).  A file that is not a readable SQLite
database of this format (checked with ``PRAGMA quick_check`` at every
open), or whose fingerprint was deleted or damaged, is refused with an
error naming its path.  Other files in the directory (such as the pickles
of earlier versions) are never read.  Keep the directory on a local disk:
SQLite's locking is unreliable on some network file systems.

How keys are made
-----------------
:func:`evaluation_key` is the SHA-256 of a canonical encoding of the
search's encoded candidate (a tuple of ints, floats and strings: never user
objects, so nothing user-defined is pickled or hashed), the resource, and
the bytes of the train and test index arrays (as little-endian int64).

What a resume reuses
--------------------
Any evaluation of the same candidate at the same resource on the same
split: the search asks :meth:`EvaluationStore.get_many` for the keys of a
batch before dispatching it, and dispatches only the missing ones.  Keys do
not depend on the stage, the order of evaluation or ``n_iter``, so
re-running an interrupted search reuses everything stored, and continuing a
finished search with a larger ``n_iter`` reuses all of its evaluations.

Which searches may share a store
--------------------------------
The store is tied to one search problem by :func:`fingerprint`: a hash of
each component that makes evaluations comparable (data, splits, estimator
and its parameters, declared space, scoring, error_score,
return_train_score, fit params and routed metadata, resource name).  It is
written when the store is created and compared on every later open; a
mismatch is refused with an error naming the components that differ.
Whatever else changes what an encoded candidate stands for (the encoding
itself, ``distribution_bits``) must enter the fingerprint too, through its
``extra`` argument.
Callables are identified by module and qualified name (their code is not
hashed: editing a scoring function in place keeps its fingerprint), so a
lambda or a function defined inside another function, whose name is not
stable across processes, is refused; so is any object whose only identity
is its memory address.

Locations
---------
:func:`check_location` validates the ``checkpoint`` parameter before any
fit: a leading ``~`` is expanded with :func:`os.path.expanduser`; the
checkpoint directory is created if missing, but its parent must exist (a
typo in a mount point should not silently write elsewhere); an existing
file, ``""``, or a directory where the store is missing and cannot be
created are refused.  An existing store that this process cannot write is
opened read-only: its evaluations are reused, and evaluations it lacks are
computed but not stored (one RuntimeWarning says so).  (A store left by a
killed process keeps its write-ahead log until it is next opened writable:
do that once before making it read-only.)

Guarantees
----------
* Reading never executes code: no pickle anywhere.
* Each :meth:`EvaluationStore.put` is committed (durable) when it returns.
* A process killed at any point leaves the store readable with every
  record complete.
* A failed write (disk full, any OSError or SQLite error) never loses the
  search: one RuntimeWarning names the path and the error, and the search
  goes on without writing further.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import numbers
import os
import re
import sqlite3
import threading
import time
import types
import warnings
from collections.abc import Mapping
from pathlib import Path

import joblib
import numpy as np

__all__ = ["EvaluationStore", "check_location", "evaluation_key", "fingerprint"]

STORE_FILE = "evaluations.sqlite3"
_APPLICATION = "harmonica-sklearn evaluation store"
_FORMAT = "1"
# How long a process waits for another one's lock on the store (seconds).
_LOCK_TIMEOUT = 60.0
# Keys per SELECT (below SQLite's oldest limit of 999 bound variables).
_CHUNK = 500
# Deepest nesting followed when fingerprinting parameters.
_MAX_DEPTH = 100

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}")


# --------------------------------------------------------------- locations
def check_location(path) -> Path:
    """Validate the ``checkpoint`` parameter; called before any fit.

    Parameters
    ----------
    path : str or path-like
        The checkpoint directory.  A leading ``~`` is expanded to the home
        directory.

    Returns
    -------
    pathlib.Path
        The absolute directory (not created here: :meth:`EvaluationStore.open`
        creates it).

    Raises
    ------
    TypeError
        If ``path`` is neither a string nor path-like.
    ValueError
        If ``path`` is empty, is an existing file, has a parent directory
        that does not exist, holds a store file that cannot be read, or is
        a directory where the store is missing and cannot be created.
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            "checkpoint must be a str or a path-like directory, got "
            f"{type(path).__name__}."
        )
    text = os.fsdecode(os.fspath(path))
    if not text.strip():
        raise ValueError(
            f"checkpoint={text!r} is empty: give a directory path, or None for no "
            "checkpoint."
        )
    if text.startswith("~"):
        expanded = os.path.expanduser(text)
        if expanded.startswith("~"):
            raise ValueError(
                f"checkpoint={text!r}: cannot expand the leading '~' (no such user "
                "or no home directory); give the full path."
            )
        text = expanded
    directory = Path(os.path.abspath(text))
    shown = f"checkpoint={str(path)!r}"
    if directory.exists() and not directory.is_dir():
        raise ValueError(
            f"{shown} is an existing file ({directory}), not a directory: give a "
            "directory for the evaluation store."
        )
    if not directory.exists():
        parent = directory.parent
        if not parent.is_dir():
            raise ValueError(
                f"{shown}: its parent {parent} is not an existing directory; create it "
                "first (the checkpoint directory itself is created, its parents "
                "are not, so that a typo cannot write elsewhere)."
            )
        if not _writable(parent):
            raise ValueError(
                f"{shown}: cannot create the directory {directory}: {parent} is not "
                "writable."
            )
        return directory
    store = directory / STORE_FILE
    if store.exists() or store.is_symlink():
        if not store.is_file():
            raise ValueError(f"{shown}: {store} exists but is not a file.")
        if not os.access(store, os.R_OK):
            raise ValueError(f"{shown}: the store {store} is not readable.")
    elif not _writable(directory):
        raise ValueError(
            f"{shown}: the directory {directory} is not writable, so the evaluation "
            "store cannot be created there; give a writable directory."
        )
    return directory


def _writable(path) -> bool:
    """Whether this process may write the file, or create files in the
    directory, ``path`` (a seam for the tests, which may run as root)."""
    return os.access(path, os.W_OK | (os.X_OK if os.path.isdir(path) else 0))


# -------------------------------------------------------------------- store
class EvaluationStore:
    """Finished evaluations of one search problem, in an SQLite database.

    Open with :meth:`open`; use from the search's driver process only (it
    cannot be pickled).  Safe to share between threads of that process.

    Attributes
    ----------
    path : pathlib.Path
        The checkpoint directory.
    file : pathlib.Path
        The database file.
    writable : bool
        False for a store opened read-only (see :meth:`open`), and after a
        failed write.
    """

    def __init__(self, path, file, connection, writable):
        self.path = path
        self.file = file
        self.writable = writable
        self._connection = connection
        self._lock = threading.RLock()
        self._warned = False

    # ------------------------------------------------------------- opening
    @classmethod
    def open(cls, path, fingerprint: dict[str, str]) -> EvaluationStore:
        """Create the store at ``path``, or open it if it belongs to this search.

        Creation is atomic: of several processes opening one new path at
        once, exactly one creates the store; the others then check its
        fingerprint like any later open.

        Parameters
        ----------
        path : str or path-like
            The checkpoint directory (see :func:`check_location`).
        fingerprint : dict of str -> str
            :func:`fingerprint` of this search.

        Returns
        -------
        EvaluationStore
            Writable unless the store exists and this process cannot write
            it: then it is opened read-only (``writable`` is False) and the
            first :meth:`put` warns that new evaluations are not stored.

        Raises
        ------
        ValueError
            If the location is bad (see :func:`check_location`), if the store
            was written for another search (naming the components that
            differ), or if the file is not a readable store of this format or
            its fingerprint is missing or damaged.
        """
        if not isinstance(fingerprint, Mapping) or not fingerprint or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in fingerprint.items()
        ):
            raise TypeError("fingerprint must be a non-empty dict of str -> str.")
        fingerprint = dict(fingerprint)
        directory = check_location(path)
        shown = f"checkpoint={str(path)!r}"
        try:
            directory.mkdir(exist_ok=True)
        except OSError as exc:
            raise ValueError(f"{shown}: cannot create the directory: {exc}") from exc
        file = directory / STORE_FILE
        writable = _writable(directory) and (not file.exists() or _writable(file))
        if not writable and not file.exists():
            raise ValueError(
                f"{shown}: the directory {directory} is not writable, so the "
                "evaluation store cannot be created there."
            )
        try:
            connection = _connect(file, writable)
        except sqlite3.Error as exc:
            raise _unreadable(shown, file, exc) from exc
        store = cls(directory, file, connection, writable)
        try:
            deadline = time.monotonic() + _LOCK_TIMEOUT
            while True:
                try:
                    store._initialise(fingerprint, shown)
                    break
                except sqlite3.OperationalError as exc:
                    # SQLite answers "locked" without waiting in a few
                    # cases (another process switching the journal mode or
                    # recovering the log): wait as for any lock.
                    if not _is_busy(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
            if writable:
                # Only now that the file is known to be this search's store:
                # a write-ahead log while open, one flush per commit instead
                # of three (a rollback journal is created, flushed and
                # deleted per commit).  Where it cannot be had (another
                # process holds the store, a file system without shared
                # memory) the rollback journal stays: as safe, slower.
                # close() turns it back into one self-contained file.
                try:
                    connection.execute("PRAGMA journal_mode = WAL")
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc):
                        raise
        except sqlite3.Error as exc:
            connection.close()
            if _is_busy(exc):
                raise ValueError(
                    f"{shown}: {file} stayed locked by another process for "
                    f"{_LOCK_TIMEOUT:.0f} s; try again when it has finished."
                ) from exc
            raise _unreadable(shown, file, exc) from exc
        except BaseException:
            connection.close()
            raise
        return store

    def _initialise(self, fingerprint, shown):
        connection = self._connection
        try:
            if self.writable:
                # Take the write lock before looking: of two processes that
                # find no tables, the second waits here, then finds the
                # first one's tables.
                connection.execute("BEGIN IMMEDIATE")
            try:
                check = connection.execute("PRAGMA quick_check").fetchall()
                if check != [("ok",)]:
                    raise sqlite3.DatabaseError(
                        "integrity check failed: "
                        + "; ".join(str(row[0]) for row in check[:3])
                    )
                tables = {
                    name: kind
                    for name, kind in connection.execute(
                        "SELECT name, type FROM sqlite_master"
                    )
                }
                if not tables:
                    if not self.writable:
                        raise ValueError(
                            f"{shown}: {self.file} is empty and read-only; delete it or "
                            "make the directory writable."
                        )
                    _create(connection, fingerprint)
                    stored = fingerprint
                else:
                    stored = _stored_fingerprint(connection, tables, shown, self.file)
                if self.writable:
                    connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise  # open() waits and tries again
            raise _unreadable(shown, self.file, exc) from exc
        except sqlite3.Error as exc:
            raise _unreadable(shown, self.file, exc) from exc
        different = sorted(
            name
            for name in set(stored) | set(fingerprint)
            if stored.get(name) != fingerprint.get(name)
        )
        if different:
            raise ValueError(
                f"{shown} holds evaluations of a different search (not the same "
                f"{', '.join(different)} as this fit): use another directory or "
                "delete this one."
            )

    # ------------------------------------------------------------ reading
    def get_many(self, keys: list[str]) -> dict[str, dict]:
        """Stored records by key; keys not stored, or stored unreadably, are absent.

        Parameters
        ----------
        keys : list of str
            :func:`evaluation_key` values.

        Returns
        -------
        dict of str -> dict
        """
        keys = list(dict.fromkeys(keys))
        found = {}
        with self._lock:
            connection = self._open_connection()
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                try:
                    rows = connection.execute(
                        f"SELECT key, record FROM evaluations WHERE key IN ({marks})",
                        chunk,
                    ).fetchall()
                except sqlite3.Error as exc:
                    self._warn(f"cannot read evaluations from it ({exc}); they are "
                               "evaluated again")
                    continue
                for key, text in rows:
                    record = _parse_record(text)
                    if record is not None:
                        found[key] = record
        return found

    def __len__(self) -> int:
        """Number of stored rows (unreadable ones included)."""
        with self._lock:
            connection = self._open_connection()
            return connection.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]

    # ------------------------------------------------------------ writing
    def put(self, key: str, record: dict) -> None:
        """Store one evaluation; committed to disk when this returns.

        A failed write (disk full, permissions, any OSError or SQLite
        error) warns once and turns writing off: the search goes on without
        its checkpoint.

        Parameters
        ----------
        key : str
            :func:`evaluation_key` of the evaluation.
        record : dict
            The evaluation (see the module docstring); numpy scalars are
            stored as Python numbers.

        Raises
        ------
        TypeError, ValueError
            If ``record`` is not of the documented form (a bug in the
            caller, raised before anything is written).
        """
        if not isinstance(key, str) or not key:
            raise TypeError(f"key must be a non-empty str, got {key!r}.")
        record = _plain(record, "record")
        problem = _record_problem(record)
        if problem:
            raise ValueError(f"Not an evaluation record: {problem}.")
        text = json.dumps(record, allow_nan=True, separators=(",", ":"))
        with self._lock:
            connection = self._open_connection()
            if not self.writable:
                self._warn(
                    "the store is read-only for this process: evaluations it lacks "
                    "are computed but not stored"
                )
                return
            try:
                self._write(connection, key, text)
            except (OSError, sqlite3.Error) as exc:
                self.writable = False
                self._warn(f"cannot write to it ({type(exc).__name__}: {exc}); the "
                           "search goes on without storing further evaluations")

    def _write(self, connection, key, text):
        # Autocommit mode: the statement is its own transaction, committed
        # (synchronous=FULL) before execute returns.
        try:
            connection.execute(
                "INSERT OR REPLACE INTO evaluations (key, record) VALUES (?, ?)",
                (key, text),
            )
        finally:
            if connection.in_transaction:  # never left open by a failure
                connection.execute("ROLLBACK")

    def _warn(self, message):
        if not self._warned:
            self._warned = True
            warnings.warn(f"checkpoint {self.path}: {message}.", RuntimeWarning,
                          stacklevel=3)

    # ------------------------------------------------------------ closing
    def _open_connection(self):
        if self._connection is None:
            raise ValueError(f"The evaluation store {self.path} is closed.")
        return self._connection

    def close(self) -> None:
        """Close the database; the store cannot be used afterwards."""
        with self._lock:
            if self._connection is None:
                return
            connection, self._connection = self._connection, None
            try:
                if self.writable:
                    # Back to one file at rest (readable from a read-only
                    # directory, copied with its evaluations); if another
                    # process has the store open too, it stays in WAL mode.
                    connection.execute("PRAGMA busy_timeout = 0")
                    connection.execute("PRAGMA journal_mode = DELETE")
            except sqlite3.Error:
                pass
            finally:
                connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __reduce__(self):
        raise TypeError(
            "An EvaluationStore belongs to the search's driver process and cannot "
            "be pickled; workers return results to the driver, which stores them."
        )

    def __repr__(self):
        state = "closed" if self._connection is None else (
            "writable" if self.writable else "read-only")
        return f"EvaluationStore({str(self.path)!r}, {state})"


def _connect(file, writable):
    if writable:
        connection = sqlite3.connect(
            str(file), timeout=_LOCK_TIMEOUT, isolation_level=None,
            check_same_thread=False,
        )
    else:
        connection = sqlite3.connect(
            file.absolute().as_uri() + "?mode=ro", uri=True, timeout=_LOCK_TIMEOUT,
            isolation_level=None, check_same_thread=False,
        )
    try:
        connection.execute("PRAGMA trusted_schema = OFF")
        connection.execute("PRAGMA cell_size_check = ON")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA fullfsync = ON")  # macOS: flush to the platter
    except BaseException:
        connection.close()
        raise
    return connection


def _is_busy(exc):
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _create(connection, fingerprint):
    connection.execute(
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
    )
    connection.execute(
        "CREATE TABLE evaluations (key TEXT PRIMARY KEY, record TEXT NOT NULL)"
    )
    connection.executemany(
        "INSERT INTO meta (name, value) VALUES (?, ?)",
        [
            ("application", _APPLICATION),
            ("format", _FORMAT),
            ("fingerprint", json.dumps(fingerprint, sort_keys=True)),
        ],
    )


def _stored_fingerprint(connection, tables, shown, file):
    if tables.get("meta") != "table" or tables.get("evaluations") != "table":
        raise ValueError(
            f"{shown}: {file} is an SQLite database but not a harmonica-sklearn "
            "evaluation store; give another directory or delete the file."
        )
    meta = {}
    for name, value in connection.execute("SELECT name, value FROM meta"):
        meta[name] = value
    n_rows = connection.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
    if meta.get("application") != _APPLICATION:
        raise ValueError(
            f"{shown}: {file} is not a harmonica-sklearn evaluation store; give "
            "another directory or delete the file."
        )
    if meta.get("format") != _FORMAT:
        raise ValueError(
            f"{shown}: {file} was written in store format {meta.get('format')!r}, "
            f"this version reads format {_FORMAT}; use another directory or delete "
            "this one."
        )
    try:
        stored = json.loads(meta["fingerprint"])
        valid = isinstance(stored, dict) and stored and all(
            isinstance(k, str) and isinstance(v, str) for k, v in stored.items()
        )
    except (KeyError, TypeError, ValueError, RecursionError):
        valid = False
    if not valid:
        raise ValueError(
            f"{shown}: the fingerprint of the store {file} is missing or damaged, so "
            f"its {n_rows} evaluations cannot be matched to this search; delete the "
            "directory to start afresh."
        )
    return stored


def _unreadable(shown, file, exc):
    return ValueError(
        f"{shown}: {file} is not a readable evaluation store ({type(exc).__name__}: "
        f"{exc}); delete it (or move it away) to start afresh."
    )


# ------------------------------------------------------------------ records
_REQUIRED = ("test_scores", "train_scores", "fit_time", "score_time",
             "n_test_samples", "fit_error")


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_scores(x):
    if _is_number(x):
        return True
    return isinstance(x, dict) and all(
        isinstance(k, str) and _is_number(v) for k, v in x.items()
    )


def _record_problem(record):
    """Why ``record`` (plain JSON values) is not an evaluation, or None."""
    if not isinstance(record, dict):
        return f"a dict is needed, got {type(record).__name__}"
    missing = [k for k in _REQUIRED if k not in record]
    if missing:
        return f"missing {', '.join(missing)}"
    if not _is_scores(record["test_scores"]):
        return "test_scores must be a number or a dict of str -> number"
    if record["train_scores"] is not None and not _is_scores(record["train_scores"]):
        return "train_scores must be None, a number or a dict of str -> number"
    for name in ("fit_time", "score_time"):
        if not _is_number(record[name]):
            return f"{name} must be a number"
    if not isinstance(record["n_test_samples"], int) or isinstance(
        record["n_test_samples"], bool
    ):
        return "n_test_samples must be an int"
    if record["fit_error"] is not None and not isinstance(record["fit_error"], str):
        return "fit_error must be a str or None"
    return None


def _plain(value, where):
    """``value`` as plain JSON types (numpy scalars to Python ones)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, np.generic):
        return _plain(value.item(), where)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where} has a non-str key {k!r}.")
            out[k] = _plain(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(
        f"{where} is a {type(value).__name__}: a record holds only numbers, strings, "
        "None, and lists and dicts of them."
    )


def _parse_record(text):
    """The record stored as ``text``, or None if it is not a valid one."""
    if not isinstance(text, str):  # a BLOB or a number planted in the row
        return None
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if _record_problem(record) is not None:
        return None
    return record


# --------------------------------------------------------------------- keys
def evaluation_key(candidate_key: tuple, resource: int, train, test) -> str:
    """The store key of one evaluation.

    Parameters
    ----------
    candidate_key : tuple
        The search's encoded candidate: ints, floats, strings, bools, None
        and tuples of them (never user objects).
    resource : int
        Resource of the evaluation.
    train, test : array-like of int
        Indices of the split (a boolean mask is read as the indices it
        selects).

    Returns
    -------
    str
        64 hexadecimal digits: SHA-256 of a canonical encoding, stable across
        processes, machines and Python versions.
    """
    if not isinstance(candidate_key, tuple):
        raise TypeError(
            f"candidate_key must be a tuple, got {type(candidate_key).__name__}."
        )
    if isinstance(resource, np.integer):
        resource = int(resource)
    if not isinstance(resource, int) or isinstance(resource, bool):
        raise TypeError(f"resource must be an int, got {resource!r}.")
    digest = hashlib.sha256(b"harmonica-sklearn evaluation key 1\0")
    head = json.dumps([_key_part(candidate_key), str(resource)], separators=(",", ":"))
    _feed(digest, head.encode())
    for name, indices in (("train", train), ("test", test)):
        _feed(digest, _index_bytes(indices, name))
    return digest.hexdigest()


def _feed(digest, data):
    digest.update(len(data).to_bytes(8, "little"))
    digest.update(data)


def _key_part(value):
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "n"
    if isinstance(value, bool):
        return f"b{int(value)}"
    if isinstance(value, int):
        return f"i{value}"
    if isinstance(value, float):
        return "f" + float.hex(value)
    if isinstance(value, str):
        return "s" + value
    if isinstance(value, tuple):
        return [_key_part(v) for v in value]
    raise TypeError(
        f"candidate_key may hold only ints, floats, strings, bools, None and tuples; "
        f"got a {type(value).__name__}."
    )


def _index_bytes(indices, name):
    array = np.asarray(indices)
    if array.ndim != 1:
        raise ValueError(f"{name} indices must be one-dimensional, got shape {array.shape}.")
    if array.dtype == bool:
        array = np.flatnonzero(array)
    elif array.size == 0:
        array = array.astype(np.int64)
    elif not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} indices must be integers, got dtype {array.dtype}.")
    return np.ascontiguousarray(array, dtype="<i8").tobytes()


# ------------------------------------------------------------- fingerprint
def fingerprint(
    estimator,
    param_space,
    X,
    y,
    splits,
    scoring,
    error_score,
    return_train_score,
    fit_params: dict,
    resource: str,
    *,
    extra: Mapping | None = None,
) -> dict[str, str]:
    """Hashes of each component that makes evaluations comparable.

    Each value is hashed from a canonical form that is the same in every
    process: arrays by dtype, shape and content; estimators by module,
    qualified class name and ``get_params(deep=False)`` (nested estimators
    likewise); scipy distributions by name and arguments (not their random
    state); callables and classes by module and qualified name; other
    objects by class and attributes.  Nothing is hashed through a ``repr``
    that holds a memory address.

    Parameters
    ----------
    estimator : estimator
    param_space : dict or list of dict
        As declared (lists of values by value, distributions by name and
        arguments).
    X, y : array-like, DataFrame, sparse matrix or None
    splits : list of (train, test)
        The CV splits as indices.
    scoring, error_score, return_train_score
        As given to the search.
    fit_params : dict
        Fit params and routed metadata (e.g. ``sample_weight``), hashed by
        content.
    resource : str
        Name of the resource (``"n_samples"`` or an estimator parameter).
    extra : dict, optional
        Further components by name, for whatever else changes the meaning
        of a candidate key or a record (e.g. ``{"distribution_bits": 3}``,
        which changes what the encoded candidates stand for).

    Returns
    -------
    dict of str -> str
        Component name -> hexadecimal hash; components are ``estimator``,
        ``param_space``, ``data``, ``splits``, ``scoring``, ``error_score``,
        ``return_train_score``, ``fit params``, ``resource`` and the keys of
        ``extra``.

    Raises
    ------
    ValueError
        If a value has no identity stable across processes: a lambda, a
        function or class defined inside a function, or an object whose
        only identity is its memory address.  The message names where it
        was found.
    """
    if isinstance(param_space, Mapping):  # the same as a list of one dict
        branches = [("param_space", param_space)]
    else:
        branches = [(f"param_space[{i}]", b) for i, b in enumerate(param_space)]
    components = {
        "estimator": _digest(estimator, "estimator"),
        "param_space": _hash_form(
            ["branches"] + [_canonical(branch, name) for name, branch in branches]
        ),
        "data": _hash_form([_canonical(X, "X"), _canonical(y, "y")]),
        "splits": _hash_form(
            [[_canonical(np.asarray(train), f"splits[{i}]"),
              _canonical(np.asarray(test), f"splits[{i}]")]
             for i, (train, test) in enumerate(splits)]
        ),
        "scoring": _digest(scoring, "scoring"),
        "error_score": _digest(error_score, "error_score"),
        "return_train_score": _digest(return_train_score, "return_train_score"),
        "fit params": _digest(dict(fit_params or {}), "fit params"),
        "resource": _digest(resource, "resource"),
    }
    for name, value in (extra or {}).items():
        if not isinstance(name, str) or name in components:
            raise ValueError(f"extra component name {name!r} is not a new str.")
        components[name] = _digest(value, name)
    return components


def _digest(value, where):
    return _hash_form(_canonical(value, where))


def _hash_form(form):
    text = json.dumps(form, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value, where):
    """A JSON form of ``value`` (nested lists of str) equal in every process."""
    return _Canonicaliser().form(value, where, 0)


class _Canonicaliser:
    def __init__(self):
        self.active = set()  # ids of the containers being walked: cycles

    def form(self, value, where, depth):
        if depth > _MAX_DEPTH:
            raise ValueError(
                f"checkpoint: cannot fingerprint {where}: nested more than "
                f"{_MAX_DEPTH} levels deep."
            )
        scalar = _scalar_form(value)
        if scalar is not None:
            return scalar
        if isinstance(value, np.ndarray) and not value.dtype.hasobject:
            return ["ndarray", value.dtype.str, str(value.shape),
                    hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()]
        if id(value) in self.active:
            raise ValueError(
                f"checkpoint: cannot fingerprint {where}: it contains itself."
            )
        self.active.add(id(value))
        try:
            return self._container_form(value, where, depth + 1)
        finally:
            self.active.discard(id(value))

    def _container_form(self, value, where, depth):
        if isinstance(value, np.ndarray):  # object dtype: element by element
            return ["objarray", str(value.shape),
                    [self.form(v, f"{where}[{i}]", depth)
                     for i, v in enumerate(value.ravel().tolist())]]
        if isinstance(value, Mapping) and not hasattr(value, "get_params"):
            items = [
                [self.form(k, f"{where} key", depth),
                 self.form(v, f"{where}[{k!r}]", depth)]
                for k, v in value.items()
            ]
            items.sort(key=lambda kv: json.dumps(kv[0]))
            return ["dict", _class_name(type(value), where)] + items
        if isinstance(value, (list, tuple)):
            return ["seq", _class_name(type(value), where)] + [
                self.form(v, f"{where}[{i}]", depth) for i, v in enumerate(value)
            ]
        if isinstance(value, (set, frozenset)):
            items = [self.form(v, f"{where} element", depth) for v in value]
            return ["set", type(value).__name__] + sorted(items, key=json.dumps)
        if isinstance(value, type):
            return ["class", _class_name(value, where)]
        if isinstance(value, enum.Enum):
            return ["enum", _class_name(type(value), where), value.name]
        if isinstance(value, (np.random.RandomState, np.random.Generator)):
            return ["rng", type(value).__name__, joblib.hash(value)]
        if _is_data(value):
            return ["data", _class_name(type(value), where), joblib.hash(value)]
        if hasattr(value, "get_params") and callable(value.get_params):
            params = value.get_params(deep=False)
            return ["estimator", _class_name(type(value), where)] + [
                [name, self.form(v, f"{where}.{name}", depth)]
                for name, v in sorted(params.items())
            ]
        if hasattr(value, "rvs") and not isinstance(value, type):
            return self._distribution_form(value, where, depth)
        if isinstance(value, functools.partial):
            return ["partial", self.form(value.func, f"{where}.func", depth),
                    self.form(list(value.args), f"{where}.args", depth),
                    self.form(dict(value.keywords), f"{where}.keywords", depth)]
        if isinstance(value, (types.MethodType, types.BuiltinMethodType)):
            owner = getattr(value, "__self__", None)
            if owner is not None and not isinstance(owner, types.ModuleType):
                return ["method", self.form(owner, f"{where}.__self__", depth),
                        value.__name__]
        if isinstance(value, np.ufunc):
            return ["ufunc", value.__name__]
        if callable(value) and isinstance(getattr(value, "__qualname__", None), str):
            # Functions, builtins, and function-like objects (numpy's array
            # function dispatchers, Cython functions); instances of callable
            # classes have no __qualname__ of their own.
            return ["callable", _qualified_name(value, where)]
        return self._object_form(value, where, depth)

    def _distribution_form(self, value, where, depth):
        # By name and arguments: the random state is not part of the
        # declaration (and differs between processes unless seeded).
        dist = getattr(value, "dist", None)
        if dist is not None and hasattr(value, "args"):  # a frozen scipy distribution
            ctor = getattr(dist, "_updated_ctor_param", None)
            ctor = {k: v for k, v in ctor().items() if k != "seed"} if ctor else {}
            return ["distribution", _class_name(type(dist), where),
                    str(getattr(dist, "name", "")),
                    self.form(list(value.args), f"{where}.args", depth),
                    self.form(dict(getattr(value, "kwds", {})), f"{where}.kwds", depth),
                    self.form(ctor, f"{where}.dist", depth)]
        state = _state(value)
        if state is None:
            return self._object_form(value, where, depth)
        state = {k: v for k, v in state.items()
                 if not isinstance(v, (np.random.RandomState, np.random.Generator))}
        return ["distribution", _class_name(type(value), where),
                self.form(state, where, depth)]

    def _object_form(self, value, where, depth):
        # By class and attributes where it has a __dict__; else by a repr
        # without an address (paths, dates, decimals, compiled patterns:
        # their slots may hold lazily cached values, a hash among them);
        # else by its slots.
        if isinstance(getattr(value, "__dict__", None), dict):
            return ["object", _class_name(type(value), where),
                    self.form(_state(value), where, depth)]
        text = repr(value)
        if not _ADDRESS.search(text):
            return ["repr", _class_name(type(value), where), text]
        state = _state(value)
        if state:
            return ["object", _class_name(type(value), where),
                    self.form(state, where, depth)]
        raise ValueError(
            f"checkpoint: cannot fingerprint {where} ({_short(text)}): a "
            f"{type(value).__qualname__} object whose only identity is its memory "
            "address, which differs between processes. Give it a stable identity "
            "(a module-level function or class, or an object with attributes or a "
            "repr without an address), or fit without checkpoint."
        )


def _scalar_form(value):
    if isinstance(value, np.generic) and not isinstance(value, np.void):
        value = value.item()
    if value is None:
        return ["none"]
    if isinstance(value, bool):
        return ["bool", str(int(value))]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", float.hex(value)]
    if isinstance(value, complex):
        return ["complex", float.hex(value.real), float.hex(value.imag)]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, bytes):
        return ["bytes", value.hex()]
    return None


def _is_data(value):
    """pandas, scipy.sparse, polars, pyarrow objects: hashed by content."""
    root = type(value).__module__.split(".")[0]
    if root in {"pandas", "polars", "pyarrow", "xarray"}:
        return True
    return root == "scipy" and type(value).__module__.startswith("scipy.sparse")


def _state(value):
    """Attributes of an object (``__dict__`` and slots), or None if it has none."""
    state = {}
    has_state = False
    if isinstance(getattr(value, "__dict__", None), dict):
        state.update(vars(value))
        has_state = True
    for cls in type(value).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot in ("__dict__", "__weakref__"):
                continue
            has_state = True
            if hasattr(value, slot):
                state[f"{cls.__qualname__}.{slot}"] = getattr(value, slot)
    return state if has_state else None


def _class_name(cls, where):
    return _qualified_name(cls, where)


def _qualified_name(obj, where):
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not isinstance(qualname, str):
        raise ValueError(
            f"checkpoint: cannot fingerprint {where} ({_short(repr(obj))}): it has no "
            "name. Define it at module level, or fit without checkpoint."
        )
    if "<lambda>" in qualname or "<locals>" in qualname:
        kind = "a lambda" if "<lambda>" in qualname else "defined inside a function"
        raise ValueError(
            f"checkpoint: cannot fingerprint {where} ({module}.{qualname}): it is "
            f"{kind}, so its name is not the same in another process. Define it at "
            "module level (a named function or class in a module or script), or "
            "fit without checkpoint."
        )
    return f"{module}.{qualname}"


def _short(text, limit=80):
    return text if len(text) <= limit else text[: limit - 3] + "..."
