"""spyxlike.event_datasets: N-MNIST-style event digits simulated from the bundled digits."""

import json
import os

import numpy as np
import pytest

from spyxlike import event_datasets as ed
from spyxlike import io as sio


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("event_digits")
    meta = ed.make_event_digits(out, n_per_class=4, seed=0)
    return out, meta


def _files(out):
    return sorted(f for f in os.listdir(out) if f.endswith(".bin"))


def test_layout_on_disk_and_meta(written):
    out, meta = written
    assert meta["n_train"] == 30 and meta["n_test"] == 10           # 4 per class: 3 train + 1 test
    assert len(_files(out)) == 40
    with open(out / "meta.json") as f:
        assert json.load(f) == meta
    # SLAYER's N-MNIST example reads the label lists with np.loadtxt
    train = np.loadtxt(out / "train.txt").astype(int)
    test = np.loadtxt(out / "test.txt").astype(int)
    assert train.shape == (30, 2) and test.shape == (10, 2)
    assert sorted(np.bincount(train[:, 1]).tolist()) == [3] * 10
    assert set(train[:, 0]).isdisjoint(test[:, 0])
    assert meta["n_events"] == sum(len(sio.read_2d_spikes(out / f)) for f in _files(out))


def test_deterministic_given_seed(written, tmp_path):
    out, meta = written
    again = ed.make_event_digits(tmp_path / "again", n_per_class=4, seed=0)
    assert again == meta
    for f in _files(out):
        assert (out / f).read_bytes() == (tmp_path / "again" / f).read_bytes()
    other = ed.make_event_digits(tmp_path / "other", n_per_class=4, seed=1)
    assert other["n_events"] != meta["n_events"]


def test_events_look_like_nmnist(written):
    out, _ = written
    labels = dict(np.loadtxt(out / "train.txt").astype(int).tolist())
    for f in _files(out):
        ev = sio.read_2d_spikes(out / f, shape=(34, 34))             # inside the 34x34 sensor
        assert 500 < len(ev) < 20000
        assert set(np.unique(ev.p)) == {0, 1}                         # both polarities
        assert ev.t.min() >= 0 and ev.t.max() <= 300
        for k in range(3):                                            # three saccades of 100 ms
            in_saccade = (ev.t >= 100 * k) & (ev.t < 100 * (k + 1))
            assert in_saccade.sum() > 100
            assert np.all(np.diff(ev.t[in_saccade]) >= 0)             # monotone timestamps
            assert np.all(np.diff(np.flatnonzero(in_saccade)) == 1)   # saccades not interleaved
        assert np.all(np.round(ev.t * 1000) / 1000 == ev.t)           # whole microseconds
    assert labels  # train ids present


def test_classes_differ(written):
    out, _ = written
    (x_train, y_train), _ = ed.load_event_digits(out, sampling_time=10)
    counts = x_train.sum(axis=(1, 4)).astype(np.float64)             # (N, 34, 34) event maps
    counts /= counts.sum(axis=(1, 2), keepdims=True)
    means = np.stack([counts[y_train == c].mean(0) for c in range(10)])
    within = np.mean([np.abs(counts[i] - means[y_train[i]]).sum() for i in range(len(y_train))])
    between = np.mean([np.abs(means[a] - means[b]).sum() for a in range(10) for b in range(a + 1, 10)])
    assert between > 0.5 * within
    assert not np.array_equal(counts[y_train == 0][0], counts[y_train == 1][0])


def test_load_shapes_and_binning(written):
    out, meta = written
    (x_train, y_train), (x_test, y_test) = ed.load_event_digits(out)
    assert x_train.shape == (30, 300, 34, 34, 2) and x_train.dtype == np.uint8
    assert x_test.shape == (10, 300, 34, 34, 2)
    assert y_train.shape == (30,) and y_train.dtype == np.int32 and y_test.shape == (10,)
    assert set(np.unique(x_train)) <= {0, 1}
    train_ids = np.loadtxt(out / "train.txt").astype(int)
    np.testing.assert_array_equal(y_train, train_ids[:, 1])
    # sample 0 binned exactly as Event.to_dense (SLAYER's rounding) does
    first = sio.read_2d_spikes(out / f"{train_ids[0, 0]}.bin")
    np.testing.assert_array_equal(x_train[0], first.to_dense(shape=(300, 34, 34, 2)))
    (x5, _), _ = ed.load_event_digits(out, sampling_time=5, sample_length=150)
    assert x5.shape == (30, 30, 34, 34, 2)
    np.testing.assert_array_equal(x5[0], first.to_dense(5, shape=(30, 34, 34, 2)))


def test_errors(written, tmp_path):
    out, _ = written
    with pytest.raises(ValueError, match="sampling_time.*must divide sample_length"):
        ed.load_event_digits(out, sampling_time=7, sample_length=300)
    with pytest.raises(FileNotFoundError, match="train.txt"):
        ed.load_event_digits(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train.txt").write_text("#sample #class\n0 3\nfoo\n")
    with pytest.raises(ValueError, match="line 3"):
        ed.load_event_digits(bad)
    (bad / "train.txt").write_text("0 3\n")
    (bad / "test.txt").write_text("")
    (bad / "0.bin").write_bytes(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="truncated"):
        ed.load_event_digits(bad)
    (bad / "0.bin").write_bytes(bytes([40, 0, 0x80, 0, 1]))
    with pytest.raises(ValueError, match="x = 40"):
        ed.load_event_digits(bad)
    with pytest.raises(ValueError, match="n_per_class"):
        ed.make_event_digits(tmp_path / "x", n_per_class=1)
    with pytest.raises(ValueError, match="only"):
        ed.make_event_digits(tmp_path / "x", n_per_class=400)
    with pytest.raises(ValueError, match="contrast"):
        ed.make_event_digits(tmp_path / "x", n_per_class=2, contrast=-1.0)
    with pytest.raises(ValueError, match="images"):
        ed.simulate_saccade_events(np.full((1, 8, 8), 2.0))
