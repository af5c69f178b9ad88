"""Smoke test of the benchmark harness (``python -m benchmarks.run --quick``).

Runs the quick preset on the two planted tasks, at budget 20 and one
seed, for random search, Optuna TPE and Harmonica, and checks only that the
harness runs end to end and writes its outputs. Takes a few seconds.
"""

import sys
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")
pytest.importorskip("optuna")

# The harness lives in benchmarks/ at the repository root, which plain
# ``pytest`` (unlike ``python -m pytest``) does not put on sys.path.
ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import run  # noqa: E402


@pytest.mark.timeout(60)
def test_quick_preset_writes_outputs(tmp_path):
    out = tmp_path / "quick"
    run.main(
        [
            "--quick",
            "--tasks", "planted_binary,planted_mixed",
            "--methods", "random,optuna_tpe,harmonica",
            "--budgets", "20",
            "--seeds", "1",
            "--out", str(out),
            "--quiet",
        ]
    )
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 6
    assert set(runs["method"]) == {"random", "optuna_tpe", "harmonica"}
    assert (runs["status"] == "ok").all(), runs[["method", "message"]]
    assert (out / "traces.csv").stat().st_size > 0
    summary = (out / "summary.md").read_text()
    assert "planted_binary" in summary and "harmonica" in summary
    pngs = sorted(out.glob("*.png"))
    assert pngs and all(png.stat().st_size > 0 for png in pngs)
