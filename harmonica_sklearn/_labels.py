"""Readable labels of values and of ranges of distribution buckets."""

from __future__ import annotations

import numpy as np


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

