"""Encoding of search spaces into bits, sampling, decoding, restriction."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import geom, loguniform, norm, randint, uniform

from harmonica_sklearn import SearchSpace
from harmonica_sklearn._space import binary_code, gray_code


def test_gray_code_neighbours_differ_in_one_bit():
    codes = gray_code(8, 3)
    assert len({tuple(c) for c in codes}) == 8
    changes = np.sum(codes[1:] != codes[:-1], axis=1)
    np.testing.assert_array_equal(changes, 1)


def test_binary_code_is_counting():
    np.testing.assert_array_equal(binary_code(3, 2), [[1, 1], [1, -1], [-1, 1]])


@pytest.mark.parametrize("k, n_bits", [(1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (8, 3), (9, 4)])
def test_list_takes_ceil_log2_bits(k, n_bits):
    space = SearchSpace.from_param_space({"a": [f"v{i}" for i in range(k)]})
    assert space.n_bits == n_bits


def test_numeric_lists_are_ordered_and_gray_coded():
    space = SearchSpace.from_param_space({"lr": [0.1, 0.001, 0.01], "opt": ["a", "b", "c"]})
    lr, opt = space.params
    assert lr.kind == "ordered" and lr.values == [0.001, 0.01, 0.1]
    np.testing.assert_array_equal(lr.codes, gray_code(3, 2))
    assert opt.kind == "categorical"
    np.testing.assert_array_equal(opt.codes, binary_code(3, 2))


def test_booleans_are_categorical():
    space = SearchSpace.from_param_space({"flag": [True, False]})
    assert space.params[0].kind == "categorical"


def test_unused_codes_are_never_sampled():
    space = SearchSpace.from_param_space({"a": ["x", "y", "z"]})
    index, _ = space.sample(3000, np.random.RandomState(0))
    counts = np.bincount(index[:, 0], minlength=3)
    # Uniform over the 3 declared values, none over the 4th code.
    assert counts.min() > 900
    bits = space.encode(index)
    assert not np.any(np.all(bits == [-1, -1], axis=1))


def test_continuous_distribution_buckets_and_values():
    dist = loguniform(1e-3, 1e3)
    space = SearchSpace.from_param_space({"C": dist}, distribution_bits=3)
    param = space.params[0]
    assert param.kind == "distribution" and space.n_bits == 3
    index, offset = space.sample(500, np.random.RandomState(0))
    values = np.array([space.decode(i, o)["C"] for i, o in zip(index, offset)])
    assert np.all((values >= 1e-3) & (values <= 1e3))
    # Each value falls in the quantile bucket its index says.
    buckets = np.floor(dist.cdf(values) * 8).astype(int)
    np.testing.assert_array_equal(np.clip(buckets, 0, 7), index[:, 0])


def test_small_discrete_distribution_becomes_weighted_list():
    space = SearchSpace.from_param_space({"k": randint(1, 5)})
    param = space.params[0]
    assert param.kind == "ordered" and param.values == [1, 2, 3, 4]
    np.testing.assert_allclose(param.weights, 0.25)


@pytest.mark.parametrize("dist", [randint(1, 500), geom(0.2)])
def test_large_discrete_distribution_gives_integers(dist):
    space = SearchSpace.from_param_space({"k": dist})
    index, offset = space.sample(200, np.random.RandomState(0))
    values = [space.decode(i, o)["k"] for i, o in zip(index, offset)]
    assert all(isinstance(v, int) for v in values)
    assert min(values) >= dist.support()[0]


class _RvsOnly:
    """A distribution-like object without ppf (sklearn accepts it)."""

    def rvs(self, random_state=None):
        return np.random.RandomState(random_state).uniform()


def test_distribution_without_ppf_is_sampled_freely_with_no_bits():
    space = SearchSpace.from_param_space({"a": _RvsOnly(), "b": [1, 2]})
    assert space.params[0].kind == "free" and space.params[0].n_bits == 0
    index, offset = space.sample(5, np.random.RandomState(0))
    values = {space.decode(i, o)["a"] for i, o in zip(index, offset)}
    assert len(values) == 5


def test_list_of_dicts_adds_branch_selector_and_decodes_active_branch():
    space = SearchSpace.from_param_space(
        [{"kernel": ["rbf"], "gamma": [0.1, 1.0]}, {"kernel": ["linear"], "C": [1, 10, 100]}]
    )
    assert space.branch_param == 0 and space.params[0].n_bits == 1
    index, offset = space.sample(200, np.random.RandomState(0))
    for i, o in zip(index, offset):
        params = space.decode(i, o)
        if params["kernel"] == "rbf":
            assert set(params) == {"kernel", "gamma"}
        else:
            assert set(params) == {"kernel", "C"}
    assert space.size() == 2 + 3


def test_single_valued_parameter_takes_no_bits_and_is_always_set():
    space = SearchSpace.from_param_space({"a": [1], "b": ["x", "y"]})
    assert space.n_bits == 1
    index, offset = space.sample(4, np.random.RandomState(0))
    assert all(space.decode(i, o)["a"] == 1 for i, o in zip(index, offset))


@pytest.mark.parametrize(
    "space, error, match",
    [
        ({"a": []}, ValueError, "Parameter 'a' has an empty list"),
        ({"a": "abc"}, TypeError, "Parameter 'a': expected a list of values"),
        ({"a": 3}, TypeError, "Parameter 'a': expected a list of values"),
        ([], ValueError, "param_space is an empty list"),
        ("C", TypeError, "param_space must be a dict or a list of dicts"),
        ([{"a": [1]}, 3], TypeError, r"param_space\[1\] must be a dict"),
        ({1: [1, 2]}, TypeError, "param_space keys must be parameter names"),
    ],
)
def test_bad_spaces_get_clear_errors(space, error, match):
    with pytest.raises(error, match=match):
        SearchSpace.from_param_space(space)


def test_allowed_values_follow_fixed_bits():
    space = SearchSpace.from_param_space({"a": ["x", "y", "z"]})  # codes ++, +-, -+
    allowed = space.allowed_values({0: 1})
    np.testing.assert_array_equal(allowed[0], [True, True, False])
    # Fixing both bits to the unused code leaves nothing.
    assert space.allowed_values({0: -1, 1: -1}) is None


def test_bit_labels_name_values():
    space = SearchSpace.from_param_space({"flag": [False, True], "opt": ["a", "b", "c", "d"]})
    assert space.bit_label(0) == "[flag=False]"
    assert space.bit_label(1) == "[opt in {a, b}]"


def test_distribution_labels_are_short_ranges():
    space = SearchSpace.from_param_space(
        {"C": loguniform(1e-3, 1e3), "kernel": ["rbf", "linear"]}, distribution_bits=3
    )
    # Gray code: the first bit is the lower half, the second the outer quarters.
    assert space.bit_label(0) == "[C in 0.001..1]"
    assert space.bit_label(1) == "[C in {0.001..0.032, 32..1000}]"
    assert space.bit_label(2) == "[C in {0.001..0.0056, 0.18..5.6, 180..1000}]"
    assert space.bit_label(3) == "[kernel=rbf]"
    C = space.params[0]
    assert [C.label(i) for i in (0, 3, 7)] == ["0.001..0.0056", "0.18..1", "180..1000"]
    # Neighbouring buckets are merged into one range.
    assert C.labels([4, 2, 3, 7]) == ["0.032..5.6", "180..1000"]


def test_readable_term_multiplies_the_bits_of_one_parameter():
    from harmonica_sklearn._report import readable_term

    space = SearchSpace.from_param_space(
        {"C": loguniform(1e-3, 1e3), "kernel": ["rbf", "linear"]}, distribution_bits=3
    )
    # [C in 0.001..1] * [C in {0.001..0.032, 32..1000}] is +1 where both
    # agree: the first two and the middle two buckets.
    assert readable_term(space, (0, 1)) == "[C in {0.001..0.032, 1..32}]"
    assert readable_term(space, (0, 3)) == "[C in 0.001..1] * [kernel=rbf]"
    assert readable_term(space, (3, 0, 1)) == "[kernel=rbf] * [C in {0.001..0.032, 1..32}]"


def test_term_params_name_each_parameter_of_a_term_once_in_space_order():
    space = SearchSpace.from_param_space(
        [{"C": loguniform(1e-3, 1e3), "kernel": ["rbf", "linear"]}, {"C": [1, 2]}],
        distribution_bits=3,
    )
    # Bit 0: the branch selector; 1-3: C of branch 0; 4: kernel; 5: C of branch 1.
    assert list(space.bit_owner()) == [0, 1, 1, 1, 2, 3]
    assert space.term_params((4, 2, 1)) == (1, 2)
    assert space.term_labels((4, 2, 1)) == ("C (branch 0)", "kernel")
    assert space.term_labels((5, 0)) == ("<branch>", "C (branch 1)")
    assert space.term_labels(()) == ()
    assert space.param_labels() == ["<branch>", "C (branch 0)", "kernel", "C (branch 1)"]


def test_distribution_labels_keep_bucket_edges_distinct():
    # Two significant digits would merge 0.5, 0.501, 0.502...: more are used.
    param = SearchSpace.from_param_space({"u": uniform(0.5, 0.01)}).params[0]
    labels = [param.label(i) for i in range(param.n_values)]
    assert len(set(labels)) == len(labels)
    assert labels[0] == "0.5..0.501"
    # Unbounded and integer distributions.
    normal = SearchSpace.from_param_space({"a": norm(0, 1)}, distribution_bits=1)
    assert normal.bit_label(0) == "[a in -inf..0]"
    integers = SearchSpace.from_param_space({"n": randint(1, 1001)}, distribution_bits=1)
    assert integers.bit_label(0) == "[n in 1..500]"
    tiny = SearchSpace.from_param_space({"t": loguniform(1e-9, 1e-6)}, distribution_bits=1)
    assert tiny.params[0].label(1) == "3.2e-8..1e-6"


# ---------------------------------------------------------------- properties
value_lists = st.one_of(
    st.lists(st.integers(-50, 50), min_size=1, max_size=9, unique=True),
    st.lists(st.text("abcdef", min_size=1, max_size=3), min_size=1, max_size=9, unique=True),
)
spaces = st.dictionaries(st.sampled_from("abcdefgh"), value_lists, min_size=1, max_size=5)


@settings(max_examples=60, deadline=None)
@given(space=st.one_of(spaces, st.lists(spaces, min_size=1, max_size=3)), seed=st.integers(0, 10))
def test_every_candidate_is_a_declared_value_and_encoding_round_trips(space, seed):
    encoded = SearchSpace.from_param_space(space)
    branches = space if isinstance(space, list) else [space]
    index, offset = encoded.sample(20, np.random.RandomState(seed))
    bits = encoded.encode(index)
    assert set(np.unique(bits)) <= {-1, 1}
    for row in range(20):
        params = encoded.decode(index[row], offset[row])
        branch = branches[encoded.branch_of(index[row])]
        assert set(params) == set(branch)
        for name, value in params.items():
            assert value in branch[name]
        # Decoding the bits gives back the same indices.
        for p, param in enumerate(encoded.params):
            if param.n_bits:
                matches = np.flatnonzero(
                    np.all(param.codes == bits[row, param.bit_slice], axis=1)
                )
                assert list(matches) == [index[row, p]]
    finite_size = sum(math.prod(len(v) for v in b.values()) for b in branches)
    assert encoded.size() == finite_size


@settings(max_examples=60, deadline=None)
@given(space=spaces, seed=st.integers(0, 100))
def test_restricted_sampling_respects_fixed_bits(space, seed):
    from harmonica_sklearn._restriction import Restriction

    encoded = SearchSpace.from_param_space(space)
    if encoded.n_bits == 0:
        return
    rng = np.random.RandomState(seed)
    index, _ = encoded.sample(1, rng)
    reference = encoded.encode(index)[0]
    fixed = np.sort(rng.choice(encoded.n_bits, size=rng.randint(1, encoded.n_bits + 1), replace=False))
    restriction = Restriction.from_signs(encoded, fixed, reference[fixed][None, :])
    sample, _, _ = restriction.sample(encoded, 50, rng)
    bits = encoded.encode(sample)
    assert np.all(bits[:, fixed] == reference[fixed])
    assert np.all(restriction.match(bits) == 0)


def test_uniform_parameter_free_of_ppf_edge():
    space = SearchSpace.from_param_space({"u": uniform(0, 1)})
    param = space.params[0]
    # Offsets of exactly 0 or 1 stay inside the support.
    assert 0 <= param.value(0, 0.0, 0) <= 1
    assert 0 <= param.value(7, 1.0, 0) <= 1
