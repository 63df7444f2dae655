"""spyxlike.sparse against Spyker 0.1.0's spyker.sparse (fixtures from tests/fixtures/record_spyker_sparse.py)."""

import os

import numpy as np
import pytest

from spyxlike import sparse
from spyxlike.sparse_spikes import SparseSpikes

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "spyker_sparse.npz"))
IMPLS = ("reference", "native")


def _spikes(prefix):
    return SparseSpikes.from_times(FIXTURES[f"{prefix}_times_in"], int(FIXTURES[f"{prefix}_T"]))


def _tuple(key):
    return tuple(int(v) for v in FIXTURES[key])


def _winners(w):
    return np.stack([np.asarray(w.feature), np.asarray(w.row), np.asarray(w.col)], -1)


@pytest.mark.parametrize("i", range(3))
def test_code(i):
    got = sparse.code(FIXTURES[f"code{i}_x"], int(FIXTURES[f"code{i}_T"])).to_times()
    np.testing.assert_array_equal(np.asarray(got), FIXTURES[f"code{i}_times"])


# The reference conv is checked on a few cases (it compiles per shape); native on all.
@pytest.mark.parametrize("i, impl", [(i, "native") for i in range(6)]
                         + [(2, "reference"), (3, "reference"), (4, "reference")])
def test_conv(i, impl):
    out = sparse.conv(_spikes(f"conv{i}"), FIXTURES[f"conv{i}_kernel"],
                      float(FIXTURES[f"conv{i}_threshold"]), padding=_tuple(f"conv{i}_padding"),
                      impl=impl)
    np.testing.assert_array_equal(np.asarray(out.to_times()), FIXTURES[f"conv{i}_times_out"])


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("i", range(4))
def test_pool(i, impl):
    out = sparse.pool(_spikes(f"pool{i}"), _tuple(f"pool{i}_kernel"),
                      padding=_tuple(f"pool{i}_padding"), impl=impl)
    np.testing.assert_array_equal(np.asarray(out.to_times()), FIXTURES[f"pool{i}_times_out"])


def test_pad():
    out = sparse.pad(_spikes("pad"), _tuple("pad_padding"))
    np.testing.assert_array_equal(np.asarray(out.to_times()), FIXTURES["pad_times_out"])


@pytest.mark.parametrize("i", range(2))
def test_inhibit(i):
    out = sparse.inhibit(_spikes(f"inhibit{i}"))
    np.testing.assert_array_equal(np.asarray(out.to_times()), FIXTURES[f"inhibit{i}_times_out"])


@pytest.mark.parametrize("i", range(4))
def test_convwta(i):
    w = sparse.convwta(_spikes(f"wta{i}"), _tuple(f"wta{i}_radius"), int(FIXTURES[f"wta{i}_count"]))
    np.testing.assert_array_equal(_winners(w), FIXTURES[f"wta{i}_winners"])


@pytest.mark.parametrize("impl", ["native"])
def test_pipeline_code_conv_pool_inhibit_convwta(impl):
    s = sparse.code(FIXTURES["pipe_x"], int(FIXTURES["pipe_T"]))
    np.testing.assert_array_equal(np.asarray(s.to_times()), FIXTURES["pipe_code"])
    c = sparse.conv(s, FIXTURES["pipe_kernel"], float(FIXTURES["pipe_threshold"]), impl=impl)
    np.testing.assert_array_equal(np.asarray(sparse.gather(c, impl=impl)), FIXTURES["pipe_conv"])
    p = sparse.pool(c, 2, impl=impl)
    np.testing.assert_array_equal(np.asarray(sparse.gather(p, impl=impl)), FIXTURES["pipe_pool"])
    np.testing.assert_array_equal(np.asarray(sparse.inhibit(c).to_times()), FIXTURES["pipe_inhibit"])
    np.testing.assert_array_equal(_winners(sparse.convwta(c, 1, 4)), FIXTURES["pipe_winners"])
