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

Modules: ``_params`` parses ``param_space`` into :class:`Parameter` objects,
``_codes`` holds the code tables, ``_labels`` formats values for reports, and
this module holds the encoded space, :class:`SearchSpace`.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from ._codes import _n_bits_for, binary_code, gray_code, term_owners  # noqa: F401
from ._params import (  # noqa: F401
    Parameter,
    _as_branch_list,
    _list_layout,
    _set_grid,
    _make_parameter,
    _same_spec,
)

__all__ = ["SearchSpace", "gray_code", "binary_code"]


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
                    if not hasattr(spec, "rvs"):
                        _set_grid(shared, b, _list_layout(list(spec)), spec)
                else:
                    params.append(_make_parameter(name, spec, b, distribution_bits))
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

    def term_params(self, bits):
        """Indices of the parameters a term over bit positions ``bits`` involves,
        in space order, each once."""
        return term_owners(bits, self._bit_owner)

    def term_labels(self, bits):
        """:meth:`param_label` of each parameter of :meth:`term_params`."""
        return tuple(self.param_label(p) for p in self.term_params(bits))

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

    def param_labels(self):
        """:meth:`param_label` of every parameter, in space order."""
        return [self.param_label(p) for p in range(self.n_params)]

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
        owners = self.term_params(bits)
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
