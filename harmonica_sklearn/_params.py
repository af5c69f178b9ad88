"""The user's ``param_space`` parsed into parameters.

A search space is what ``GridSearchCV`` or ``RandomizedSearchCV`` accept: a dict
(or a list of dicts, one per *branch*) mapping parameter names to a list of
values or to a scipy.stats distribution.  This module validates it (with
messages naming the offending parameter) and turns every entry into a
:class:`Parameter`: its values or distribution, their prior weights and their
bit code table (see ``_codes``).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.stats

from ._codes import _n_bits_for, binary_code, ordered_code
from ._labels import _edge_labels, _format_int, _runs, _short_repr

# Above this support size a discrete distribution is bucketed like a
# continuous one instead of being listed value by value.
_MAX_LISTED_SUPPORT = 64


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


@dataclass
class Parameter:
    """One hyperparameter of one or more branches, with its code table.

    Attributes
    ----------
    name : str
        The estimator parameter name.
    branches : tuple of int
        Indices of the branches (dicts) this parameter belongs to; empty for
        the branch selector.
    kind : {"categorical", "ordered", "distribution", "free"}
        How values are coded; "free" parameters have no bits.
    values : list
        The declared values (sorted for ordered lists); for distributions, one
        entry per bucket is not stored, see ``distribution``.
    weights : ndarray
        Prior probability of each value or bucket.
    codes : ndarray of shape (n_values, n_bits)
        +/-1 code of each value or bucket.
    distribution : object or None
        The scipy.stats-like object for "distribution" and "free" kinds.
    bit_offset : int
        Position of this parameter's first bit in the full bit vector.
    grid_order : dict of int -> ndarray of int
        Per branch, the index in ``values`` of each value in the order that
        branch declared it (``values`` are sorted for ordered lists); a
        branch not in it declared them in the order of ``values``.  A value
        listed twice is one value (of twice the weight) listed twice here.
    declared : dict of int -> list
        Per branch, the list exactly as that branch declared it (repeats
        included): the values of ``ParameterGrid``.  Absent for
        distributions.
    integer_edges : (list of int, list of int) or None
        For a discrete distribution whose quantiles scipy cannot be trusted
        to compute quickly (see :func:`_discrete_buckets`), the lowest and
        highest value of each bucket; values are then found by bisection on
        the cdf inside the bucket.
    """

    name: str
    branches: tuple
    kind: str
    values: list
    weights: np.ndarray
    codes: np.ndarray
    distribution: object = None
    bit_offset: int = 0
    grid_order: dict = field(default_factory=dict)
    declared: dict = field(default_factory=dict)
    integer_edges: tuple = None

    @property
    def n_bits(self):
        return self.codes.shape[1]

    @property
    def n_values(self):
        return self.codes.shape[0]

    @property
    def bit_slice(self):
        return slice(self.bit_offset, self.bit_offset + self.n_bits)

    def value(self, index, offset, rng_seed):
        """The concrete value of code ``index`` (``offset`` in [0, 1))."""
        if self.kind in ("categorical", "ordered"):
            return self.values[index]
        if self.kind == "free":
            return self.distribution.rvs(random_state=rng_seed)
        n_buckets = self.n_values
        # Clamped: ppf(0) is outside the support of discrete distributions
        # and infinite for unbounded ones.
        quantile = np.clip((index + offset) / n_buckets, 1e-12, 1 - 1e-12)
        if self.integer_edges is not None:
            lows, highs = self.integer_edges
            return _discrete_ppf(self.distribution, quantile, lows[index], highs[index])
        value = self.distribution.ppf(quantile)
        value = value.item() if isinstance(value, np.generic) else value
        # scipy's discrete ppf returns floats; estimators expect integers.
        return int(value) if _is_discrete(self.distribution) else value

    def grid_values(self, branch):
        """The values of a list as ``branch`` declared them, without unused ones."""
        if branch in self.declared:  # a list: as declared, repeats included
            return list(self.declared[branch])
        order = self.grid_order.get(branch, range(self.n_values))
        return [self.values[i] for i in order if self.weights[i] > 0]

    def label(self, index):
        """A short readable label for code ``index``: a value, or ``low..high``."""
        return self.labels([index])[0]

    def labels(self, indices):
        """Short readable labels of the codes ``indices`` (in code order).

        Values are labelled one by one; buckets of a distribution are merged
        into ranges of neighbouring buckets, ``"0.18..5.6"``, with the fewest
        significant digits (at least 2) that keep the bucket edges distinct.
        """
        indices = sorted(int(i) for i in indices)
        if self.kind == "free":  # no code: any draw of the distribution
            return ["any" for _ in indices]
        if self.kind in ("categorical", "ordered"):
            return [_short_repr(self.values[i]) for i in indices]
        low, high = self._bucket_ranges()
        return [f"{low[first]}..{high[last]}" for first, last in _runs(indices)]

    def _bucket_ranges(self):
        """Labels of the lowest and highest value of every bucket."""
        n_buckets = self.n_values
        if self.integer_edges is not None:
            lows, highs = self.integer_edges
            return [str(v) for v in lows], [str(v) for v in highs]
        if _is_discrete(self.distribution):
            # Inclusive integer ranges: the values that value() can return.
            eps = 1e-12
            lows = self.distribution.ppf(np.clip(np.arange(n_buckets) / n_buckets + eps, 0, 1))
            highs = self.distribution.ppf(np.arange(1, n_buckets + 1) / n_buckets - eps)
            return [_format_int(v) for v in lows], [_format_int(v) for v in highs]
        edges = _edge_labels(self.distribution.ppf(np.arange(n_buckets + 1) / n_buckets))
        return edges[:-1], edges[1:]


def _as_branch_list(param_space):
    if isinstance(param_space, Mapping):
        branches = [param_space]
    elif isinstance(param_space, Sequence) and not isinstance(param_space, str):
        branches = list(param_space)
        if not branches:
            raise ValueError(
                "param_space is an empty list: give a dict of parameters or a "
                "non-empty list of dicts."
            )
    else:
        raise TypeError(
            "param_space must be a dict or a list of dicts, got "
            f"{type(param_space).__name__}."
        )
    for i, branch in enumerate(branches):
        if not isinstance(branch, Mapping):
            raise TypeError(
                f"param_space[{i}] must be a dict, got {type(branch).__name__}."
            )
        for name in branch:
            if not isinstance(name, str):
                raise TypeError(
                    f"param_space keys must be parameter names (str), got {name!r}."
                )
    return branches


def _make_parameter(name, spec, branch, distribution_bits):
    _check_not_a_family(name, spec)
    if hasattr(spec, "rvs"):
        return _distribution_parameter(name, spec, branch, distribution_bits)
    if (
        isinstance(spec, (str, bytes))
        or not isinstance(spec, (Sequence, np.ndarray))
        or (isinstance(spec, np.ndarray) and spec.ndim == 0)
    ):
        raise TypeError(
            f"Parameter {name!r}: expected a list of values or an object with an "
            f"'rvs' method (a scipy.stats distribution), got {type(spec).__name__} "
            f"{spec!r}."
        )
    _check_one_dimensional(name, spec)
    values = list(spec)
    if not values:
        raise ValueError(
            f"Parameter {name!r} has an empty list of values; give at least one."
        )
    layout = _list_layout(values)
    param = _list_parameter(name, layout.values, branch, layout.kind, layout.weights)
    _set_grid(param, branch, layout, values)
    return param


@dataclass
class _ListLayout:
    """How a declared list of values is coded (see :func:`_list_layout`)."""

    kind: str
    values: list
    weights: np.ndarray
    declared_index: np.ndarray  # per declared value, its index in ``values``


def _list_layout(values):
    """The distinct values of a declared list, their kind, order and weights.

    Repeated values (equal and of one kind, see :func:`_value_kind`) are one
    value, weighted by its number of occurrences: ``[0.1, 0.1, 0.2]`` samples
    0.1 with probability 2/3, as ``RandomizedSearchCV`` sampling the list
    would.  Numeric lists are *ordered* (sorted, Gray coded) unless they hold
    NaN, which has no place in an order: they are then *categorical*, in
    declared order.
    """
    unique, inverse = _distinct(values)
    counts = np.bincount(inverse, minlength=len(unique))
    weights = counts / len(values)
    if all(_is_number(v) for v in unique) and not any(_is_nan(v) for v in unique):
        order = sorted(range(len(unique)), key=unique.__getitem__)  # stable
        rank = np.empty(len(unique), dtype=np.intp)
        rank[order] = np.arange(len(unique))
        return _ListLayout(
            "ordered", [unique[i] for i in order], weights[order], rank[inverse]
        )
    return _ListLayout("categorical", unique, weights, inverse)


def _set_grid(param, branch, layout, declared):
    """Record how ``branch`` declared the values of ``param``, for the grid."""
    param.grid_order[branch] = layout.declared_index
    param.declared[branch] = list(declared)


def _is_nan(value):
    try:
        return bool(value != value)
    except Exception:  # pragma: no cover - numbers compare
        return False


def _distinct(values):
    """The distinct values (first occurrence kept) and, per value, its index
    among them.  Equal values of one kind are the same (``np.float64(1.0)``
    and ``1.0``); see :func:`_earlier_equal`."""
    seen, unhashable, unique, inverse = {}, [], [], []
    position = {}
    for value in values:
        earlier = _earlier_equal(value, seen, unhashable)
        if earlier is _NONE:
            position[id(value)] = len(unique)
            unique.append(value)
            inverse.append(len(unique) - 1)
        else:
            inverse.append(position[id(earlier)])
    return unique, np.asarray(inverse, dtype=np.intp)


def _check_not_a_family(name, spec):
    """Reject ``scipy.stats.loguniform`` (unfrozen) or a class with ``rvs``.

    They have ``rvs`` and ``ppf`` but no parameters: they fail deep in the
    decoding (or silently use loc=0, scale=1).
    """
    if isinstance(spec, type) and hasattr(spec, "rvs"):
        raise TypeError(
            f"Parameter {name!r}: got the class {spec.__name__}, not a distribution; "
            "pass an instance, e.g. a frozen scipy.stats distribution such as "
            "uniform(0, 1) or loguniform(1e-3, 1e3)."
        )
    if isinstance(spec, scipy.stats.rv_continuous):
        signature = spec.shapes or "loc, scale"
    elif isinstance(spec, scipy.stats.rv_discrete):
        signature = spec.shapes or "loc"
    else:
        return
    raise TypeError(
        f"Parameter {name!r}: scipy.stats.{spec.name} is a distribution family, not "
        f"a frozen distribution; pass it with its parameters, {spec.name}({signature}), "
        "e.g. uniform(0, 1) or loguniform(1e-3, 1e3)."
    )


def _check_one_dimensional(name, spec):
    # As ParameterGrid, in every mode: its rows would become the values, which
    # is rarely meant (each would be handed to the estimator as an array).
    if isinstance(spec, np.ndarray) and spec.ndim > 1:
        raise ValueError(
            f"Parameter array for {name!r} should be one-dimensional, got an array "
            f"of shape {spec.shape}. To search over arrays as values, give a list "
            "of them, e.g. list(values)."
        )


def _same_spec(param, spec):
    """Whether ``spec`` declares exactly the values of ``param`` (the same
    distinct values, in the same order, with the same weights)."""
    if hasattr(spec, "rvs"):
        return param.distribution is spec or (
            param.distribution is not None and repr(param.distribution) == repr(spec)
            and getattr(param.distribution, "args", None) == getattr(spec, "args", 1)
            and getattr(param.distribution, "kwds", None) == getattr(spec, "kwds", 1)
        )
    if param.kind not in ("categorical", "ordered") or not param.declared:
        return False
    if not isinstance(spec, (Sequence, np.ndarray)) or isinstance(spec, (str, bytes)):
        return False
    if isinstance(spec, np.ndarray) and spec.ndim != 1:
        return False
    values = list(spec)
    if not values:
        return False
    layout = _list_layout(values)
    return (
        layout.kind == param.kind
        and len(layout.values) == len(param.values)
        and np.array_equal(layout.weights, param.weights)
        and all(
            a is b or (type(a) is type(b) and _equal(a, b))
            for a, b in zip(layout.values, param.values)
        )
    )


_NONE = object()


def _earlier_equal(value, seen, unhashable):
    """The earlier value equal to ``value``, or ``_NONE``; records ``value``."""
    key = (_value_kind(value), value)
    try:
        if key in seen:
            return seen[key]
        seen[key] = value
        return _NONE
    except (TypeError, ValueError):  # unhashable, or an __eq__ giving arrays
        pass
    for earlier in unhashable:
        if _value_kind(earlier) == key[0] and _equal(earlier, value):
            return earlier
    unhashable.append(value)
    return _NONE


def _value_kind(value):
    """Kinds of values that differ even when equal, as they do for sklearn:
    ``max_features=1`` is one feature, ``1.0`` all of them; ``True`` is a flag.
    Python and numpy scalars of one kind are alike (``np.float64(1.0)`` is
    ``1.0``)."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "real"
    if isinstance(value, numbers.Complex):
        return "complex"
    return "other"


def _equal(a, b):
    """Whether ``a == b``, for arrays too (same dtype kind and shape); False
    when the comparison fails or is not a truth value."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.dtype.kind != b.dtype.kind or a.shape != b.shape:
            return False
        try:
            return bool(np.array_equal(a, b))
        except Exception:  # object arrays holding odd values
            return False
    try:
        result = a == b
        return isinstance(result, (bool, np.bool_)) and bool(result)
    except Exception:  # e.g. lists of arrays: ambiguous truth value
        return False


def _list_parameter(name, values, branch, kind, weights):
    k = len(values)
    n_bits = _n_bits_for(k)
    codes = ordered_code(k, n_bits) if kind == "ordered" else binary_code(k, n_bits)
    if weights is None:
        weights = np.full(k, 1.0 / k)
    return Parameter(name, (branch,), kind, values, np.asarray(weights, float), codes)


def _distribution_parameter(name, dist, branch, distribution_bits):
    support = _small_discrete_support(dist)
    if support is not None:
        pmf = np.asarray(dist.pmf(support), dtype=float)
        values = [int(v) for v in support]
        return _list_parameter(name, values, branch, "ordered", pmf / pmf.sum())
    if not hasattr(dist, "ppf"):
        return Parameter(
            name, (branch,), "free", [], np.ones(1), np.zeros((1, 0), np.int8), dist
        )
    n_buckets = 2**distribution_bits
    integer_edges = None
    if _is_discrete(dist):
        try:
            integer_edges = _discrete_buckets(dist, n_buckets)
        except _Unsupported:
            # As RandomizedSearchCV: drawn from the distribution's own rvs,
            # with no bits (the spectral stages do not model it).
            return Parameter(
                name, (branch,), "free", [], np.ones(1), np.zeros((1, 0), np.int8), dist
            )
    return Parameter(
        name,
        (branch,),
        "distribution",
        [],
        np.full(n_buckets, 1.0 / n_buckets),
        ordered_code(n_buckets, distribution_bits),
        dist,
        integer_edges=integer_edges,
    )


# Integers beyond this are not exact in float64: scipy's discrete ppf (which
# works in floats) is then not used.
_EXACT_FLOAT_INTEGER = 2**53
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class _Unsupported(Exception):
    """A discrete distribution whose quantiles cannot be computed safely."""


def _discrete_buckets(dist, n_buckets):
    """``None`` when scipy's own ppf serves, else each bucket's value range.

    scipy's generic discrete ppf and cdf sum the pmf value by value (zipf,
    logser: minutes and gigabytes on heavy tails), and even the closed-form
    ones can hang or give NaN far in the tail (``nbinom(1, 1e-15)``,
    ``poisson(1e18)``).  So: a distribution without its own cdf and with a
    support too large to list is refused here (:class:`_Unsupported`, the
    caller samples it by ``rvs``); otherwise the bucket edges are found by
    bisection on the cdf over int64 (at most 64 vectorised cdf calls), and
    scipy's ppf is kept, as before, when it is a closed form and every value
    is an exactly representable integer.
    """
    own = type(dist.dist)
    if own._cdf is scipy.stats.rv_discrete._cdf:
        raise _Unsupported
    try:
        low, high = dist.support()
    except Exception as exc:  # pragma: no cover - frozen scipy distributions
        raise _Unsupported from exc
    low = _INT64_MIN if not np.isfinite(low) else max(int(low), _INT64_MIN)
    high = _INT64_MAX if not np.isfinite(high) else min(int(high), _INT64_MAX)
    eps = 1e-12
    n = n_buckets
    q_low = np.clip(np.arange(n) / n + eps, eps, 1 - eps)
    q_high = np.clip(np.arange(1, n + 1) / n - eps, eps, 1 - eps)
    bounds = np.full(2 * n, low, dtype=object), np.full(2 * n, high, dtype=object)
    edges = _discrete_ppf(dist, np.concatenate([q_low, q_high]), *bounds)
    _check_edges(dist, np.concatenate([q_low, q_high]), edges, low)
    lows, highs = edges[:n], edges[n:]
    if own._ppf is not scipy.stats.rv_discrete._ppf and all(
        abs(v) < _EXACT_FLOAT_INTEGER for v in edges
    ):
        return None
    return lows, highs


def _check_edges(dist, q, edges, low):
    """Raise :class:`_Unsupported` unless ``edges`` are the quantiles ``q``.

    Guards against cdfs that overflow (scipy's ``randint`` over the whole
    int64 range): exactly where integers are exact in float64, one value
    too far apart where they are not.
    """
    exact = [i for i, k in enumerate(edges) if abs(k) < _EXACT_FLOAT_INTEGER]
    if exact:
        at = np.asarray([edges[i] for i in exact], dtype=float)
        below = [i for i in exact if edges[i] > low]
        ok = np.all(np.asarray(dist.cdf(at)) >= q[exact])
        if below:
            before = np.asarray([edges[i] - 1 for i in below], dtype=float)
            ok &= np.all(np.asarray(dist.cdf(before)) < q[below])
        if not ok:
            raise _Unsupported
    if len(set(edges)) == 1 and not float(dist.pmf(float(edges[0]))) > 0.5:
        raise _Unsupported


def _discrete_ppf(dist, q, low, high):
    """The smallest integer ``k`` in ``[low, high]`` with ``cdf(k) >= q``.

    ``q``, ``low`` and ``high`` are scalars or arrays (of Python ints for
    the bounds, which may be any int64); a bisection of at most 64 steps.
    Raises :class:`_Unsupported` if the cdf gives NaN.
    """
    scalar = np.ndim(q) == 0
    q = np.atleast_1d(np.asarray(q, dtype=float))
    lo = [int(v) for v in np.atleast_1d(np.asarray(low, dtype=object))]
    hi = [int(v) for v in np.atleast_1d(np.asarray(high, dtype=object))]
    lo = lo * len(q) if len(lo) == 1 else lo
    hi = hi * len(q) if len(hi) == 1 else hi
    # Invariant: the answer lies in [lo, hi] (hi is returned when even
    # cdf(hi) < q, which float error can give at the top of the support).
    while True:
        open_ = [i for i in range(len(q)) if lo[i] < hi[i]]
        if not open_:
            break
        mid = [(lo[i] + hi[i]) // 2 for i in open_]
        cdf = np.asarray(dist.cdf(np.asarray(mid, dtype=float)), dtype=float)
        if np.isnan(cdf).any():
            raise _Unsupported
        for i, m, c in zip(open_, mid, cdf):
            if c >= q[i]:
                hi[i] = m
            else:
                lo[i] = m + 1
    return lo[0] if scalar else lo


def _is_discrete(dist):
    return isinstance(getattr(dist, "dist", None), scipy.stats.rv_discrete)


def _small_discrete_support(dist):
    """The support of a frozen discrete scipy distribution, if small."""
    if not (_is_discrete(dist) and hasattr(dist, "support")):
        return None
    try:
        low, high = dist.support()
    except Exception:  # not a frozen scipy distribution
        return None
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    # In Python integers: randint(-2**63, 2**63 - 1) overflows int64 here.
    if int(high) - int(low) + 1 > _MAX_LISTED_SUPPORT:
        return None
    return np.arange(int(low), int(high) + 1)

