"""The evaluation store behind ``checkpoint``: records, keys, fingerprints,
locations, and what survives crashes, full disks and planted files."""

import errno
import json
import math
import os
import pathlib
import pickle
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import types
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from scipy.stats import loguniform, randint, rv_discrete, uniform
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.metrics import make_scorer, r2_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from harmonica_sklearn import _store
from harmonica_sklearn._store import (
    STORE_FILE,
    EvaluationStore,
    check_location,
    evaluation_key,
    fingerprint,
)

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)


# ------------------------------------------------------------------ helpers
def record(i=0, **changes):
    base = {
        "test_scores": 0.5 + i,
        "train_scores": None,
        "fit_time": 0.25,
        "score_time": 0.125,
        "n_test_samples": 20,
        "fit_error": None,
    }
    return {**base, **changes}


def key(i):
    return evaluation_key((0, i, 0.5), 30, np.arange(10), np.arange(10, 15))


FP = {"data": "d1", "estimator": "e1", "fit params": "f1"}


def identical(a, b):
    """Equal, with the same types, NaN equal to NaN and -0.0 apart from 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and repr(a) == repr(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b))
    return a == b


def rows(path):
    with sqlite3.connect(path / STORE_FILE) as connection:
        return connection.execute("SELECT key, record FROM evaluations").fetchall()


def execute(path, sql, args=()):
    connection = sqlite3.connect(path / STORE_FILE)
    try:
        with connection:
            connection.execute(sql, args)
    finally:
        connection.close()


def run_python(code, **env):
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONPATH": ROOT, **env},
    )


# Module-level objects: their names are the same in every process.
def module_level_score(estimator, X, y):
    return 0.0


class Twin(BaseEstimator, RegressorMixin):
    def __init__(self, alpha=1.0):
        self.alpha = alpha


class Stateless:
    def __call__(self, estimator, X, y):
        return 0.0


class Slotted:
    __slots__ = ()


class Payload:
    """Unpickling this creates the directory ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


X = np.arange(40.0).reshape(20, 2)
Y = np.arange(20.0)
SPLITS = [(np.arange(10), np.arange(10, 20)), (np.arange(10, 20), np.arange(10))]


def problem(**changes):
    """Arguments of fingerprint() for a rich search problem."""
    args = {
        "estimator": Pipeline(
            [("scale", StandardScaler()), ("model", Ridge(alpha=1.0))]
        ),
        "param_space": {
            "model__alpha": loguniform(1e-3, 1e3),
            "model__max_iter": randint(10, 100),
            "scale": [StandardScaler(), "passthrough", FunctionTransformer(np.log1p)],
            "model__solver": ["auto", "svd"],
        },
        "X": pd.DataFrame(X, columns=["a", "b"]),
        "y": pd.Series(Y),
        "splits": SPLITS,
        "scoring": {"r2": make_scorer(r2_score), "custom": module_level_score,
                    "mse": "neg_mean_squared_error"},
        "error_score": np.nan,
        "return_train_score": False,
        "fit_params": {"model__sample_weight": np.linspace(1, 2, 20)},
        "resource": "n_samples",
    }
    args.update(changes)
    return args


def rich_fingerprint():
    return fingerprint(**problem())


# ------------------------------------------------------------------ records
def test_records_round_trip_exactly(tmp_path):
    records = {
        key(0): record(0, test_scores=float("nan"), train_scores=float("inf")),
        key(1): record(1, test_scores=float("-inf"), fit_error="ValueError: é\nline 2"),
        key(2): record(
            2,
            test_scores={"r2": 0.1 + 0.2, "mse": -0.0, "nan": float("nan")},
            train_scores={"r2": 5e-324, "mse": -1.7976931348623157e308,
                          "nan": float("-inf")},
            n_test_samples=2**40,
        ),
        key(3): record(3, extra={"nested": [1, 2.5, None, "x", {"y": float("nan")}]}),
    }
    with EvaluationStore.open(tmp_path / "store", FP) as store:
        assert store._connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        for k, r in records.items():
            store.put(k, r)
        assert len(store) == 4
        assert all(identical(store.get_many(list(records))[k], r) for k, r in records.items())
    # At rest the store is one self-contained file.
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == [STORE_FILE]
    with EvaluationStore.open(tmp_path / "store", FP) as store:
        stored = store.get_many(list(records) + ["not stored"])
    assert stored.keys() == records.keys()
    for k, r in records.items():
        assert identical(stored[k], r), (stored[k], r)


def test_numpy_scalars_are_stored_as_python_numbers(tmp_path):
    with EvaluationStore.open(tmp_path / "store", FP) as store:
        store.put(key(0), record(test_scores=np.float64(np.nan), fit_time=np.float32(0.5),
                                 n_test_samples=np.int64(7)))
        got = store.get_many([key(0)])[key(0)]
    assert math.isnan(got["test_scores"]) and type(got["test_scores"]) is float
    assert identical(got["fit_time"], 0.5) and identical(got["n_test_samples"], 7)


@pytest.mark.parametrize(
    "bad",
    [
        {"test_scores": 1.0},  # fields missing
        record(test_scores="high"),
        record(test_scores={"a": "b"}),
        record(fit_time=None),
        record(n_test_samples=2.5),
        record(fit_error=3),
        record(extra=object()),
        record(extra={1: 2}),
        [1, 2],
    ],
)
def test_put_refuses_what_is_not_an_evaluation_record(tmp_path, bad):
    with EvaluationStore.open(tmp_path / "store", FP) as store:
        with pytest.raises((TypeError, ValueError)):
            store.put(key(0), bad)
        assert len(store) == 0


def test_many_keys_and_repeated_puts(tmp_path):
    path = tmp_path / "store"
    with EvaluationStore.open(path, FP) as store:
        store.put(key(5), record(5))
        store.put(key(5), record(500))  # replaces
    connection = sqlite3.connect(path / STORE_FILE)
    with connection:  # many rows in one transaction, faster than put
        connection.executemany(
            "INSERT OR IGNORE INTO evaluations VALUES (?, ?)",
            [(key(i), json.dumps(record(i))) for i in range(1200)],
        )
    connection.close()
    with EvaluationStore.open(path, FP) as store:
        got = store.get_many([key(i) for i in range(1300)] + [key(3)])
        assert len(store) == 1200
    assert len(got) == 1200
    assert got[key(5)]["test_scores"] == 500.5 and got[key(7)]["test_scores"] == 7.5


def test_puts_from_several_threads(tmp_path):
    with EvaluationStore.open(tmp_path / "store", FP) as store:
        threads = [
            threading.Thread(target=lambda t=t: [store.put(key(100 * t + i), record(i))
                                                  for i in range(25)])
            for t in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(store) == 100


def test_closed_and_pickled_stores_say_so(tmp_path):
    with EvaluationStore.open(tmp_path / "store", FP) as store:
        store.put(key(0), record())
        with pytest.raises(TypeError, match="driver"):
            pickle.dumps(store)
    store.close()  # twice is fine
    with pytest.raises(ValueError, match="closed"):
        store.get_many([key(0)])
    with pytest.raises(ValueError, match="closed"):
        store.put(key(1), record())


# ---------------------------------------------------- corrupt and planted rows
def test_unreadable_rows_are_treated_as_missing_and_rewritten(tmp_path):
    path = tmp_path / "store"
    with EvaluationStore.open(path, FP) as store:
        store.put(key(0), record(0))
    planted = {
        key(1): '{"test_scores": 0.5, "fit_ti',  # truncated JSON
        key(2): b"\x80\x04not text",  # a BLOB
        key(3): "[1, 2, 3]",
        key(4): json.dumps({"test_scores": 1.0}),  # fields missing
        key(5): 42,
        key(6): "[" * 100_000,  # nested past the parser's recursion limit
    }
    for k, value in planted.items():
        execute(path, "INSERT INTO evaluations VALUES (?, ?)", (k, value))
    with EvaluationStore.open(path, FP) as store:
        assert store.get_many([key(i) for i in range(7)]).keys() == {key(0)}
        store.put(key(1), record(1))  # re-evaluated: overwrites the bad row
        assert store.get_many([key(1)]) == {key(1): record(1)}


def test_a_planted_pickle_never_runs(tmp_path):
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(Payload(str(marker)))
    pickle.loads(payload)  # the payload is live: unpickling it acts
    assert marker.is_dir()
    marker.rmdir()

    path = tmp_path / "store"
    with EvaluationStore.open(path, FP) as store:
        store.put(key(0), record(0))
    execute(path, "INSERT INTO evaluations VALUES (?, ?)", (key(1), payload))
    execute(path, "INSERT INTO evaluations VALUES (?, ?)",
            (key(2), payload.decode("latin-1")))
    execute(path, "UPDATE evaluations SET record = ? WHERE key = ?", (payload, key(0)))
    # The files of the former pickle-based checkpoint, and stray pickles.
    (path / f"{key(3)}.pkl").write_bytes(payload)
    (path / "fingerprint.json").write_bytes(payload)
    with EvaluationStore.open(path, FP) as store:
        assert store.get_many([key(i) for i in range(4)]) == {}
    assert not marker.exists()

    # The whole database replaced by a pickle: refused, naming the file.
    (path / STORE_FILE).write_bytes(payload)
    with pytest.raises(ValueError, match="not a readable evaluation store") as error:
        EvaluationStore.open(path, FP)
    assert str(path / STORE_FILE) in str(error.value)
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "zeroed page"])
def test_a_damaged_database_file_is_refused_naming_it(tmp_path, damage):
    path = tmp_path / "store"
    with EvaluationStore.open(path, FP) as store:
        for i in range(300):
            store.put(key(i), record(i, fit_error="x" * 200))
    file = path / STORE_FILE
    data = file.read_bytes()
    if damage == "garbage":
        file.write_bytes(b"this is not a database" * 100)
    elif damage == "truncated":
        file.write_bytes(data[: len(data) // 2])
    else:
        page = 4096
        file.write_bytes(data[: 3 * page] + bytes(page) + data[4 * page :])
    with pytest.raises(ValueError, match="not a readable evaluation store") as error:
        EvaluationStore.open(path, FP)
    assert str(file) in str(error.value) and "checkpoint=" in str(error.value)


def test_a_store_without_its_fingerprint_is_refused(tmp_path):
    path = tmp_path / "store"
    with EvaluationStore.open(path, FP) as store:
        store.put(key(0), record())
    execute(path, "UPDATE meta SET value = ? WHERE name = 'fingerprint'",
            ('{"data": "d1", "estim',))
    with pytest.raises(ValueError, match="fingerprint .* is missing or damaged.*1 eval"):
        EvaluationStore.open(path, FP)
    execute(path, "DELETE FROM meta WHERE name = 'fingerprint'")
    with pytest.raises(ValueError, match="missing or damaged"):
        EvaluationStore.open(path, FP)
    execute(path, "DELETE FROM evaluations")  # even once empty: never taken as new
    with pytest.raises(ValueError, match="missing or damaged"):
        EvaluationStore.open(path, FP)
    execute(path, "DROP TABLE meta")
    with pytest.raises(ValueError, match="not a harmonica-sklearn evaluation store"):
        EvaluationStore.open(path, FP)


def test_another_sqlite_database_is_refused_and_left_as_it_was(tmp_path):
    (tmp_path / "store").mkdir()
    connection = sqlite3.connect(tmp_path / "store" / STORE_FILE)
    connection.execute("CREATE TABLE other (x)")
    connection.commit()
    connection.close()
    before = (tmp_path / "store" / STORE_FILE).read_bytes()
    with pytest.raises(ValueError, match="not a harmonica-sklearn evaluation store"):
        EvaluationStore.open(tmp_path / "store", FP)
    assert (tmp_path / "store" / STORE_FILE).read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == [STORE_FILE]


# --------------------------------------------------------------------- keys
def test_keys_are_pinned():
    # The key format is part of every store on disk: changing it silently
    # orphans them.  Change _FORMAT (and this value) together.
    assert key(3) == evaluation_key((0, 3, 0.5), 30, list(range(10)), [10, 11, 12, 13, 14])
    assert key(3) == PINNED_KEY


PINNED_KEY = "08aa43ae5432f8c3e69d5027a8947c21d00ea8c045d7eff5ba43df9bccffa11a"


def test_keys_tell_apart_what_differs():
    train, test = np.arange(10), np.arange(10, 15)
    base = evaluation_key((1, 0.5, "a"), 30, train, test)
    variants = [
        evaluation_key((1.0, 0.5, "a"), 30, train, test),  # float, not int
        evaluation_key(("1", 0.5, "a"), 30, train, test),
        evaluation_key((True, 0.5, "a"), 30, train, test),
        evaluation_key((1, 0.5, "a", None), 30, train, test),
        evaluation_key((1, 0.5000000000000001, "a"), 30, train, test),
        evaluation_key((0.5, 1, "a"), 30, train, test),
        evaluation_key(((1, 0.5), "a"), 30, train, test),
        evaluation_key((1, 0.5, "a"), 31, train, test),
        evaluation_key((1, 0.5, "a"), 30, np.arange(11), np.arange(11, 15)),
        evaluation_key((1, 0.5, "a"), 30, test, train),
        evaluation_key((1, 0.5, "a"), 30, train[::-1], test),
    ]
    assert len({base, *variants}) == len(variants) + 1
    # Same evaluation, other spellings of it.
    mask = np.zeros(15, dtype=bool)
    mask[10:] = True
    assert base == evaluation_key(
        (np.int64(1), np.float64(0.5), "a"), np.int32(30), train.astype(np.int32), mask
    )
    assert base == evaluation_key((1, 0.5, "a"), 30, train.tolist(), test.tolist())


def test_keys_refuse_user_objects():
    with pytest.raises(TypeError, match="candidate_key"):
        evaluation_key((1, Ridge()), 30, [0], [1])
    with pytest.raises(TypeError, match="resource"):
        evaluation_key((1,), 30.0, [0], [1])
    with pytest.raises(TypeError, match="integers"):
        evaluation_key((1,), 30, [0.5], [1])


# -------------------------------------------------------------- fingerprints
def test_fingerprint_and_keys_are_the_same_in_another_process():
    here = rich_fingerprint()
    assert here == rich_fingerprint()  # new objects, same problem
    code = (f"import sys, json; sys.path.insert(0, {TESTS!r}); "
            "from test_store import rich_fingerprint, key; "
            "print(json.dumps([rich_fingerprint(), key(3)]))")
    for seed in ("0", "12345"):
        out = run_python(code, PYTHONHASHSEED=seed)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == [here, key(3)]  # keys too
    assert set(here) == {"estimator", "param_space", "data", "splits", "scoring",
                         "error_score", "return_train_score", "fit params", "resource"}


def changed(**changes):
    base, other = rich_fingerprint(), fingerprint(**problem(**changes))
    return sorted(name for name in base if base[name] != other[name])


def other_module_twin():
    module = types.ModuleType("store_test_elsewhere")
    exec(textwrap.dedent("""
        from sklearn.base import BaseEstimator, RegressorMixin
        class Twin(BaseEstimator, RegressorMixin):
            def __init__(self, alpha=1.0):
                self.alpha = alpha
    """), module.__dict__)
    return module.Twin


@pytest.mark.parametrize(
    "changes, component",
    [
        ({"fit_params": {"model__sample_weight": np.linspace(1, 3, 20)}}, "fit params"),
        ({"fit_params": {}}, "fit params"),
        ({"X": pd.DataFrame(X + 1, columns=["a", "b"])}, "data"),
        ({"X": pd.DataFrame(X, columns=["a", "c"])}, "data"),
        ({"X": X}, "data"),
        ({"y": pd.Series(Y[::-1])}, "data"),
        ({"splits": SPLITS[:1]}, "splits"),
        ({"splits": [(np.arange(11), np.arange(11, 20)), SPLITS[1]]}, "splits"),
        ({"estimator": Pipeline([("scale", StandardScaler()),
                                 ("model", Ridge(alpha=2.0))])}, "estimator"),
        ({"estimator": Pipeline([("scale", StandardScaler(with_mean=False)),
                                 ("model", Ridge(alpha=1.0))])}, "estimator"),
        ({"param_space": {**problem()["param_space"],
                          "model__alpha": loguniform(1e-3, 1e2)}}, "param_space"),
        ({"param_space": {**problem()["param_space"],
                          "model__solver": ["auto", "svd", "cholesky"]}}, "param_space"),
        ({"param_space": {**problem()["param_space"],
                          "scale": [StandardScaler(with_std=False), "passthrough",
                                    FunctionTransformer(np.log1p)]}}, "param_space"),
        ({"param_space": {**problem()["param_space"],
                          "scale": [StandardScaler(), "passthrough",
                                    FunctionTransformer(np.expm1)]}}, "param_space"),
        ({"scoring": "r2"}, "scoring"),
        ({"scoring": {"r2": make_scorer(r2_score, greater_is_better=False),
                      "custom": module_level_score,
                      "mse": "neg_mean_squared_error"}}, "scoring"),
        ({"error_score": 0.0}, "error_score"),
        ({"error_score": "raise"}, "error_score"),
        ({"return_train_score": True}, "return_train_score"),
        ({"resource": "model__max_iter"}, "resource"),
    ],
)
def test_fingerprint_changes_with_each_component(changes, component):
    assert changed(**changes) == [component]


def test_fingerprint_ignores_what_does_not_change_evaluations():
    space = problem()["param_space"]
    seeded = loguniform(1e-3, 1e3)
    seeded.random_state = 3
    seeded.rvs(size=5)
    reseeded = {**space, "model__alpha": seeded}
    assert changed(param_space=reseeded) == []
    assert changed(param_space=[space]) == []  # a dict is a list of one dict
    assert changed(param_space=dict(reversed(list(space.items())))) == []
    assert changed(fit_params={"model__sample_weight": np.linspace(1, 2, 20).copy(order="F")}) == []


def test_same_class_name_in_another_module_differs():
    elsewhere = other_module_twin()
    assert elsewhere.__name__ == Twin.__name__ and elsewhere is not Twin
    ours = fingerprint(**problem(estimator=Twin()))
    theirs = fingerprint(**problem(estimator=elsewhere()))
    assert ours["estimator"] != theirs["estimator"]
    # ... also as a nested estimator, a searched value and a class value.
    for changes in (
        lambda T: {"estimator": Pipeline([("m", T())])},
        lambda T: {"param_space": {"m": [T()]}},
        lambda T: {"fit_params": {"kind": T}},
    ):
        assert changed(**changes(Twin)) != [] and (
            fingerprint(**problem(**changes(Twin)))
            != fingerprint(**problem(**changes(elsewhere)))
        )


def test_distributions_are_identified_by_their_arguments():
    assert changed(param_space={"a": uniform(0, 1)}) == ["param_space"]
    a = fingerprint(**problem(param_space={"a": uniform(0, 1)}))
    assert a == fingerprint(**problem(param_space={"a": uniform(0, 1)}))
    assert a != fingerprint(**problem(param_space={"a": uniform(0, 2)}))
    assert a != fingerprint(**problem(param_space={"a": uniform(loc=0, scale=2)}))
    assert a != fingerprint(**problem(param_space={"a": randint(0, 1)}))
    discrete = [rv_discrete(values=([1, 2], [p, 1 - p]))() for p in (0.5, 0.25)]
    assert (fingerprint(**problem(param_space={"a": discrete[0]}))
            != fingerprint(**problem(param_space={"a": discrete[1]})))


def test_stateless_objects_are_identified_by_class():
    fp = fingerprint(**problem(scoring=Stateless()))
    assert fp == fingerprint(**problem(scoring=Stateless()))
    assert fp["scoring"] != fingerprint(**problem(scoring=module_level_score))["scoring"]


def test_sparse_data_is_hashed_by_content():
    sparse = scipy.sparse.csr_matrix(X)
    fp = fingerprint(**problem(X=sparse))
    assert fp == fingerprint(**problem(X=scipy.sparse.csr_matrix(X.copy())))
    assert fp["data"] != fingerprint(**problem(X=scipy.sparse.csr_matrix(X + 1)))["data"]
    assert fp["data"] != rich_fingerprint()["data"]


def test_objects_with_lazy_caches_keep_their_fingerprint():
    path = pathlib.Path("/data/run")
    before = fingerprint(**problem(fit_params={"where": path}))
    str(path), hash(path), path.parts  # fill pathlib's cached slots
    assert fingerprint(**problem(fit_params={"where": path})) == before


def test_extra_components():
    fp = fingerprint(**problem(), extra={"distribution_bits": 3})
    assert fp["distribution_bits"] != fingerprint(**problem(),
                                                  extra={"distribution_bits": 4})[
        "distribution_bits"]
    with pytest.raises(ValueError, match="new str"):
        fingerprint(**problem(), extra={"data": 1})


def test_lambdas_and_local_functions_are_refused_naming_where():
    def local_score(estimator, X, y):
        return 0.0

    class LocalEstimator(BaseEstimator):
        pass

    cases = [
        ({"estimator": Pipeline([("f", FunctionTransformer(lambda x: x)),
                                 ("model", Ridge())])},
         r"estimator\.steps\[0\]\[1\]\.func .*lambda"),
        ({"scoring": lambda est, X, y: 0.0}, r"scoring .*lambda"),
        ({"scoring": {"mine": local_score}}, r"scoring\['mine'\] .*inside a function"),
        ({"param_space": {"f": [np.log1p, lambda x: x]}}, r"param_space\['f'\]\[1\]"),
        ({"param_space": [{"a": [1]}, {"m": [LocalEstimator()]}]},
         r"param_space\[1\]\['m'\]\[0\] .*inside a function"),
        ({"fit_params": {"callback": local_score}}, r"fit params\['callback'\]"),
        ({"estimator": FunctionTransformer(func=_store.functools.partial(
            lambda x, k: x, k=1))}, r"estimator\.func\.func"),
    ]
    for changes, where in cases:
        with pytest.raises(ValueError, match=where) as error:
            fingerprint(**problem(**changes))
        assert "module level" in str(error.value)
        assert str(error.value).startswith("checkpoint:")


def test_objects_known_only_by_their_address_are_refused():
    for value in (object(), threading.Lock(), Slotted()):
        with pytest.raises(ValueError, match=r"fit params\['x'\] .*memory address"):
            fingerprint(**problem(fit_params={"x": value}))
    holder = Stateless()
    holder.lock = threading.Lock()
    with pytest.raises(ValueError, match=r"scoring.*memory address"):
        fingerprint(**problem(scoring=holder))
    cycle = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="contains itself"):
        fingerprint(**problem(fit_params={"x": cycle}))


# -------------------------------------------------------- opening and races
def test_a_store_of_another_search_is_refused_naming_what_differs(tmp_path):
    with EvaluationStore.open(tmp_path / "store", FP) as store:
        store.put(key(0), record())
    with EvaluationStore.open(tmp_path / "store", dict(FP)) as store:
        assert len(store) == 1
    other = {**FP, "data": "d2", "fit params": "f2"}
    before = (tmp_path / "store" / STORE_FILE).read_bytes()
    with pytest.raises(ValueError) as error:
        EvaluationStore.open(tmp_path / "store", other)
    assert (tmp_path / "store" / STORE_FILE).read_bytes() == before
    assert "(not the same data, fit params as this fit): use another directory or " \
           "delete this one" in str(error.value)
    assert str(tmp_path / "store") in str(error.value)
    with pytest.raises(ValueError, match="not the same new as this fit"):
        EvaluationStore.open(tmp_path / "store", {**FP, "new": "x"})


def test_sample_weight_changed_at_the_second_fit_is_refused(tmp_path):
    EvaluationStore.open(tmp_path / "store", rich_fingerprint()).close()
    reweighted = fingerprint(**problem(fit_params={"model__sample_weight": np.ones(20)}))
    with pytest.raises(ValueError, match="not the same fit params as this fit"):
        EvaluationStore.open(tmp_path / "store", reweighted)


RACE = textwrap.dedent(
    """
    import os, sys, time
    from harmonica_sklearn._store import EvaluationStore
    go = sys.argv[1]
    while not os.path.exists(go):
        time.sleep(0.001)
    try:
        EvaluationStore.open(sys.argv[2], {"data": sys.argv[3]}).close()
    except ValueError as error:
        print("refused", sys.argv[3], error)
    else:
        print("opened", sys.argv[3])
    """
)


def test_creation_race_between_processes(tmp_path):
    # Four processes open one new path at once, two with each fingerprint:
    # one creates the store, the one with the same fingerprint opens it, the
    # other two are refused.
    go, path = tmp_path / "go", tmp_path / "store"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(go), str(path), data],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": ROOT},
        )
        for data in ("a", "b", "a", "b")
    ]
    go.touch()
    outputs = [p.communicate(timeout=300) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    opened = [out.split()[1] for out, _ in outputs if out.startswith("opened")]
    refused = [out for out, _ in outputs if out.startswith("refused")]
    assert len(opened) == 2 and opened[0] == opened[1], outputs
    assert len(refused) == 2 and all("not the same data as this fit" in out for out in refused)
    with EvaluationStore.open(path, {"data": opened[0]}):
        pass


def test_creation_race_between_threads(tmp_path):
    for attempt in range(10):
        path = tmp_path / f"store{attempt}"
        barrier = threading.Barrier(4)
        results = [None] * 4

        def open_it(i, path=path, barrier=barrier, results=results):
            barrier.wait()
            try:
                EvaluationStore.open(path, {"data": f"d{i}"}).close()
                results[i] = "opened"
            except ValueError as error:
                results[i] = str(error)

        threads = [threading.Thread(target=open_it, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count("opened") == 1, results
        assert all("not the same data as this fit" in r for r in results if r != "opened")


# ------------------------------------------------------------ bad locations
def test_an_existing_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="checkpoint=.*existing file"):
        check_location(tmp_path / "file")
    with pytest.raises(ValueError, match="checkpoint=.*existing file"):
        EvaluationStore.open(tmp_path / "file", FP)
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.parametrize("path", ["", "  "])
def test_an_empty_path_is_refused(path):
    with pytest.raises(ValueError, match="checkpoint=.*empty"):
        check_location(path)


@pytest.mark.parametrize("path", [3, b"/tmp/x", None])
def test_a_path_of_another_type_is_refused(path):
    with pytest.raises(TypeError, match="checkpoint"):
        check_location(path)


def test_a_leading_tilde_is_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert check_location("~/store") == tmp_path / "store"
    with EvaluationStore.open("~/store", FP) as store:
        assert store.path == tmp_path / "store"
    assert (tmp_path / "store" / STORE_FILE).is_file()
    assert not os.path.exists("~")
    with pytest.raises(ValueError, match="checkpoint=.*cannot expand"):
        check_location("~no_such_user_here_1234/store")


def test_a_missing_parent_is_refused_and_not_created(tmp_path):
    with pytest.raises(ValueError, match="checkpoint=.*parent .* not an existing directory"):
        check_location(tmp_path / "missing" / "store")
    with pytest.raises(ValueError, match="checkpoint="):
        EvaluationStore.open(tmp_path / "missing" / "store", FP)
    assert not (tmp_path / "missing").exists()
    # The checkpoint directory itself is created.
    EvaluationStore.open(tmp_path / "store", FP).close()
    assert (tmp_path / "store" / STORE_FILE).is_file()


def test_a_store_file_that_is_a_directory_is_refused(tmp_path):
    (tmp_path / "store" / STORE_FILE).mkdir(parents=True)
    with pytest.raises(ValueError, match="checkpoint=.*not a file"):
        check_location(tmp_path / "store")


def pretend_read_only(monkeypatch, *paths):
    """As root, permissions do not bind: pretend instead."""
    read_only = {str(p) for p in paths}
    real = _store._writable
    monkeypatch.setattr(_store, "_writable",
                        lambda p: str(p) not in read_only and real(p))


def test_an_unwritable_directory_without_a_store_is_refused(tmp_path, monkeypatch):
    (tmp_path / "store").mkdir()
    pretend_read_only(monkeypatch, tmp_path / "store", tmp_path)
    with pytest.raises(ValueError, match="checkpoint=.*not writable"):
        check_location(tmp_path / "store")
    with pytest.raises(ValueError, match="checkpoint=.*not writable"):
        check_location(tmp_path / "new")  # its parent is not writable
    with pytest.raises(ValueError, match="checkpoint=.*not writable"):
        EvaluationStore.open(tmp_path / "store", FP)
    assert not (tmp_path / "store" / STORE_FILE).exists()


def test_a_read_only_store_is_read_and_new_evaluations_are_not_written(tmp_path, monkeypatch):
    path = tmp_path / "store"
    with EvaluationStore.open(path, FP) as store:
        store.put(key(0), record(0))
    pretend_read_only(monkeypatch, path, path / STORE_FILE)
    assert check_location(path) == path
    with EvaluationStore.open(path, FP) as store:
        assert not store.writable
        assert store.get_many([key(0)]) == {key(0): record(0)}
        with pytest.warns(RuntimeWarning, match=f"checkpoint {path}: .*read-only"):
            store.put(key(1), record(1))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            store.put(key(2), record(2))  # warned once only
        assert len(store) == 1
    with pytest.raises(ValueError, match="not the same data as this fit"):
        EvaluationStore.open(path, {**FP, "data": "other"})


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="permissions do not bind root")
def test_real_permissions(tmp_path):
    path = tmp_path / "store"
    with EvaluationStore.open(path, FP) as store:
        store.put(key(0), record(0))
    os.chmod(path / STORE_FILE, 0o444)
    os.chmod(path, 0o555)
    try:
        with EvaluationStore.open(path, FP) as store:
            assert store.get_many([key(0)]) == {key(0): record(0)}
            with pytest.warns(RuntimeWarning, match="read-only"):
                store.put(key(1), record(1))
        (tmp_path / "empty").mkdir(mode=0o555)
        with pytest.raises(ValueError, match="checkpoint=.*not writable"):
            check_location(tmp_path / "empty")
    finally:
        os.chmod(path, 0o755)
        os.chmod(path / STORE_FILE, 0o644)


# --------------------------------------------------------- failing writes
def test_a_full_disk_warns_once_and_the_search_goes_on(tmp_path, monkeypatch):
    path = tmp_path / "store"
    store = EvaluationStore.open(path, FP)
    store.put(key(0), record(0))

    def full(self, connection, key, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(EvaluationStore, "_write", full)
    with pytest.warns(RuntimeWarning, match=f"checkpoint {path}: .*No space left"):
        store.put(key(1), record(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.put(key(2), record(2))  # no second warning, no error
    assert not store.writable
    monkeypatch.undo()
    store.put(key(3), record(3))  # writing stays off
    assert store.get_many([key(i) for i in range(4)]) == {key(0): record(0)}
    store.close()


def test_sqlite_reporting_a_full_database_warns_and_goes_on(tmp_path):
    path = tmp_path / "store"
    store = EvaluationStore.open(path, FP)
    page_count = store._connection.execute("PRAGMA page_count").fetchone()[0]
    store._connection.execute(f"PRAGMA max_page_count = {page_count + 3}")
    with pytest.warns(RuntimeWarning, match="full") as caught:
        for i in range(100):
            store.put(key(i), record(i, fit_error="x" * 1000))
    assert len(caught) == 1
    written = len(store)
    assert 0 < written < 100 and not store.writable
    store.close()
    with EvaluationStore.open(path, FP) as store:  # what was written is intact
        got = store.get_many([key(i) for i in range(100)])
        assert got == {key(i): record(i, fit_error="x" * 1000) for i in range(written)}


# ---------------------------------------------------------------- SIGKILL
WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from test_store import FP, key, big_record
    from harmonica_sklearn._store import EvaluationStore
    store = EvaluationStore.open({path!r}, FP)
    i = {start}
    while True:
        store.put(key(i), big_record(i))
        print(i, flush=True)  # after put returned
        i += 1
    """
)


def big_record(i):
    return record(i, test_scores={f"m{j}": i + j / 7 for j in range(300)},
                  fit_error="e" * (i % 5000))


@pytest.mark.timeout(600)
def test_a_process_killed_mid_write_leaves_every_returned_put(tmp_path):
    path = tmp_path / "store"
    returned = []
    for round_, stop_after in enumerate((40, 90)):
        start = len(returned)
        process = subprocess.Popen(
            [sys.executable, "-c",
             WRITER.format(tests=TESTS, path=str(path), start=start)],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": ROOT},
        )
        for line in process.stdout:
            returned.append(int(line))
            if len(returned) - start >= stop_after:
                break
        else:
            pytest.fail(f"the writer ended early with code {process.wait()}")
        process.send_signal(signal.SIGKILL)  # while it writes the next one
        rest = process.stdout.read()
        returned += [int(n) for n in rest.split()]
        process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL
        with EvaluationStore.open(path, FP) as store:
            got = store.get_many([key(i) for i in range(len(returned) + 5)])
            n_rows = len(store)
        for i in returned:
            assert identical(got[key(i)], big_record(i)), i
        # Every stored row is complete: at most the put in flight, committed
        # but not yet reported, is there in addition.
        assert set(got) <= {key(i) for i in range(len(returned) + 1)}
        assert n_rows == len(got)
        assert returned == list(range(len(returned)))
