"""Tune skorch neural nets with HarmonicaSearchCV.

This module needs the ``torch`` extra (``pip install "harmonica-sklearn[torch]"``);
the rest of the package works without torch or skorch.

What it adds to skorch, all optional:

* :class:`TunableNeuralNetClassifier` and :class:`TunableNeuralNetRegressor`
  (or :class:`TunableNetMixin` for your own skorch net class) with four extra
  constructor parameters:

  - ``seed``: torch is seeded at every ``initialize()``, before the module is
    built, so each candidate of a search trains reproducibly;
  - ``num_threads``: torch's CPU threads during this net's fits and
    predictions (set, then restored), so results do not depend on
    ``n_jobs`` and parallel workers do not oversubscribe the cores;
  - ``gpu_assignment``: with ``device="cuda"`` each worker process claims
    its own slot and uses GPU ``slot % n_gpus``, so ``n_jobs > 1`` spreads the
    fits over the visible GPUs instead of piling them on ``cuda:0``;
  - ``no_gpu``: what ``device="cuda"`` does on a machine without a GPU
    (fall back to the CPU with a warning, or raise).

  The device is chosen when the net is initialised (in the process that
  fits it, never in the search's driver while it only clones and sends
  nets) and stored in the fitted attribute ``device_``; the constructor
  parameter ``device`` is never changed, as scikit-learn requires.
* :class:`MLP`: a configurable multilayer perceptron whose depth, width,
  dropout, activation and batch norm are ``module__*`` parameters.
* :func:`to_float32`: a picklable cast for ``FunctionTransformer`` in
  pipelines (skorch wants float32 inputs).

See ``docs/skorch.md`` for a walk-through.
"""

from __future__ import annotations

import inspect
import os
import tempfile
import warnings
from contextlib import ExitStack, contextmanager

try:
    import torch
    from skorch import NeuralNetClassifier, NeuralNetRegressor
    from skorch.exceptions import DeviceWarning
    from torch import nn
except ImportError as exc:  # pragma: no cover - exercised with a mocked import
    raise ImportError(
        "harmonica_sklearn.skorch needs torch and skorch, which are not "
        f"installed ({exc}). Install them with: "
        'pip install "harmonica-sklearn[torch]"'
    ) from exc

import numpy as np

__all__ = [
    "MLP",
    "NoGPUWarning",
    "TunableNetMixin",
    "TunableNeuralNetClassifier",
    "TunableNeuralNetRegressor",
    "gpu_slot",
    "resolve_device",
    "to_float32",
]

# Environment variable naming the folder of the per-process GPU slot files.
SLOTS_DIR_ENV = "HARMONICA_GPU_SLOTS_DIR"
_MAX_SLOTS = 4096


class NoGPUWarning(DeviceWarning):
    """``device="cuda"`` was asked for on a machine without a usable GPU."""


# ---------------------------------------------------------------- helpers
def to_float32(X):
    """``X`` as a float32 array (or float32 sparse matrix).

    skorch passes the input's dtype to torch, whose layers want float32. Use
    ``FunctionTransformer(to_float32)`` as a pipeline step: unlike a lambda,
    this function pickles, so the pipeline works with ``n_jobs > 1``.
    """
    if hasattr(X, "astype") and hasattr(X, "dtype"):
        return X.astype(np.float32, copy=False)
    return np.asarray(X, dtype=np.float32)


_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


class MLP(nn.Module):
    """A multilayer perceptron with tunable shape, for skorch's ``module``.

    Every argument is a ``module__*`` parameter of the net, so it can be
    tuned: ``module__n_layers``, ``module__n_units``, ``module__dropout``,
    ``module__activation``, ``module__batch_norm``.

    Parameters
    ----------
    n_outputs : int, default=1
        Output width: the number of classes for a classifier (pair it with
        ``criterion=torch.nn.CrossEntropyLoss``: the outputs are logits), the
        number of targets for a regressor.
    n_features : int or None, default=None
        Input width; None infers it on the first batch (``nn.LazyLinear``),
        which suits pipelines whose earlier steps change the width.
    n_layers : int, default=2
        Hidden layers (0 is a linear model).
    n_units : int, default=64
        Units per hidden layer.
    dropout : float, default=0.0
        Dropout after each hidden layer's activation.
    activation : str or nn.Module class, default="relu"
        One of "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "tanh",
        "sigmoid", or a module class called without arguments.
    batch_norm : bool, default=False
        Batch normalisation after each hidden linear layer.
    """

    def __init__(
        self,
        n_outputs=1,
        n_features=None,
        n_layers=2,
        n_units=64,
        dropout=0.0,
        activation="relu",
        batch_norm=False,
    ):
        super().__init__()
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(
                    f"Unknown activation {activation!r}; use one of "
                    f"{sorted(_ACTIVATIONS)} or an nn.Module class."
                )
            activation = _ACTIVATIONS[activation]
        layers = []
        width = n_features
        for _ in range(int(n_layers)):
            layers.append(_linear(width, n_units))
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_units))
            layers.append(activation())
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = n_units
        layers.append(_linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X)


def _linear(n_in, n_out):
    return nn.LazyLinear(n_out) if n_in is None else nn.Linear(n_in, n_out)


# ---------------------------------------------------------- GPU selection
_claimed = {}  # slots folder -> (pid, slot, open file object holding the lock)


def _default_slots_dir():
    folder = os.environ.get(SLOTS_DIR_ENV)
    if folder:
        return folder
    # One pool of slots per user and per set of visible GPUs.
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "all")
    tag = "".join(c if c.isalnum() else "-" for c in visible)[:64]
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return os.path.join(tempfile.gettempdir(), f"harmonica-sklearn-gpu-slots-{user}-{tag}")


def _try_lock(handle):
    """Take an exclusive, non-blocking lock on ``handle``; False if held."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:  # held by another process (or open file)
        return False
    except OSError as exc:  # e.g. a network file system without locks
        raise OSError(
            f"Cannot lock GPU slot files in {os.path.dirname(handle.name)!r} ({exc}); "
            f"point ${SLOTS_DIR_ENV} to a folder on a local disk."
        ) from exc


def _claim_slot(slots_dir):
    """Lock the lowest free slot file in ``slots_dir``: (slot, open file).

    The lock lasts as long as the file stays open, so a slot is freed when
    its process ends, however it ends (no stale claims to clean up). Locks
    belong to open files, not processes: two claims in one process get two
    slots, which is how the tests simulate several workers.
    """
    os.makedirs(slots_dir, exist_ok=True)
    for slot in range(_MAX_SLOTS):
        handle = open(os.path.join(slots_dir, f"slot-{slot}"), "a+")
        handle.seek(0)
        if _try_lock(handle):
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            return slot, handle
        handle.close()
    raise RuntimeError(f"No free GPU slot in {slots_dir} ({_MAX_SLOTS} are taken).")


def gpu_slot(slots_dir=None):
    """This process's slot number, claimed on first use and kept until exit.

    Worker processes claim the lowest free slot of a folder shared by all
    processes of the user on the machine (``$HARMONICA_GPU_SLOTS_DIR``, or a
    folder in the temporary directory keyed by ``CUDA_VISIBLE_DEVICES``), so
    ``n`` concurrent workers hold slots ``0 .. n-1`` and a worker that exits
    frees its slot for the worker that replaces it.
    """
    slots_dir = os.fspath(slots_dir or _default_slots_dir())
    pid = os.getpid()
    claim = _claimed.get(slots_dir)
    if claim is not None:
        if claim[0] == pid:
            return claim[1]
        # A forked child inherited the parent's claim: it needs its own. Closing
        # the inherited copy leaves the parent's lock in place.
        claim[2].close()
    slot, handle = _claim_slot(slots_dir)
    _claimed[slots_dir] = (pid, slot, handle)
    return slot


def resolve_device(device, *, gpu_assignment="spread", no_gpu="warn", slots_dir=None):
    """The device a net asking for ``device`` uses in this process.

    Parameters
    ----------
    device : str, torch.device or None
        skorch's ``device`` parameter.
    gpu_assignment : {"spread", "current"}, default="spread"
        For a CUDA device without an index: "spread" gives this process GPU
        ``gpu_slot() % torch.cuda.device_count()``; "current" keeps torch's
        current device (skorch's behaviour: usually ``cuda:0``).
    no_gpu : {"warn", "raise"}, default="warn"
        For a CUDA device when CUDA is not available: fall back to "cpu" with
        a :class:`NoGPUWarning`, or raise a ``RuntimeError``.
    slots_dir : path, optional
        Folder of the slot files (see :func:`gpu_slot`).

    Returns
    -------
    str or None
        A device string such as "cpu" or "cuda:1" (None when ``device`` is
        None: skorch then leaves tensors where they are).
    """
    if device is None:
        return None
    parsed = torch.device(device)
    if parsed.type != "cuda":
        return str(device)
    if not torch.cuda.is_available():
        message = (
            f"device={str(device)!r} was requested but CUDA is not available in "
            f"process {os.getpid()}"
        )
        if no_gpu == "raise":
            raise RuntimeError(
                message + "; set no_gpu='warn' to fall back to the CPU, or device='cpu'."
            )
        warnings.warn(message + "; using the CPU instead.", NoGPUWarning, stacklevel=3)
        return "cpu"
    if parsed.index is not None:
        return str(parsed)
    if gpu_assignment == "current":
        return "cuda"
    n_gpus = torch.cuda.device_count()
    index = 0 if n_gpus <= 1 else gpu_slot(slots_dir) % n_gpus
    return f"cuda:{index}"


# ------------------------------------------------------- optimizer params
_known_optimizer_args = None


def _all_optimizer_args():
    """Argument names of the optimizers in ``torch.optim``."""
    global _known_optimizer_args
    if _known_optimizer_args is None:
        names = set()
        for obj in vars(torch.optim).values():
            if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer):
                try:
                    names |= set(inspect.signature(obj).parameters)
                except (TypeError, ValueError):
                    pass
        names.discard("params")
        _known_optimizer_args = names
    return _known_optimizer_args


def _drop_unused(optimizer, kwargs):
    """``kwargs`` without the torch optimizer arguments ``optimizer`` lacks."""
    try:
        parameters = inspect.signature(optimizer).parameters
    except (TypeError, ValueError):
        return kwargs
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return kwargs
    known = _all_optimizer_args()
    return {
        key: value
        for key, value in kwargs.items()
        if key in parameters or key not in known  # unknown names still fail loudly
    }


# ------------------------------------------------------------- the mixin
class TunableNetMixin:
    """Seeding, thread control and per-process GPU choice for a skorch net.

    Put it first among the bases: ``class MyNet(TunableNetMixin, NeuralNet)``.

    Parameters
    ----------
    seed : int or None, default=None
        Seed of torch's global generators, set at every ``initialize()``
        before the callbacks and the module are built (so weight
        initialisation, dropout and shuffling are reproducible). None leaves
        torch's generators alone, as skorch does.
    num_threads : int or None, default=None
        ``torch.set_num_threads`` during this net's fits and predictions,
        restored afterwards. 1 is best for searches with ``n_jobs > 1`` and
        makes CPU results identical whatever ``n_jobs`` is (a float sum
        split over a different number of threads rounds differently). None
        leaves torch's setting.
    gpu_assignment : {"spread", "current"}, default="spread"
        How ``device="cuda"`` (no index) picks a GPU; see
        :func:`resolve_device`. An explicit ``"cuda:1"`` is always used as is.
    no_gpu : {"warn", "raise"}, default="warn"
        What ``device="cuda"`` does without a GPU: use the CPU with a
        :class:`NoGPUWarning`, or raise ``RuntimeError`` (the fit then fails
        and the search applies ``error_score``).
    drop_unused_optimizer_params : bool, default=True
        Drop ``optimizer__*`` arguments that the chosen optimizer does not
        take but another ``torch.optim`` optimizer does, so one space can
        tune ``optimizer__momentum`` and also try ``torch.optim.Adam``
        (which has no momentum). Names that no torch optimizer takes are
        still passed, and fail.

    Attributes
    ----------
    device_ : str or None
        The device this net was initialised on in its process ("cpu",
        "cuda:1", ...). skorch's internals see it as ``self.device`` while
        the net fits or predicts; at all other times ``device`` is the
        constructor value.
    """

    def __init__(
        self,
        module,
        *args,
        seed=None,
        num_threads=None,
        gpu_assignment="spread",
        no_gpu="warn",
        drop_unused_optimizer_params=True,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.seed = seed
        self.num_threads = num_threads
        self.gpu_assignment = gpu_assignment
        self.no_gpu = no_gpu
        self.drop_unused_optimizer_params = drop_unused_optimizer_params

    # The requested device: the constructor value, also while it is swapped.
    def _requested_device(self):
        state = self.__dict__.get("_runtime_state_")
        return self.__dict__["device"] if state is None else state["device"]

    def _assign_device(self):
        if self.gpu_assignment not in ("spread", "current"):
            raise ValueError(
                f"gpu_assignment must be 'spread' or 'current', got {self.gpu_assignment!r}."
            )
        if self.no_gpu not in ("warn", "raise"):
            raise ValueError(f"no_gpu must be 'warn' or 'raise', got {self.no_gpu!r}.")
        self.device_ = resolve_device(
            self._requested_device(),
            gpu_assignment=self.gpu_assignment,
            no_gpu=self.no_gpu,
        )

    @contextmanager
    def _runtime(self):
        """Context: skorch sees ``device_`` as ``device``; threads; CUDA device.

        Re-entrant: only the outermost call swaps and restores.
        """
        d = self.__dict__
        if "_runtime_state_" in d:
            yield self
            return
        if "device_" not in d:
            self._assign_device()
        with ExitStack() as stack:
            d["_runtime_state_"] = {"device": d["device"]}
            d["device"] = d["device_"]
            stack.callback(self._leave_runtime)
            if self.num_threads is not None:
                previous = torch.get_num_threads()
                if previous != self.num_threads:
                    torch.set_num_threads(int(self.num_threads))
                    stack.callback(torch.set_num_threads, previous)
            resolved = d["device_"]
            if resolved is not None:
                parsed = torch.device(resolved)
                if parsed.type == "cuda" and parsed.index is not None:
                    # Stray "cuda" tensors (and CUDA's context) go to our GPU.
                    stack.enter_context(torch.cuda.device(parsed.index))
            yield self

    def _leave_runtime(self):
        d = self.__dict__
        state = d.pop("_runtime_state_")
        if d["device"] != d.get("device_"):
            # skorch changed the device meanwhile (load_params on a machine
            # without CUDA): that is where the tensors now are.
            d["device_"] = _device_str(d["device"])
        d["device"] = state["device"]

    # -------------------------------------------------------- skorch hooks
    def initialize(self):
        if "_runtime_state_" not in self.__dict__:
            self._assign_device()  # chosen anew in the process that initialises
        with self._runtime():
            if self.seed is not None:
                torch.manual_seed(int(self.seed))
            return super().initialize()

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        with self._runtime():
            return super().partial_fit(X, y, classes=classes, **fit_params)

    def forward_iter(self, X, training=False, device="cpu"):
        with self._runtime():
            yield from super().forward_iter(X, training=training, device=device)

    def infer(self, x, **fit_params):
        with self._runtime():
            return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        with self._runtime():
            return super().get_loss(y_pred, y_true, X=X, training=training)

    def train_step(self, batch, **fit_params):
        with self._runtime():
            return super().train_step(batch, **fit_params)

    def validation_step(self, batch, **fit_params):
        with self._runtime():
            return super().validation_step(batch, **fit_params)

    def evaluation_step(self, batch, training=False):
        with self._runtime():
            return super().evaluation_step(batch, training=training)

    def _initialize_module(self, reason=None):
        with self._runtime():
            return super()._initialize_module(reason=reason)

    def _initialize_criterion(self, reason=None):
        with self._runtime():
            return super()._initialize_criterion(reason=reason)

    def load_params(self, *args, **kwargs):
        with self._runtime():
            return super().load_params(*args, **kwargs)

    def get_params_for_optimizer(self, prefix, named_parameters):
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        if self.drop_unused_optimizer_params:
            kwargs = _drop_unused(getattr(self, prefix, None), kwargs)
        return args, kwargs

    # ------------------------------------------------------------ pickling
    def __getstate__(self):
        state = super().__getstate__()
        runtime = state.pop("_runtime_state_", None)
        if runtime is not None:  # pickled mid-fit (a checkpoint callback)
            state["device"] = runtime["device"]
        return state

    def __setstate__(self, state):
        requested = state.get("device")
        if "device_" in state:
            # Fitted: load the tensors where they were (skorch falls back to
            # the CPU without CUDA); that becomes this copy's device_.
            state["device"] = _loadable(state["device_"])
            super().__setstate__(state)
            self.__dict__["device_"] = _device_str(self.__dict__["device"])
        else:
            # Not initialised: there are no tensors to place, and the device is
            # chosen at initialize(). Mapping to the CPU keeps unpickling from
            # touching CUDA (the search's driver must not initialise it).
            state["device"] = "cpu"
            super().__setstate__(state)
        self.__dict__["device"] = requested


def _device_str(device):
    return None if device is None else str(device)


def _loadable(device):
    """``device``, or "cuda" when its GPU index does not exist here."""
    if device is None:
        return None
    parsed = torch.device(device)
    if (
        parsed.type == "cuda"
        and parsed.index is not None
        and torch.cuda.is_available()
        and parsed.index >= torch.cuda.device_count()
    ):
        return "cuda"
    return device


class TunableNeuralNetClassifier(TunableNetMixin, NeuralNetClassifier):
    __doc__ = (
        "skorch's ``NeuralNetClassifier`` with ``seed``, ``num_threads``, "
        "``gpu_assignment``, ``no_gpu`` and ``drop_unused_optimizer_params``.\n\n"
        "    See :class:`TunableNetMixin` for the extra parameters and skorch's\n"
        "    ``NeuralNetClassifier`` for the others.\n"
    )


class TunableNeuralNetRegressor(TunableNetMixin, NeuralNetRegressor):
    __doc__ = (
        "skorch's ``NeuralNetRegressor`` with ``seed``, ``num_threads``, "
        "``gpu_assignment``, ``no_gpu`` and ``drop_unused_optimizer_params``.\n\n"
        "    See :class:`TunableNetMixin` for the extra parameters and skorch's\n"
        "    ``NeuralNetRegressor`` for the others. The target must be a float32\n"
        "    array of shape (n_samples, n_targets), as skorch requires.\n"
    )
