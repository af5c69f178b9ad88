"""The search space and its encoding into +/-1 bits.

A search space is what ``GridSearchCV`` or ``RandomizedSearchCV`` accept: a dict
(or a list of dicts, one per *branch*) mapping parameter names to a list of
values or to a scipy.stats distribution.

Every parameter becomes a block of bits:

* a list of ``k`` values takes ``ceil(log2 k)`` bits.  Numeric lists are
  *ordered*: values are sorted and coded with a reflected Gray code, so
  neighbouring values differ in one bit and a smooth, unimodal effect needs few
  low-degree terms.  Other lists are *categorical* and coded in plain binary.
  When ``k`` is not a power of two, the codes past ``k - 1`` are unused: they
  are never sampled and never chosen by the minimiser (see
  :meth:`SearchSpace.allowed_values`).  Values are sampled uniformly, as
  ``ParameterSampler`` does, *then* encoded; no value gets double weight.
* a distribution with a ``ppf`` is cut into ``2**distribution_bits`` buckets of
  equal probability, ordered and Gray coded.  A candidate carries, beside its
  bucket, a uniform offset inside that bucket, so the value handed to the
  estimator is an exact draw from the distribution restricted to the bucket.
* a discrete distribution with a small finite support becomes an ordered list
  of its support, weighted by its pmf.
* a distribution with ``rvs`` but no ``ppf`` gets no bits: it is sampled from
  its own ``rvs`` in every stage and the spectral stages ignore it.
* a list of dicts adds a categorical *branch selector*; the bits of the
  parameters of inactive branches act as dummy variables.  A parameter
  declared identically (same name, same values or the same distribution) in
  several branches is one parameter shared by them, so that what is learned
  about it in one branch serves the others.

Candidates are held as two arrays: ``index`` (value or bucket index for every
parameter of every branch) and ``offset`` (the uniform offset inside a bucket).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.stats

__all__ = ["SearchSpace", "gray_code", "binary_code"]

# Code of ordered values: "gray" (neighbours differ in one bit) or "binary".
# Gray won on ordered planted effects (benchmarks/ablations.py, docs).
ORDERED_CODE = "gray"

# Above this support size a discrete distribution is bucketed like a
# continuous one instead of being listed value by value.
_MAX_LISTED_SUPPORT = 64


def binary_code(n_values, n_bits):
    """Plain binary codes of ``0 .. n_values - 1`` as +/-1 rows (MSB first).

    Bit value 0 maps to +1 and bit value 1 to -1.
    """
    ints = np.arange(n_values)
    return _int_to_signs(ints, n_bits)


def gray_code(n_values, n_bits):
    """Reflected Gray codes of ``0 .. n_values - 1`` as +/-1 rows (MSB first).

    Consecutive rows differ in exactly one bit.
    """
    ints = np.arange(n_values)
    return _int_to_signs(ints ^ (ints >> 1), n_bits)


def _int_to_signs(ints, n_bits):
    shifts = np.arange(n_bits - 1, -1, -1)
    bits = (ints[:, None] >> shifts[None, :]) & 1
    return (1 - 2 * bits).astype(np.int8)


def _n_bits_for(n_values):
    return int(math.ceil(math.log2(n_values))) if n_values > 1 else 0


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
        branch not in it declared them in the order of ``values``.
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
        value = self.distribution.ppf(quantile)
        value = value.item() if isinstance(value, np.generic) else value
        # scipy's discrete ppf returns floats; estimators expect integers.
        return int(value) if _is_discrete(self.distribution) else value

    def grid_values(self, branch):
        """The values of a list as ``branch`` declared them, without unused ones."""
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
        if self.kind in ("categorical", "ordered"):
            return [_short_repr(self.values[i]) for i in indices]
        low, high = self._bucket_ranges()
        return [f"{low[first]}..{high[last]}" for first, last in _runs(indices)]

    def _bucket_ranges(self):
        """Labels of the lowest and highest value of every bucket."""
        n_buckets = self.n_values
        if _is_discrete(self.distribution):
            # Inclusive integer ranges: the values that value() can return.
            eps = 1e-12
            lows = self.distribution.ppf(np.clip(np.arange(n_buckets) / n_buckets + eps, 0, 1))
            highs = self.distribution.ppf(np.arange(1, n_buckets + 1) / n_buckets - eps)
            return [_format_int(v) for v in lows], [_format_int(v) for v in highs]
        edges = _edge_labels(self.distribution.ppf(np.arange(n_buckets + 1) / n_buckets))
        return edges[:-1], edges[1:]


def _runs(indices):
    """``(first, last)`` of each run of consecutive integers in sorted ``indices``."""
    runs = []
    for i in indices:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return [tuple(run) for run in runs]


def _format_number(x, digits):
    """``x`` with ``digits`` significant digits, as short as it reads well."""
    if np.isnan(x):
        return "nan"
    if not np.isfinite(x):
        return "inf" if x > 0 else "-inf"
    rounded = float(f"{x:.{digits}g}")
    if rounded.is_integer() and abs(rounded) < 1e6:
        return str(int(rounded))
    text = f"{rounded:.{digits}g}"
    if "e" in text:  # 1e-05 -> 1e-5
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def _format_int(x):
    return _format_number(x, 1) if not np.isfinite(x) else str(int(x))


def _edge_labels(edges, min_digits=2, max_digits=6):
    """Labels of increasing bucket edges, distinct where the edges are."""
    n_distinct = len(np.unique(edges))
    for digits in range(min_digits, max_digits + 1):
        labels = [_format_number(e, digits) for e in edges]
        if len(set(labels)) == n_distinct:
            break
    return labels


def _short_repr(value, limit=40):
    if hasattr(value, "get_params") and not isinstance(value, type):
        text = type(value).__name__ + "()"
    else:
        text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class SearchSpace:
    """A validated search space and its +/-1 bit encoding.

    Build it with :meth:`from_param_space`.

    Attributes
    ----------
    params : list of Parameter
        Every parameter of every branch, the branch selector first (when
        there is more than one branch).
    branch_param : int or None
        Index into ``params`` of the branch selector, or None for one branch.
    n_bits : int
        Length of the bit vector.
    """

    params: list
    n_branches: int
    branch_param: int | None
    n_bits: int = field(init=False)
    _bit_owner: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        offset = 0
        for param in self.params:
            param.bit_offset = offset
            offset += param.n_bits
        self.n_bits = offset
        owner = np.empty(self.n_bits, dtype=np.intp)
        for p, param in enumerate(self.params):
            owner[param.bit_slice] = p
        owner.setflags(write=False)  # shared by every caller of bit_owner()
        self._bit_owner = owner
        self._branch_members = [
            [
                p
                for p, param in enumerate(self.params)
                if b in param.branches
            ]
            for b in range(self.n_branches)
        ]

    # ------------------------------------------------------------------ build
    @classmethod
    def from_param_space(cls, param_space, *, distribution_bits=3):
        """Validate ``param_space`` and build its encoding.

        Parameters
        ----------
        param_space : dict or list of dict
            Parameter names mapped to lists of values or to objects with an
            ``rvs`` method (scipy.stats distributions).
        distribution_bits : int, default=3
            Bits per continuous distribution (``2**distribution_bits`` buckets).

        Raises
        ------
        TypeError, ValueError
            With a message naming the offending parameter.
        """
        branches = _as_branch_list(param_space)
        params = []
        branch_param = None
        if len(branches) > 1:
            branch_param = 0
            n = len(branches)
            params.append(
                Parameter(
                    name="<branch>",
                    branches=(),
                    kind="categorical",
                    values=list(range(n)),
                    weights=np.full(n, 1.0 / n),
                    codes=binary_code(n, _n_bits_for(n)),
                )
            )
        for b, branch in enumerate(branches):
            for name, spec in branch.items():
                shared = next(
                    (p for p in params if p.name == name and _same_spec(p, spec)), None
                )
                if shared is not None:
                    shared.branches += (b,)
                    if shared.kind == "ordered" and not hasattr(spec, "rvs"):
                        shared.grid_order[b] = _declared_order(list(spec))
                else:
                    params.append(_make_parameter(name, spec, b, distribution_bits))
        if not any(p.n_values > 1 or p.kind == "free" for p in params):
            if all(len(branch) == 0 for branch in branches):
                raise ValueError(
                    "param_space has no parameters to search: pass a dict such as "
                    "{'C': [0.1, 1, 10]}, or use cross_validate for one setting."
                )
        return cls(params=params, n_branches=len(branches), branch_param=branch_param)

    # ------------------------------------------------------------- properties
    @property
    def n_params(self):
        return len(self.params)

    def is_finite(self):
        """Whether every parameter is a list of values."""
        return all(p.kind in ("categorical", "ordered") for p in self.params)

    def size(self):
        """Number of distinct candidates (``inf`` for continuous spaces)."""
        if not self.is_finite():
            return math.inf
        return sum(
            math.prod(len(self.params[p].grid_values(b)) for p in members)
            for b, members in enumerate(self._branch_members)
        )

    def grid(self):
        """Every candidate of a finite space, in ``ParameterGrid``'s order.

        Branch after branch; in a branch, the parameters sorted by name, the
        last one varying fastest, each over its values in declared order.
        Small discrete distributions give their support, as ints.
        """
        if not self.is_finite():
            raise ValueError("Only a finite space (lists of values) has a grid.")
        candidates = []
        for b, members in enumerate(self._branch_members):
            members = sorted(members, key=lambda p: self.params[p].name)
            names = [self.params[p].name for p in members]
            values = [self.params[p].grid_values(b) for p in members]
            candidates.extend(dict(zip(names, combo)) for combo in itertools.product(*values))
        return candidates

    def bit_owner(self):
        """For each bit, the index of the parameter it belongs to (read-only)."""
        return self._bit_owner

    # --------------------------------------------------------------- sampling
    def sample(self, n, rng, allowed=None):
        """Draw ``n`` candidates.

        Parameters
        ----------
        n : int
        rng : numpy.random.RandomState
        allowed : list of ndarray of bool, optional
            For each parameter, a mask of the value/bucket indices that may be
            drawn (from a restriction).  The prior weights are renormalised
            over the allowed values.

        Returns
        -------
        index : ndarray of shape (n, n_params), int
        offset : ndarray of shape (n, n_params), float in [0, 1)
        """
        index = np.empty((n, self.n_params), dtype=np.intp)
        for p, param in enumerate(self.params):
            weights = param.weights
            if allowed is not None:
                weights = np.where(allowed[p], weights, 0.0)
            weights = weights / weights.sum()
            index[:, p] = rng.choice(param.n_values, size=n, p=weights)
        offset = rng.uniform(size=(n, self.n_params))
        return index, offset

    def encode(self, index):
        """The +/-1 bit matrix of shape (n, n_bits) of candidates ``index``."""
        bits = np.empty((index.shape[0], self.n_bits), dtype=np.int8)
        for p, param in enumerate(self.params):
            if param.n_bits:
                bits[:, param.bit_slice] = param.codes[index[:, p]]
        return bits

    def branch_of(self, index_row):
        if self.branch_param is None:
            return 0
        return int(index_row[self.branch_param])

    def active_params(self, branch):
        """Indices of the parameters of ``branch``."""
        return self._branch_members[branch]

    def decode(self, index_row, offset_row):
        """The parameter dict of one candidate, as the estimator receives it."""
        branch = self.branch_of(index_row)
        params = {}
        for p in self.active_params(branch):
            param = self.params[p]
            seed = int(offset_row[p] * (2**31 - 1))
            params[param.name] = param.value(int(index_row[p]), offset_row[p], seed)
        return params

    def candidate_key(self, index_row, offset_row):
        """A hashable identity of a candidate, ignoring inactive branches."""
        branch = self.branch_of(index_row)
        key = [branch]
        for p in self.active_params(branch):
            kind = self.params[p].kind
            key.append(int(index_row[p]))
            if kind in ("distribution", "free"):
                key.append(float(offset_row[p]))
        return tuple(key)

    # ----------------------------------------------------------- restriction
    def allowed_values(self, fixed_bits):
        """Per-parameter masks of the values consistent with fixed bits.

        Parameters
        ----------
        fixed_bits : dict of int -> {-1, +1}
            Bit position mapped to its fixed sign.

        Returns
        -------
        list of ndarray of bool, or None
            None when some parameter has no value left (an unused code).
        """
        masks = self.value_masks(fixed_bits)
        return masks if all(mask.any() for mask in masks) else None

    def value_masks(self, fixed_bits):
        """As :meth:`allowed_values`, but a parameter left with no value gets
        an all-False mask instead of the whole result being None."""
        masks = []
        for param in self.params:
            mask = param.weights > 0
            for bit in range(param.bit_offset, param.bit_offset + param.n_bits):
                if bit in fixed_bits:
                    mask &= param.codes[:, bit - param.bit_offset] == fixed_bits[bit]
            masks.append(mask)
        return masks

    def describe_allowed(self, allowed):
        """Readable ``{name: [labels]}`` of the parameters a mask restricts."""
        out = {}
        for p, (param, mask) in enumerate(zip(self.params, allowed)):
            if mask.all() or param.n_values <= 1:
                continue
            out[self.param_label(p)] = param.labels(np.flatnonzero(mask))
        return out

    def param_label(self, p):
        """The parameter's name, with its branches when the name is ambiguous."""
        param = self.params[p]
        if sum(other.name == param.name for other in self.params) == 1:
            return param.name
        return f"{param.name} (branch {', '.join(map(str, param.branches))})"

    def bit_label(self, bit):
        """Readable meaning of ``bit = +1``: the parameter and its value set.

        ``[opt=adam]``, ``[opt in {adam, sgd}]``; for a distribution, the
        ranges of its buckets: ``[C in 0.18..5.6]``,
        ``[C in {0.001..0.032, 32..1000}]``.
        """
        return self.bits_label([bit])

    def bits_label(self, bits):
        """Readable meaning of ``prod(bits) = +1`` for bits of one parameter.

        A product of +/-1 bits of one parameter is +1 on a set of its values,
        so it reads like one bit: ``[opt in {adam, rmsprop}]``.
        """
        owners = {int(self.bit_owner()[b]) for b in bits}
        if len(owners) != 1:
            raise ValueError(f"bits {list(bits)} belong to several parameters.")
        (owner,) = owners
        param = self.params[owner]
        sign = np.prod(param.codes[:, [b - param.bit_offset for b in bits]], axis=1)
        valid = param.weights > 0
        name = self.param_label(owner)
        if np.all(sign[valid] == sign[valid][0]):  # constant: no value set to show
            return f"[{name}: {int(sign[valid][0]):+d}]"
        plus = param.labels(np.flatnonzero((sign == 1) & valid))
        if len(plus) > 1:
            return f"[{name} in {{{', '.join(plus)}}}]"
        if param.kind == "distribution":
            return f"[{name} in {plus[0]}]"
        return f"[{name}={plus[0]}]"


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
    _check_no_duplicates(name, values)
    if all(_is_number(v) for v in values):
        param = _list_parameter(name, sorted(values), branch, "ordered", None)
        param.grid_order[branch] = _declared_order(values)
        return param
    return _list_parameter(name, values, branch, "categorical", None)


def _declared_order(values):
    """For each value in declared order, its index once sorted (stable)."""
    return np.argsort(sorted(range(len(values)), key=values.__getitem__))


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
    """Whether ``spec`` declares exactly the values of ``param``."""
    if hasattr(spec, "rvs"):
        return param.distribution is spec or (
            param.distribution is not None and repr(param.distribution) == repr(spec)
            and getattr(param.distribution, "args", None) == getattr(spec, "args", 1)
            and getattr(param.distribution, "kwds", None) == getattr(spec, "kwds", 1)
        )
    if param.kind not in ("categorical", "ordered") or param.weights.min() != param.weights.max():
        return False
    values = list(spec) if isinstance(spec, (Sequence, np.ndarray)) else None
    if values is None or len(values) != len(param.values):
        return False
    if param.kind == "ordered":
        values = sorted(values) if all(_is_number(v) for v in values) else None
    return values is not None and all(
        a is b or (type(a) is type(b) and _equal(a, b))
        for a, b in zip(values, param.values)
    )


def _check_no_duplicates(name, values):
    """Reject two values that are equal and of the same kind (see _value_kind).

    Hashable values are looked up in a dict keyed by (kind, value); the
    others (dicts, lists, arrays) are compared with the earlier unhashable
    ones, by equality only.
    """
    seen = {}
    unhashable = []
    for value in values:
        earlier = _earlier_equal(value, seen, unhashable)
        if earlier is not _NONE:
            same = "" if repr(earlier) == repr(value) else f" (equal to {earlier!r})"
            raise ValueError(
                f"Parameter {name!r} lists the value {value!r} more than once{same}; "
                "give each value once (repeated values would be sampled more often)."
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
    ordered_gray = kind == "ordered" and ORDERED_CODE == "gray"
    codes = gray_code(k, n_bits) if ordered_gray else binary_code(k, n_bits)
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
    return Parameter(
        name,
        (branch,),
        "distribution",
        [],
        np.full(n_buckets, 1.0 / n_buckets),
        (gray_code if ORDERED_CODE == "gray" else binary_code)(n_buckets, distribution_bits),
        dist,
    )


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
    if high - low + 1 > _MAX_LISTED_SUPPORT:
        return None
    return np.arange(int(low), int(high) + 1)
