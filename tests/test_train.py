"""Tests for spyxlike.train: steps, fit, History, checkpoints and exact resumption."""

import json
import os

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from spyxlike import train as T
from spyxlike.datasets import load_digits


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _mlp_loss(hidden=32):
    model = hk.without_apply_rng(hk.transform(lambda x: hk.nets.MLP([hidden, 10], activation=jnp.tanh)(x)))

    def loss_fn(params, batch, rng):
        x, y = batch
        logits = model.apply(params, x)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, {"accuracy": jnp.mean(logits.argmax(-1) == y)}

    return model, loss_fn


# A stateful model with dropout: exercises model_state and the per-step rng.
def _stateful_forward(x, is_training=True):
    mean = hk.get_state("ema", shape=[x.shape[-1]], dtype=x.dtype, init=jnp.zeros)
    if is_training:
        hk.set_state("ema", 0.9 * mean + 0.1 * x.mean(0))
    h = jnp.tanh(hk.Linear(24)(x - mean))
    if is_training:
        h = hk.dropout(hk.next_rng_key(), 0.2, h)
    return hk.Linear(10)(h)


_stateful = hk.transform_with_state(_stateful_forward)


def _stateful_loss(params, model_state, batch, rng):
    x, y = batch
    logits, model_state = _stateful.apply(params, model_state, rng, x)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss, (model_state, {"accuracy": jnp.mean(logits.argmax(-1) == y)})


def _fresh_stateful_state(x, opt, seed=0):
    params, model_state = _stateful.init(jax.random.key(seed), x[:2])
    return T.init_train_state(params, opt, seed, model_state=model_state)


def _leaves_equal(a, b):
    def unkey(x):
        return jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x

    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    return ta == tb and all(
        np.array_equal(np.asarray(unkey(x)), np.asarray(unkey(y))) and x.dtype == y.dtype for x, y in zip(la, lb)
    )


# ---------------------------------------------------------------- init / step


def test_init_train_state():
    params = {"lin": {"w": np.ones((3, 2), np.float32), "b": np.zeros(2, np.float32)}}
    state = T.init_train_state(params, optax.adam(1e-3), 7)
    assert int(state.step) == 0 and state.step.dtype == jnp.int32
    assert state.model_state is None
    np.testing.assert_array_equal(jax.random.key_data(state.rng), jax.random.key_data(jax.random.key(7)))
    assert int(state.opt_state[0].count) == 0
    raw = T.init_train_state(params, optax.sgd(0.1), jax.random.PRNGKey(3))
    assert raw.rng.dtype == jnp.uint32
    with pytest.raises(TypeError, match="rng"):
        T.init_train_state(params, optax.sgd(0.1), "seed")
    with pytest.raises(TypeError, match="optimizer"):
        T.init_train_state(params, object(), 0)


def test_train_step_is_one_sgd_update_with_folded_key():
    """params <- params - lr * grad, step += 1, loss_fn sees fold_in(fold_in(rng, 0), step)."""
    x = jnp.array([[1.0, 2.0], [3.0, -1.0]])
    y = jnp.array([1.0, 0.5])

    def loss_fn(params, batch, rng):
        xb, yb = batch
        loss = jnp.mean((xb @ params["w"] - yb) ** 2)
        return loss, {"u": jax.random.uniform(rng)}

    w0 = jnp.array([0.5, -0.25])
    state = T.init_train_state({"w": w0}, optax.sgd(0.1), 3)
    step = T.make_train_step(loss_fn, optax.sgd(0.1))
    state1, m1 = step(state, (x, y))
    state2, m2 = step(state1, (x, y))

    grad = 2 * x.T @ (x @ w0 - y) / 2
    np.testing.assert_allclose(state1.params["w"], w0 - 0.1 * grad, rtol=1e-6)
    np.testing.assert_allclose(m1["loss"], jnp.mean((x @ w0 - y) ** 2), rtol=1e-6)
    assert list(m1) == ["loss", "u"] and int(state1.step) == 1 and int(state2.step) == 2
    for s, m in ((0, m1), (1, m2)):
        key = jax.random.fold_in(jax.random.fold_in(jax.random.key(3), 0), s)
        assert float(m["u"]) == float(jax.random.uniform(key))
    assert float(m1["u"]) != float(m2["u"])


def test_loss_fn_contract_errors():
    params = {"w": jnp.ones(2)}
    batch = (jnp.ones((4, 2)), jnp.ones(4))
    state = T.init_train_state(params, optax.sgd(0.1), 0)
    bad_loss = lambda p, b, r: (jnp.sum(p["w"]), {"loss": 1.0})
    with pytest.raises(ValueError, match="'loss'"):
        T.make_train_step(bad_loss, optax.sgd(0.1))(state, batch)
    stateless_form = lambda p, s, b, r: (jnp.sum(p["w"]), {"a": 1.0})
    with pytest.raises(TypeError, match="has_state=True"):
        T.make_train_step(stateless_form, optax.sgd(0.1), has_state=True)(state, batch)
    with pytest.raises(TypeError, match="loss_fn"):
        T.make_train_step(3, optax.sgd(0.1))


def test_eval_step_and_weighted_evaluate(digits):
    (x_tr, y_tr), (x_te, y_te) = digits
    model, loss_fn = _mlp_loss()
    params = model.init(jax.random.key(0), x_tr[:1])
    state = T.init_train_state(params, optax.adam(1e-2), 0)
    eval_step = T.make_eval_step(loss_fn)
    full = eval_step(state, (x_te, y_te))
    # 360 = 7 * 50 + 10: unequal batches must still give the full-set mean
    chunked = T.evaluate(state, eval_step, (x_te, y_te), batch_size=50)
    assert set(chunked) == {"loss", "accuracy"}
    np.testing.assert_allclose(chunked["loss"], float(full["loss"]), rtol=1e-5)
    np.testing.assert_allclose(chunked["accuracy"], float(full["accuracy"]), rtol=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        T.evaluate(state, eval_step, (x_te, y_te), batch_size=0)


# ---------------------------------------------------------------- batches


def test_epoch_batches_reproducible_and_resumable():
    data = (np.arange(10 * 3).reshape(10, 3), np.arange(10))
    rng = jax.random.key(5)
    e0 = list(T.epoch_batches(data, 3, rng, epoch=0))
    assert len(e0) == 3  # 10 // 3, remainder dropped
    seen = np.concatenate([b[1] for b in e0])
    assert len(set(seen.tolist())) == 9
    for xb, yb in e0:
        np.testing.assert_array_equal(xb, data[0][yb])  # rows and labels stay aligned
    again = list(T.epoch_batches(data, 3, rng, epoch=0))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(e0, again))
    e1 = list(T.epoch_batches(data, 3, rng, epoch=1))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(e0, e1))
    tail = list(T.epoch_batches(data, 3, rng, epoch=0, start_batch=1))
    assert [b[1].tolist() for b in tail] == [b[1].tolist() for b in e0[1:]]
    with pytest.raises(ValueError, match="leading"):
        list(T.epoch_batches((np.zeros((4, 2)), np.zeros(5)), 2, rng, 0))


# ---------------------------------------------------------------- fit / History


def test_fit_learns_digits_and_records_history(digits, tmp_path, capsys):
    """Fixed seeds: a 64-32-10 tanh MLP with Adam(1e-2) reaches >= 93 % test accuracy in 5 epochs."""
    (x_tr, y_tr), (x_te, y_te) = digits
    model, loss_fn = _mlp_loss()
    opt = optax.adam(1e-2)
    state = T.init_train_state(model.init(jax.random.key(0), x_tr[:1]), opt, 0)
    eval_step = T.make_eval_step(loss_fn)
    state, history = T.fit(
        state,
        T.make_train_step(loss_fn, opt),
        (x_tr, y_tr),
        batch_size=64,
        epochs=5,
        eval_fn=lambda s: T.evaluate(s, eval_step, (x_te, y_te), 180),
        progress=False,
    )
    assert capsys.readouterr().err == ""  # progress=False prints nothing
    assert int(state.step) == 5 * (1437 // 64)
    assert history.epochs == [1, 2, 3, 4, 5] and len(history) == 5
    assert set(history.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history["val_accuracy"][-1] >= 0.93
    assert history["loss"][-1] < 0.5 * history["loss"][0]

    d = history.to_dict()
    assert d["epoch"] == [1, 2, 3, 4, 5] and d["val_accuracy"] == history["val_accuracy"]
    history.save_json(tmp_path / "h.json")
    assert json.loads((tmp_path / "h.json").read_text()) == d
    assert T.History.load_json(tmp_path / "h.json").to_dict() == d
    history.plot(tmp_path / "curves.png", title="digits")
    png = (tmp_path / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    with pytest.raises(ValueError, match="empty"):
        T.History().plot(tmp_path / "none.png")


def test_fit_shows_progress_and_validates(digits, capsys):
    (x_tr, y_tr), _ = digits
    model, loss_fn = _mlp_loss(8)
    opt = optax.sgd(0.1)
    state = T.init_train_state(model.init(jax.random.key(0), x_tr[:1]), opt, 0)
    step = T.make_train_step(loss_fn, opt)
    state, history = T.fit(state, step, (x_tr[:256], y_tr[:256]), batch_size=128, epochs=1, progress=True)
    assert "epoch 1/1" in capsys.readouterr().err and history.epochs == [1]
    with pytest.raises(ValueError, match="batch_size"):
        T.fit(state, step, (x_tr, y_tr), batch_size=5000, epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        T.fit(state, step, (x_tr, y_tr), batch_size=64, epochs=-1)
    with pytest.raises(TypeError, match="epochs"):
        T.fit(state, step, (x_tr, y_tr), batch_size=64, epochs=2.5)
    with pytest.raises(ValueError, match="max_steps"):
        T.fit(state, step, (x_tr, y_tr), batch_size=64, epochs=1, max_steps=-3)
    # epochs is a total: a state already past it trains no further
    same, h = T.fit(state, step, (x_tr[:256], y_tr[:256]), batch_size=128, epochs=1, progress=False)
    assert int(same.step) == int(state.step) and len(h) == 0


# ---------------------------------------------------------------- checkpoints


def test_resuming_from_checkpoint_equals_not_stopping(digits, tmp_path):
    """Train 3 epochs straight vs. stop mid-epoch 2, save, restore into a fresh
    state built from other seeds, and continue: identical params, optimizer
    state, model state, step and rng (same batches, same dropout keys)."""
    (x_tr, y_tr), _ = digits
    data = (x_tr[:640], y_tr[:640])  # 5 steps per epoch at batch 128
    opt = optax.adam(3e-3)
    step = T.make_train_step(_stateful_loss, opt, has_state=True)
    kw = dict(batch_size=128, epochs=3, progress=False)

    straight, _ = T.fit(_fresh_stateful_state(x_tr, opt), step, data, **kw)
    assert int(straight.step) == 15

    stopped, _ = T.fit(_fresh_stateful_state(x_tr, opt), step, data, max_steps=7, **kw)
    assert int(stopped.step) == 7
    path = tmp_path / "ckpt.npz"
    T.save_checkpoint(path, stopped)
    template = _fresh_stateful_state(x_tr, opt, seed=123)  # different params and rng
    assert not _leaves_equal(template, stopped)
    restored = T.restore_checkpoint(path, template)
    assert _leaves_equal(restored, stopped)
    resumed, _ = T.fit(restored, step, data, **kw)

    assert _leaves_equal(resumed, straight)
    assert not _leaves_equal(straight.model_state, _fresh_stateful_state(x_tr, opt).model_state)


def test_checkpoint_roundtrip_raw_key_and_no_pickle(tmp_path):
    state = T.init_train_state({"w": jnp.arange(6.0).reshape(2, 3)}, optax.adam(1e-3), jax.random.PRNGKey(4))
    path = tmp_path / "raw"  # no .npz suffix added
    T.save_checkpoint(path, state)
    assert os.listdir(tmp_path) == ["raw"]  # written atomically, no temp file left
    with np.load(path, allow_pickle=False) as npz:
        names = set(npz.files)
        assert npz[".params['w']"].shape == (2, 3)
    assert {".params['w']", ".opt_state[0].mu['w']", ".opt_state[0].nu['w']", ".step", ".rng"} <= names
    restored = T.restore_checkpoint(path, jax.eval_shape(lambda: state))  # ShapeDtypeStruct template
    assert _leaves_equal(restored, state)
    with pytest.raises(TypeError, match="not a numeric array"):
        T.save_checkpoint(tmp_path / "obj.npz", {"x": np.array([object()])})


def test_restore_rejects_mismatched_template(tmp_path):
    opt = optax.adam(1e-3)
    state = T.init_train_state({"w": jnp.ones((2, 3))}, opt, 0)
    path = tmp_path / "c.npz"
    T.save_checkpoint(path, state)
    with pytest.raises(ValueError, match=r"\.params\['w'\]: expected shape \(3, 3\)"):
        T.restore_checkpoint(path, T.init_train_state({"w": jnp.ones((3, 3))}, opt, 0))
    with pytest.raises(ValueError, match="dtype float16"):
        T.restore_checkpoint(path, T.init_train_state({"w": jnp.ones((2, 3), jnp.float16)}, opt, 0))
    with pytest.raises(ValueError, match=r"missing from file: \[\"\.params\['v'\]\""):
        T.restore_checkpoint(path, T.init_train_state({"w": jnp.ones((2, 3)), "v": jnp.ones(2)}, opt, 0))
    with pytest.raises(ValueError, match="unexpected in file"):
        T.restore_checkpoint(path, T.init_train_state({"w": jnp.ones((2, 3))}, optax.sgd(0.1), 0))


def test_restore_rejects_corrupt_files(tmp_path):
    state = T.init_train_state({"w": jnp.ones((64, 64))}, optax.adam(1e-3), 0)
    good = tmp_path / "good.npz"
    T.save_checkpoint(good, state)
    blob = good.read_bytes()
    cases = {
        "truncated.npz": blob[: len(blob) // 2],
        "garbage.npz": b"not a zip file at all" * 10,
        "empty.npz": b"",
        "flipped.npz": blob[:200] + bytes(b ^ 0xFF for b in blob[200:400]) + blob[400:],
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match="truncated or corrupt"):
            T.restore_checkpoint(tmp_path / name, state)
    np.savez(tmp_path / "foreign.npz", a=np.ones(3))
    with pytest.raises(ValueError, match="not a spyxlike checkpoint"):
        T.restore_checkpoint(tmp_path / "foreign.npz", state)
    with pytest.raises(FileNotFoundError):
        T.restore_checkpoint(tmp_path / "missing.npz", state)
