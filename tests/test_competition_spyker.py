"""convwta, fcwta and inhibit against Spyker 0.1.0 (fixtures from record_spyker_competition.py)."""

import os

import numpy as np
import pytest

from spyxlike import competition, inhibition

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "spyker_competition.npz")
DATA = np.load(FIXTURE)


def _params(prefix):
    """(impl, case) pairs: every case for reference and native; the Pallas
    interpreter is slow to compile, so it gets the first parameter set of each input."""
    cases = _cases(prefix)
    pairs = [(impl, c) for impl in ("reference", "native") for c in cases]
    return pairs + [("pallas", c) for c in cases if c.endswith("_0")]


def _cases(prefix):
    return sorted({k.rsplit("_", 1)[0] for k in DATA.files
                   if k.startswith(prefix) and (k.endswith("_winners") or k.endswith("_y"))})


def _winner_rows(w):
    rows = np.stack([np.asarray(w.feature), np.asarray(w.row), np.asarray(w.col)], -1)
    return np.where(np.asarray(w.valid)[..., None], rows, -1)


@pytest.mark.parametrize("impl,case", _params("conv_"))
def test_convwta_matches_spyker(impl, case):
    x = DATA[case.rsplit("_", 1)[0] + "_x"]  # (B, T, C, H, W)
    ry, rx, count, thr = DATA[case + "_params"]
    expected = DATA[case + "_winners"]  # rows (z, y, x)
    w = competition.convwta(np.transpose(x, (0, 1, 3, 4, 2)), (int(ry), int(rx)), int(count),
                            float(thr), impl=impl)
    np.testing.assert_array_equal(_winner_rows(w), expected)


@pytest.mark.parametrize("impl,case", _params("fc_"))
def test_fcwta_matches_spyker(impl, case):
    x = DATA[case.rsplit("_", 1)[0] + "_x"]  # (B, T, F)
    radius, _, count, thr = DATA[case + "_params"]
    expected = DATA[case + "_winners"]  # rows (0, 0, x)
    w = competition.fcwta(x, int(radius), int(count), float(thr), impl=impl)
    valid = np.asarray(w.valid)
    np.testing.assert_array_equal(np.where(valid, np.asarray(w.feature), -1), expected[..., 2])
    np.testing.assert_array_equal(valid, expected[..., 0] >= 0)


@pytest.mark.parametrize("impl,case", _params("inhibit_"))
def test_inhibit_matches_spyker(impl, case):
    x = DATA[case.rsplit("_", 1)[0] + "_x"]  # (B, T, C, H, W)
    thr = float(DATA[case + "_threshold"])
    expected = np.transpose(DATA[case + "_y"], (0, 1, 3, 4, 2))
    y = inhibition.inhibit(np.transpose(x, (0, 1, 3, 4, 2)), thr, impl=impl)
    np.testing.assert_array_equal(np.asarray(y), expected)


def test_fixture_has_all_groups():
    assert len(_cases("conv_")) == 11 and len(_cases("fc_")) == 6 and len(_cases("inhibit_")) == 12
