"""Spike-wave ops against values recorded from Spyker 0.1.0 (tests/fixtures/record_spyker_spikewave.py)."""

import os

import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import spikeconv, spiketime, spikewave

_PATH = os.path.join(os.path.dirname(__file__), "fixtures", "spyker_spikewave.npz")
FIX = np.load(_PATH)


def cases(prefix):
    names = sorted({k.split("/")[0] for k in FIX.files if k.split("/")[0].startswith(prefix)})
    assert names, prefix
    return names


def spec(a):
    a = tuple(int(v) for v in a)
    return None if not a else (a[0] if len(a) == 1 else a)


@pytest.mark.parametrize("case", cases("code"))
def test_code_rank(case):
    sort = case.endswith("_1")
    x, time = FIX[f"{case}/x"], int(FIX[f"{case}/time"])
    y = spikewave.code(x, time, sort=sort, dtype=jnp.uint8)
    np.testing.assert_array_equal(y, FIX[f"{case}/y"])


@pytest.mark.parametrize("case", cases("fire_"))
def test_spyker_fire(case):
    code = "rate" if case.startswith("fire_rate") else "rank"
    y = spikewave.spyker_fire(FIX[f"{case}/p"], float(FIX[f"{case}/threshold"]), code=code,
                              dtype=jnp.int32)
    np.testing.assert_array_equal(y, FIX[f"{case}/y"])


def test_threshold_infinite_quantize_levels():
    np.testing.assert_array_equal(spikewave.threshold(FIX["threshold/x"], 0.5, -3.0),
                                  FIX["threshold/y"])
    np.testing.assert_array_equal(spikewave.infinite(FIX["infinite/x"], -7.0), FIX["infinite/y"])
    np.testing.assert_array_equal(spikewave.quantize_levels(FIX["quantize_levels/x"], -1.0, 0.25, 5.0),
                                  FIX["quantize_levels/y"])


@pytest.mark.parametrize("case", cases("pad"))
def test_pad(case):
    y = spikewave.pad(FIX[f"{case}/x"], spec(FIX[f"{case}/pad"]), 2.5)
    np.testing.assert_array_equal(y, FIX[f"{case}/y"])


def test_gather_scatter():
    np.testing.assert_array_equal(spiketime.gather(FIX["gather_waves/x"]), FIX["gather_waves/y"])
    np.testing.assert_array_equal(spiketime.gather(FIX["gather_pot/x"], 1.0), FIX["gather_pot/y"])
    np.testing.assert_array_equal(
        spiketime.gather(FIX["gather_rate/x"], 1.0, code="rate", dtype=jnp.float32),
        FIX["gather_rate/y"])
    np.testing.assert_array_equal(spiketime.scatter(FIX["scatter_int/x"], 7, jnp.uint8),
                                  FIX["scatter_int/y"])
    np.testing.assert_array_equal(spiketime.scatter(FIX["scatter_float/x"], 7, jnp.uint8),
                                  FIX["scatter_float/y"])


@pytest.mark.parametrize("case", cases("labelize"))
def test_labelize(case):
    y = spiketime.labelize(FIX[f"{case}/x"], float(FIX[f"{case}/threshold"]))
    np.testing.assert_array_equal(y, FIX[f"{case}/y"])


@pytest.mark.parametrize("case", cases("backward"))
def test_backward(case):
    y = spiketime.backward(FIX[f"{case}/x"], FIX[f"{case}/target"], int(FIX[f"{case}/time"]),
                           float(FIX[f"{case}/gamma"]))
    np.testing.assert_allclose(y, FIX[f"{case}/y"], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", cases("fc"))
def test_fc(case):
    y = spikeconv.fc(FIX[f"{case}/x"], FIX[f"{case}/w"], sign=case == "fc1")
    np.testing.assert_allclose(y, FIX[f"{case}/y"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", cases("conv"))
def test_conv(case):
    y = spikeconv.conv(FIX[f"{case}/x"], FIX[f"{case}/k"], spec(FIX[f"{case}/stride"]),
                       spec(FIX[f"{case}/pad"]))
    np.testing.assert_allclose(y, FIX[f"{case}/y"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", [c for c in cases("pool") if c[4:5].isdigit()])
def test_pool(case):
    y = spikeconv.pool(FIX[f"{case}/x"], spec(FIX[f"{case}/kernel"]), spec(FIX[f"{case}/stride"]),
                       spec(FIX[f"{case}/pad"]))
    np.testing.assert_array_equal(y, FIX[f"{case}/y"])


def test_pool_pads_with_zero():
    np.testing.assert_array_equal(spikeconv.pool(FIX["pool_signed/x"], 2, None, 1),
                                  FIX["pool_signed/y"])


@pytest.mark.parametrize("case", cases("pool_rates"))
def test_pool_rates(case):
    y = spikeconv.pool(FIX[f"{case}/x"], spec(FIX[f"{case}/kernel"]), spec(FIX[f"{case}/stride"]),
                       rates=FIX[f"{case}/rates"])
    np.testing.assert_array_equal(y, FIX[f"{case}/y"])
