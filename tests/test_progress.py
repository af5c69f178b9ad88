"""sklearn's ProgressBar callback (sklearn >= 1.9, needs rich) on the search."""

import io
import re

import pytest

callback = pytest.importorskip(
    "sklearn.callback", reason="sklearn callbacks need scikit-learn >= 1.9"
)
rich = pytest.importorskip("rich", reason="sklearn's ProgressBar needs rich")

from harmonica_sklearn import HarmonicaSearchCV  # noqa: E402
from planted import (  # noqa: E402
    ONE_SPLIT,
    PlantedEstimator,
    RecordingCallback,
    planted_binary_problem,
    planted_data,
)


@pytest.fixture
def rich_output():
    """Everything rich's global console prints during the test, as a buffer.

    ProgressBar draws on rich's global console; a wide, non-terminal console
    keeps the task names and percentages on one line each, uncoloured.
    """
    buffer = io.StringIO()
    rich.reconfigure(file=buffer, width=200, force_terminal=False, color_system=None)
    yield buffer
    rich.reconfigure()


def _search(n_vars=12, **params):
    problem = planted_binary_problem(0, n_vars=n_vars, n_terms=2)
    search = HarmonicaSearchCV(
        PlantedEstimator(problem=problem),
        problem.space,
        cv=ONE_SPLIT,
        random_state=0,
        **params,
    )
    return search


def _batches(search):
    """(stage, phase, rung) of every evaluated batch, in order."""
    results = search.cv_results_
    rows = zip(results["stage"], results["phase"], results["rung"])
    return list(dict.fromkeys((int(s), str(p), int(r)) for s, p, r in rows))


def _task_name(stage, phase, rung):
    if phase == "exhaustive":
        return "exhaustive"
    if phase == "halving":
        return f"halving stage {stage} rung {rung}"
    return f"{phase} stage {stage}"


@pytest.mark.parametrize(
    "params",
    [
        {"n_iter": 120},
        {"n_iter": 120, "final_stage": "random"},
        {"n_iter": 60, "n_stages": 2, "stage_size": 20, "spectral_resource": None},
        {"n_iter": 64, "n_vars": 6},  # 64 candidates: exhaustive
    ],
    ids=["halving", "random", "two-stages", "exhaustive"],
)
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_progress_bar_shows_every_stage_and_rung(params, n_jobs, rich_output):
    search = _search(n_jobs=n_jobs, **params)
    search.set_callbacks(callback.ProgressBar(max_propagation_depth=0))
    search.fit(*planted_data())

    assert hasattr(search, "best_params_")
    text = rich_output.getvalue()
    assert "HarmonicaSearchCV - fit" in text
    assert "HarmonicaSearchCV - search" in text
    for i, batch in enumerate(_batches(search)):
        assert re.search(rf"HarmonicaSearchCV - {_task_name(*batch)} #{i}\b", text)
    # Every bar ends complete: a task left unfinished would show less.
    assert "100%" in text
    assert not re.search(r"(?<!\d)\d{1,2}%", text)


@pytest.mark.parametrize(
    "params",
    [
        {"n_iter": 120},
        {"n_iter": 120, "final_stage": "random"},
        {"n_iter": 64, "n_vars": 6},
    ],
    ids=["halving", "random", "exhaustive"],
)
def test_search_task_announces_its_batches(params):
    # A known number of subtasks lets ProgressBar advance the search's bar
    # while it runs; None would leave it at 0% until the search ends.
    tree = RecordingCallback()
    search = _search(**params).set_callbacks(tree)
    search.fit(*planted_data())

    (search_ctx,) = [ctx for ctx in tree.begun if ctx.task_name == "search"]
    batches = [ctx for ctx in tree.begun if ctx.parent is search_ctx]
    assert search_ctx.max_subtasks is not None
    assert len(_batches(search)) == len(batches) <= search_ctx.max_subtasks
    for batch in batches:
        evaluations = [ctx for ctx in tree.begun if ctx.parent is batch]
        assert len(evaluations) == batch.max_subtasks
    assert sorted(map(id, tree.begun)) == sorted(map(id, tree.ended))


def test_a_batch_hit_by_a_lost_worker_still_ends_its_task(monkeypatch):
    # The lost fits run again; the batch's task must end all the same, or
    # progress displays wait for it forever.
    from sklearn.model_selection import _validation

    lost = type("KilledWorker", (Exception,), {"__module__": "distributed.scheduler"})
    fit_and_score, calls = _validation._fit_and_score, []

    def loses_the_eleventh_fit(*args, **kwargs):
        calls.append(None)
        if len(calls) == 11:
            raise lost("simulated loss")
        return fit_and_score(*args, **kwargs)

    monkeypatch.setattr(_validation, "_fit_and_score", loses_the_eleventh_fit)
    tree = RecordingCallback()
    with pytest.warns(RuntimeWarning, match=r"A worker was lost .*retry 1 of 2"):
        _search().set_callbacks(tree).fit(*planted_data())
    assert len(tree.begun) > 1
    assert sorted(map(id, tree.begun)) == sorted(map(id, tree.ended))
