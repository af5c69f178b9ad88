"""A dense parity surrogate that ranks the final stage's candidates.

The spectral stages keep only the few terms that pass a strict significance
test, because those terms *fix* bits: a spurious term would throw away half
the space.  Ranking candidates is a different job.  A wrong guess there costs
one evaluation, not half the space, so the final stage can use everything the
stages measured: ridge regression over all parity features of degree at most
two (every parameter's main effect and every pairwise interaction), fitted on
every spectral-stage evaluation.  The final stage draws a pool of candidates,
several times larger than what it evaluates, and keeps the pool's best by
this surrogate (see ``HarmonicaSearchCV(final_pool=...)``).

Ridge, not the Lasso: ranking needs the order of predictions, not a sparse
support, and ridge never drops a weak but real effect.  A cross-validated
Lasso surrogate ranked no better on the benchmarks (docs/algorithm.md) and
costs a path fit per fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import RidgeCV

from ._spectral import n_parity_features, parity_features

__all__ = ["ParitySurrogate", "fit_surrogate"]

SURROGATE_DEGREE = 2

# Above this many parity features the surrogate drops to main effects: the
# pool's feature matrix (pool size x features, float32) must stay small.
MAX_SURROGATE_FEATURES = 20_000

RIDGE_ALPHAS = np.logspace(-1, 4, 11)

PREDICT_CHUNK = 1024


@dataclass
class ParitySurrogate:
    """Ridge regression over the parity features of ``degree`` or less."""

    degree: int
    groups: np.ndarray
    model: RidgeCV

    def predict(self, bits):
        """Predicted (normal-score) value of rows of full +/-1 bit vectors."""
        if len(bits) == 0:
            return np.zeros(0)
        # In chunks: a large pool's feature matrix would not fit in memory.
        chunks = [
            self.model.predict(parity_features(chunk, self.degree, self.groups)[0])
            for chunk in np.array_split(bits, max(1, len(bits) // PREDICT_CHUNK))
        ]
        return np.concatenate(chunks)


def fit_surrogate(bits, y, groups, degree=SURROGATE_DEGREE):
    """Fit a :class:`ParitySurrogate` to ``(bits, y)``.

    Parameters
    ----------
    bits : ndarray of shape (n_samples, n_bits), values in {-1, +1}
    y : ndarray of shape (n_samples,)
    groups : ndarray of shape (n_bits,)
        The parameter owning each bit.
    degree : int, default=2
        Largest interaction order, in parameters; lowered when the features
        would exceed ``MAX_SURROGATE_FEATURES``.

    Returns
    -------
    ParitySurrogate
    """
    groups = np.asarray(groups)
    while degree > 1 and n_parity_features(groups, degree) > MAX_SURROGATE_FEATURES:
        degree -= 1
    features, _ = parity_features(bits, degree, groups)
    # Generalised cross-validation picks the shrinkage from the same data at
    # the cost of one eigendecomposition.
    model = RidgeCV(alphas=RIDGE_ALPHAS).fit(features, y)
    return ParitySurrogate(degree, groups, model)

