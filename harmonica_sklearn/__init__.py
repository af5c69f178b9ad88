"""Harmonica: spectral hyperparameter search for scikit-learn.

``HarmonicaSearchCV`` is a drop-in replacement for ``GridSearchCV`` and
``RandomizedSearchCV``: replace ``GridSearchCV(est, grid)`` with
``HarmonicaSearchCV(est, grid)``.
"""

from ._optimizer import HarmonicaOptimizer
from ._report import StageReport
from ._search import HarmonicaSearchCV
from ._space import SearchSpace

__version__ = "0.1.0"

__all__ = [
    "HarmonicaOptimizer",
    "HarmonicaSearchCV",
    "SearchSpace",
    "StageReport",
    "__version__",
]
