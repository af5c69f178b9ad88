"""
Evaluating each batch on a process pool, within a deadline
==========================================================

:class:`~harmonica_sklearn.HarmonicaOptimizer` never evaluates anything
itself, so the candidates of a batch can run wherever you like: here on a
:class:`concurrent.futures.ProcessPoolExecutor` (a
:class:`~concurrent.futures.ThreadPoolExecutor`, a cluster's job queue or
remote workers are used the same way). The candidates of one batch are
independent; the next batch depends on all their scores, so the batch is the
unit of parallelism.

The objective stands for a training run whose cost grows with its number of
epochs (it sleeps), and the whole run has a deadline in seconds: each batch
is cut to the candidates that should finish in time
(``truncate_pending``), and the run stops (``stop``) when none would. The
answer is still an evaluation at full resource: after its first spectral
stage, the optimizer evaluates the best candidate seen at full resource.

The deadline is kept roughly, not exactly: the cost of a batch is predicted
from the previous one, and the optimizer's own work in ``tell`` is only
seen after the fact. After the last spectral stage, ``tell`` fits the
stage's polynomial and ranks a pool of final-stage candidates with a
surrogate, which takes a second or two here, so the run can end that much
past the deadline. The example reserves the longest ``tell`` seen so far.

Run it with ``python examples/ask_tell_futures.py [--deadline SECONDS]``
(about 10 seconds with 4 processes;
``--deadline 100`` lets it spend the whole ``n_iter``). The functions the pool runs must be
importable by the worker processes, and the pool must be started under
``if __name__ == "__main__":``.
"""

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.stats import loguniform

from harmonica_sklearn import HarmonicaOptimizer

MAX_EPOCHS = 27
SECONDS_PER_EPOCH = 0.01


def train(candidate, seed):
    """One evaluation: greater is better, NaN when the run diverges."""
    params = dict(candidate)
    epochs = params.pop("epochs")
    time.sleep(SECONDS_PER_EPOCH * epochs)  # the cost of training
    if params["learning_rate"] > 0.3:
        return float("nan")
    score = 1.0 - 0.15 * (np.log10(params["learning_rate"]) + 2) ** 2
    score -= 0.05 * abs(np.log2(params["width"]) - 6)
    score += {"relu": 0.0, "gelu": 0.1, "tanh": -0.15}[params["activation"]]
    score *= 1 - 0.3 / epochs
    # Each evaluation has its own seed: the noise does not depend on which
    # process ran it.
    return score + np.random.default_rng(seed).normal(0, 0.02 * np.sqrt(MAX_EPOCHS / epochs))


SPACE = {
    "learning_rate": loguniform(1e-5, 1.0),
    "width": [8, 16, 32, 64, 128, 256],
    "activation": ["relu", "gelu", "tanh"],
    # Do-nothing parameters:
    "seed": [0, 1, 2, 3],
    "log_every": [10, 100],
    "use_cache": [True, False],
}


def main(deadline, n_workers):
    opt = HarmonicaOptimizer(
        SPACE, n_iter=100, max_resources=MAX_EPOCHS, resource="epochs", random_state=0
    )
    start = time.monotonic()
    seconds_per_epoch = None  # wall seconds per candidate-epoch, measured
    tell_seconds = 0.0  # the longest tell so far (the optimizer's own work)
    n_evaluated = 0
    with ProcessPoolExecutor(max_workers=n_workers) as pool:
        while not opt.done:
            batch = opt.ask()
            epochs = batch[0]["epochs"]  # one resource per batch
            if seconds_per_epoch is not None:
                left = deadline - (time.monotonic() - start) - tell_seconds
                n_fit = max(0, int(left / (seconds_per_epoch * epochs)))
                if n_fit < len(batch):
                    print(f"  {left:.1f} s left: {n_fit} of {len(batch)} candidates fit")
                    # Keep the first n_fit candidates; 0 ends the run.
                    opt.truncate_pending(n_fit)
                    if n_fit == 0:
                        break
                    batch = batch[:n_fit]
            batch_start = time.monotonic()
            seeds = range(n_evaluated, n_evaluated + len(batch))
            scores = list(pool.map(train, batch, seeds))
            wall = time.monotonic() - batch_start
            n_evaluated += len(batch)
            seconds_per_epoch = wall / (len(batch) * epochs)
            tell_start = time.monotonic()
            opt.tell(batch, scores)
            tell_seconds = max(tell_seconds, time.monotonic() - tell_start)
            print(
                f"{len(batch):4d} candidates at {epochs:2d} epochs in {wall:.2f} s "
                f"(tell: {time.monotonic() - tell_start:.2f} s), "
                f"best of the batch {np.nanmax(scores):.4f}"
            )
    elapsed = time.monotonic() - start
    print(f"\n{elapsed:.1f} s for a deadline of {deadline:.0f} s; done: {opt.done}")
    print(f"budget spent: {opt.budget_spent_:.1f} of n_iter=100 full evaluations")
    print("best parameters:", opt.best_params_)
    print(f"best score: {opt.best_score_:.4f}")
    return opt


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deadline", type=float, default=8.0,
                        help="seconds for the whole run (default: 8)")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    args = parser.parse_args()
    main(args.deadline, args.workers)
