"""HarmonicaSearchCV with skorch nets (harmonica_sklearn.skorch), on the CPU.

1. the torch extra: the core package works without torch/skorch, and the
   skorch module names the extra when they are missing;
2. searches over classifiers and regressors, also inside pipelines, with
   ``max_epochs`` as the halving resource and a cheaper ``spectral_resource``;
3. reproducibility for a fixed ``random_state``, with ``n_jobs=1`` and 2;
4. the device logic: fallback to the CPU, the per-process GPU slots (with
   CUDA mocked), the driver never touching CUDA, pickling;
5. the other extras: seeding, thread control, optimizer arguments, MLP.

Nets and data are tiny (one thread each): the file runs in well under a
minute on two cores.
"""

import os
import pickle
import subprocess
import sys
import textwrap
import warnings
from unittest import mock

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

skorch = pytest.importorskip("skorch")
torch = pytest.importorskip("torch")

from joblib import Parallel, delayed  # noqa: E402
from scipy.stats import loguniform  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

from harmonica_sklearn import HarmonicaSearchCV  # noqa: E402
from harmonica_sklearn import skorch as hs  # noqa: E402
from harmonica_sklearn.skorch import (  # noqa: E402
    MLP,
    NoGPUWarning,
    TunableNeuralNetClassifier,
    TunableNeuralNetRegressor,
    resolve_device,
    to_float32,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- helpers
# Module level, so that joblib's worker processes can unpickle them.
def cast_float32(X):
    return np.asarray(X, dtype=np.float32)


def epochs_trained(estimator, X, y):
    """A 'scorer' that reports how many epochs the net trained."""
    net = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    return len(net.history)


class RecordDevice(Callback):
    """Records what the net looks like while it trains."""

    def on_epoch_begin(self, net, **kwargs):
        self.seen_ = (net.device, torch.get_num_threads())


def _classification(n=120, n_features=6, seed=0):
    X, y = make_classification(
        n_samples=n, n_features=n_features, n_informative=4, random_state=seed
    )
    return X.astype(np.float32), y


def _net(**kwargs):
    params = dict(
        module=MLP,
        module__n_outputs=2,
        module__n_units=8,
        module__n_layers=1,
        # HarmonicaSearchCV checks param_space's names against get_params(), which
        # lists a skorch net's module__*/optimizer__* arguments only when they
        # are set: every tuned one gets a value here.
        module__activation="relu",
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=9,
        batch_size=32,
        lr=0.05,
        optimizer__momentum=0.0,
        train_split=None,
        verbose=0,
        seed=0,
        num_threads=1,
    )
    params.update(kwargs)
    return TunableNeuralNetClassifier(**params)


SPACE = {
    "lr": loguniform(1e-3, 1.0),
    "module__n_units": [4, 8, 16],
    "module__activation": ["relu", "tanh"],
    "optimizer": [torch.optim.SGD, torch.optim.Adam],
    "optimizer__momentum": [0.0, 0.9],
    "batch_size": [16, 64],
}


# ------------------------------------------------------------- the extra
def test_core_package_works_without_torch():
    code = textwrap.dedent(
        """
        import sys

        class NoTorch:  # as if torch and skorch were not installed
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "skorch"):
                    raise ModuleNotFoundError(f"No module named {name!r}")

        sys.meta_path.insert(0, NoTorch())
        from sklearn.datasets import make_classification
        from sklearn.linear_model import LogisticRegression
        from harmonica_sklearn import HarmonicaSearchCV
        X, y = make_classification(60, 4, random_state=0)
        search = HarmonicaSearchCV(
            LogisticRegression(), {"C": [0.1, 1.0, 10.0]}, cv=2
        ).fit(X, y)
        assert len(search.cv_results_["params"]) == 3
        assert "torch" not in sys.modules
        try:
            import harmonica_sklearn.skorch
        except ImportError as exc:
            print("ERROR:", exc)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert 'pip install "harmonica-sklearn[torch]"' in out.stdout


@pytest.mark.parametrize("missing", ["torch", "skorch"])
def test_missing_extra_names_it(monkeypatch, missing):
    monkeypatch.setitem(sys.modules, missing, None)
    monkeypatch.delitem(sys.modules, "harmonica_sklearn.skorch")
    with pytest.raises(ImportError, match=r'pip install "harmonica-sklearn\[torch\]"'):
        import harmonica_sklearn.skorch  # noqa: F401


# --------------------------------------------------------------- searches
def test_classifier_search_epochs_follow_the_schedule():
    X, y = _classification()
    search = HarmonicaSearchCV(
        _net(),
        SPACE,
        n_iter=8,  # a stage of 43 at 1 epoch, its confirmation at 9, rungs 1, 3, 9
        cv=2,
        resource="max_epochs",
        spectral_resource=1,
        scoring={"acc": "accuracy", "epochs": epochs_trained},
        refit="acc",
        random_state=0,
    ).fit(X, y)
    res = search.cv_results_
    n_res = np.asarray(res["n_resources"])
    phase = np.asarray(res["phase"])

    assert search.max_resources_ == 9  # "auto": the net's max_epochs
    assert len(search.stages_) == 1
    assert set(n_res[phase == "spectral"]) == {1}  # spectral_resource
    assert search.n_resources_ == [1, 3, 9]  # 9 / 3**2, 9 / 3, 9
    rung = np.asarray(res["rung"])
    for r, (n_cand, resource) in enumerate(zip(search.n_candidates_, search.n_resources_)):
        rows = (phase == "halving") & (rung == r)
        assert rows.sum() == n_cand
        assert set(n_res[rows]) == {resource}
    # Every net really trained for the epochs its row says.
    np.testing.assert_array_equal(res["mean_test_epochs"], n_res)
    assert res["params"][0]["max_epochs"] == 1
    # The refitted net trains at full resource and keeps the candidate's params.
    best = search.best_estimator_
    assert len(best.history) == 9
    assert best.max_epochs == 9
    assert res["n_resources"][search.best_index_] == 9
    assert search.best_score_ > 0.6


def test_pipeline_classifier_and_float32_cast_with_two_jobs():
    X, y = _classification(seed=1)
    X = X.astype(np.float64) * 10 + 3  # the scaler and the cast matter
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("cast", FunctionTransformer(cast_float32)),
            ("net", _net()),
        ]
    )
    space = {f"net__{k}": v for k, v in SPACE.items()}
    search = HarmonicaSearchCV(
        pipe,
        space,
        n_iter=4,
        cv=2,
        resource="net__max_epochs",
        scoring={"acc": "accuracy", "epochs": epochs_trained},
        refit="acc",
        random_state=0,
        n_jobs=2,
    ).fit(X, y)
    res = search.cv_results_
    np.testing.assert_array_equal(res["mean_test_epochs"], res["n_resources"])
    assert search.best_estimator_.predict(X[:5]).shape == (5,)
    assert search.best_score_ > 0.6


def test_pipeline_regressor():
    X, y = make_regression(n_samples=120, n_features=5, noise=5.0, random_state=0)
    y = (y / y.std()).astype(np.float32).reshape(-1, 1)  # skorch: float32, 2-D
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("cast", FunctionTransformer(to_float32)),
            (
                "net",
                TunableNeuralNetRegressor(
                    MLP,
                    module__n_layers=1,
                    module__n_units=8,
                    module__dropout=0.0,
                    module__batch_norm=False,
                    max_epochs=8,
                    batch_size=16,
                    optimizer=torch.optim.Adam,
                    optimizer__weight_decay=0.0,
                    train_split=None,
                    verbose=0,
                    seed=0,
                    num_threads=1,
                ),
            ),
        ]
    )
    space = {
        "net__lr": loguniform(1e-3, 1e-1),
        "net__module__n_units": [4, 16],
        "net__module__n_layers": [0, 1, 2],
        "net__module__dropout": [0.0, 0.2],
        "net__module__batch_norm": [False, True],
        "net__optimizer__weight_decay": [0.0, 1e-3],
    }
    search = HarmonicaSearchCV(
        pipe, space, n_iter=4, cv=2, resource="net__max_epochs", random_state=0
    ).fit(X, y)
    assert set(search.cv_results_["n_resources"]) <= {1, 3, 8}
    assert search.max_resources_ == 8
    assert search.best_estimator_.predict(X[:4]).shape == (4, 1)
    assert search.best_score_ > 0.5  # R^2 of a nearly linear problem


def test_search_is_reproducible_with_one_and_two_jobs():
    X, y = _classification(seed=2)

    def run(n_jobs):
        return HarmonicaSearchCV(
            _net(max_epochs=4),
            SPACE,
            n_iter=4,
            cv=2,
            resource="max_epochs",
            random_state=3,
            n_jobs=n_jobs,
        ).fit(X, y)

    first, second, parallel = run(1), run(1), run(2)
    for other in (second, parallel):
        assert other.cv_results_["params"] == first.cv_results_["params"]
        for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
            np.testing.assert_array_equal(other.cv_results_[key], first.cv_results_[key])
        assert other.best_params_ == first.best_params_
    # ... and not by accident: the candidates' scores differ from each other.
    assert len(set(first.cv_results_["mean_test_score"])) > 2


# ----------------------------------------------------------------- devices
HAS_GPU = torch.cuda.is_available()


@pytest.fixture
def no_gpu_here(monkeypatch):
    """This process sees no GPU, whatever the machine has.

    The fits of these tests run in the test process, so they take the CPU
    path on a GPU machine too, and never initialise CUDA here (which
    test_driver_never_touches_cuda checks).
    """
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_cuda_without_gpu_falls_back_to_cpu_and_keeps_params(no_gpu_here):
    X, y = _classification()
    recorder = RecordDevice()
    net = _net(device="cuda", max_epochs=2, callbacks=[("record", recorder)])
    before = net.get_params(deep=False)
    with pytest.warns(NoGPUWarning, match="CUDA is not available"):
        net.fit(X, y)
    assert net.device_ == "cpu"
    assert next(net.module_.parameters()).device.type == "cpu"
    # skorch's internals saw the chosen device while training ...
    assert recorder.seen_ == ("cpu", 1)
    # ... but the constructor parameter never changed.
    assert net.device == "cuda"
    after = net.get_params(deep=False)
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)
    assert clone(net).device == "cuda"
    assert net.predict(X[:3]).shape == (3,)


def test_cuda_without_gpu_can_raise(no_gpu_here):
    X, y = _classification()
    net = _net(device="cuda", no_gpu="raise", max_epochs=1)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        net.fit(X, y)
    assert net.device == "cuda"


def test_invalid_device_options():
    X, y = _classification()
    with pytest.raises(ValueError, match="gpu_assignment"):
        _net(gpu_assignment="round-robin").fit(X, y)
    with pytest.raises(ValueError, match="no_gpu"):
        _net(no_gpu="ignore").fit(X, y)


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)


def test_resolve_device_with_mocked_gpus(two_gpus, tmp_path):
    slots = str(tmp_path)
    held = []
    try:
        # Three other "workers" hold slots 0, 1 and 2 ...
        for expected in range(3):
            slot, handle = hs._claim_slot(slots)
            held.append(handle)
            assert slot == expected
        # ... so this process gets slot 3: GPU 3 % 2.
        assert resolve_device("cuda", slots_dir=slots) == "cuda:1"
        assert resolve_device("cuda", slots_dir=slots) == "cuda:1"  # kept
        # A worker that exits frees its slot for the next one.
        held.pop(0).close()
        slot, handle = hs._claim_slot(slots)
        held.append(handle)
        assert slot == 0
    finally:
        for handle in held:
            handle.close()
        hs._claimed.pop(slots)[2].close()
    # Explicit indices, "current", the CPU and None are left alone.
    assert resolve_device("cuda:1", slots_dir=slots) == "cuda:1"
    assert resolve_device(torch.device("cuda", 0), slots_dir=slots) == "cuda:0"
    assert resolve_device("cuda", gpu_assignment="current", slots_dir=slots) == "cuda"
    assert resolve_device("cpu") == "cpu"
    assert resolve_device(None) is None


def test_single_gpu_needs_no_slot(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda", slots_dir=str(tmp_path / "slots")) == "cuda:0"
    assert not (tmp_path / "slots").exists()


def _device_in_worker(slots_dir, n_gpus):
    """What a worker process picks for device="cuda" with n_gpus (mocked) GPUs."""
    import time

    with mock.patch("torch.cuda.is_available", return_value=True), mock.patch(
        "torch.cuda.device_count", return_value=n_gpus
    ):
        device = resolve_device("cuda", slots_dir=slots_dir)
    time.sleep(0.2)  # let the other worker take tasks too
    return os.getpid(), device


def test_worker_processes_spread_over_gpus(tmp_path):
    slots = str(tmp_path / "slots")
    results = Parallel(n_jobs=2)(delayed(_device_in_worker)(slots, 2) for _ in range(8))
    by_pid = {}
    for pid, device in results:
        by_pid.setdefault(pid, set()).add(device)
    assert all(len(devices) == 1 for devices in by_pid.values())  # one GPU per worker
    devices = [d for ds in by_pid.values() for d in ds]
    assert len(set(devices)) == len(devices)  # no two workers share a GPU
    assert set(devices) <= {"cuda:0", "cuda:1"}


def test_driver_never_touches_cuda(monkeypatch):
    # The driver clones, pickles and sends nets; only the workers (which
    # fit them) may look at CUDA.
    def forbidden():
        raise AssertionError("the driver touched CUDA")

    monkeypatch.setattr(torch.cuda, "is_available", forbidden)
    monkeypatch.setattr(torch.cuda, "device_count", forbidden)
    monkeypatch.setattr(torch.cuda, "init", forbidden)
    X, y = _classification()
    search = HarmonicaSearchCV(
        _net(device="cuda", max_epochs=3),
        SPACE,
        n_iter=2,
        cv=2,
        resource="max_epochs",
        refit=False,
        random_state=0,
        n_jobs=2,
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoGPUWarning)
        search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    pickle.loads(pickle.dumps(search))
    # On a GPU machine the workers trained on it; the driver still did not
    # initialise CUDA (the tests above that fit in this process hide the GPU).
    assert not torch.cuda.is_initialized()


@pytest.fixture
def builtin_print(monkeypatch):
    """``builtins.print`` as skorch's PrintLog callback holds it.

    A fitted net pickles its PrintLog callback, whose sink is ``print``, by
    reference; that fails once something has replaced ``builtins.print`` (as
    ``ray.init()`` does, in tests/test_parallel_backends.py).
    """
    import builtins

    from skorch.callbacks import PrintLog

    monkeypatch.setattr(builtins, "print", PrintLog().sink)


def test_pickling_keeps_the_requested_and_the_chosen_device(builtin_print, no_gpu_here):
    X, y = _classification()
    net = _net(device="cuda", max_epochs=2)
    unfitted = pickle.loads(pickle.dumps(net))
    assert unfitted.device == "cuda" and not hasattr(unfitted, "device_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoGPUWarning)
        net.fit(X, y)
    copy = pickle.loads(pickle.dumps(net))
    assert copy.device == "cuda" and copy.device_ == "cpu"
    np.testing.assert_array_equal(copy.predict_proba(X), net.predict_proba(X))
    assert copy.get_params(deep=False).keys() == net.get_params(deep=False).keys()


class PickleNet(Callback):
    """Pickles the net in the middle of its fit, as checkpoint callbacks do."""

    def on_epoch_end(self, net, **kwargs):
        self.blob_ = pickle.dumps(net)


def test_pickled_mid_fit_keeps_the_requested_device(builtin_print, no_gpu_here):
    X, y = _classification()
    cb = PickleNet()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoGPUWarning)
        _net(device="cuda", max_epochs=1, callbacks=[("pickle", cb)]).fit(X, y)
    copy = pickle.loads(cb.blob_)
    assert copy.device == "cuda" and copy.device_ == "cpu"
    assert not hasattr(copy, "_runtime_state_")


needs_gpu = pytest.mark.skipif(not HAS_GPU, reason="needs a CUDA GPU")


@needs_gpu
def test_fit_on_a_real_gpu_trains_there_and_unpickles(builtin_print):
    X, y = _classification()
    recorder = RecordDevice()
    net = _net(device="cuda", max_epochs=2, callbacks=[("record", recorder)])
    net.fit(X, y)
    assert net.device == "cuda" and net.device_ == "cuda:0"
    assert recorder.seen_[0] == "cuda:0"
    assert next(net.module_.parameters()).device.type == "cuda"
    copy = pickle.loads(pickle.dumps(net))
    assert copy.device == "cuda" and copy.device_ == "cuda:0"
    np.testing.assert_allclose(copy.predict_proba(X), net.predict_proba(X), atol=1e-6)


@needs_gpu
def test_search_on_a_real_gpu_with_two_workers_refits_there():
    X, y = _classification(n=200)
    search = HarmonicaSearchCV(
        _net(device="cuda", max_epochs=3),
        SPACE,
        n_iter=3,
        cv=2,
        resource="max_epochs",
        random_state=0,
        n_jobs=2,
        error_score="raise",
    )
    search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.device_ == "cuda:0"
    assert search.score(X, y) > 0.5


def test_gpu_check_script_refuses_a_width_below_one(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    with pytest.raises(SystemExit):
        gpu_check.main(["--width", "0"])
    assert "--width must be a positive integer, got 0" in capsys.readouterr().err


# ----------------------------------------------------------------- extras
def _weights(net):
    return np.concatenate([p.detach().numpy().ravel() for p in net.module_.parameters()])


def test_seed_makes_fits_reproducible():
    X, y = _classification()
    kwargs = dict(max_epochs=3, module__dropout=0.3, iterator_train__shuffle=True)
    a = _net(seed=5, **kwargs).fit(X, y)
    torch.manual_seed(123)  # the global state before fit does not matter
    b = _net(seed=5, **kwargs).fit(X, y)
    np.testing.assert_array_equal(_weights(a), _weights(b))
    c = _net(seed=6, **kwargs).fit(X, y)
    assert not np.array_equal(_weights(a), _weights(c))
    refit = a.fit(X, y)  # every initialize() reseeds
    np.testing.assert_array_equal(_weights(refit), _weights(b))


def test_num_threads_is_set_during_fit_and_restored():
    X, y = _classification()
    before = torch.get_num_threads()
    recorder = RecordDevice()
    _net(num_threads=1, max_epochs=1, callbacks=[("record", recorder)]).fit(X, y)
    assert recorder.seen_ == ("cpu", 1)
    assert torch.get_num_threads() == before


def test_optimizer_arguments_the_optimizer_lacks_are_dropped():
    X, y = _classification()
    net = _net(optimizer=torch.optim.Adam, optimizer__momentum=0.9, max_epochs=1)
    net.fit(X, y)
    assert isinstance(net.optimizer_, torch.optim.Adam)
    sgd = _net(optimizer=torch.optim.SGD, optimizer__momentum=0.9, max_epochs=1).fit(X, y)
    assert sgd.optimizer_.param_groups[0]["momentum"] == 0.9
    with pytest.raises(TypeError):
        _net(optimizer=torch.optim.Adam, optimizer__momentum=0.9, max_epochs=1,
             drop_unused_optimizer_params=False).fit(X, y)
    with pytest.raises(TypeError):  # a typo is not silently dropped
        _net(optimizer__momentun=0.9, max_epochs=1).fit(X, y)


@pytest.mark.parametrize(
    "kwargs, n_linear",
    [
        (dict(n_layers=0), 1),
        (dict(n_layers=3, batch_norm=True, dropout=0.5, activation="gelu"), 4),
        (dict(n_layers=1, n_features=6, activation=torch.nn.Softplus), 2),
    ],
)
def test_mlp(kwargs, n_linear):
    module = MLP(n_outputs=3, **kwargs)
    out = module(torch.zeros(5, 6))
    assert out.shape == (5, 3)
    linear = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linear) == n_linear


def test_mlp_rejects_unknown_activation():
    with pytest.raises(ValueError, match="Unknown activation"):
        MLP(activation="swishy")


def test_to_float32():
    assert to_float32(np.ones((2, 2))).dtype == np.float32
    assert to_float32([[1, 2]]).dtype == np.float32
    scipy_sparse = pytest.importorskip("scipy.sparse")
    assert to_float32(scipy_sparse.csr_matrix(np.eye(2))).dtype == np.float32
