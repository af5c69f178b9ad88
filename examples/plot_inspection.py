"""
What mattered? Inspecting a search
==================================

A k-nearest-neighbours pipeline on the breast cancer dataset bundled with
scikit-learn: a scaler, a feature selection and the classifier, seven
hyperparameters. Two of them (``knn__algorithm`` and ``knn__leaf_size``) only
change how the neighbours are found, not which ones: they cannot change the
score, and the search should say so.

After the search, :mod:`harmonica_sklearn.inspection` turns what each stage
learned into tables and plots. It needs pandas and matplotlib:
``pip install "harmonica-sklearn[plot]"``.

The search takes about 10 seconds on one core.
"""

# %%
# The search
# ----------
# A budget of 60 full cross-validations. The spectral stages evaluate their
# candidates on a third of the training rows (``spectral_resource="auto"``),
# so each costs a third of a full evaluation; two stages (rather than the
# automatic plan's one, for this budget) show how the stages build on each
# other. After each stage the best candidate seen so far is confirmed at
# full resource (the ``confirm`` rows of ``cv_results_``). Successive halving
# on subsamples of the training rows finishes.
#
# ``min_train_rows=0`` lifts the floor below which the search does not
# subsample (1000 training rows per fold by default). The folds here have
# 379 training rows, so with the default every evaluation would be on all
# of them, and 60 full evaluations are too few for two stages at full
# resource. On data this small a subsample saves little time (the fixed
# cost of a fit and of scoring do not shrink with the rows; the
# search may warn that the smallest rung cost more than ``n_iter`` counts,
# and ``search.resource_costs_`` has the figures): the floor is lifted here
# to show the stages on subsamples in seconds, not to save time.
from sklearn.datasets import load_breast_cancer
from sklearn.feature_selection import SelectKBest
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from harmonica_sklearn import HarmonicaSearchCV

X, y = load_breast_cancer(return_X_y=True)
pipeline = Pipeline(
    [("scale", StandardScaler()), ("select", SelectKBest()), ("knn", KNeighborsClassifier())]
)
space = {
    "scale": [StandardScaler(), MinMaxScaler(), "passthrough"],
    "select__k": [2, 4, 8, 16, 30],
    "knn__n_neighbors": [1, 2, 3, 5, 8, 13, 21, 34],
    "knn__weights": ["uniform", "distance"],
    "knn__p": [1, 2],
    # These two cannot change the predictions:
    "knn__algorithm": ["ball_tree", "kd_tree", "brute"],
    "knn__leaf_size": [10, 30, 100],
}
search = HarmonicaSearchCV(
    pipeline, space, n_iter=60, n_stages=2, cv=3, min_train_rows=0, random_state=0
)
search.fit(X, y)
print(search.report())

# %%
# What each hyperparameter changes
# --------------------------------
# One row per stage and hyperparameter (and per interaction found): the
# ``effect`` is in accuracy, the predicted mean score of the best value minus
# that of the worst, the other hyperparameters as sampled. The two
# hyperparameters that cannot matter get 0. (``terms_frame`` lists the
# polynomial's terms themselves, on the rank scale of the fit: a
# hyperparameter with 5 values has up to 7 collinear terms, whose
# coefficients are not effects.)
import pandas as pd

from harmonica_sklearn.inspection import (
    effects_frame,
    importances_frame,
    plot_history,
    plot_importances,
    plot_stage_scores,
    restrictions_frame,
)

pd.set_option("display.width", 120)
pd.set_option("display.max_colwidth", 50)
effects = effects_frame(search)
effects[["stage", "parameters", "effect", "best_values", "worst_values"]]

# %%
# Importances
# -----------
# Each hyperparameter's share of the summed effects, over all stages and
# within each stage. The two hyperparameters that cannot
# matter get nothing.
importances_frame(search)

# %%
plot_importances(search)

# %%
# Each stage's own importances, side by side: a later stage searches inside
# the settings kept by the earlier ones, so it learns about what is left.
plot_importances(search, stacked=False)

# %%
# What each stage kept
# --------------------
# After each stage the search keeps ``n_best=4`` settings of the important
# hyperparameters; the next stage samples among them.
restrictions_frame(search)

# %%
# Did the restrictions help?
# --------------------------
# The scores of each stage and halving rung. The spectral stages evaluate
# at the same resource (``r`` rows), so their distributions compare: the
# second stage, sampling inside the restricted space, has fewer bad
# candidates. The halving rungs use growing subsamples.
plot_stage_scores(search)

# %%
# The search history
# ------------------
# The best score so far against the budget spent, in full-resource
# evaluations (an evaluation on a third of the rows costs a third).
# Hollow dots were evaluated on a subsample; the dotted line is the best
# score at any resource, the black one the best at full resource, which the
# confirmation after the first stage already holds and the last halving
# rung may improve.
plot_history(search)

# %%
# The same against the computing time (fit and score time of every fold).
plot_history(search, x="time")
