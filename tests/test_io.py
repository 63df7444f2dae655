"""spyxlike.io: SLAYER's binary spike formats and the Event type."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyxlike import io as sio


def _write_bytes(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


# --------------------------------------------------------------------------
# hand-built byte sequences -> known events
# --------------------------------------------------------------------------

def test_read_2d_hand_built_records(tmp_path):
    # x=3, y=7, ON, t=0x012345 us ; x=255, y=0, OFF, t=0x7FFFFF us (max 23 bits)
    data = [3, 7, 0x80 | 0x01, 0x23, 0x45,
            255, 0, 0x7F, 0xFF, 0xFF]
    ev = sio.read_2d_spikes(_write_bytes(tmp_path, "a.bin", data))
    assert ev.dim == 2 and len(ev) == 2
    np.testing.assert_array_equal(ev.x, [3, 255])
    np.testing.assert_array_equal(ev.y, [7, 0])
    np.testing.assert_array_equal(ev.p, [1, 0])
    np.testing.assert_array_equal(ev.t, [0x012345 / 1000, 0x7FFFFF / 1000])


def test_encode_2d_writes_nmnist_bit_layout(tmp_path):
    ev = sio.Event([3, 255], [7, 0], [1, 0], [0x012345 / 1000, 8388.607])
    path = tmp_path / "b.bin"
    sio.encode_2d_spikes(path, ev)
    assert path.read_bytes() == bytes([3, 7, 0x81, 0x23, 0x45, 255, 0, 0x7F, 0xFF, 0xFF])


def test_read_1d_hand_built_records(tmp_path):
    # neuron 0x1234 ON at 5 us; neuron 1 OFF at 0x400000 us
    data = [0x12, 0x34, 0x80, 0x00, 0x05,
            0x00, 0x01, 0x40, 0x00, 0x00]
    ev = sio.read_1d_spikes(_write_bytes(tmp_path, "a.bin", data))
    assert ev.dim == 1 and ev.y is None
    np.testing.assert_array_equal(ev.x, [0x1234, 1])
    np.testing.assert_array_equal(ev.p, [1, 0])
    np.testing.assert_array_equal(ev.t, [0.005, 0x400000 / 1000])
    out = tmp_path / "b.bin"
    sio.encode_1d_spikes(out, ev)
    assert out.read_bytes() == bytes(data)


def test_read_3d_hand_built_records(tmp_path):
    # x = 0xABC, y = 0x123, channel 0x7E, t = 0xFEDCBA us (24 bits, no polarity bit)
    data = [0xAB, 0xC1, 0x23, 0x7E, 0xFE, 0xDC, 0xBA]
    ev = sio.read_3d_spikes(_write_bytes(tmp_path, "a.bin", data))
    np.testing.assert_array_equal(ev.x, [0xABC])
    np.testing.assert_array_equal(ev.y, [0x123])
    np.testing.assert_array_equal(ev.p, [0x7E])
    np.testing.assert_array_equal(ev.t, [0xFEDCBA / 1000])
    out = tmp_path / "b.bin"
    sio.encode_3d_spikes(out, ev)
    assert out.read_bytes() == bytes(data)


def test_read_1d_num_spikes_hand_built(tmp_path):
    data = [0x01, 0x02, 0x00, 0x27, 0x10, 0x01, 0x86, 0xA0, 0x00, 0x3C]
    n_id, t_st, t_en, n_sp = sio.read_1d_num_spikes(_write_bytes(tmp_path, "a.bin", data))
    np.testing.assert_array_equal(n_id, [0x0102])
    np.testing.assert_array_equal(t_st, [10.0])     # 10000 us
    np.testing.assert_array_equal(t_en, [100.0])    # 100000 us
    np.testing.assert_array_equal(n_sp, [60])
    out = tmp_path / "b.bin"
    sio.encode_1d_num_spikes(out, n_id, t_st, t_en, n_sp)
    assert out.read_bytes() == bytes(data)


def test_empty_files_give_empty_events(tmp_path):
    path = _write_bytes(tmp_path, "e.bin", b"")
    assert len(sio.read_2d_spikes(path)) == 0
    assert len(sio.read_1d_spikes(path)) == 0
    assert len(sio.read_3d_spikes(path)) == 0
    assert all(len(a) == 0 for a in sio.read_1d_num_spikes(path))
    out = tmp_path / "o.bin"
    sio.encode_2d_spikes(out, sio.Event([], [], [], []))
    assert out.read_bytes() == b""


# --------------------------------------------------------------------------
# round trips (hypothesis over the full field ranges)
# --------------------------------------------------------------------------

def _fields(draw, n, bits):
    return np.array(draw(st.lists(st.integers(0, (1 << bits) - 1), min_size=n, max_size=n)), np.int64)


@st.composite
def _records(draw, x_bits, y_bits, p_bits, t_bits):
    n = draw(st.integers(0, 40))
    x = _fields(draw, n, x_bits)
    y = None if y_bits is None else _fields(draw, n, y_bits)
    p = _fields(draw, n, p_bits)
    t_us = _fields(draw, n, t_bits)
    return x, y, p, t_us


@settings(max_examples=40, deadline=None)
@given(rec=_records(8, 8, 1, 23))
def test_2d_round_trip_exact(tmp_path_factory, rec):
    x, y, p, t_us = rec
    path = tmp_path_factory.mktemp("rt") / "s.bin"
    ev = sio.Event(x, y, p, t_us / 1000)
    sio.encode_2d_spikes(path, ev)
    assert path.stat().st_size == 5 * len(x)
    back = sio.read_2d_spikes(path)
    for name in "xyp":
        np.testing.assert_array_equal(getattr(back, name), getattr(ev, name))
    np.testing.assert_array_equal(back.t, ev.t)           # same floats: us / 1000
    np.testing.assert_array_equal(np.round(back.t * 1000).astype(np.int64), t_us)


@settings(max_examples=30, deadline=None)
@given(rec=_records(16, None, 1, 23))
def test_1d_round_trip_exact(tmp_path_factory, rec):
    x, _, p, t_us = rec
    path = tmp_path_factory.mktemp("rt") / "s.bin"
    sio.encode_1d_spikes(path, sio.Event(x, None, p, t_us / 1000))
    back = sio.read_1d_spikes(path)
    np.testing.assert_array_equal(back.x, x)
    np.testing.assert_array_equal(back.p, p)
    np.testing.assert_array_equal(back.t, t_us / 1000)


@settings(max_examples=30, deadline=None)
@given(rec=_records(12, 12, 8, 24))
def test_3d_round_trip_exact(tmp_path_factory, rec):
    x, y, c, t_us = rec
    path = tmp_path_factory.mktemp("rt") / "s.bin"
    sio.encode_3d_spikes(path, sio.Event(x, y, c, t_us / 1000))
    assert path.stat().st_size == 7 * len(x)
    back = sio.read_3d_spikes(path)
    np.testing.assert_array_equal(back.x, x)
    np.testing.assert_array_equal(back.y, y)
    np.testing.assert_array_equal(back.p, c)
    np.testing.assert_array_equal(back.t, t_us / 1000)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_num_spikes_round_trip_exact(tmp_path_factory, data):
    n = data.draw(st.integers(0, 20))
    n_id = _fields(data.draw, n, 16)
    a = _fields(data.draw, n, 24)
    b = _fields(data.draw, n, 24)
    t_st, t_en = np.minimum(a, b), np.maximum(a, b)
    n_sp = _fields(data.draw, n, 16)
    path = tmp_path_factory.mktemp("rt") / "n.bin"
    sio.encode_1d_num_spikes(path, n_id, t_st / 1000, t_en / 1000, n_sp)
    r_id, r_st, r_en, r_sp = sio.read_1d_num_spikes(path)
    np.testing.assert_array_equal(r_id, n_id)
    np.testing.assert_array_equal(r_st, t_st / 1000)
    np.testing.assert_array_equal(r_en, t_en / 1000)
    np.testing.assert_array_equal(r_sp, n_sp)


def test_encode_rounds_times_to_microseconds(tmp_path):
    path = tmp_path / "r.bin"
    sio.encode_2d_spikes(path, sio.Event([0, 1], [0, 0], [1, 1], [1.0004, 1.0006]))
    np.testing.assert_array_equal(sio.read_2d_spikes(path).t, [1.0, 1.001])


# --------------------------------------------------------------------------
# truncated / corrupt / out-of-range
# --------------------------------------------------------------------------

@pytest.mark.parametrize("reader,record", [
    (sio.read_1d_spikes, 5), (sio.read_2d_spikes, 5), (sio.read_3d_spikes, 7),
    (sio.read_1d_num_spikes, 10),
])
def test_truncated_files_are_rejected(tmp_path, reader, record):
    path = _write_bytes(tmp_path, "t.bin", bytes(range(2 * record + 3)))
    with pytest.raises(ValueError, match=rf"not a multiple of the {record}-byte .*truncated"):
        reader(path)


def test_truncated_real_file(tmp_path):
    path = tmp_path / "full.bin"
    sio.encode_2d_spikes(path, sio.Event([1, 2, 3], [4, 5, 6], [0, 1, 0], [1.0, 2.0, 3.0]))
    cut = _write_bytes(tmp_path, "cut.bin", path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="14 bytes"):
        sio.read_2d_spikes(cut)


def test_corrupt_content_outside_sensor_shape(tmp_path):
    path = _write_bytes(tmp_path, "c.bin", [3, 40, 0x80, 0, 1])
    assert sio.read_2d_spikes(path).y[0] == 40
    with pytest.raises(ValueError, match=r"corrupt.*y = 40"):
        sio.read_2d_spikes(path, shape=(34, 34))
    path = _write_bytes(tmp_path, "d.bin", [200, 3, 0x80, 0, 1])
    with pytest.raises(ValueError, match=r"x = 200"):
        sio.read_2d_spikes(path, shape=(34, 34))
    path = _write_bytes(tmp_path, "e.bin", [0, 9, 0x80, 0, 1])
    with pytest.raises(ValueError, match=r"x \(neuron id\) = 9"):
        sio.read_1d_spikes(path, num_neurons=9)
    path = _write_bytes(tmp_path, "f.bin", [0, 0, 1, 5, 0, 0, 3])
    with pytest.raises(ValueError, match=r"p \(channel\) = 5"):
        sio.read_3d_spikes(path, shape=(4, 4, 2))


def test_corrupt_num_spikes_region(tmp_path):
    # region ends (1 us) before it starts (2 us)
    path = _write_bytes(tmp_path, "n.bin", [0, 1, 0, 0, 2, 0, 0, 1, 0, 3])
    with pytest.raises(ValueError, match="t_end"):
        sio.read_1d_num_spikes(path)


@pytest.mark.parametrize("fields,match", [
    (([256], [0], [1], [1.0]), r"x \(column\).*8-bit.*256"),
    (([0], [300], [1], [1.0]), r"y \(row\).*8-bit.*300"),
    (([0], [0], [2], [1.0]), r"p \(polarity\).*1-bit"),
    (([0], [0], [1], [8388.608]), r"t \(timestamp\).*23-bit"),
    (([0], [0], [1], [-0.5]), r"t \(timestamp\) must be >= 0"),
])
def test_encode_2d_out_of_range_fields(tmp_path, fields, match):
    path = tmp_path / "o.bin"
    with pytest.raises(ValueError, match=match):
        sio.encode_2d_spikes(path, sio.Event(*fields))
    assert not path.exists()


def test_encode_out_of_range_other_formats(tmp_path):
    with pytest.raises(ValueError, match=r"x \(neuron id\).*16-bit"):
        sio.encode_1d_spikes(tmp_path / "a", sio.Event([1 << 16], None, [0], [0.0]))
    with pytest.raises(ValueError, match=r"y \(row\).*12-bit"):
        sio.encode_3d_spikes(tmp_path / "b", sio.Event([0], [4096], [0], [0.0]))
    with pytest.raises(ValueError, match=r"p \(channel\).*8-bit"):
        sio.encode_3d_spikes(tmp_path / "c", sio.Event([0], [0], [256], [0.0]))
    with pytest.raises(ValueError, match=r"t \(timestamp\).*24-bit"):
        sio.encode_3d_spikes(tmp_path / "d", sio.Event([0], [0], [0], [16777.216]))
    with pytest.raises(ValueError, match=r"n_spikes.*16-bit"):
        sio.encode_1d_num_spikes(tmp_path / "e", [0], [0.0], [1.0], [70000])
    with pytest.raises(ValueError, match=r"t_end must be >= t_start"):
        sio.encode_1d_num_spikes(tmp_path / "f", [0], [2.0], [1.0], [1])
    with pytest.raises(ValueError, match="same length|one length"):
        sio.encode_1d_num_spikes(tmp_path / "g", [0, 1], [2.0], [3.0], [1])


def test_encode_wrong_event_dimension(tmp_path):
    with pytest.raises(ValueError, match="expected a 2-D event"):
        sio.encode_2d_spikes(tmp_path / "a", sio.Event([0], None, [0], [0.0]))
    with pytest.raises(ValueError, match="expected a 1-D event"):
        sio.encode_1d_spikes(tmp_path / "b", sio.Event([0], [0], [0], [0.0]))
    with pytest.raises(TypeError, match="Event"):
        sio.encode_2d_spikes(tmp_path / "c", ([0], [0], [0], [0.0]))


@pytest.mark.parametrize("args,match", [
    (([-1], [0], [0], [0.0]), r"x must be non-negative"),
    (([0], [-2], [0], [0.0]), r"y must be non-negative"),
    (([0], [0], [-1], [0.0]), r"p must be non-negative.*p > 0"),
    (([0.5], [0], [0], [0.0]), r"x must hold integer"),
    (([0], [0], [0], [np.nan]), r"t must be finite"),
    (([0, 1], [0], [0, 0], [0.0, 1.0]), r"same length.*y has 1"),
    (([[0]], [0], [0], [0.0]), r"x must be a 1-D"),
])
def test_event_validation(args, match):
    with pytest.raises(ValueError, match=match):
        sio.Event(*args)


def test_event_keeps_polarity_as_given():
    # SLAYER subtracts p.min(): an all-ON stream would read back as OFF.
    ev = sio.Event([0, 1], [0, 0], [1, 1], [0.0, 1.0])
    np.testing.assert_array_equal(ev.p, [1, 1])


# --------------------------------------------------------------------------
# binning: to_spike_array / to_spike_tensor / to_dense / back to events
# --------------------------------------------------------------------------

def test_to_spike_array_binning_follows_slayer():
    # times 0.4 -> bin 0, 2.5 -> bin 2 (np.round: half to even), 3.5 -> 4, 5.0 -> 5
    ev = sio.Event([1, 2, 0, 2], [0, 1, 1, 1], [0, 1, 1, 1], [0.4, 2.5, 3.5, 5.0])
    a = ev.to_spike_array()
    assert a.shape == (2, 2, 3, 6) and a.dtype == np.float32   # (C, H, W, T), T = round(5/1 + 1)
    expected = np.zeros((2, 2, 3, 6), np.float32)
    expected[0, 0, 1, 0] = expected[1, 1, 2, 2] = expected[1, 1, 0, 4] = expected[1, 1, 2, 5] = 1
    np.testing.assert_array_equal(a, expected)

    b = ev.to_spike_array(sampling_time=2)       # bins round(t/2): 0, 1 (1.25), 2 (1.75), 2 (2.5->2)
    assert b.shape == (2, 2, 3, 4)
    assert b[0, 0, 1, 0] == 0.5 and b[1, 1, 2, 1] == 0.5 and b[1, 1, 0, 2] == 0.5 and b[1, 1, 2, 2] == 0.5
    assert b.sum() == 2.0


def test_to_spike_array_dim_drops_outside_events_and_sum_mode():
    ev = sio.Event([0, 0, 5], [0, 0, 0], [0, 0, 0], [1.0, 1.2, 1.0])
    a = ev.to_spike_array(dim=(1, 1, 2, 3))
    assert a.shape == (1, 1, 2, 3) and a.sum() == 1.0          # x=5 dropped, two events OR-ed
    s = ev.to_spike_array(dim=(1, 1, 2, 3), binning_mode="SUM")
    assert s[0, 0, 0, 1] == 2.0
    with pytest.raises(ValueError, match="binning_mode"):
        ev.to_spike_array(binning_mode="MAX")
    with pytest.raises(ValueError, match="sampling_time"):
        ev.to_spike_array(sampling_time=0)
    with pytest.raises(ValueError, match="dim"):
        ev.to_spike_array(dim=(1, 2, 3))
    with pytest.raises(ValueError, match="dim must be given"):
        sio.Event([], [], [], []).to_spike_array()


def test_1d_spike_array_and_tensor():
    ev = sio.Event([0, 3], None, [1, 0], [2.0, 0.0])
    a = ev.to_spike_array()
    assert a.shape == (2, 4, 3)                                  # (C, N, T)
    assert a[1, 0, 2] == 1 and a[0, 3, 0] == 1 and a.sum() == 2
    t4 = ev.to_spike_tensor(np.zeros((2, 1, 4, 3)))
    np.testing.assert_array_equal(t4[:, 0], a)
    empty = np.zeros((2, 4, 3), np.float32)
    t3 = ev.to_spike_tensor(empty)
    np.testing.assert_array_equal(t3, a)
    assert empty.sum() == 0                                     # argument untouched (SLAYER: in place)
    with pytest.raises(ValueError, match="empty_tensor"):
        ev.to_spike_tensor(np.zeros((2, 4)))


def test_random_shift_is_seeded():
    ev = sio.Event(np.arange(5), np.zeros(5), np.zeros(5), np.arange(5) * 20.0)
    a = ev.to_spike_tensor(np.zeros((1, 1, 5, 50)), random_shift=True, rng=3)
    b = ev.to_spike_tensor(np.zeros((1, 1, 5, 50)), random_shift=True, rng=3)
    np.testing.assert_array_equal(a, b)
    assert a.sum() >= 1


def test_spike_array_to_event_round_trip():
    rng = np.random.default_rng(0)
    spikes = (rng.random((2, 5, 6, 30)) < 0.1).astype(np.float32)
    ev = sio.spike_array_to_event(spikes, sampling_time=2)
    assert np.all(np.diff(ev.t) >= 0)                           # sorted by time
    np.testing.assert_array_equal(ev.to_spike_array(2, dim=spikes.shape) * 2, spikes)
    ev1 = sio.spike_array_to_event(spikes[:, 0])                # (C, N, T) -> 1-D events
    assert ev1.dim == 1
    np.testing.assert_array_equal(ev1.to_spike_array(dim=spikes[:, 0].shape), spikes[:, 0])
    with pytest.raises(ValueError, match=r"\(C, N, T\) or \(C, H, W, T\)"):
        sio.spike_array_to_event(spikes[0, 0])


def test_to_dense_is_spyxlike_layout():
    rng = np.random.default_rng(1)
    spikes = (rng.random((2, 5, 6, 30)) < 0.1).astype(np.float32)   # (C, H, W, T)
    ev = sio.spike_array_to_event(spikes)
    dense = ev.to_dense(shape=(30, 5, 6, 2))
    assert dense.dtype == np.uint8 and dense.shape == (30, 5, 6, 2)
    np.testing.assert_array_equal(dense, np.transpose(spikes, (3, 1, 2, 0)))
    back = sio.dense_to_event(dense)
    np.testing.assert_array_equal(back.to_dense(shape=dense.shape), dense)
    ev1 = sio.Event([0, 2, 2], None, [0, 1, 1], [1.0, 1.0, 1.0])
    d1 = ev1.to_dense(binning_mode="SUM")
    assert d1.shape == (2, 3, 2) and d1[1, 2, 1] == 2
    np.testing.assert_array_equal(sio.dense_to_event(d1).to_dense(shape=d1.shape), (d1 > 0).astype(np.uint8))
    many = sio.Event(np.zeros(300), np.zeros(300), np.zeros(300), np.zeros(300))
    with pytest.raises(ValueError, match="wider dtype"):
        many.to_dense(binning_mode="SUM")
    assert many.to_dense(binning_mode="SUM", dtype=np.int32)[0, 0, 0, 0] == 300
