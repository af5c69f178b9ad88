"""The restricted space between stages.

A :class:`Restriction` is a short list of *alternatives*: each fixes the same
set of bits to particular signs.  Sampling picks an alternative uniformly, then
draws every parameter from the values its fixed bits still allow (the prior
renormalised), so a restriction really changes what is sampled.

After a spectral stage, :func:`refine` pairs every current alternative with
every setting of the new polynomial's variables and keeps the ``n_best``
feasible pairs by predicted score.  Keeping several alternatives (rather than
the single best) lets a later stage, which has new data, drop an earlier
choice that was only good on the strong terms: the alternatives' own measured
effects enter the ranking.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._spectral import MAX_ENUMERATED_VARIABLES, enumerate_settings

__all__ = ["Restriction", "refine"]


@dataclass
class Restriction:
    """Alternatives fixing the bits ``fixed_bits`` (in this order).

    Attributes
    ----------
    fixed_bits : ndarray of int
        Positions of the fixed bits.
    signs : ndarray of shape (n_alternatives, n_fixed), int8
        One row of signs per alternative.
    allowed : list
        Per alternative, the per-parameter value masks (from the space).
    """

    fixed_bits: np.ndarray
    signs: np.ndarray
    allowed: list = field(repr=False)

    @classmethod
    def unrestricted(cls, space):
        return cls(
            np.zeros(0, dtype=np.intp),
            np.ones((1, 0), dtype=np.int8),
            [space.allowed_values({})],
        )

    @classmethod
    def from_signs(cls, space, fixed_bits, signs):
        """Alternatives fixing ``fixed_bits`` to each row of ``signs``.

        Raises
        ------
        ValueError
            If ``signs`` is not a (n_alternatives, len(fixed_bits)) array of
            +/-1, or a row is infeasible: it leaves some parameter with no
            value (the signs of an unused code).
        """
        fixed_bits = np.asarray(fixed_bits, np.intp).reshape(-1)
        signs = np.asarray(signs)
        if signs.ndim != 2 or signs.shape[1] != len(fixed_bits):
            raise ValueError(
                f"signs must have shape (n_alternatives, {len(fixed_bits)}), one "
                f"column per fixed bit; got shape {signs.shape}."
            )
        if not np.isin(signs, (-1, 1)).all():
            raise ValueError("signs must be -1 or +1.")
        allowed = [_feasible_masks(space, fixed_bits, row, a) for a, row in enumerate(signs)]
        return cls(fixed_bits, signs.astype(np.int8), allowed)

    @property
    def n_alternatives(self):
        return self.signs.shape[0]

    def free_bits(self, n_bits):
        """Bit positions that no alternative fixes."""
        return np.setdiff1d(np.arange(n_bits), self.fixed_bits)

    def sample(self, space, n, rng):
        """Draw ``n`` candidates: an alternative each, then its allowed values.

        Returns ``index, offset, alternative`` (see ``SearchSpace.sample``).
        """
        alternative = rng.randint(self.n_alternatives, size=n)
        index = np.empty((n, space.n_params), dtype=np.intp)
        offset = np.empty((n, space.n_params))
        for a in range(self.n_alternatives):
            rows = np.flatnonzero(alternative == a)
            if rows.size:
                index[rows], offset[rows] = space.sample(
                    rows.size, rng, allowed=self.allowed[a]
                )
        return index, offset, alternative

    def match(self, bits):
        """For each row of ``bits``, the alternative it satisfies, or -1."""
        observed = bits[:, self.fixed_bits]
        hits = np.all(observed[:, None, :] == self.signs[None, :, :], axis=2)
        return np.where(hits.any(axis=1), hits.argmax(axis=1), -1)

    def describe(self, space):
        """Readable restriction of each alternative: ``[{param: [values]}]``."""
        return [space.describe_allowed(allowed) for allowed in self.allowed]


def refine(restriction, space, polynomial, free_bits, effects, n_best):
    """The ``n_best`` best (alternative, setting) pairs as a new restriction.

    Parameters
    ----------
    restriction : Restriction
    space : SearchSpace
    polynomial : SparsePolynomial
        Fitted over the columns ``free_bits`` of the bit vector.
    free_bits : ndarray of int
        Maps the polynomial's variables to positions in the bit vector.
    effects : ndarray of shape (n_alternatives,)
        Measured mean score of each current alternative.
    n_best : int

    Returns
    -------
    new_restriction : Restriction
    predicted : ndarray of shape (n_kept,)
        Predicted score of each kept alternative.
    """
    variables = polynomial.variables[:MAX_ENUMERATED_VARIABLES]
    settings = enumerate_settings(len(variables))
    local = np.zeros((settings.shape[0], len(free_bits)), dtype=np.int8)
    local[:, variables] = settings
    value = polynomial.predict(local) - polynomial.intercept
    positions = np.asarray(free_bits)[variables].astype(np.intp)

    scores = effects[:, None] + value[None, :]
    for a in range(restriction.n_alternatives):
        feasible = _feasible_settings(
            space, restriction.fixed_bits, restriction.signs[a], positions, settings
        )
        scores[a, ~feasible] = -np.inf

    # Stable descending order: ties go to the earlier alternative, then to the
    # earlier setting (see enumerate_settings).
    flat = np.argsort(-scores.ravel(), kind="stable")
    flat = flat[np.isfinite(scores.ravel()[flat])][:n_best]
    alt, setting = np.unravel_index(flat, scores.shape)
    fixed_bits = np.concatenate([restriction.fixed_bits, positions])
    signs = np.hstack([restriction.signs[alt], settings[setting]])
    return Restriction.from_signs(space, fixed_bits, signs), scores.ravel()[flat]


def _feasible_masks(space, fixed_bits, row, a):
    """The value masks of alternative ``a``; ValueError if one is empty."""
    fixed = dict(zip(fixed_bits.tolist(), row.tolist()))
    masks = space.value_masks(fixed)
    for p, mask in enumerate(masks):
        if not mask.any():
            param = space.params[p]
            own = {b: s for b, s in fixed.items() if param.bit_offset <= b < param.bit_slice.stop}
            raise ValueError(
                f"Alternative {a} is infeasible: its signs {own} on the bits of "
                f"parameter {space.param_label(p)!r} match no value of it (they are "
                "an unused code)."
            )
    return masks


def _feasible_settings(space, fixed_bits, fixed_signs, positions, settings):
    """Which rows of ``settings`` (signs at ``positions``) leave every
    parameter with at least one value, given the alternative's fixed bits."""
    feasible = np.ones(settings.shape[0], dtype=bool)
    owner = space.bit_owner()
    fixed = dict(zip(fixed_bits.tolist(), fixed_signs.tolist()))
    allowed = space.allowed_values(fixed)
    if allowed is None:
        return ~feasible
    for p in np.unique(owner[positions]):
        param = space.params[p]
        columns = np.flatnonzero(owner[positions] == p)
        code_columns = positions[columns] - param.bit_offset
        # Sign patterns, on this parameter's newly fixed bits, of its allowed codes.
        patterns = param.codes[allowed[p]][:, code_columns]
        chosen = settings[:, columns]
        # Compared as integers (one per sign pattern), not as a dense
        # (settings x codes x bits) array: 14 GiB for a list of 32,768 values.
        feasible &= np.isin(_pack_signs(chosen), np.unique(_pack_signs(patterns)))
    return feasible


def _pack_signs(signs):
    """Each row of +/-1 ``signs`` (at most 62 columns) as one integer."""
    signs = np.asarray(signs)
    weights = np.left_shift(np.int64(1), np.arange(signs.shape[1], dtype=np.int64))
    return ((signs < 0).astype(np.int64) * weights).sum(axis=1)
