"""Parity features, sparse recovery, minimisation and restriction."""

import math

import numpy as np
import pytest
from planted import planted_polynomial

from harmonica_sklearn import SearchSpace
from harmonica_sklearn._restriction import Restriction, refine
from harmonica_sklearn._spectral import (
    SparsePolynomial,
    enumerate_settings,
    fit_sparse_polynomial,
    n_parity_features,
    parity_features,
    supported_degree,
)


def random_bits(n_samples, n_bits, seed=0):
    return np.random.RandomState(seed).choice([-1, 1], size=(n_samples, n_bits)).astype(np.int8)


def test_parity_features_of_single_bits_are_all_subsets():
    bits = random_bits(30, 6)
    features, columns = parity_features(bits, 3)
    assert features.shape == (30, 6 + 15 + 20) == (30, n_parity_features(np.arange(6), 3))
    assert features.dtype == np.float32
    for j in range(features.shape[1]):
        subset = columns.subset(j)
        np.testing.assert_array_equal(features[:, j], np.prod(bits[:, list(subset)], axis=1))


def test_degree_counts_parameters_not_bits():
    # Two parameters of 2 bits each: 3 units each; degree 1 = 6 main-effect
    # columns, degree 2 adds 3 * 3 cross products.
    groups = np.array([0, 0, 1, 1])
    features, columns = parity_features(random_bits(10, 4), 2, groups)
    assert features.shape[1] == 6 + 9 == n_parity_features(groups, 2)
    assert columns.subset(2) == (0, 1)  # the within-parameter product is degree 1


def test_parity_features_are_nearly_orthonormal_under_uniform_sampling():
    features, _ = parity_features(random_bits(4000, 8), 2)
    gram = features.T @ features / len(features)
    np.testing.assert_allclose(np.diag(gram), 1.0)
    off_diagonal = gram - np.diag(np.diag(gram))
    assert np.abs(off_diagonal).max() < 0.1


@pytest.mark.parametrize("alpha", [None, 0.05])
def test_recovers_planted_sparse_polynomial(alpha):
    terms = [(3,), (7, 12), (20, 21, 22), (40,), (5, 50)]
    coefs = [1.0, 0.8, 0.7, -0.6, 0.5]
    bits = random_bits(200, 60, seed=1)
    y = planted_polynomial(bits, terms, coefs) + 0.1 * np.random.RandomState(2).randn(200)
    poly = fit_sparse_polynomial(bits, y, degree=3, n_terms=5, alpha=alpha)
    assert set(poly.subsets) == set(terms)
    fitted = dict(zip(poly.subsets, poly.coefs))
    for t, c in zip(terms, coefs):
        assert fitted[t] == pytest.approx(c, abs=0.05)  # least squares, not shrunk
    assert poly.intercept == pytest.approx(0.0, abs=0.05)


def test_noise_alone_gives_no_terms():
    bits = random_bits(100, 20, seed=3)
    y = np.random.RandomState(4).randn(100)
    poly = fit_sparse_polynomial(bits, y, degree=2, n_terms=5)
    assert len(poly.subsets) <= 1


def test_constant_scores_give_empty_polynomial():
    poly = fit_sparse_polynomial(random_bits(50, 10), np.ones(50))
    assert poly.subsets == [] and poly.intercept == 1.0


def test_main_effect_of_a_touched_parameter_is_completed():
    # A 4-valued parameter (2 bits) whose best value needs both units and
    # their product: the refit estimates the whole main effect.
    groups = np.array([0, 0, 1])
    bits = random_bits(300, 3, seed=5)
    value = {(1, 1): 0.0, (1, -1): 1.0, (-1, 1): 0.2, (-1, -1): 0.3}
    y = np.array([value[(a, b)] for a, b in bits[:, :2]])
    poly = fit_sparse_polynomial(bits, y, degree=1, n_terms=1, groups=groups)
    assert set(poly.subsets) == {(0,), (1,), (0, 1)}
    np.testing.assert_allclose(poly.predict(bits), y, atol=1e-9)


def test_supported_degree_grows_with_samples():
    groups = np.arange(60)
    assert supported_degree(groups, 40, 3, 5) == 1
    assert supported_degree(groups, 80, 3, 5) == 2
    assert supported_degree(groups, 200, 3, 5) == 3


def test_supported_degree_respects_memory():
    groups = np.arange(200)
    # float64 features (8 bytes per entry at the peak): 5,000 samples x 20,100
    # degree-2 features fit in 1 GiB, degree 3 does not.
    assert supported_degree(groups, 5_000, 3, 0, memory_limit=2**30) == 2


def test_enumerate_settings_order():
    np.testing.assert_array_equal(enumerate_settings(2), [[1, 1], [1, -1], [-1, 1], [-1, -1]])
    assert enumerate_settings(0).shape == (1, 0)


def test_refine_keeps_best_settings_and_restriction_changes_sampling():
    space = SearchSpace.from_param_space({f"x{i}": [-1, 1] for i in range(6)})
    poly = SparsePolynomial(0.0, [(0,), (1, 2)], np.array([1.0, -0.5]))
    restriction = Restriction.unrestricted(space)
    new, predicted = refine(restriction, space, poly, np.arange(6), np.zeros(1), n_best=2)
    # Best: x0=+1 (bit +1 is value -1) and x1*x2 = -1; two settings tie.
    np.testing.assert_array_equal(new.fixed_bits, [0, 1, 2])
    assert new.n_alternatives == 2
    assert predicted == pytest.approx([1.5, 1.5])
    index, _, _ = new.sample(space, 200, np.random.RandomState(0))
    bits = space.encode(index)
    assert np.all(bits[:, 0] == 1)
    assert np.all(bits[:, 1] * bits[:, 2] == -1)
    # The free bits still vary.
    assert set(np.unique(bits[:, 3])) == {-1, 1}


def test_refine_never_chooses_unused_codes():
    # "a" has 3 values: the code (-1, -1) is unused; the polynomial prefers it.
    space = SearchSpace.from_param_space({"a": ["x", "y", "z"]})
    poly = SparsePolynomial(0.0, [(0,), (1,)], np.array([-1.0, -1.0]))
    new, _ = refine(
        Restriction.unrestricted(space), space, poly, np.arange(2), np.zeros(1), n_best=4
    )
    assert new.n_alternatives == 3
    assert not np.any(np.all(new.signs == [-1, -1], axis=1))


def test_refine_ranks_earlier_alternatives_by_measured_effect():
    space = SearchSpace.from_param_space({f"x{i}": [-1, 1] for i in range(3)})
    earlier = Restriction.from_signs(space, np.array([0]), np.array([[1], [-1]]))
    poly = SparsePolynomial(0.0, [(0,)], np.array([1.0]))  # over free bits 1, 2
    new, _ = refine(earlier, space, poly, np.array([1, 2]), np.array([-0.5, 0.5]), n_best=1)
    # The second alternative measured better: it is kept.
    np.testing.assert_array_equal(new.signs, [[-1, 1]])


def test_feature_count_formula():
    groups = np.array([0, 0, 0, 1, 2, 2])  # units: 7, 1, 3
    assert n_parity_features(groups, 1) == 11
    assert n_parity_features(groups, 2) == 11 + 7 * 1 + 7 * 3 + 1 * 3
    assert n_parity_features(groups, 3) == n_parity_features(groups, 2) + 7 * 1 * 3
    assert n_parity_features(np.arange(60), 3) == sum(math.comb(60, k) for k in (1, 2, 3))
