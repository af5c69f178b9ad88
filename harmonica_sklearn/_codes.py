"""Bit codes of values: tables of +/-1 rows, one row per value.

A list of ``k`` values takes ``ceil(log2 k)`` bits.  Ordered values (numbers,
distribution buckets) use a reflected Gray code by default (``ORDERED_CODE``),
so that neighbouring values differ in one bit; categorical values use plain
binary.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ORDERED_CODE", "binary_code", "gray_code", "ordered_code", "term_owners"]

# Code of ordered values: "gray" (neighbours differ in one bit) or "binary".
# Gray won on ordered planted effects (benchmarks/ablations.py, docs).
ORDERED_CODE = "gray"

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



def ordered_code(n_values, n_bits):
    """The code table of ordered values, as chosen by ``ORDERED_CODE``."""
    return (gray_code if ORDERED_CODE == "gray" else binary_code)(n_values, n_bits)


def term_owners(term, owner):
    """The parameters a parity term involves, in increasing order.

    ``term`` holds bit positions, ``owner[b]`` is the parameter of bit ``b``
    (``SearchSpace.bit_owner()``, or the ``groups`` of a spectral fit).
    Each parameter appears once, however many of its bits the term holds.
    """
    return tuple(sorted({int(owner[b]) for b in term}))
