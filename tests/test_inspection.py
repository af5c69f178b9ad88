"""Tests of harmonica_sklearn.inspection, and of the search's HTML repr.

The searches run on a mock estimator whose score is a planted function of
its parameters (fitting costs nothing), so every test is fast.
"""

from __future__ import annotations

import doctest
import sys
import zlib

import numpy as np
import pytest
import sklearn
from scipy.stats import loguniform
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError

from harmonica_sklearn import HarmonicaSearchCV

try:
    import pandas as pd
except ImportError:  # pragma: no cover - the [plot] extra is not installed
    pd = None
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.axes
    import matplotlib.image
    import matplotlib.pyplot as plt
except ImportError:  # pragma: no cover
    matplotlib = None

from harmonica_sklearn import inspection
from harmonica_sklearn.inspection import (
    effects_frame,
    importances_frame,
    plot_history,
    plot_importances,
    plot_stage_scores,
    restrictions_frame,
)

_SKLEARN_VERSION = tuple(int(v) for v in sklearn.__version__.split(".")[:2])

needs_pandas = pytest.mark.skipif(pd is None, reason='needs pandas: pip install -e ".[plot]"')
needs_matplotlib = pytest.mark.skipif(
    matplotlib is None, reason='needs matplotlib: pip install -e ".[plot]"'
)


class Planted(RegressorMixin, BaseEstimator):
    """Score: a planted function of the parameters plus fold-dependent noise.

    ``optimizer`` has a main effect, ``batch_norm`` x ``width`` interact, and
    ``lr`` peaks in the middle of its range; ``dummy`` and ``seed`` do nothing.
    """

    def __init__(
        self, optimizer="sgd", batch_norm=False, width=1, lr=1e-2, dummy="a", seed=0
    ):
        self.optimizer = optimizer
        self.batch_norm = batch_norm
        self.width = width
        self.lr = lr
        self.dummy = dummy
        self.seed = seed

    def fit(self, X, y=None):
        self.n_fit_rows_ = len(X)
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X, y=None):
        value = {"sgd": 0.0, "adam": 1.0, "rmsprop": 0.4}[self.optimizer]
        value += 0.8 * (1 if self.batch_norm else -1) * (1 if self.width >= 4 else -1)
        value -= 0.1 * np.log10(self.lr / 1e-2) ** 2
        key = f"{self.get_params()!r}{float(np.asarray(X)[0, 0])}"
        noise = np.random.RandomState(zlib.crc32(key.encode())).randn()
        return float(value + 0.05 * noise)


SPACE = {
    "optimizer": ["sgd", "adam", "rmsprop"],
    "batch_norm": [False, True],
    "width": [1, 2, 4, 8],
    "lr": loguniform(1e-4, 1),
    "dummy": ["a", "b", "c", "d"],
    "seed": [0, 1],
}


def _data(n=60):
    return np.arange(n, dtype=float).reshape(-1, 1), np.zeros(n)


@pytest.fixture(scope="module")
def search():
    X, y = _data()
    # 60 rows: min_train_rows=0 keeps the subsampled stages these tests read.
    return HarmonicaSearchCV(
        Planted(), SPACE, n_iter=150, cv=2, n_stages=2, random_state=0, min_train_rows=0
    ).fit(X, y)


@pytest.fixture(scope="module")
def grid_search():
    """A search small enough to run in exhaustive mode (no stage)."""
    X, y = _data()
    space = {"optimizer": ["sgd", "adam"], "batch_norm": [False, True]}
    return HarmonicaSearchCV(Planted(), space, n_iter=10, cv=2, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def branch_search():
    """A conditional space: a list of dicts with a shared parameter."""
    X, y = _data()
    space = [
        {"optimizer": ["sgd"], "lr": loguniform(1e-4, 1), "width": [1, 2, 4, 8]},
        {"optimizer": ["adam", "rmsprop"], "lr": loguniform(1e-4, 1), "dummy": ["a", "b"]},
    ]
    return HarmonicaSearchCV(
        Planted(), space, n_iter=120, cv=2, n_stages=1, random_state=0, min_train_rows=0
    ).fit(X, y)


@pytest.fixture
def close_figures():
    yield
    if matplotlib is not None:
        plt.close("all")


# ------------------------------------------------------------------ frames
def test_search_found_effects(search):
    # The fixture is only useful if the stages learned something.
    assert search.search_mode_ == "spectral"
    assert len(search.stages_) == 2
    assert search.stages_[0].terms


@needs_pandas
def test_effects_frame_matches_stages(search):
    frame = effects_frame(search)
    assert list(frame.columns) == [
        "stage", "parameters", "kind", "degree", "effect", "best_values",
        "worst_values", "value_means", "n_terms",
    ]
    expected = [
        (report.stage, e.parameters, e.effect, e.best_values)
        for report in search.stages_
        for e in report.effects
    ]
    got = list(zip(frame["stage"], frame["parameters"], frame["effect"], frame["best_values"]))
    assert got == expected
    for _, row in frame.iterrows():
        assert row["degree"] == len(row["parameters"])
        assert row["kind"] == ("main effect" if row["degree"] == 1 else "interaction")
        if row["effect"] > 0:
            means = row["value_means"]
            assert max(means.values()) - min(means.values()) >= row["effect"] - 1e-9
    assert frame["stage"].dtype.kind == "i"
    assert frame["effect"].dtype.kind == "f"


@needs_pandas
def test_terms_frame_matches_stages(search):
    frame = inspection.terms_frame(search)
    assert list(frame.columns) == [
        "stage", "term", "coefficient", "parameters", "kind", "degree", "bits",
    ]
    expected = [
        (report.stage, term, coef, tuple(bits))
        for report in search.stages_
        for (term, coef), bits in zip(report.terms, report.term_bits)
    ]
    got = list(zip(frame["stage"], frame["term"], frame["coefficient"], frame["bits"]))
    assert got == expected


def test_stage_effects_are_in_score_units(search):
    # Planted: adam scores 1 more than sgd, and batch_norm x width adds +-0.8,
    # so the interaction term separates means 1.6 apart.
    first = search.stages_[0]
    results = search.cv_results_
    stage_scores = results["mean_test_score"][
        (results["stage"] == 1) & (results["phase"] == "spectral")
    ]
    assert first.n_fit_samples == len(stage_scores)
    assert first.score_mean == pytest.approx(stage_scores.mean())
    assert first.score_std == pytest.approx(stage_scores.std())
    effects = dict(zip([term for term, _ in first.terms], first.term_effects))
    interaction = "[batch_norm=False] * [width in {1, 2}]"
    assert abs(effects[interaction]) == pytest.approx(1.6, abs=0.25)
    # Effects of the other terms held fixed: the planted function has no
    # three-way interaction, whatever the rank-scale fit found.
    for term, effect in effects.items():
        if term.count("[") == 3:
            assert abs(effect) < 0.1
    # Clear effects point the way of the rank-scale coefficients.
    for (_, coef), effect in zip(first.terms, first.term_effects):
        if abs(effect) > 0.2:
            assert np.sign(effect) == np.sign(coef)


def test_term_effects_are_differences_of_means():
    from harmonica_sklearn._report import term_effects

    rng = np.random.RandomState(0)
    bits = rng.choice([-1, 1], size=(200, 3)).astype(np.int8)
    alternative = rng.randint(2, size=200)
    scores = 5.0 * alternative + 0.3 * bits[:, 0] + 0.1 * bits[:, 0] * bits[:, 1]
    scores[:5] = np.nan  # failed fits are left out
    effects = term_effects(bits, scores, alternative, [(0,), (0, 1), (2,)])
    np.testing.assert_allclose(effects, [0.6, 0.2, 0.0], atol=1e-10)
    bits[:, 2] = 1  # a term that never changes has no effect to measure
    assert np.isnan(term_effects(bits, scores, alternative, [(2,)])[0])


def test_predicted_raw_scores_follow_predicted_scores(search):
    for report in search.stages_:
        raw = np.asarray(report.predicted_raw_scores)
        assert len(raw) == len(report.restriction) == len(report.predicted_scores)
        # Same order as the rank-scale predictions, within the observed scores.
        assert np.all(np.diff(raw) <= 1e-12)
        assert np.all(np.diff(report.predicted_scores) <= 1e-12)
        scores = search.cv_results_["mean_test_score"]
        assert scores.min() <= raw.min() and raw.max() <= scores.max()


def test_report_speaks_in_score_units(search):
    text = search.report()
    first = search.stages_[0]
    assert f"mean {first.score_mean:.4f}, sd {first.score_std:.4f}" in text
    assert f"(predicted score {first.predicted_raw_scores[0]:.4f})" in text
    # Planted: adam scores 1 more than sgd, batch_norm x width adds +-0.8.
    assert "best adam; worst sgd" in text
    assert "best width by batch_norm: False -> {1, 2}; True -> {4, 8}" in text
    assert "What did not (no effect found): dummy, seed" in text
    for word in ("keep 1", " terms", "alternative"):
        assert word not in text


@needs_pandas
def test_effects_frame_finds_planted_effects(search):
    frame = effects_frame(search)
    first = {
        row["parameters"]: row for _, row in frame[frame["stage"] == 1].iterrows()
    }
    assert first[("optimizer",)]["effect"] == pytest.approx(1.0, abs=0.1)
    assert first[("optimizer",)]["best_values"] == ["adam"]
    assert first[("batch_norm", "width")]["effect"] == pytest.approx(1.6, abs=0.16)
    assert first[("dummy",)]["effect"] == 0
    assert first[("seed",)]["effect"] == 0


@needs_pandas
def test_importances_frame_matches_attributes(search):
    frame = importances_frame(search)
    labels = [search.space_.param_label(p) for p in range(search.space_.n_params)]
    assert frame.index.name == "parameter"
    assert sorted(frame.index) == sorted(labels)
    assert list(frame.columns) == ["importance", "stage_1", "stage_2"]
    for name, row in frame.iterrows():
        assert row["importance"] == pytest.approx(search.param_importances_[name])
        for report in search.stages_:
            assert row[f"stage_{report.stage}"] == pytest.approx(report.importances[name])
    values = frame["importance"].to_numpy()
    assert np.all(np.diff(values) <= 0)
    assert values.sum() == pytest.approx(1.0)
    assert frame.index[0] in {"optimizer", "batch_norm", "width"}
    assert frame.loc["dummy", "importance"] < 0.05


@needs_pandas
def test_restrictions_frame_matches_stages(search):
    frame = restrictions_frame(search)
    n_rows = sum(len(report.restriction) for report in search.stages_)
    assert len(frame) == n_rows
    assert list(frame.columns[:4]) == [
        "stage", "alternative", "predicted_score", "predicted score (score units)"
    ]
    i = 0
    for report in search.stages_:
        for a, alternative in enumerate(report.restriction):
            row = frame.iloc[i]
            assert row["stage"] == report.stage
            assert row["alternative"] == a + 1
            assert row["predicted_score"] == pytest.approx(report.predicted_scores[a])
            assert row["predicted score (score units)"] == pytest.approx(
                report.predicted_raw_scores[a]
            )
            for name in frame.columns[4:]:
                values = alternative.get(name)
                if values is None:
                    assert pd.isna(row[name])
                elif len(values) == 1:
                    assert row[name] == str(values[0])
                else:
                    assert row[name] == "{" + ", ".join(map(str, values)) + "}"
            i += 1
    restricted = {name for r in search.stages_ for alt in r.restriction for name in alt}
    assert set(frame.columns[4:]) == restricted


@needs_pandas
def test_frames_in_exhaustive_mode(grid_search):
    assert grid_search.search_mode_ == "exhaustive"
    effects = effects_frame(grid_search)
    assert effects.empty and "effect" in effects.columns
    assert inspection.terms_frame(grid_search).empty
    restrictions = restrictions_frame(grid_search)
    assert restrictions.empty and "alternative" in restrictions.columns
    assert "Nothing was estimated" in grid_search.report()
    importances = importances_frame(grid_search)
    assert list(importances.columns) == ["importance"]
    assert (importances["importance"] == 0).all()


@needs_pandas
def test_frames_with_branches(branch_search):
    space = branch_search.space_
    labels = [space.param_label(p) for p in range(space.n_params)]
    assert "<branch>" in labels
    importances = importances_frame(branch_search)
    assert sorted(importances.index) == sorted(labels)
    effects = effects_frame(branch_search)
    assert {name for names in effects["parameters"] for name in names} <= set(labels)


@needs_pandas
@needs_matplotlib
def test_not_fitted_raises():
    unfitted = HarmonicaSearchCV(Planted(), SPACE)
    for function in (effects_frame, importances_frame, restrictions_frame, plot_history):
        with pytest.raises(NotFittedError):
            function(unfitted)


# ------------------------------------------------------------------- plots
def _assert_png_not_blank(path):
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    gray = image[..., :3].mean(axis=2)
    assert gray.std() > 0.05  # not a blank canvas
    assert (gray < 0.5).mean() > 0.002  # some dark ink: text, lines


@needs_matplotlib
@pytest.mark.parametrize(
    "plot, kwargs",
    [
        (plot_importances, {}),
        (plot_importances, {"stacked": False}),
        (plot_history, {}),
        (plot_history, {"x": "time"}),
        (plot_stage_scores, {}),
    ],
)
def test_plots_write_non_blank_png(search, plot, kwargs, tmp_path, close_figures):
    ax = plot(search, **kwargs)
    assert isinstance(ax, matplotlib.axes.Axes)
    path = tmp_path / "plot.png"
    ax.figure.savefig(path, dpi=60)
    _assert_png_not_blank(path)


@needs_matplotlib
@pytest.mark.parametrize("plot", [plot_importances, plot_history, plot_stage_scores])
def test_plots_draw_on_given_axes(search, plot, close_figures):
    fig, axes = plt.subplots(1, 2)
    assert plot(search, ax=axes[1]) is axes[1]
    assert axes[1].has_data()
    assert not axes[0].has_data()


@needs_matplotlib
@pytest.mark.parametrize("plot", [plot_importances, plot_history, plot_stage_scores])
def test_plots_in_exhaustive_mode(grid_search, plot, tmp_path, close_figures):
    ax = plot(grid_search)
    ax.figure.savefig(tmp_path / "plot.png", dpi=60)
    _assert_png_not_blank(tmp_path / "plot.png")


@needs_matplotlib
def test_stacked_importances_add_up(search, close_figures):
    ax = plot_importances(search, stacked=True)
    totals = {}
    for patch in ax.patches:
        y = round(patch.get_y() + patch.get_height() / 2)
        totals[y] = totals.get(y, 0.0) + patch.get_width()
    names = [t.get_text() for t in ax.get_yticklabels()]
    for y, name in enumerate(names):
        assert totals.get(y, 0.0) == pytest.approx(search.param_importances_[name])


@needs_matplotlib
def test_history_best_line(search, close_figures):
    ax = plot_history(search)
    (line,) = [l for l in ax.get_lines() if l.get_label() == "best so far"]
    xs, ys = line.get_data()
    assert xs[-1] == pytest.approx(search.budget_spent_)
    assert np.nanmax(ys) == pytest.approx(search.best_score_)
    finite = ys[np.isfinite(ys)]
    assert np.all(np.diff(finite) >= 0)
    # The spectral stages ran on subsamples: the best at any resource is drawn.
    assert (search.cv_results_["n_resources"] < search.max_resources_).any()
    labels = [l.get_label() for l in ax.get_lines()]
    assert "best so far, any resource" in labels


@needs_matplotlib
def test_stage_scores_groups(search, close_figures):
    ax = plot_stage_scores(search)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    results = search.cv_results_
    groups = dict.fromkeys(zip(results["stage"], results["phase"], results["rung"]))
    assert len(labels) == len(groups)
    assert labels[0].startswith("stage 1\nspectral")


@needs_matplotlib
def test_history_rejects_bad_x(search):
    with pytest.raises(ValueError, match="evaluations"):
        plot_history(search, x="iterations")


@needs_matplotlib
def test_multimetric_metric_argument(close_figures):
    X, y = _data()
    multi = HarmonicaSearchCV(
        Planted(),
        {"optimizer": ["sgd", "adam"], "width": [1, 4]},
        scoring={"a": lambda est, X, y: est.score(X), "b": lambda est, X, y: 0.0},
        refit="a",
        n_iter=10,
        cv=2,
    ).fit(X, y)
    assert plot_history(multi).get_ylabel() == "mean_test_a"
    assert plot_stage_scores(multi, metric="b").get_ylabel() == "mean_test_b"
    with pytest.raises(ValueError, match="choose among"):
        plot_history(multi, metric="c")


# --------------------------------------------------------- optional extras
@pytest.mark.parametrize(
    "missing, function",
    [
        ("pandas", effects_frame),
        ("pandas", importances_frame),
        ("pandas", restrictions_frame),
        ("matplotlib", plot_importances),
        ("matplotlib", plot_history),
        ("matplotlib", plot_stage_scores),
    ],
)
def test_missing_extra_names_it(search, monkeypatch, missing, function):
    for name in list(sys.modules):
        if name == missing or name.startswith(missing + "."):
            monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r'pip install "harmonica-sklearn\[plot\]"'):
        function(search)


def test_module_imports_without_extras(monkeypatch):
    # pandas and matplotlib are imported when a function needs them, so the
    # module itself imports without them.
    import importlib

    import harmonica_sklearn

    monkeypatch.setattr(harmonica_sklearn, "inspection", inspection)
    for name in list(sys.modules):
        if name.split(".")[0] in ("pandas", "matplotlib"):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "harmonica_sklearn.inspection")
    module = importlib.import_module("harmonica_sklearn.inspection")
    assert callable(module.effects_frame)
    monkeypatch.delitem(sys.modules, "harmonica_sklearn.inspection")


@needs_pandas
@needs_matplotlib
def test_docstring_examples_run():
    # The Examples sections of the docstrings are the documentation's
    # doctests too: they must run and give what they show.
    failures, tried = doctest.testmod(inspection, optionflags=doctest.ELLIPSIS)
    assert tried > 0
    assert failures == 0


# ------------------------------------------------------------ HTML repr
def test_html_repr_unfitted():
    html = HarmonicaSearchCV(Planted(), SPACE, n_iter=20)._repr_html_()
    assert "HarmonicaSearchCV" in html
    assert "Planted" in html
    assert "Not fitted" in html


def test_html_repr_fitted(search):
    html = search._repr_html_()
    assert "HarmonicaSearchCV" in html
    assert "Planted" in html
    assert "Not fitted" not in html


@pytest.mark.skipif(
    _SKLEARN_VERSION < (1, 9),
    reason="the HTML repr lists fitted attributes from scikit-learn 1.9 on",
)
def test_html_repr_lists_fitted_attributes(search):
    html = search._repr_html_()
    assert "stages_" in html and "param_importances_" in html
