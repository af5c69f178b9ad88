"""The same ``random_state`` gives the same search as recorded (tests/golden.py)."""

import json

import pytest

from harmonica_sklearn._compat import sklearn_version_at_least

from golden import GOLDEN_FILE, SCENARIOS, summary

with open(GOLDEN_FILE) as f:
    GOLDEN = json.load(f)


@pytest.mark.skipif(
    not sklearn_version_at_least("1.9"),
    reason="recorded with scikit-learn 1.9.1: older versions' linear models fit "
    "some stages differently (planted_mixed differs on 1.6.1)",
)
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_search_matches_its_recorded_result(name):
    got = summary(SCENARIOS[name]())
    expected = GOLDEN[name]
    for key in expected:
        assert got[key] == expected[key], f"{name}: {key} differs from the recording"
