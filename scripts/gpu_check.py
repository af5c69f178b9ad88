"""Check that HarmonicaSearchCV spreads skorch fits over the visible GPUs.

Runs a small search of a skorch MLP with ``device="cuda"`` and ``n_jobs``
worker processes (default: two per GPU), logs from inside every fit which
process ran it, on which device its weights lived and how long it took, then
runs the same search on the CPU and compares the time per fit.

Checks (exit status 1 if one fails):

* every fit ran on the device its net chose (``device_``), on a GPU;
* each worker process stayed on one GPU;
* with several GPUs, the workers used more than one of them, and no GPU got
  more workers than its fair share (``ceil(n_workers / n_gpus)``);
* the driver process did not initialise CUDA before the refit.

Without a GPU (or without torch) it prints that it is skipping and exits 0.
``--cpu-dry-run`` runs the same machinery on the CPU, to test the script.

    python scripts/gpu_check.py [--n-jobs N] [--cpu-dry-run]
"""

import argparse
import glob
import json
import math
import os
import sys
import tempfile
import time
from collections import defaultdict

import numpy as np


def _gpu_count():
    try:
        import torch
    except ImportError:
        return None
    # device_count() asks NVML and does not initialise CUDA in this process.
    return torch.cuda.device_count() if torch.backends.cuda.is_built() else 0


def make_recorder(log_dir):
    from skorch.callbacks import Callback

    class FitLog(Callback):
        """Appends one JSON line per fit to ``log_dir/fits-<pid>.jsonl``."""

        def __init__(self, log_dir):
            self.log_dir = log_dir

        def on_train_begin(self, net, **kwargs):
            self.start_ = time.perf_counter()

        def on_train_end(self, net, **kwargs):
            import torch

            param_device = str(next(net.module_.parameters()).device)
            if param_device.startswith("cuda"):
                torch.cuda.synchronize(param_device)
            record = {
                "pid": os.getpid(),
                "device_": net.device_,
                "param_device": param_device,
                "current_device": (
                    torch.cuda.current_device() if torch.cuda.is_initialized() else None
                ),
                "epochs": len(net.history),
                "seconds": time.perf_counter() - self.start_,
            }
            path = os.path.join(self.log_dir, f"fits-{os.getpid()}.jsonl")
            with open(path, "a") as f:
                f.write(json.dumps(record) + "\n")

    return FitLog(log_dir)


def run_search(device, n_jobs, log_dir, num_threads, X, y, width=1):
    import torch
    from scipy.stats import loguniform

    from harmonica_sklearn import HarmonicaSearchCV
    from harmonica_sklearn.skorch import MLP, TunableNeuralNetClassifier

    net = TunableNeuralNetClassifier(
        MLP,
        module__n_outputs=int(y.max()) + 1,
        module__n_layers=3,
        module__n_units=256 * width,
        module__dropout=0.0,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        max_epochs=6,
        batch_size=256,
        train_split=None,
        verbose=0,
        device=device,
        seed=0,
        num_threads=num_threads,
        callbacks=[("fit_log", make_recorder(log_dir))],
    )
    space = {
        "lr": loguniform(1e-4, 1e-1),
        "module__n_units": [128 * width, 256 * width, 512 * width],
        "module__dropout": [0.0, 0.2],
        "batch_size": [128, 256, 512],
    }
    search = HarmonicaSearchCV(
        net,
        space,
        n_iter=6,
        cv=2,
        resource="max_epochs",
        n_jobs=n_jobs,
        random_state=0,
        refit=False,
    )
    start = time.perf_counter()
    search.fit(X, y)
    return search, time.perf_counter() - start


def read_log(log_dir):
    records = []
    for path in glob.glob(os.path.join(log_dir, "fits-*.jsonl")):
        with open(path) as f:
            records.extend(json.loads(line) for line in f if line.strip())
    return records


def summarise(label, records, wall):
    per_epoch = [r["seconds"] / max(r["epochs"], 1) for r in records]
    print(
        f"{label}: {len(records)} fits in {wall:.1f} s; "
        f"mean {np.mean([r['seconds'] for r in records]):.3f} s per fit, "
        f"{np.mean(per_epoch) * 1000:.1f} ms per epoch"
    )
    return float(np.mean(per_epoch))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-jobs", type=int, default=None, help="default: 2 per GPU")
    parser.add_argument(
        "--cpu-dry-run", action="store_true", help="run everything on the CPU (tests the script)"
    )
    parser.add_argument("--n-samples", type=int, default=20000)
    parser.add_argument(
        "--width", type=int, default=1, help="multiplies the hidden layers' widths (128-512)"
    )
    args = parser.parse_args(argv)
    if args.width < 1:
        parser.error(f"--width must be a positive integer, got {args.width}")

    n_gpus = _gpu_count()
    if n_gpus is None:
        print("torch is not installed: skipping the GPU check.")
        return 0
    if n_gpus == 0 and not args.cpu_dry_run:
        print("No CUDA GPU is visible: skipping the GPU check.")
        return 0

    import torch
    from sklearn.datasets import make_classification

    dry = args.cpu_dry_run
    n_devices = max(n_gpus, 1)
    n_jobs = args.n_jobs or (2 * n_devices if not dry else 2)
    X, y = make_classification(
        n_samples=args.n_samples, n_features=64, n_informative=32, n_classes=4,
        random_state=0,
    )
    X = X.astype(np.float32)
    print(f"GPUs visible: {n_gpus}; n_jobs={n_jobs}; data {X.shape}")

    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        gpu_log, cpu_log = os.path.join(tmp, "gpu"), os.path.join(tmp, "cpu")
        os.makedirs(gpu_log)
        os.makedirs(cpu_log)
        # A private slot pool, so other jobs on the machine do not shift ours.
        os.environ["HARMONICA_GPU_SLOTS_DIR"] = os.path.join(tmp, "slots")

        device = "cpu" if dry else "cuda"
        # The GPU search runs first, in fresh worker processes, so each
        # worker's first job creates its CUDA context. loky restarts a worker
        # whose memory grows by more than 300 MB after its first job, which a
        # CUDA context does when the first job ran on the CPU.
        _, gpu_wall = run_search(device, n_jobs, gpu_log, None, X, y, args.width)
        if torch.cuda.is_initialized():
            failures.append("the driver process initialised CUDA during the search")
        records = read_log(gpu_log)

        by_pid = defaultdict(list)
        for r in records:
            by_pid[r["pid"]].append(r)
        print("\nFits per worker process:")
        for pid, rs in sorted(by_pid.items()):
            devices = sorted({r["param_device"] for r in rs})
            chosen = sorted({str(r["device_"]) for r in rs})
            print(
                f"  pid {pid}: {len(rs):3d} fits, weights on {devices}, device_ {chosen}, "
                f"current CUDA device {sorted({str(r['current_device']) for r in rs})}, "
                f"{np.mean([r['seconds'] for r in rs]):.3f} s per fit"
            )
            if len(devices) != 1:
                failures.append(f"worker {pid} used several devices: {devices}")
        for r in records:
            if r["param_device"] != r["device_"] and not (
                r["device_"] == "cpu" and r["param_device"] == "cpu"
            ):
                failures.append(
                    f"a fit chose {r['device_']} but its weights were on {r['param_device']}"
                )
                break
        if not dry:
            if any(not r["param_device"].startswith("cuda") for r in records):
                failures.append("some fits did not run on a GPU")
            workers_per_gpu = defaultdict(set)
            for r in records:
                workers_per_gpu[r["param_device"]].add(r["pid"])
            print("\nWorkers per GPU:", {d: len(p) for d, p in sorted(workers_per_gpu.items())})
            if n_gpus > 1 and len(by_pid) > 1 and len(workers_per_gpu) < 2:
                failures.append("several workers but all of them used the same GPU")
            fair = math.ceil(len(by_pid) / n_gpus)
            crowded = {d: len(p) for d, p in workers_per_gpu.items() if len(p) > fair}
            if crowded:
                failures.append(f"GPUs with more than {fair} workers: {crowded}")

        print()
        gpu_epoch = summarise("GPU search" if not dry else "dry run (cpu)", records, gpu_wall)
        threads = max(1, (os.cpu_count() or 1) // n_jobs)
        _, cpu_wall = run_search("cpu", n_jobs, cpu_log, threads, X, y, args.width)
        cpu_label = f"CPU search ({threads} thread(s) per worker)"
        cpu_epoch = summarise(cpu_label, read_log(cpu_log), cpu_wall)
        print(f"Time per epoch, CPU / GPU: {cpu_epoch / gpu_epoch:.2f}x")
        print(
            f"Search wall time, CPU / GPU: {cpu_wall / gpu_wall:.2f}x "
            "(the GPU search also starts the workers and their CUDA contexts)"
        )

    if failures:
        print("\nFAILED:")
        for failure in failures:
            print("  -", failure)
        return 1
    print("\nOK: every fit ran on its chosen device, one device per worker.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
