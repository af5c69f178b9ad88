"""The same ``random_state`` gives the same search as recorded (tests/golden.py)."""

import json

import pytest

from golden import GOLDEN_FILE, SCENARIOS, summary

with open(GOLDEN_FILE) as f:
    GOLDEN = json.load(f)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_search_matches_its_recorded_result(name):
    got = summary(SCENARIOS[name]())
    expected = GOLDEN[name]
    for key in expected:
        assert got[key] == expected[key], f"{name}: {key} differs from the recording"
