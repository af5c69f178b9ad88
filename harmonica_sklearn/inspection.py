"""Tables and plots of what a fitted :class:`HarmonicaSearchCV` learned.

Four tables (pandas DataFrames):

* :func:`effects_frame`: what each hyperparameter (and each interaction)
  changes, in score units, stage by stage;
* :func:`terms_frame`: every polynomial term learned, stage by stage;
* :func:`importances_frame`: the importance of every hyperparameter, overall
  and per stage;
* :func:`restrictions_frame`: the settings kept after each stage.

Three plots (matplotlib), each drawn on ``ax`` or on a new figure, and
returning the Axes:

* :func:`plot_importances`: hyperparameter importances, per stage;
* :func:`plot_history`: best score so far against the budget spent or the
  time spent, with the stage boundaries;
* :func:`plot_stage_scores`: the distribution of the scores in each stage,
  which shows whether the restrictions helped.

pandas and matplotlib are optional dependencies, imported when a function
needs them: ``pip install "harmonica-sklearn[plot]"``.

Units.  The spectral fit replaces the cross-validated scores of a stage by
the normal quantiles of their ranks (mean 0, standard deviation about 1):
the ``coefficient`` and ``predicted_score`` columns are on that scale.  The
``effect`` column of :func:`effects_frame` is in the units of the metric
(the spread of the predicted mean score over a hyperparameter's values),
importances are shares of these effects, and ``predicted score (score
units)`` is the score at the predicted rank.
"""

from __future__ import annotations

import importlib

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._report import _driving_key, _values


__all__ = [
    "effects_frame",
    "terms_frame",
    "importances_frame",
    "restrictions_frame",
    "plot_importances",
    "plot_history",
    "plot_stage_scores",
]

_EXTRA_HINT = 'pip install "harmonica-sklearn[plot]"'

_PREDICTED = "predicted score (score units)"

_EFFECT_COLUMNS = [
    "stage", "parameters", "kind", "degree", "effect", "best_values", "worst_values",
    "value_means", "n_terms",
]
_TERM_COLUMNS = ["stage", "term", "coefficient", "parameters", "kind", "degree", "bits"]

_PHASE_COLORS = {
    "exhaustive": "tab:gray",
    "spectral": "tab:blue",
    "halving": "tab:orange",
    "random": "tab:green",
}


# ------------------------------------------------------------------ helpers
def _require(module, purpose):
    """Import an optional dependency, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise ImportError(
            f"{purpose} needs {top}, which is not installed. Install the optional "
            f"plotting dependencies with: {_EXTRA_HINT}"
        ) from exc


def _pandas(purpose):
    return _require("pandas", purpose)


def _axes(ax, purpose, figsize):
    """``ax``, or the Axes of a new figure."""
    _require("matplotlib", purpose)
    if ax is not None:
        return ax
    plt = _require("matplotlib.pyplot", purpose)
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _check_fitted(search):
    """A fitted search, or an optimizer that was told scores."""
    from ._optimizer import HarmonicaOptimizer

    if isinstance(search, HarmonicaOptimizer):
        if not getattr(search, "_is_setup", False) or not len(search.history_):
            raise NotFittedError(
                "This HarmonicaOptimizer was told no score yet: tell it the scores of "
                "a batch first."
            )
        return
    check_is_fitted(search, ["cv_results_", "stages_", "space_"])


def _padded(values, n):
    """``values`` as ``n`` floats, NaN where missing (reports pickled before
    a field existed)."""
    values = [float(v) for v in (values or [])][:n]
    return values + [np.nan] * (n - len(values))


def _score_column(search, metric):
    if metric is None:
        return _driving_key(search)
    key = f"mean_test_{metric}"
    if key not in search.cv_results_:
        metrics = sorted(
            k[len("mean_test_") :] for k in search.cv_results_ if k.startswith("mean_test_")
        )
        raise ValueError(f"metric={metric!r} is not in cv_results_; choose among {metrics}.")
    return key


def _group_label(stage, phase, rung, n_resources, multi_rung):
    label = f"stage {stage}\n{phase}" if phase != "exhaustive" else "exhaustive"
    if multi_rung:
        label += f"\nrung {rung}"
    return f"{label}\n(r={n_resources})"


# ------------------------------------------------------------------- tables
def effects_frame(search):
    """What each hyperparameter, or each interaction, changes: one row each, per stage.

    Parameters
    ----------
    search : HarmonicaSearchCV or HarmonicaOptimizer
        A fitted search, or an optimizer that was told scores.

    Returns
    -------
    pandas.DataFrame
        One row per spectral stage and per hyperparameter that still had
        two values or more to choose from in that stage (its main effect,
        0 when the stage found none), and per interaction the stage found
        (``StageReport.effects``); within a stage, strongest first.
        Columns:

        - ``stage`` (int): the spectral stage, 1 for the first.
        - ``parameters`` (tuple of str): the hyperparameter, or the
          interacting ones.
        - ``kind`` (str): ``"main effect"`` or ``"interaction"``.
        - ``degree`` (int): the number of hyperparameters involved.
        - ``effect`` (float): in score units (the units of the metric).
          Main effect: the predicted mean score of the best value minus that
          of the worst, over the values the stage could choose, the other
          hyperparameters as sampled.  Interaction: the spread over the
          value combinations of the part of the predicted mean score that
          the parameters' separate effects do not explain.  Read from a
          least-squares fit, on the scores themselves, of the terms the
          spectral fit selected (see :func:`harmonica_sklearn._report.stage_effects`
          and the user guide).
        - ``best_values``, ``worst_values`` (list): the values whose
          predicted mean is within a fifth of the effect from the best
          (worst) one; for an interaction, the best (worst) combination.
          Empty when the effect is 0.
        - ``value_means`` (dict): the predicted mean score of every value
          (or combination, keyed by a tuple of labels), score units.
        - ``n_terms`` (int): terms of the stage's polynomial over exactly
          these hyperparameters.

        Empty (with these columns) when no stage ran, e.g. in exhaustive mode.

    See Also
    --------
    terms_frame : The polynomial's terms themselves, on the rank scale.
    importances_frame : The effects as shares.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from harmonica_sklearn import HarmonicaSearchCV
    >>> from harmonica_sklearn.inspection import effects_frame
    >>> X, y = load_iris(return_X_y=True)
    >>> space = {
    ...     "max_depth": [1, 2, 3, 4],
    ...     "criterion": ["gini", "entropy"],
    ...     "min_samples_leaf": [1, 2, 4, 8],
    ...     "splitter": ["best", "random"],
    ... }
    >>> # Iris's folds are far below the default min_train_rows=1000, which
    >>> # would turn off subsampling and leave n_iter=20 no spectral stage.
    >>> search = HarmonicaSearchCV(
    ...     DecisionTreeClassifier(random_state=0), space, n_iter=20, cv=3,
    ...     min_train_rows=0, random_state=0,
    ... ).fit(X, y)
    >>> effects = effects_frame(search)
    >>> list(effects.columns)
    ['stage', 'parameters', 'kind', 'degree', 'effect', 'best_values', 'worst_values', 'value_means', 'n_terms']
    >>> top = effects.iloc[0]
    >>> top["parameters"], top["best_values"]
    (('max_depth',), ['2', '3', '4'])
    >>> bool(0 < top["effect"] < 1)
    True
    """
    pd = _pandas("effects_frame")
    _check_fitted(search)
    rows = []
    for report in search.stages_:
        for e in getattr(report, "effects", None) or []:
            rows.append(
                {
                    "stage": int(report.stage),
                    "parameters": tuple(e.parameters),
                    "kind": e.kind,
                    "degree": len(e.parameters),
                    "effect": float(e.effect),
                    "best_values": list(e.best_values),
                    "worst_values": list(e.worst_values),
                    "value_means": dict(e.value_means),
                    "n_terms": int(e.n_terms),
                }
            )
    frame = pd.DataFrame(rows, columns=_EFFECT_COLUMNS)
    return frame.astype({"stage": int, "effect": float, "degree": int, "n_terms": int})


def terms_frame(search):
    """One row per polynomial term learned, per spectral stage.

    The terms are what the spectral fit found, on its rank scale; a
    hyperparameter with more than two values has several terms, which can
    be large and cancel each other.  :func:`effects_frame` says what each
    hyperparameter changes, in score units.

    Parameters
    ----------
    search : HarmonicaSearchCV or HarmonicaOptimizer
        A fitted search, or an optimizer that was told scores.

    Returns
    -------
    pandas.DataFrame
        Rows in the order of ``search.stages_`` and, within a stage,
        strongest term first.  Columns ``stage`` (int), ``term`` (str, the
        term as a product of +/-1 variables, e.g.
        ``"[optimizer=adam] * [batch_norm=True]"``: ``[name=value]`` is +1
        when the parameter has that value and -1 otherwise, ``[name in {a,
        b}]`` is +1 for either value), ``coefficient`` (float, on the rank
        scale of the spectral fit; positive: the score is higher where the
        product is +1), ``parameters`` (tuple of str), ``kind``, ``degree``
        and ``bits`` (tuple of int, positions in the bit vector of
        ``search.space_``).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from harmonica_sklearn import HarmonicaSearchCV
    >>> from harmonica_sklearn.inspection import terms_frame
    >>> X, y = load_iris(return_X_y=True)
    >>> space = {"max_depth": [1, 2, 3, 4], "splitter": ["best", "random"],
    ...          "min_samples_leaf": [1, 2, 4, 8], "criterion": ["gini", "entropy"]}
    >>> # Iris's folds are far below the default min_train_rows=1000, which
    >>> # would turn off subsampling and leave n_iter=20 no spectral stage.
    >>> search = HarmonicaSearchCV(
    ...     DecisionTreeClassifier(random_state=0), space, n_iter=20, cv=3,
    ...     min_train_rows=0, random_state=0,
    ... ).fit(X, y)
    >>> terms = terms_frame(search)
    >>> len(terms) == sum(len(stage.terms) for stage in search.stages_)
    True
    """
    pd = _pandas("terms_frame")
    _check_fitted(search)
    space = search.space_
    rows = []
    for report in search.stages_:
        for (term, coef), bits in zip(report.terms, report.term_bits):
            params = space.term_labels(bits)
            rows.append(
                {
                    "stage": int(report.stage),
                    "term": term,
                    "coefficient": float(coef),
                    "parameters": params,
                    "kind": "main effect" if len(params) == 1 else "interaction",
                    "degree": len(params),
                    "bits": tuple(int(b) for b in bits),
                }
            )
    frame = pd.DataFrame(rows, columns=_TERM_COLUMNS)
    return frame.astype({"stage": int, "coefficient": float, "degree": int})


def importances_frame(search):
    """Importance of every hyperparameter, overall and per stage.

    Parameters
    ----------
    search : HarmonicaSearchCV or HarmonicaOptimizer
        A fitted search, or an optimizer that was told scores.

    Returns
    -------
    pandas.DataFrame
        Indexed by hyperparameter (index name ``"parameter"``), one row for
        every hyperparameter of ``search.space_``, most important first (ties
        keep the order of the space).  Columns:

        - ``importance``: ``search.param_importances_``, the share of the
          summed effects (score units), each hyperparameter's effect being
          the largest that a stage measured (sums to 1 when any effect was
          found, else all 0).
        - ``stage_1``, ``stage_2``, ...: ``search.stages_[i].importances``,
          the share within that stage alone (each column sums to 1 when the
          stage found an effect).

        ``importance`` is not the mean of the stage columns: a later stage
        searches a restricted space, where the hyperparameters fixed
        earlier have no effect left to measure.

    See Also
    --------
    plot_importances : The same as a bar chart.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from harmonica_sklearn import HarmonicaSearchCV
    >>> from harmonica_sklearn.inspection import importances_frame
    >>> X, y = load_iris(return_X_y=True)
    >>> space = {
    ...     "max_depth": [1, 2, 3, 4],
    ...     "criterion": ["gini", "entropy"],
    ...     "min_samples_leaf": [1, 2, 4, 8],
    ...     "splitter": ["best", "random"],
    ... }
    >>> # Iris's folds are far below the default min_train_rows=1000, which
    >>> # would turn off subsampling and leave n_iter=20 no spectral stage.
    >>> search = HarmonicaSearchCV(
    ...     DecisionTreeClassifier(random_state=0), space, n_iter=20, cv=3,
    ...     min_train_rows=0, random_state=0,
    ... ).fit(X, y)
    >>> importances = importances_frame(search)
    >>> importances.index[0]
    'max_depth'
    >>> list(importances.columns)
    ['importance', 'stage_1']
    >>> bool(abs(importances["importance"].sum() - 1) < 1e-9)
    True
    """
    pd = _pandas("importances_frame")
    _check_fitted(search)
    labels = search.space_.param_labels()
    data = {"importance": [float(search.param_importances_.get(n, 0.0)) for n in labels]}
    for report in search.stages_:
        data[f"stage_{report.stage}"] = [
            float(report.importances.get(n, 0.0)) for n in labels
        ]
    frame = pd.DataFrame(data, index=pd.Index(labels, name="parameter"), dtype=float)
    order = np.argsort(-frame["importance"].to_numpy(), kind="stable")
    return frame.iloc[order]


def restrictions_frame(search):
    """The settings kept after each spectral stage.

    After a stage the search keeps ``n_best`` *alternatives*: each fixes
    some hyperparameters to a subset of their values, and the next stage (or
    the final stage) samples among the alternatives.

    Parameters
    ----------
    search : HarmonicaSearchCV or HarmonicaOptimizer
        A fitted search, or an optimizer that was told scores.

    Returns
    -------
    pandas.DataFrame
        One row per stage and kept alternative, best predicted first.
        Columns ``stage`` (int), ``alternative`` (int, 1 for the best),
        ``predicted_score`` (float, on the rank scale of the spectral fit,
        see the module notes), ``predicted score (score units)`` (float, the
        same in the units of the metric: the score at that rank among the
        scores the stage was fitted on), then one column per
        hyperparameter restricted in some alternative of the search, in the
        order of the space: the values still allowed, as a string (a single
        value, or ``"{a, b}"`` for several; neighbouring buckets of a
        distribution read as one range, ``"low..high"``), or missing (NaN)
        where that alternative leaves the hyperparameter free.

    See Also
    --------
    harmonica_sklearn.StageReport : ``restriction`` and ``predicted_scores``
        hold the same.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from harmonica_sklearn import HarmonicaSearchCV
    >>> from harmonica_sklearn.inspection import restrictions_frame
    >>> X, y = load_iris(return_X_y=True)
    >>> space = {
    ...     "max_depth": [1, 2, 3, 4],
    ...     "criterion": ["gini", "entropy"],
    ...     "min_samples_leaf": [1, 2, 4, 8],
    ...     "splitter": ["best", "random"],
    ... }
    >>> # Iris's folds are far below the default min_train_rows=1000, which
    >>> # would turn off subsampling and leave n_iter=20 no spectral stage.
    >>> search = HarmonicaSearchCV(
    ...     DecisionTreeClassifier(random_state=0), space, n_iter=20, cv=3,
    ...     n_best=2, min_train_rows=0, random_state=0,
    ... ).fit(X, y)
    >>> kept = restrictions_frame(search)
    >>> kept[["stage", "alternative"]].values.tolist()
    [[1, 1], [1, 2]]
    >>> "max_depth" in kept.columns
    True
    """
    pd = _pandas("restrictions_frame")
    _check_fitted(search)
    labels = search.space_.param_labels()
    restricted = {name for report in search.stages_ for alt in report.restriction for name in alt}
    columns = [name for name in labels if name in restricted]
    # A label the space does not list (should not happen) still gets a column.
    columns += sorted(restricted - set(columns))
    rows = []
    for report in search.stages_:
        n_kept = len(report.restriction)
        predicted = _padded(report.predicted_scores, n_kept)
        raw = _padded(getattr(report, "predicted_raw_scores", None), n_kept)
        for i, alternative in enumerate(report.restriction):
            row = {
                "stage": int(report.stage),
                "alternative": i + 1,
                "predicted_score": predicted[i],
                _PREDICTED: raw[i],
            }
            for name in columns:
                values = alternative.get(name)
                row[name] = None if values is None else _values([str(v) for v in values])
            rows.append(row)
    frame = pd.DataFrame(
        rows, columns=["stage", "alternative", "predicted_score", _PREDICTED, *columns]
    )
    return frame.astype(
        {"stage": int, "alternative": int, "predicted_score": float, _PREDICTED: float}
    )


# -------------------------------------------------------------------- plots
def plot_importances(search, ax=None, *, stacked=True):
    """Bar chart of the hyperparameter importances, per stage.

    Parameters
    ----------
    search : HarmonicaSearchCV or HarmonicaOptimizer
        A fitted search, or an optimizer that was told scores.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    stacked : bool, default=True
        True: one bar per hyperparameter, of length
        ``search.param_importances_``, split among the stages in proportion
        to their own importances of it.
        False: grouped bars, each stage's own importances
        (``StageReport.importances``) side by side.

    Returns
    -------
    matplotlib.axes.Axes

    See Also
    --------
    importances_frame : The numbers behind the bars.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from harmonica_sklearn import HarmonicaSearchCV
    >>> from harmonica_sklearn.inspection import plot_importances
    >>> X, y = load_iris(return_X_y=True)
    >>> space = {"max_depth": [1, 2, 3, 4], "splitter": ["best", "random"]}
    >>> search = HarmonicaSearchCV(
    ...     DecisionTreeClassifier(random_state=0), space, n_iter=8, random_state=0
    ... ).fit(X, y)
    >>> ax = plot_importances(search)
    >>> ax.get_xlabel()
    'share of the summed effects (score units)'
    """
    _check_fitted(search)
    ax = _axes(ax, "plot_importances", figsize=(6.4, max(2.5, 0.8 + 0.35 * search.space_.n_params)))
    space = search.space_
    labels = space.param_labels()
    overall = np.array([float(search.param_importances_.get(n, 0.0)) for n in labels])
    order = np.argsort(-overall, kind="stable")
    # Most important at the top.
    names = [labels[i] for i in order][::-1]
    y = np.arange(len(names))
    reports = list(search.stages_)
    if not reports:
        ax.barh(y, np.zeros(len(names)))
        ax.text(
            0.5, 0.5, f"no spectral stage ({search.search_mode_} mode)",
            transform=ax.transAxes, ha="center", va="center",
        )
    elif stacked:
        # One bar per hyperparameter, of length param_importances_, split
        # like its effect: the part of a stage is the share its own effect
        # measurement takes of the largest one (the measurement kept).
        widths = {n: np.zeros(len(reports)) for n in names}
        for k, report in enumerate(reports):
            for name in names:
                widths[name][k] = float(report.importances.get(name, 0.0))
        left = np.zeros(len(names))
        for k, report in enumerate(reports):
            parts = []
            for i, name in enumerate(names):
                total = widths[name].sum()
                parts.append(
                    overall[labels.index(name)] * widths[name][k] / total if total else 0.0
                )
            ax.barh(y, parts, left=left, label=f"stage {report.stage}")
            left += np.array(parts)
    else:
        height = 0.8 / len(reports)
        for k, report in enumerate(reports):
            widths = [float(report.importances.get(n, 0.0)) for n in names]
            offset = (k - (len(reports) - 1) / 2) * height
            ax.barh(y - offset, widths, height=height, label=f"stage {report.stage}")
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    ax.set_xlabel("share of the summed effects (score units)")
    ax.set_xlim(0, 1)
    ax.set_title("Hyperparameter importance" + (" per stage" if not stacked else ""))
    if reports:
        ax.legend(loc="lower right")
    return ax


def plot_history(search, x="evaluations", ax=None, *, metric=None):
    """Best score so far against the budget or the time spent.

    Every evaluation is a dot (coloured by phase, hollow when evaluated at
    less than the full resource).  The black line is the best score among
    the full-resource evaluations so far, which is what ``best_score_``
    would be had the search stopped there; when some evaluations used less
    than the full resource (by default the spectral stages do, see
    ``spectral_resource``), a dotted line shows the best score so far at any
    resource, which is not comparable across resources but shows progress
    before the first full-resource evaluation.  Dashed vertical lines mark
    where a stage starts.

    Parameters
    ----------
    search : HarmonicaSearchCV or HarmonicaOptimizer
        A fitted search, or an optimizer that was told scores.
    x : {"evaluations", "time"}, default="evaluations"
        ``"evaluations"``: the budget spent, in full-resource evaluations, as
        ``n_iter`` counts it (an evaluation at resource ``r`` costs
        ``r / search.max_resources_``).  ``"time"``: the cumulated fit and
        score time of every fold, in seconds (computing time, not wall-clock
        time when evaluations ran in parallel).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    metric : str, default=None
        With several metrics, the one to plot; by default the one that drove
        the search (the ``refit`` metric).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from harmonica_sklearn import HarmonicaSearchCV
    >>> from harmonica_sklearn.inspection import plot_history
    >>> X, y = load_iris(return_X_y=True)
    >>> space = {"max_depth": [1, 2, 3, 4], "splitter": ["best", "random"]}
    >>> search = HarmonicaSearchCV(
    ...     DecisionTreeClassifier(random_state=0), space, n_iter=8, random_state=0
    ... ).fit(X, y)
    >>> ax = plot_history(search, x="time")
    >>> ax.get_xlabel()
    'fit + score time, summed over folds (s)'
    """
    if x not in ("evaluations", "time"):
        raise ValueError(f'x must be "evaluations" or "time", got {x!r}.')
    _check_fitted(search)
    ax = _axes(ax, "plot_history", figsize=(6.4, 4.0))
    results = search.cv_results_
    key = _score_column(search, metric)
    scores = np.asarray(results[key], dtype=float)
    resources = np.asarray(results["n_resources"], dtype=float)
    full = resources >= search.max_resources_
    if x == "evaluations":
        cost = resources / search.max_resources_
        xlabel = "budget spent (full-resource evaluations)"
    else:
        n_splits = getattr(search, "n_splits_", 1)
        cost = (
            np.asarray(results["mean_fit_time"], dtype=float)
            + np.asarray(results["mean_score_time"], dtype=float)
        ) * n_splits
        xlabel = "fit + score time, summed over folds (s)"
    # Rows are in evaluation order; a row is done once its cost is spent.
    done = np.cumsum(cost)

    phases = np.asarray(results["phase"]).astype(str)
    for phase in dict.fromkeys(phases.tolist()):
        color = _PHASE_COLORS.get(phase, "tab:purple")
        for mask, face, suffix in ((full, color, ""), (~full, "none", ", reduced resource")):
            rows = (phases == phase) & mask
            if rows.any():
                ax.scatter(
                    done[rows], scores[rows], s=14, facecolors=face, edgecolors=color,
                    alpha=0.6, label=f"{phase}{suffix}",
                )
    best_any = np.fmax.accumulate(scores)
    if (~full).any() and np.isfinite(best_any).any():
        ax.step(
            done, best_any, where="post", color="gray", lw=1, ls=":",
            label="best so far, any resource",
        )
    best = np.fmax.accumulate(np.where(full, scores, np.nan))
    if np.isfinite(best).any():
        ax.step(done, best, where="post", color="black", lw=1.5, label="best so far")

    stages = np.asarray(results["stage"])
    starts = np.flatnonzero(np.r_[True, stages[1:] != stages[:-1]])
    for i in starts:
        edge = done[i] - cost[i]
        ax.axvline(edge, color="gray", ls="--", lw=0.8)
        name = "exhaustive" if phases[i] == "exhaustive" else f"stage {stages[i]}"
        ax.annotate(
            name, (edge, 1.0), xycoords=("data", "axes fraction"),
            xytext=(3, -3), textcoords="offset points", va="top", fontsize=8, color="gray",
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(key)
    ax.set_title("Search history")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_stage_scores(search, ax=None, *, metric=None):
    """Distribution of the scores in each stage, phase and halving rung.

    If the restrictions help, each spectral stage scores higher than the one
    before (they evaluate at the same resource, so their scores compare);
    halving rungs evaluate at growing resources, labelled ``r=``.

    Parameters
    ----------
    search : HarmonicaSearchCV or HarmonicaOptimizer
        A fitted search, or an optimizer that was told scores.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    metric : str, default=None
        With several metrics, the one to plot; by default the one that drove
        the search.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from harmonica_sklearn import HarmonicaSearchCV
    >>> from harmonica_sklearn.inspection import plot_stage_scores
    >>> X, y = load_iris(return_X_y=True)
    >>> space = {"max_depth": [1, 2, 3, 4], "splitter": ["best", "random"]}
    >>> search = HarmonicaSearchCV(
    ...     DecisionTreeClassifier(random_state=0), space, n_iter=8, random_state=0
    ... ).fit(X, y)
    >>> ax = plot_stage_scores(search)
    >>> [label.get_text() for label in ax.get_xticklabels()]
    ['exhaustive\\n(r=150)']
    """
    _check_fitted(search)
    ax = _axes(ax, "plot_stage_scores", figsize=(6.4, 4.0))
    results = search.cv_results_
    key = _score_column(search, metric)
    scores = np.asarray(results[key], dtype=float)
    stages = np.asarray(results["stage"]).astype(int)
    phases = np.asarray(results["phase"]).astype(str)
    rungs = np.asarray(results["rung"]).astype(int)
    resources = np.asarray(results["n_resources"]).astype(int)
    groups = list(dict.fromkeys(zip(stages.tolist(), phases.tolist(), rungs.tolist())))
    multi_rung = {
        (s, p): len({r for s2, p2, r in groups if (s2, p2) == (s, p)}) > 1 for s, p, _ in groups
    }
    rng = np.random.RandomState(0)
    data, labels, colors = [], [], []
    for g, (stage, phase, rung) in enumerate(groups):
        rows = (stages == stage) & (phases == phase) & (rungs == rung)
        values = scores[rows]
        finite = values[np.isfinite(values)]
        data.append(finite if finite.size else np.array([np.nan]))
        labels.append(
            _group_label(stage, phase, rung, resources[rows][0], multi_rung[(stage, phase)])
        )
        color = _PHASE_COLORS.get(phase, "tab:purple")
        colors.append(color)
        jitter = rng.uniform(-0.15, 0.15, size=finite.size)
        ax.scatter(g + 1 + jitter, finite, s=10, color=color, alpha=0.5, zorder=3)
    ax.boxplot(data, showfliers=False, widths=0.5)
    ax.set_xticks(np.arange(1, len(labels) + 1))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel(key)
    ax.set_title("Scores per stage")
    return ax
