"""Time the spectral step of HarmonicaSearchCV, apart from any model fitting.

One spectral stage, after its candidates are scored, fits a sparse polynomial
over parity features of the free bits
(:func:`harmonica_sklearn._spectral.fit_sparse_polynomial`) and turns it into
a restricted space (:func:`harmonica_sklearn._restriction.refine`). This
script times these steps on ``n_samples`` random ±1 samples of ``n_bits``
binary parameters whose score is a planted sparse polynomial plus noise (as
in :func:`benchmarks.tasks.planted_binary_task`), and prints the median (and
interquartile range) over ``--repeats`` repetitions of:

* ``parity_features``: building the parity feature matrix alone;
* ``fit_sparse_polynomial``: features, LARS-Lasso path and least-squares
  refit (includes the previous row);
* ``refine``: enumerating the settings of the polynomial's variables and
  keeping the ``n_best`` best (on an unrestricted space of ``n_bits``
  parameters with values [-1, 1]);
* ``spectral step``: ``fit_sparse_polynomial`` followed by ``refine``.

Usage::

    python -m benchmarks.spectral_speed                 # 300 x 60, degree 3
    python -m benchmarks.spectral_speed --n-samples 100,300 --n-bits 30,60,120
    python -m benchmarks.spectral_speed --threads 2

Native threads (BLAS, OpenMP) are limited to ``--threads`` (default 1, as
in the benchmark runs; ``--threads 2`` measures the step "on 2 cores": during
a search the driver runs it while the workers wait for the next batch).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from harmonica_sklearn._restriction import Restriction, refine
from harmonica_sklearn._space import SearchSpace
from harmonica_sklearn._spectral import (
    fit_sparse_polynomial,
    n_parity_features,
    parity_features,
)

__all__ = ["main", "planted_samples", "time_call", "time_spectral_step"]


def planted_samples(
    n_samples: int, n_bits: int, degree: int, n_terms: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Random ±1 samples and noisy scores of a planted sparse polynomial.

    Parameters
    ----------
    n_samples, n_bits : int
        Shape of the sample matrix.
    degree : int
        Largest degree of a planted monomial.
    n_terms : int
        Number of planted monomials.
    seed : int, default=0

    Returns
    -------
    bits : ndarray of shape (n_samples, n_bits), int8
    y : ndarray of shape (n_samples,)
    """
    rng = np.random.default_rng(seed)
    bits = rng.choice(np.array([-1, 1], dtype=np.int8), size=(n_samples, n_bits))
    y = 0.5 * rng.standard_normal(n_samples)
    for _ in range(n_terms):
        variables = rng.choice(n_bits, size=int(rng.integers(1, degree + 1)), replace=False)
        coefficient = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.5)
        y += coefficient * np.prod(bits[:, variables].astype(float), axis=1)
    return bits, y


def time_call(function: Callable[[], object], repeats: int) -> np.ndarray:
    """Seconds of ``repeats`` calls of ``function`` (after one warm-up call)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return np.array(times)


def time_spectral_step(
    n_samples: int = 300,
    n_bits: int = 60,
    degree: int = 3,
    n_terms: int = 5,
    n_best: int = 4,
    repeats: int = 10,
    seed: int = 0,
    threads: int = 1,
) -> dict[str, np.ndarray]:
    """Time the parts of one spectral step.

    Returns
    -------
    dict
        Step name -> seconds of each repetition.
    """
    bits, y = planted_samples(n_samples, n_bits, degree, n_terms, seed)
    space = SearchSpace.from_param_space({f"x{i}": [-1, 1] for i in range(n_bits)})
    if space.n_bits != n_bits:
        raise RuntimeError(f"expected {n_bits} bits, the space has {space.n_bits}")
    restriction = Restriction.unrestricted(space)
    free = restriction.free_bits(space.n_bits)
    effects = np.zeros(restriction.n_alternatives)

    def fit():
        return fit_sparse_polynomial(bits, y, degree=degree, n_terms=n_terms)

    polynomial = fit()

    def refine_only():
        return refine(restriction, space, polynomial, free, effects, n_best)

    def step():
        return refine(restriction, space, fit(), free, effects, n_best)

    with threadpool_limits(limits=threads):
        return {
            "parity_features": time_call(lambda: parity_features(bits, degree), repeats),
            "fit_sparse_polynomial": time_call(fit, repeats),
            "refine": time_call(refine_only, repeats),
            "spectral step (fit + refine)": time_call(step, repeats),
        }


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> None:
    """Print the timing table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.spectral_speed")
    parser.add_argument("--n-samples", type=_ints, default=[300])
    parser.add_argument("--n-bits", type=_ints, default=[60])
    parser.add_argument("--degree", type=int, default=3)
    parser.add_argument("--n-terms", type=int, default=5)
    parser.add_argument("--n-best", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    header = (
        f"{'samples':>7} {'bits':>5} {'features':>9}  {'step':<30}"
        f"{'median ms':>10} {'IQR ms':>17}"
    )
    print(
        f"degree {args.degree}, n_terms {args.n_terms}, n_best {args.n_best}, "
        f"{args.repeats} repeats, {args.threads} native thread(s)"
    )
    print(header)
    print("-" * len(header))
    for n_samples in args.n_samples:
        for n_bits in args.n_bits:
            n_features = n_parity_features(np.arange(n_bits), args.degree)
            timings = time_spectral_step(
                n_samples,
                n_bits,
                args.degree,
                args.n_terms,
                args.n_best,
                args.repeats,
                threads=args.threads,
            )
            for name, seconds in timings.items():
                q25, q50, q75 = np.percentile(seconds * 1e3, [25, 50, 75])
                print(
                    f"{n_samples:>7} {n_bits:>5} {n_features:>9}  {name:<30}"
                    f"{q50:>10.1f} {f'[{q25:.1f}, {q75:.1f}]':>17}"
                )


if __name__ == "__main__":
    main()
