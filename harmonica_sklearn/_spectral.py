"""Spectral recovery: a sparse low-degree polynomial over parity features.

For bits ``x`` in {-1, +1}^n, the parity (character) of a subset ``S`` is
``chi_S(x) = prod_{i in S} x_i``.  Under uniform sampling the parities are
orthonormal, so a function that depends on few low-degree interactions has a
few large Fourier coefficients that sparse regression recovers from far fewer
samples than there are features.  This module is pure numpy: arrays in,
arrays out, no estimator involved.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.stats import f as f_distribution
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, lars_path

from ._codes import term_owners

__all__ = [
    "SparsePolynomial",
    "fit_sparse_polynomial",
    "parity_features",
    "term_columns",
    "n_parity_features",
    "parameter_units",
    "supported_degree",
    "spectral_fit_memory",
    "enumerate_settings",
]

# The spectral fit (its float32 parity feature matrix, the LARS path and the
# rest, see spectral_fit_memory) may use at most this many bytes at its
# peak; above it the degree is lowered (with a warning) rather than
# exhausting memory.
FEATURE_MEMORY_LIMIT = 512 * 2**20

# Columns are built in chunks of about this many int8 bytes.
_CHUNK_BYTES = 8 * 2**20

# Selected terms are kept when significant at this family-wise error rate.
FAMILY_WISE_ERROR = 0.05

# The minimiser enumerates 2**|J| settings; J is capped to keep that bounded.
MAX_ENUMERATED_VARIABLES = 20


def parameter_units(groups):
    """Non-empty subsets of each parameter's bits ("units").

    Parameters
    ----------
    groups : array-like of shape (n_bits,)
        The parameter that owns each bit.

    Returns
    -------
    units : list of tuple of int
        Bit positions of each unit, grouped by parameter.
    unit_groups : ndarray of int
        The parameter of each unit.
    """
    groups = np.asarray(groups)
    units, unit_groups = [], []
    for group in dict.fromkeys(groups.tolist()):
        members = np.flatnonzero(groups == group).tolist()
        for size in range(1, len(members) + 1):
            for subset in combinations(members, size):
                units.append(subset)
                unit_groups.append(group)
    return units, np.asarray(unit_groups, dtype=np.intp)


def n_parity_features(groups, degree):
    """Number of features of :func:`parity_features` for these ``groups``."""
    _, counts = np.unique(_unit_groups(groups), return_counts=True)
    # Elementary symmetric polynomials of the units per parameter.
    elementary = np.zeros(degree + 1)
    elementary[0] = 1.0
    for count in counts:
        elementary[1:] = elementary[1:] + count * elementary[:-1]
    return int(elementary[1:].sum())


def _unit_groups(groups):
    groups = np.asarray(groups)
    sizes = {g: int(np.sum(groups == g)) for g in dict.fromkeys(groups.tolist())}
    return np.repeat(list(sizes), [2**b - 1 for b in sizes.values()])


def spectral_fit_memory(n_samples, n_features, degree, n_terms):
    """Bytes :func:`fit_sparse_polynomial` may hold at its peak (an upper
    bound checked with tracemalloc in tests/test_bad_input.py): the feature
    matrix (float64 for the LARS path, the default), the unit combinations (int64, ``degree`` per column),
    the LARS path (float64, ``4 * n_terms + 1`` steps per column), a few
    per-column vectors, and one chunk of columns being built."""
    per_feature = 8 * n_samples + 8 * degree + 8 * (4 * n_terms + 1) + 96
    return n_features * per_feature + 4 * _CHUNK_BYTES


def supported_degree(groups, n_samples, degree, n_terms, memory_limit=FEATURE_MEMORY_LIMIT):
    """The degree to use for ``n_samples`` samples, at most ``degree``.

    Two limits: the fit's peak memory (:func:`spectral_fit_memory`) must fit in ``memory_limit``, and
    sparse recovery needs about ``2 * n_terms * ln(n_features)`` samples (the
    usual compressed-sensing rate); with fewer samples the Lasso picks
    spurious high-degree products of dummy parameters, so a lower degree
    recovers more.  Degree 1 is always allowed.
    """
    while degree > 1:
        n_features = n_parity_features(groups, degree)
        fits_memory = spectral_fit_memory(n_samples, n_features, degree, n_terms) <= memory_limit
        enough_samples = n_samples >= 2 * n_terms * math.log(max(n_features, 2))
        if fits_memory and enough_samples:
            break
        degree -= 1
    return degree


def parity_features(
    bits, degree, groups=None, *, order="C", drop_constant=False, center=False, dtype=np.float32
):
    """Parity features of degree 1..``degree`` counted in parameters.

    A feature multiplies one unit (a non-empty subset of a parameter's bits,
    see :func:`parameter_units`) from each of at most ``degree`` distinct
    parameters.  A parameter of ``b`` bits thus contributes its full
    ``2**b - 1`` dimensional main effect at degree 1, and an interaction of
    two parameters is degree 2 however many bits they have.  With one bit per
    parameter (``groups=None``) these are the plain parities of subsets of at
    most ``degree`` bits.

    Parameters
    ----------
    bits : ndarray of shape (n_samples, n_bits), values in {-1, +1}
    degree : int
    groups : array-like of shape (n_bits,), optional
        The parameter owning each bit; by default each bit is its own.

    Returns
    -------
    features : ndarray of shape (n_samples, n_features), float32
    columns : ParityColumns
        ``columns.subset(j)`` is the tuple of bit positions multiplied in
        column ``j``.
    keep : ndarray of int, only with ``drop_constant=True``
        The columns (of the full matrix) that are returned: the constant
        ones are left out.  The matrix is then built in two passes over
        chunks of columns, so that no more than the returned float32 matrix
        and a chunk are ever held (see :data:`FEATURE_MEMORY_LIMIT`).
    """
    bits = np.asarray(bits, dtype=np.int8)
    n_samples, n_bits = bits.shape
    groups = np.arange(n_bits) if groups is None else np.asarray(groups)
    units, unit_groups = parameter_units(groups)
    unit_columns = np.ones((n_samples, len(units)), dtype=np.int8)
    for u, subset in enumerate(units):
        for bit in subset:
            unit_columns[:, u] *= bits[:, bit]
    combos_by_degree = []
    for k in range(1, degree + 1):
        combos = _distinct_group_combinations(unit_groups, k)
        if combos.size == 0:
            break
        combos_by_degree.append(combos)
    columns = ParityColumns(units, combos_by_degree)
    chunk = max(1, _CHUNK_BYTES // max(n_samples, 1))

    def blocks():
        start = 0
        for combos in combos_by_degree:
            for first in range(0, len(combos), chunk):
                rows = combos[first : first + chunk]
                block = unit_columns[:, rows[:, 0]]
                for j in range(1, rows.shape[1]):
                    block *= unit_columns[:, rows[:, j]]
                yield start, block
                start += len(rows)

    n_features = sum(len(c) for c in combos_by_degree)
    sums = np.zeros(n_features, dtype=np.int64)
    if drop_constant or center:
        keep_parts = []
        for start, block in blocks():
            # +/-1 columns: constant exactly when every row equals the first.
            keep_parts.append(start + np.flatnonzero((block != block[:1]).any(axis=0)))
            sums[start : start + block.shape[1]] = block.sum(axis=0, dtype=np.int64)
        keep = np.concatenate(keep_parts or [np.zeros(0, np.intp)])
    if not drop_constant:
        keep = np.arange(n_features)
    # Column means as numpy computes them on the float32 matrix (the sums of
    # +/-1 are exact), subtracted in float32: the values of the centred
    # float32 matrix, whatever ``dtype`` holds them.
    means = sums.astype(np.float32) / max(n_samples, 1) if center else None
    position = np.full(n_features, -1, dtype=np.intp)
    position[keep] = np.arange(len(keep))
    # Filled chunk by chunk: the float32 matrix is the only large array.
    features = np.empty((n_samples, len(keep)), dtype, order=order)
    for start, block in blocks():
        where = position[start : start + block.shape[1]]
        kept = where >= 0
        if center:
            block = block.astype(np.float32) - means[start : start + block.shape[1]]
        if kept.all():
            features[:, where[0] : where[-1] + 1] = block
        elif kept.any():
            features[:, where[kept]] = block[:, kept]
    if drop_constant:
        return features, columns, keep
    return features, columns


class ParityColumns:
    """Maps a column of :func:`parity_features` back to its bit positions."""

    def __init__(self, units, combos_by_degree):
        self.units = units
        self.combos_by_degree = combos_by_degree

    def subset(self, column):
        for combos in self.combos_by_degree:
            if column < len(combos):
                bits = (b for u in combos[column] for b in self.units[u])
                return tuple(sorted(int(b) for b in bits))
            column -= len(combos)
        raise IndexError(column)


def _distinct_group_combinations(unit_groups, k):
    """Rows of ``k`` unit indices that belong to ``k`` distinct parameters.

    In lexicographic order, as ``itertools.combinations`` filtered to
    distinct parameters, but built by extending each row with the units of
    the later parameters only: the memory is that of the result, not of
    all ``C(n_units, k)`` combinations (8.6 GB for one list of 32,768
    values beside a binary parameter at degree 2).
    """
    unit_groups = np.asarray(unit_groups)
    n_units = len(unit_groups)
    if k > n_units or k < 1:
        return np.zeros((0, k), dtype=np.intp)
    # Units are listed parameter by parameter: block ids are non-decreasing.
    block = np.cumsum(np.r_[0, (unit_groups[1:] != unit_groups[:-1]).astype(np.intp)])
    next_start = np.searchsorted(block, block, side="right").astype(np.intp)
    combos = np.arange(n_units, dtype=np.intp)[:, None]
    for _ in range(k - 1):
        starts = next_start[combos[:, -1]]
        counts = n_units - starts
        rows = np.repeat(np.arange(len(combos)), counts)
        offsets = np.arange(int(counts.sum()), dtype=np.intp) - np.repeat(
            np.cumsum(counts) - counts, counts
        )
        combos = np.column_stack([combos[rows], starts[rows] + offsets]).astype(np.intp)
    return combos.reshape(-1, k)


@dataclass
class SparsePolynomial:
    """``intercept + sum_j coefs[j] * prod_{i in subsets[j]} x_i``.

    Attributes
    ----------
    intercept : float
    subsets : list of tuple of int
        Bit indices of each term, strongest term first.
    coefs : ndarray of shape (n_terms,)
    """

    intercept: float
    subsets: list
    coefs: np.ndarray

    def predict(self, bits):
        """Evaluate the polynomial on rows of +/-1 ``bits`` (full bit vectors)."""
        bits = np.asarray(bits, dtype=np.float64)
        out = np.full(bits.shape[0], self.intercept)
        for subset, coef in zip(self.subsets, self.coefs):
            out += coef * np.prod(bits[:, list(subset)], axis=1)
        return out

    @property
    def variables(self):
        """Sorted bit indices that appear in some term."""
        return sorted({i for subset in self.subsets for i in subset})


def fit_sparse_polynomial(bits, y, *, degree=3, n_terms=5, alpha=None, groups=None):
    """Fit a sparse polynomial with at most ``n_terms`` terms to ``(bits, y)``.

    The support is chosen by the Lasso: with ``alpha=None`` by walking the
    LARS-Lasso path until ``n_terms`` parities are active, which needs no scale
    dependent tuning; with a float ``alpha``, by a Lasso of that strength on
    the standardised target.  The ``n_terms`` largest coefficients are kept,
    the insignificant ones dropped, the rest completed with the full main
    effects of the parameters they involve and refitted by ordinary least
    squares (see :func:`_refit_significant`), so that the coefficients used
    by the minimiser and shown to the user are neither shrunk nor noise.

    Parameters
    ----------
    bits : ndarray of shape (n_samples, n_bits), +/-1
        Only the bits that are still free; constant columns are ignored.
    y : ndarray of shape (n_samples,)
        Scores, greater is better.
    degree : int, default=3
        Highest degree, counted in parameters (see :func:`parity_features`).
    n_terms : int, default=5
    alpha : float or None, default=None
        Lasso strength relative to the standardised target.
    groups : array-like of shape (n_bits,), optional
        The parameter owning each column of ``bits``.

    Returns
    -------
    SparsePolynomial
        Subsets refer to columns of ``bits``.
    """
    y = np.asarray(y, dtype=np.float64)
    n_samples = len(y)
    y_mean = float(y.mean()) if n_samples else 0.0
    y_std = float(y.std()) if n_samples else 0.0
    empty = SparsePolynomial(y_mean, [], np.zeros(0))
    if n_samples < 3 or y_std == 0.0 or bits.shape[1] == 0:
        return empty

    # Fortran order, constant columns left out while building: the matrix
    # lars_path would otherwise copy, held once (identical values: the
    # column sums of +/-1 are exact in float32 in any order).
    # Built centred, in Fortran order, constant columns left out, in the
    # dtype the solver computes in: float64 for lars_path (which would
    # otherwise upcast a float32 matrix at every product with the target,
    # and copy it), float32 for the Lasso (as it did).  The values are those
    # of the centred float32 matrix used before, so results are unchanged;
    # the peak is this one matrix (see spectral_fit_memory).
    features, columns, keep = parity_features(
        bits, degree, groups, order="F", drop_constant=True, center=True,
        dtype=np.float32 if alpha is not None else np.float64,
    )
    if keep.size == 0:
        return empty
    target = (y - y_mean) / y_std

    coef = _sparse_coefficients(features, target, n_terms, alpha)
    order = np.argsort(-np.abs(coef), kind="stable")
    chosen = [c for c in order[:n_terms] if coef[c] != 0]
    if not chosen:
        return empty

    selected = [columns.subset(int(keep[c])) for c in chosen]
    groups = np.arange(bits.shape[1]) if groups is None else np.asarray(groups)
    intercept, terms, coefs = _refit_significant(bits, y, selected, groups, len(keep))
    strongest = np.argsort(-np.abs(coefs), kind="stable")
    return SparsePolynomial(
        intercept, [terms[i] for i in strongest], coefs[strongest].astype(float)
    )


def _refit_significant(bits, y, selected, groups, n_features):
    """Least squares on the selected effects, pruned then completed.

    Pruned: the Lasso picked the terms most correlated with ``y`` among
    ``n_features``, so an effect stays only if a partial F-test rejects "no
    effect" at a Bonferroni level over all ``n_features`` (family-wise error
    ``FAMILY_WISE_ERROR``).  The selected units of one parameter are tested
    jointly, as its main effect; each interaction term is tested alone.  A
    stage then fixes nothing on noise and leaves the space open for more
    data instead.  The test runs on the selected terms only, so that it
    keeps its power with few samples.
    Completed: every parameter whose main effect survives then enters with
    all its units (while the samples leave at least as many residual degrees
    of freedom as there are columns), so that its whole main effect is
    estimated and the minimiser compares all of its values, not only those
    a few terms happen to separate: the Lasso picks *which* parameters
    matter, least squares estimates *how*.
    """
    selected = _significant(bits, y, selected, groups, FAMILY_WISE_ERROR / max(n_features, 1))
    if not selected:
        return float(np.mean(y)), [], np.zeros(0)
    mains = {_main_effect_owner(t, groups) for t in selected} - {None}
    units, unit_groups = parameter_units(groups)
    completed = [u for u, g in zip(units, unit_groups) if g in mains]
    completed += [t for t in selected if _main_effect_owner(t, groups) is None]
    completed = list(dict.fromkeys(completed))
    terms = completed if 2 * (len(completed) + 1) <= len(y) else selected
    solution = np.linalg.lstsq(_term_design(bits, terms), y, rcond=None)[0]
    return float(solution[0]), terms, solution[1:]


def _main_effect_owner(term, groups):
    """The parameter of a single-parameter term, None for an interaction."""
    owners = term_owners(term, groups)
    return owners[0] if len(owners) == 1 else None


def _significant(bits, y, terms, groups, level):
    """The terms whose effect passes a partial F-test at ``level``."""
    full = _term_design(bits, terms)
    rss_full, rank = _rss(full, y)
    dof = len(y) - rank
    if dof < 3 or rss_full <= 1e-12 * float(y @ y):
        return terms
    effects = {}
    for i, term in enumerate(terms):
        owner = _main_effect_owner(term, groups)
        effects.setdefault(("main", owner) if owner is not None else term, []).append(i)
    kept = []
    for columns in effects.values():
        reduced = np.delete(full, [c + 1 for c in columns], axis=1)
        rss_reduced, reduced_rank = _rss(reduced, y)
        k = rank - reduced_rank
        if k <= 0:
            continue
        statistic = (rss_reduced - rss_full) / k / (rss_full / dof)
        if f_distribution.sf(statistic, k, dof) <= level:
            kept.extend(terms[c] for c in columns)
    return [t for t in terms if t in kept]


def _rss(design, y):
    solution, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ solution
    return float(residual @ residual), int(rank)


def _term_design(bits, terms):
    """A column of ones, then :func:`term_columns`."""
    return np.hstack([np.ones((len(bits), 1)), term_columns(bits, terms)])


def term_columns(bits, terms):
    """The value of each term (a tuple of bit positions: the product of
    those +/-1 bits) on each row of ``bits``, one float64 column per term."""
    columns = np.empty((len(bits), len(terms)))
    for j, term in enumerate(terms):
        columns[:, j] = np.prod(bits[:, list(term)], axis=1)
    return columns


def _sparse_coefficients(features, target, n_terms, alpha):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if alpha is not None:
            model = Lasso(alpha=alpha, fit_intercept=False, max_iter=5000, copy_X=False)
            model.fit(features, target)
            return model.coef_
        _, active, coefs = lars_path(
            features,
            target,
            method="lasso",
            max_iter=4 * n_terms,
            return_path=True,
            copy_X=False,  # ours, Fortran-ordered: what lars_path's copy would be
        )
    n_active = np.count_nonzero(coefs, axis=0)
    reached = np.flatnonzero(n_active >= n_terms)
    step = reached[0] if reached.size else coefs.shape[1] - 1
    return coefs[:, step]


def enumerate_settings(n_variables):
    """All ``2**n_variables`` +/-1 settings, +1 first, as an int8 matrix.

    Row order is binary counting with the first variable most significant and
    +1 standing for binary 0, so ties among settings are broken towards the
    earlier row: a documented, stable rule.
    """
    n = n_variables
    if n == 0:
        return np.ones((1, 0), dtype=np.int8)
    ints = np.arange(2**n)
    shifts = np.arange(n - 1, -1, -1)
    return (1 - 2 * ((ints[:, None] >> shifts) & 1)).astype(np.int8)
