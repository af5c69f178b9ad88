"""
Which hyperparameters matter? A search that says so
===================================================

An RBF SVC on the digits dataset bundled with scikit-learn, five
hyperparameters: two that change the model (``C`` and ``gamma``) and three
that cannot change a single prediction (``shrinking``, ``cache_size`` and
``random_state``, which SVC only uses with ``probability=True``): they are
here as a test of the report, which must name the first two and give the
others nothing.

The same budget, ``n_iter=40``, goes to ``RandomizedSearchCV`` for a side by
side comparison of held-out accuracy and wall time.  A figure of the
importances and of the search history is saved at the end.

Run it with ``python examples/demo_digits.py [--plot PATH]`` (under a minute
on two cores).
"""

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from scipy.stats import loguniform  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import RandomizedSearchCV, train_test_split  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from harmonica_sklearn import HarmonicaSearchCV  # noqa: E402
from harmonica_sklearn.inspection import plot_history, plot_importances  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
parser.add_argument("--plot", default="demo_digits.png", help="where to save the figure")
parser.add_argument("--n-iter", type=int, default=40)
args, _ = parser.parse_known_args()

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
space = {
    "C": loguniform(1e-2, 1e3),
    "gamma": loguniform(1e-4, 1e1),
    # These three cannot change the fitted model's predictions:
    "shrinking": [True, False],
    "cache_size": [100, 200, 400],
    "random_state": [0, 1, 2, 3],
}

searches = {
    "HarmonicaSearchCV": HarmonicaSearchCV(
        SVC(), space, n_iter=args.n_iter, cv=3, n_jobs=2, random_state=0
    ),
    "RandomizedSearchCV": RandomizedSearchCV(
        SVC(), space, n_iter=args.n_iter, cv=3, n_jobs=2, random_state=0
    ),
}
outcome = {}
for name, search in searches.items():
    start = time.perf_counter()
    search.fit(X_train, y_train)
    outcome[name] = (time.perf_counter() - start, search.score(X_test, y_test))

harmonica = searches["HarmonicaSearchCV"]
print(harmonica.report())
print()
print("Importances (share of the summed effects, score units):")
for name, share in sorted(harmonica.param_importances_.items(), key=lambda kv: -kv[1]):
    print(f"    {name:<13} {share:6.1%}")
print()
print(f"Side by side, n_iter={args.n_iter}, 3-fold CV on {len(X_train)} rows, "
      f"held out {len(X_test)} rows:")
print(f"    {'':<20} {'held-out accuracy':>17} {'wall time':>10} {'best CV score':>14}")
for name, (seconds, held_out) in outcome.items():
    best = searches[name].best_score_
    print(f"    {name:<20} {held_out:>17.4f} {seconds:>8.1f} s {best:>14.4f}")

fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
plot_importances(harmonica, ax=axes[0])
plot_history(harmonica, ax=axes[1])
fig.savefig(args.plot, dpi=90)
print()
print(f"Figure saved to {args.plot}")
