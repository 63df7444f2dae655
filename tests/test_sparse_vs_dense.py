"""spyxlike.sparse against the dense single-spike ops of issue 3 on the same data.

Runs once the dense modules are merged (skipped until then): spyxlike.event_conv
(conv_fire, pool_times). Thresholds are >= 0: for negative thresholds
sparse.conv follows Spyker's sparse rule (untouched neurons fire with the
sample's first input event), which the dense ops do not have.
"""

import numpy as np
import pytest

from spyxlike import sparse
from spyxlike.sparse_spikes import SparseSpikes

event_conv = pytest.importorskip("spyxlike.event_conv")

T = 7


def _case(seed, shape=(2, 8, 7, 3), activity=0.4):
    rng = np.random.default_rng(seed)
    times = np.where(rng.random(shape) < activity, rng.integers(0, T, shape), T).astype(np.int32)
    kernel = (rng.integers(-2, 8, size=(3, 3, shape[3], 4)) / 8.0).astype(np.float32)  # exact sums
    return times, kernel


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("threshold", [0.0, 0.75, 2.0])
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, (1, 0, 2, 1))])
def test_conv_equals_event_conv_conv_fire(seed, threshold, stride, padding):
    times, kernel = _case(seed)
    dense_times = event_conv.conv_fire(times, kernel, threshold, T, stride=stride, padding=padding,
                                       impl="reference")[0]
    out = sparse.conv(SparseSpikes.from_times(times, T), kernel, threshold, stride=stride,
                      padding=padding, impl="reference")
    np.testing.assert_array_equal(np.asarray(sparse.gather(out, impl="reference")),
                                  np.asarray(dense_times))


@pytest.mark.parametrize("kernel_size, stride, padding", [(2, None, 0), (3, 2, 1), ((2, 3), (1, 2), (0, 1, 1, 0))])
def test_pool_equals_event_conv_pool_times(kernel_size, stride, padding):
    times, _ = _case(5)
    dense = event_conv.pool_times(times, kernel_size, stride, padding)
    out = sparse.pool(SparseSpikes.from_times(times, T), kernel_size, stride, padding, impl="reference")
    np.testing.assert_array_equal(np.asarray(out.to_times()), np.asarray(dense))
