"""HarmonicaSearchCV on real Dask and Ray clusters (issue #5).

Every random decision of the search is made in the driver from
``random_state``; the joblib backend only runs ``_fit_and_score`` calls.  So:

* on a real ``dask.distributed.LocalCluster`` (two worker processes) and on a
  local Ray instance, the candidates (``cv_results_["params"]``), the test
  scores and the best candidate are identical to those of ``n_jobs=1``;
* when a worker process is killed (SIGKILL) in the middle of a search, the
  search still completes with the same result, where the backend recovers
  the lost work: Dask reschedules the tasks of a dead worker (its nanny
  restarts the process), Ray does when its pool actors may restart
  (``ray_remote_args={"max_restarts": ..., "max_task_retries": ...}``);
* where the backend cannot recover (the Dask worker holding the only copy
  of the data joblib scattered for the current batch, a Ray actor of the
  default pool, a loky worker), the loss surfaces as an exception while a
  batch streams its fits back, and the search runs again the fits that did
  not come back: since its state lives in the driver, the result is the
  same.  Simulated losses (an exception named as the backends name them,
  raised in the middle of a batch) check the rerun without a cluster, and
  that no fit of a lost batch leaks into the next one.

Clusters are started once per module; every test has a time limit, and the
whole file takes about a minute.  Skipped when dask.distributed or ray is
not installed (``pip install -e ".[dask]"``, ``".[ray]"``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import threading
import time

import pytest
from joblib import parallel_config
from numpy.testing import assert_array_equal
from scipy.stats import loguniform
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge

from harmonica_sklearn import HarmonicaSearchCV

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
# A local cluster must come up within this many seconds.
CLUSTER_START_LIMIT = 20
# Ray starts many processes (GCS, raylet, agents): it gets longer.
RAY_START_LIMIT = 45

X, Y = make_regression(n_samples=120, n_features=8, noise=5.0, random_state=0)

SPACE = {
    "alpha": loguniform(1e-3, 1e3),
    "fit_intercept": [True, False],
    "solver": ["auto", "svd", "cholesky", "lsqr"],
    "tol": [1e-4, 1e-3],
}


def _pid_scorer(estimator, X, y):
    """The id of the process that fitted and scored: proves where fits ran."""
    return float(os.getpid())


# "r2" drives the search; "pid" records the process of every fit.
SCORING = {"r2": "r2", "pid": _pid_scorer}
# One spectral stage of 20 candidates (at a third of the samples), then
# halving: 55 candidates at 3 resources, 165 fits; or random search: 28
# candidates, 84 fits.
SEARCH_KW = {
    "n_iter": 15,
    "n_stages": 1,
    "stage_size": 20,
    "cv": 3,
    "random_state": 0,
    "scoring": SCORING,
    "refit": "r2",
    # 120 rows: the machinery under test needs subsampled stages.
    "min_train_rows": 0,
}


class SlowRidge(Ridge):
    """Ridge whose fit sleeps ``sleep`` seconds first (scores unchanged).

    Importable by name (``test_parallel_backends.SlowRidge``) in the worker
    processes: Dask workers inherit ``sys.path``, Ray workers get it through
    ``runtime_env`` (see the ``ray_session`` fixture).
    """

    def __init__(self, alpha=1.0, *, fit_intercept=True, solver="auto", tol=1e-4, sleep=0.0):
        super().__init__(alpha=alpha, fit_intercept=fit_intercept, solver=solver, tol=tol)
        self.sleep = sleep

    def fit(self, X, y, sample_weight=None):
        time.sleep(self.sleep)
        return super().fit(X, y, sample_weight=sample_weight)


def _search(sleep=0.0, **kw):
    return HarmonicaSearchCV(SlowRidge(sleep=sleep), SPACE, **{**SEARCH_KW, **kw})


_REFERENCES = {}


def _reference(**kw):
    """The same search with n_jobs=1 (no sleep: the scores do not depend on it)."""
    key = tuple(sorted(kw.items()))
    if key not in _REFERENCES:
        _REFERENCES[key] = _search(n_jobs=1, **kw).fit(X, Y)
    return _REFERENCES[key]


def _fit_pids(search):
    """The processes in which the search's fits ran."""
    results = search.cv_results_
    return {
        int(pid) for i in range(search.n_splits_) for pid in results[f"split{i}_test_pid"]
    }


def _assert_same_search(expected, actual):
    re, ra = expected.cv_results_, actual.cv_results_
    assert ra["params"] == re["params"]
    keys = ["mean_test_r2", "rank_test_r2", "stage", "phase", "rung", "n_resources"]
    keys += [f"split{i}_test_r2" for i in range(expected.n_splits_)]
    for key in keys:
        assert_array_equal(ra[key], re[key], err_msg=key)
    assert actual.best_params_ == expected.best_params_
    assert actual.best_score_ == expected.best_score_
    assert actual.n_candidates_ == expected.n_candidates_
    assert actual.n_resources_ == expected.n_resources_


class _Killer(threading.Thread):
    """Kills one worker process while the search runs (``with killer:``).

    ``find_victim()`` returns ``(pid, info)`` or None; it is polled every
    10 ms, starting ``delay`` seconds after ``start()``, until it names a
    victim (which gets SIGKILL), the search ends (``stop()``) or ``limit``
    seconds pass.  ``after_kill(info)``, if given, then runs in the thread
    and its result is kept in ``after``.
    """

    def __init__(self, find_victim, delay=0.3, limit=30.0, after_kill=None):
        super().__init__(daemon=True)
        self.find_victim, self.delay, self.limit = find_victim, delay, limit
        self.after_kill = after_kill
        self.done = threading.Event()
        self.killed_pid = None
        self.info = None
        self.kill_time = None
        self.after = None
        self.error = None

    def run(self):
        t0 = time.monotonic()
        try:
            while not self.done.is_set() and time.monotonic() - t0 < self.limit:
                if time.monotonic() - t0 >= self.delay:
                    victim = self.find_victim()
                    if victim is not None:
                        pid, self.info = victim
                        os.kill(pid, signal.SIGKILL)
                        self.killed_pid, self.kill_time = pid, time.monotonic()
                        if self.after_kill is not None:
                            self.after = self.after_kill(self.info)
                        return
                time.sleep(0.01)
        except Exception as exc:  # reported by the test
            self.error = exc

    def stop(self):
        self.done.set()
        self.join(20)
        assert self.error is None, f"the killer thread failed: {self.error!r}"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()


class _BatchLost(Exception):
    """A batch of fits was lost with a worker, and not run again."""


@contextlib.contextmanager
def _lost_batch_raises_batch_lost(*exception_names):
    """Turn the backend's "worker lost" exceptions into ``_BatchLost``, so
    that a retry that did not happen (or failed three times) reads as such."""
    try:
        yield
    except Exception as exc:
        if type(exc).__name__ in exception_names:
            raise _BatchLost(f"{type(exc).__name__}: {exc}") from exc
        raise


def _pid_is_gone(pid, timeout=10.0):
    """Whether ``pid`` has exited (a zombie counts as gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            import psutil

            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except Exception:
            pass
        time.sleep(0.05)
    return False


# ============================================== lost batches, simulated
def _lost_worker_error(module, name):
    """An exception class that looks like ``module.name`` (not imported)."""
    return type(name, (Exception,), {"__module__": module})


class _LosingFits:
    """Stands in for sklearn's ``_fit_and_score`` (in-process backends):
    raises ``error`` instead of the fits number ``at`` (0-based, counted over
    the whole search)."""

    def __init__(self, fit_and_score, error, at):
        self.fit_and_score, self.error, self.at = fit_and_score, error, set(at)
        self.calls = 0

    def __call__(self, *args, **kwargs):
        call, self.calls = self.calls, self.calls + 1
        if call in self.at:
            raise self.error(f"simulated loss at fit {call}")
        return self.fit_and_score(*args, **kwargs)


@pytest.fixture
def lose_fits(monkeypatch):
    from sklearn.model_selection import _validation

    def install(error, at):
        losing = _LosingFits(_validation._fit_and_score, error, at)
        monkeypatch.setattr(_validation, "_fit_and_score", losing)
        return losing

    return install


@pytest.mark.parametrize(
    "module, name",
    [
        ("distributed.scheduler", "KilledWorker"),
        ("distributed.client", "FutureCancelledError"),
        ("ray.exceptions", "ActorDiedError"),  # a subclass of RayActorError
        ("ray.exceptions", "WorkerCrashedError"),
        ("joblib.externals.loky.process_executor", "TerminatedWorkerError"),
    ],
)
def test_a_batch_lost_mid_way_is_run_again_without_duplicate_rows(lose_fits, module, name):
    """A lost worker's exception in the middle of a halving rung (after some
    of its fits came back): the fits that did not come back run again,
    cv_results_ is that of an undisturbed search, row for row."""
    expected = _reference(final_stage="halving")
    error = _lost_worker_error(module, name)
    if name == "ActorDiedError":
        error = type(name, (_lost_worker_error(module, "RayActorError"),), {"__module__": module})
    n_spectral_fits = 20 * 3
    losing = lose_fits(error, at=[n_spectral_fits + 10])  # 10 fits into rung 0
    with pytest.warns(RuntimeWarning, match=rf"A worker was lost \({name}: simulated loss "
                      r"at fit 70\); running again the \d+ of \d+ fits that did not come "
                      r"back \(retry 1 of 2\)"):
        search = _search(n_jobs=1).fit(X, Y)
    _assert_same_search(expected, search)
    assert len(search.cv_results_["params"]) == len(expected.cv_results_["params"])
    # Only the lost fit is done again: the rung's 10 fits before it are kept.
    assert losing.calls == 3 * len(expected.cv_results_["params"]) + 1


@pytest.mark.parametrize("final_stage", ["halving", "random"])
def test_a_batch_lost_in_parallel_leaves_no_stale_fits_behind(lose_fits, final_stage):
    """An aborted joblib call may leave sliced, not yet dispatched fits on
    its Parallel object; the rerun must not return them with its own (the
    evaluator starts a new Parallel after an aborted call)."""
    expected = _reference(final_stage=final_stage)
    error = _lost_worker_error("distributed.scheduler", "KilledWorker")
    lose_fits(error, at=[10])
    with parallel_config(backend="threading", n_jobs=2):
        with pytest.warns(RuntimeWarning, match="retry 1 of 2"):
            search = _search(final_stage=final_stage).fit(X, Y)
    _assert_same_search(expected, search)


class KillsItsWorkerOnce(SlowRidge):
    """SlowRidge whose first fit in a process other than ``driver_pid``
    kills that process (SIGKILL), once per ``marker`` file."""

    def __init__(
        self, alpha=1.0, *, fit_intercept=True, solver="auto", tol=1e-4, sleep=0.0,
        marker=None, driver_pid=None,
    ):
        super().__init__(
            alpha=alpha, fit_intercept=fit_intercept, solver=solver, tol=tol, sleep=sleep
        )
        self.marker = marker
        self.driver_pid = driver_pid

    def fit(self, X, y, sample_weight=None):
        if os.getpid() != self.driver_pid and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.timeout(120)
def test_loky_search_survives_a_killed_worker(tmp_path):
    """A real loky worker killed mid-batch: joblib raises TerminatedWorkerError
    and replaces its workers; the batch runs again."""
    expected = _reference(final_stage="random")
    marker = str(tmp_path / "killed")
    estimator = KillsItsWorkerOnce(marker=marker, driver_pid=os.getpid())
    search = HarmonicaSearchCV(estimator, SPACE, **{**SEARCH_KW, "final_stage": "random"})
    with parallel_config(backend="loky", n_jobs=2):
        with pytest.warns(RuntimeWarning, match=r"A worker was lost \(Terminated"):
            search.fit(X, Y)
    assert os.path.exists(marker)
    _assert_same_search(expected, search)


def test_a_batch_lost_three_times_raises_the_last_loss(lose_fits):
    error = _lost_worker_error("distributed.scheduler", "KilledWorker")
    # The spectral stage's 6th fit, then the first fit of each rerun.
    losing = lose_fits(error, at=[5, 6, 7])
    with pytest.warns(RuntimeWarning, match=r"retry 2 of 2"):
        with pytest.raises(error, match="simulated loss at fit 7"):
            _search(n_jobs=1).fit(X, Y)
    assert losing.calls == 8


@pytest.mark.parametrize(
    "module, name",
    [
        ("builtins", "KilledWorker"),  # the name alone is not enough
        ("distributed.scheduler", "SomethingElse"),
        ("ray.exceptions", "OutOfMemoryError"),  # would most likely be killed again
    ],
)
def test_other_backend_errors_are_not_retried(lose_fits, module, name):
    error = _lost_worker_error(module, name)
    losing = lose_fits(error, at=[5])
    with pytest.raises(error):
        _search(n_jobs=1).fit(X, Y)
    assert losing.calls == 6


# ====================================================================== Dask
@pytest.fixture(scope="module")
def dask_client(tmp_path_factory):
    pytest.importorskip("dask", reason="dask is not installed (pip install -e '.[dask]')")
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed (pip install -e '.[dask]')"
    )
    start = time.monotonic()
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        local_directory=str(tmp_path_factory.mktemp("dask-workers")),
    )
    client = distributed.Client(cluster)
    try:
        client.wait_for_workers(2, timeout=CLUSTER_START_LIMIT)
        # Import the library and this module in the workers now, so that
        # the first search is not slowed down by imports.
        client.run(_warm_up)
        elapsed = time.monotonic() - start
        assert elapsed < CLUSTER_START_LIMIT, f"the Dask cluster took {elapsed:.1f} s to start"
        yield client
    finally:
        client.close()
        cluster.close()


def _warm_up():
    import harmonica_sklearn  # noqa: F401
    import test_parallel_backends  # noqa: F401


def _dask_worker_pids(client):
    return client.run(os.getpid)  # {address: pid}


def _wait_for_dask_restart(client, killed_pid, timeout=30.0):
    """Two live workers again, none of them the killed process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            pids = _dask_worker_pids(client)
            if len(pids) == 2 and killed_pid not in pids.values():
                return pids
        time.sleep(0.1)
    raise AssertionError(f"the Dask nanny did not restart the killed worker in {timeout} s")


def _scattered_sole_holders(client):
    """{worker address: keys} of scattered data held by that worker alone.

    joblib's Dask backend scatters large arguments (here X) to one worker per
    ``Parallel`` call (keys named after their type, e.g. ``ndarray-<uuid>``),
    task results are keyed ``batch_of_...``; only the former cannot be
    recomputed by Dask.
    """
    sole = {}
    for key, holders in client.who_has().items():
        key = str(key)
        if "batch_of_" in key:
            continue
        if len(holders) == 1:
            sole.setdefault(holders[0], []).append(key)
    return sole


def _data_lost_with(client, timeout=10.0):
    """After a kill: were the victim's sole copies really lost?

    Waits until the scheduler has dropped the dead worker, then looks for
    the keys it alone held: a key still held elsewhere had been copied
    between our look and the kill.
    """

    def check(info):
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if info["address"] not in client.scheduler_info()["workers"]:
                    break
                time.sleep(0.02)
            holders = {str(k): v for k, v in client.who_has().items()}
        except OSError:
            return None  # unknown: the test skips
        return any(not holders.get(key) for key in info["sole"])

    return check


def _dask_victim(client, pids, *, holder):
    """A worker with tasks in flight, holding (or not) the only copy of some data."""

    def find():
        try:
            busy = {addr: tasks for addr, tasks in client.processing().items() if tasks}
            sole = _scattered_sole_holders(client) if busy else {}
        except OSError:  # a comm closed by a dying worker: look again
            return None
        for addr, tasks in busy.items():
            if (addr in sole) == holder and addr in pids:
                return pids[addr], {"address": addr, "tasks": list(tasks), "sole": sole.get(addr)}
        return None

    return find


@pytest.mark.timeout(60)
def test_dask_same_results_as_sequential(dask_client):
    """Spectral stage then halving on the cluster: the sequential result."""
    expected = _reference()
    with parallel_config(backend="dask"):
        search = _search().fit(X, Y)
    _assert_same_search(expected, search)
    assert search.search_mode_ == "spectral" and len(search.stages_) == 1
    assert set(search.cv_results_["phase"]) == {"spectral", "confirm", "halving"}
    # The fits really ran in the worker processes, none in this one.
    assert _fit_pids(expected) == {os.getpid()}
    assert _fit_pids(search) <= set(_dask_worker_pids(dask_client).values())


@pytest.mark.timeout(60)
def test_dask_search_survives_a_killed_worker(dask_client):
    """SIGKILL a busy worker mid-search: Dask reruns its tasks, the nanny
    restarts it, and the search ends with exactly the sequential result.

    The victim holds no sole copy of scattered data (see the next test).
    Spectral stage then random search (``final_stage="random"``).
    """
    expected = _reference(final_stage="random")
    pids = _dask_worker_pids(dask_client)
    killer = _Killer(_dask_victim(dask_client, pids, holder=False))
    with parallel_config(backend="dask"), killer:
        search = _search(sleep=0.03, final_stage="random").fit(X, Y)
        end = time.monotonic()
    assert killer.killed_pid is not None, "no busy worker was found to kill"
    assert killer.killed_pid in pids.values() and killer.info["tasks"]
    assert killer.kill_time < end  # killed mid-search, with tasks in flight
    assert _pid_is_gone(killer.killed_pid)
    _assert_same_search(expected, search)
    new_pids = _wait_for_dask_restart(dask_client, killer.killed_pid)
    assert len(set(new_pids.values()) - set(pids.values())) == 1  # restarted by its nanny
    # The fits ran in the workers (the killed one, its survivor, maybe its
    # replacement) -- and possibly here: a batch that starts while only one
    # worker is up has joblib's effective n_jobs == 1, and joblib then runs
    # it in the calling process (see docs/parallel.md).
    workers = set(pids.values()) | set(new_pids.values())
    assert _fit_pids(search) <= workers | {os.getpid()}
    assert _fit_pids(search) & workers


@pytest.mark.timeout(60)
def test_dask_search_survives_losing_the_worker_with_scattered_data(dask_client):
    """joblib's Dask backend scatters X (and index arrays over 1 kB) to one
    worker per Parallel call; killing that worker before another copy exists
    loses data Dask cannot recompute, and the batch fails with
    FutureCancelledError ('already forgotten'), which would abort the search
    (GridSearchCV fails so). HarmonicaSearchCV runs the batch again, which
    scatters the data anew: the search ends with the sequential result."""
    expected = _reference(final_stage="random")
    pids = _dask_worker_pids(dask_client)
    killer = _Killer(
        _dask_victim(dask_client, pids, holder=True), after_kill=_data_lost_with(dask_client)
    )
    try:
        with parallel_config(backend="dask"), killer:
            with _lost_batch_raises_batch_lost("FutureCancelledError", "CancelledError"):
                search = _search(sleep=0.03, final_stage="random").fit(X, Y)
        if killer.killed_pid is None or not killer.after:
            # Dask had copied the data to the other worker: nothing was lost.
            pytest.skip("no worker was caught holding the only copy of scattered data")
        _assert_same_search(expected, search)
    finally:
        if killer.killed_pid is not None:
            _wait_for_dask_restart(dask_client, killer.killed_pid)


# ======================================================================= Ray
@pytest.fixture(scope="module")
def ray_session(tmp_path_factory):
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install -e '.[ray]')")
    ray_joblib = pytest.importorskip("ray.util.joblib")
    psutil = pytest.importorskip("psutil", reason="psutil is needed to find Ray's workers")
    if ray.is_initialized():
        pytest.skip("a Ray instance is already running in this process")
    import tempfile

    # Ray's socket paths must stay short: a fresh folder directly in /tmp.
    temp_dir = tempfile.mkdtemp(prefix="ray")
    python_path = os.pathsep.join(
        [TESTS_DIR, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
    )
    start = time.monotonic()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        # SlowRidge is pickled by reference: the workers import this module.
        # Ray's processes inherit the environment of ray.init (a runtime_env
        # would do too, but starts every actor in a fresh process: slower).
        mp.setenv("PYTHONPATH", python_path)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=temp_dir)
    try:
        elapsed = time.monotonic() - start
        assert elapsed < RAY_START_LIMIT, f"Ray took {elapsed:.1f} s to start"
        ray_joblib.register_ray()
        yield psutil
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)


def _ray_busy_actor(psutil):
    """A Ray pool actor of ours currently running a batch of fits."""

    def find():
        for proc in psutil.Process().children(recursive=True):
            try:
                title = proc.cmdline()[:1]
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            if title == ["ray::PoolActor.run_batch"]:
                return proc.pid, {"title": title[0]}
        return None

    return find


@pytest.mark.timeout(90)
def test_ray_same_results_as_sequential(ray_session):
    expected = _reference()
    # parallel_config leaves n_jobs=None, which Ray's backend runs in this
    # process: ask for the two CPUs.
    with parallel_config(backend="ray", n_jobs=2):
        search = _search().fit(X, Y)
    _assert_same_search(expected, search)
    fit_pids = _fit_pids(search)
    assert os.getpid() not in fit_pids and len(fit_pids) >= 2


@pytest.mark.timeout(60)
def test_ray_search_survives_a_killed_worker_with_actor_restarts(ray_session):
    """With restartable pool actors, Ray reruns the batch of a killed actor."""
    expected = _reference(final_stage="random")
    killer = _Killer(_ray_busy_actor(ray_session))
    remote_args = {"max_restarts": 2, "max_task_retries": 2}
    with parallel_config(backend="ray", n_jobs=2, ray_remote_args=remote_args), killer:
        search = _search(sleep=0.03, final_stage="random").fit(X, Y)
        end = time.monotonic()
    assert killer.killed_pid is not None, "no busy Ray actor was found to kill"
    assert killer.kill_time < end
    assert _pid_is_gone(killer.killed_pid)
    _assert_same_search(expected, search)
    assert os.getpid() not in _fit_pids(search)


@pytest.mark.timeout(60)
def test_ray_search_survives_a_killed_worker_by_default(ray_session):
    """With Ray's default pool (actors never restart), a killed actor makes
    the batch raise ray.exceptions.ActorDiedError; joblib replaces the pool
    and HarmonicaSearchCV runs the batch again."""
    expected = _reference(final_stage="random")
    killer = _Killer(_ray_busy_actor(ray_session))
    with parallel_config(backend="ray", n_jobs=2), killer:
        with _lost_batch_raises_batch_lost("ActorDiedError", "RayActorError"):
            search = _search(sleep=0.03, final_stage="random").fit(X, Y)
    assert killer.killed_pid is not None, "no busy Ray actor was found to kill"
    _assert_same_search(expected, search)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
