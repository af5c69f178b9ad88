"""
Tune an SVC pipeline on the digits dataset
==========================================

A real search on a dataset bundled with scikit-learn: a scaler, an optional
PCA and an SVC, eleven hyperparameters in a conditional space, two of which
do nothing to the fitted model (they are there to show that the search says
so).  The report lists
the best candidate, what each spectral stage learned, and which
hyperparameters mattered.

Run it with ``python examples/demo_digits.py``.
"""

import time

from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC

from harmonica_sklearn import HarmonicaSearchCV

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

pipeline = Pipeline(
    [("scale", StandardScaler()), ("pca", PCA(random_state=0)), ("svc", SVC())]
)
svc_space = {
    "scale": [StandardScaler(), MinMaxScaler(), "passthrough"],
    "svc__C": loguniform(1e-2, 1e3),
    "svc__gamma": loguniform(1e-5, 1e0),
    "svc__kernel": ["rbf", "poly", "sigmoid"],
    "svc__degree": [2, 3, 4],
    "svc__class_weight": [None, "balanced"],
    # These two change nothing about the fitted model:
    "svc__shrinking": [True, False],
    "svc__cache_size": [100, 200, 400],
}
# A conditional space, as GridSearchCV takes it: PCA's parameters exist only
# in the branch that uses PCA.
param_space = [
    {**svc_space, "pca": ["passthrough"]},
    {**svc_space, "pca__n_components": [8, 16, 24, 32, 40], "pca__whiten": [False, True]},
]

search = HarmonicaSearchCV(
    pipeline,
    param_space,
    n_iter=100,
    cv=3,
    n_jobs=-1,
    random_state=0,
    verbose=1,
)
start = time.perf_counter()
search.fit(X_train, y_train)
elapsed = time.perf_counter() - start

print()
print(search.report())
print()
print(f"Held-out accuracy of the refitted best pipeline: {search.score(X_test, y_test):.4f}")
print(f"Search time: {elapsed:.1f} s for {len(search.cv_results_['params'])} evaluations")
