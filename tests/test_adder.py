"""mnistadd.adder: the query and sum encodings, and the split of all pairs."""

import numpy as np
import pytest

from mnistadd.adder import VOCABULARY, decode_sums, encode_queries, encode_sums, pair_split


@pytest.mark.parametrize("layout", ["aligned", "ragged"])
@pytest.mark.parametrize("reverse", [True, False])
def test_query_encoding_round_trip(reverse, layout):
    a, b = np.array([0, 7, 255, 99]), np.array([0, 123, 255, 1])
    tokens = encode_queries(a, b, reverse, layout)
    assert tokens.shape == (4, 7)
    queries = ["".join(VOCABULARY[i] for i in row) for row in tokens]
    if reverse:
        queries = [q[::-1] for q in queries]
    expected = {"aligned": ["  0+  0", "  7+123", "255+255", " 99+  1"], "ragged": ["0+0    ", "7+123  ", "255+255", "99+1   "]}
    assert queries == expected[layout]
    sums = a + b
    one_hot = np.eye(10)[encode_sums(sums)]
    np.testing.assert_array_equal(decode_sums(one_hot), sums)


def test_pair_split_partitions_every_pair():
    train, val, held_out = pair_split(0.5, 0.02, seed=0)
    everything = np.concatenate([train, val, held_out])
    assert len(everything) == 65536 and len(np.unique(everything)) == 65536
