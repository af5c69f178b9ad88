"""Pieces of the plain-text report that need no fitted search."""

from types import SimpleNamespace

import numpy as np
from scipy.stats import loguniform

from harmonica_sklearn._report import (
    Effect,
    _outside_kept,
    effect_importances,
    largest_effects,
)
from harmonica_sklearn._space import SearchSpace


def _last_stage_kept(space, restriction):
    """The attributes of a fitted search that ``_outside_kept`` reads."""
    stage = SimpleNamespace(restriction=restriction)
    return SimpleNamespace(stages_=[stage], space_=space)


def test_kept_values_are_listed_in_value_order_not_as_text():
    space = SearchSpace.from_param_space(
        {"C": loguniform(1e-3, 1e3), "n": [1, 2, 16, 128]}, distribution_bits=3
    )
    C, n = space.params
    buckets = [C.label(i) for i in range(C.n_values)]
    assert buckets[5:] == ["5.6..32", "32..180", "180..1000"]
    # Three kept settings, each allowing one bucket of C and one value of n,
    # listed with the highest first: as text, "180..1000" < "32..180" < "5.6..32"
    # and "128" < "16" < "2".
    kept = [
        {"C": C.labels([7]), "n": n.labels([3])},
        {"C": C.labels([6]), "n": n.labels([2])},
        {"C": C.labels([5]), "n": n.labels([1])},
    ]
    search = _last_stage_kept(space, kept)
    assert _outside_kept(search, {"C": 0.02, "n": 1}) == [
        "C = 0.02, kept {5.6..32, 32..180, 180..1000}",
        "n = 1, kept {2, 16, 128}",
    ]


def test_kept_ranges_of_several_buckets_sort_by_their_first_bucket():
    space = SearchSpace.from_param_space({"C": loguniform(1e-3, 1e3)}, distribution_bits=3)
    (C,) = space.params
    kept = [{"C": C.labels([6, 7])}, {"C": C.labels([2, 3])}, {"C": C.labels([5])}]
    search = _last_stage_kept(space, kept)
    assert _outside_kept(search, {"C": 1e-3}) == [
        "C = 0.001, kept {0.032..1, 5.6..32, 32..1000}"
    ]
    # A value inside a kept range is not reported.
    assert _outside_kept(search, {"C": 0.5}) == []
    assert _outside_kept(search, {"C": 500.0}) == []


def _effect(parameters, size):
    return Effect(tuple(parameters), size, {}, [], [])


def test_importances_share_the_largest_effect_of_each_parameter_set():
    space = SearchSpace.from_param_space({"a": [0, 1], "b": [0, 1], "c": [0, 1]})
    stage_1 = [_effect(["a"], 0.4), _effect(["a", "b"], 0.2), _effect(["c"], np.nan)]
    stage_2 = [_effect(["a"], 0.1), _effect(["b"], 0.2), _effect(["a", "b"], 0.6)]
    largest = largest_effects([stage_1, stage_2])
    assert {names: (e.effect, k) for names, (e, k) in largest.items()} == {
        ("a",): (0.4, 0),
        ("a", "b"): (0.6, 1),
        ("b",): (0.2, 1),
    }
    shares = effect_importances(space, [stage_1, stage_2])
    # a: 0.4 + 0.6 / 2, b: 0.2 + 0.6 / 2, c: no finite effect.
    assert list(shares) == ["a", "b", "c"]
    np.testing.assert_allclose([shares["a"], shares["b"], shares["c"]], np.array([0.7, 0.5, 0.0]) / 1.2)
    assert effect_importances(space, []) == {"a": 0.0, "b": 0.0, "c": 0.0}
