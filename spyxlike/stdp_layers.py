r"""Haiku modules for single-spike STDP layers (SpykeTorch's ``snn``, Spyker's ``Conv``/``FC``).

The modules are thin: they create the weight parameter ``"w"`` and call the
functional ops. Learning happens outside the module, on the Haiku ``params``
pytree, with pure functions (the Haiku way of SpykeTorch's ``STDP(conv_layer,
...)`` object and its in-place updates):

* :class:`Convolution` (alias :class:`Conv`): HWIO kernel ``(kh, kw, Cin,
  Cout)``; ``__call__`` = :func:`spyxlike.spikeconv.conv` on spike-waves
  ``(B, T, H, W, Cin)``; :meth:`Convolution.fire_times` =
  :func:`spyxlike.event_conv.conv_fire` on spike times ``(B, H, W, Cin)``
  (event-driven native kernel).
* :class:`FC`: weights ``(Fin, Fout)``; ``__call__`` =
  :func:`spyxlike.spikeconv.fc` on ``(B, T, Fin)`` waves; :meth:`FC.fire_times`
  = :func:`spyxlike.event_conv.fc_fire` on ``(B, Fin)`` times.
* :class:`Pooling`: :func:`spyxlike.spikeconv.pool` on waves,
  :meth:`Pooling.pool_times` = :func:`spyxlike.event_conv.pool_times` on times.
* :func:`stdp_update` / :func:`rstdp_update`: new params with one module's
  ``"w"`` updated by :func:`spyxlike.stdp.stdp_conv` / :func:`~spyxlike.stdp.stdp_fc`
  (or :func:`spyxlike.rstdp.rstdp_conv` / :func:`~spyxlike.rstdp.rstdp_fc`).
* :func:`reset_weight`: new params with kernels redrawn from
  ``normal(weight_mean, weight_std)`` (SpykeTorch's ``reset_weight``).
* :func:`stdp_layers`: reads, outside any transform, every STDP layer's
  name, STDP config, stride and padding from a network function.

Initialisation: ``w ~ normal(weight_mean, weight_std)``, not truncated or
clipped, with SpykeTorch's defaults ``(0.8, 0.02)``; Spyker's ``Conv``/``FC``
default to mean 0.5 (std 0.02) - pass ``weight_mean=0.5`` to match Spyker.
Differences: SpykeTorch's ``Convolution`` takes ``in_channels`` and supports
neither stride nor padding; here ``Cin`` is read from the first input (Haiku
style) and stride/padding follow Spyker's ``Expand2``/``Expand4``. Layouts
are channels-last (SpykeTorch ``(T, C, H, W)``, Spyker ``(B, T, C, H, W)``
with ``(Cout, Cin, kh, kw)`` kernels).

Example - a 2-layer net trained layer by layer with STDP and k-WTA on spike
times (``stdp_layers`` reads the per-layer configs outside the transform):

```python
import haiku as hk
import jax
import jax.numpy as jnp
from spyxlike import stdp_layers as sl
from spyxlike.competition import k_winners_from_times

T = 15

def net(times):                                   # (B, H, W, 2) input spike times
    conv1 = sl.Convolution(8, 5, padding=2, stdp=(0.004, -0.003), name="conv1")
    conv2 = sl.Convolution(16, 3, padding=1, stdp=(0.004, -0.003), name="conv2")
    t1, v1 = conv1.fire_times(times, threshold=8.0, time_steps=T)
    p1 = sl.Pooling(2).pool_times(t1)
    t2, v2 = conv2.fire_times(p1, threshold=4.0, time_steps=T)
    return {"in1": times, "t1": t1, "v1": v1, "in2": p1, "t2": t2, "v2": v2}

model = hk.without_apply_rng(hk.transform(net))
key = jax.random.PRNGKey(0)
x = jax.random.randint(key, (4, 16, 16, 2), 0, T + 1)   # a small random batch
params = model.init(key, x)
layers = sl.stdp_layers(net, x)                   # {"conv1": spec, "conv2": spec}

def train_step(name, n):                          # one STDP step of layer n
    @jax.jit
    def step(params, x):
        out = model.apply(params, x)
        winners = k_winners_from_times(out["t" + n], out["v" + n], kwta=3,
                                       inhibition_radius=2, time_steps=T)
        return sl.stdp_update(params, name, out["in" + n], out["t" + n], winners,
                              layers[name], time_steps=T)
    return step

for name, n in (("conv1", "1"), ("conv2", "2")):  # train conv1, then conv2
    step = train_step(name, n)
    for _ in range(3):
        params = step(params, x)
```
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from spyxlike import event_conv, spikeconv
from spyxlike.expand import expand2, expand4
from spyxlike.rstdp import rstdp_conv, rstdp_fc
from spyxlike.stdp import stdp_conv, stdp_fc
from spyxlike.stdp_config import STDPConfig, learning_rate_table

__all__ = [
    "Convolution",
    "Conv",
    "FC",
    "Pooling",
    "STDPLayerSpec",
    "stdp_layers",
    "stdp_update",
    "rstdp_update",
    "reset_weight",
]


# --------------------------------------------------------------------------- validation

def _check_positive_int(fn: str, name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{fn}: {name} must be >= 1, got {value}")
    return int(value)


def _check_init(fn: str, weight_mean, weight_std) -> tuple[float, float]:
    for name, v in (("weight_mean", weight_mean), ("weight_std", weight_std)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"{fn}: {name} must be a real number, got {v!r}")
        if not math.isfinite(float(v)):
            raise ValueError(f"{fn}: {name} must be finite, got {v}")
    if weight_std < 0:
        raise ValueError(f"{fn}: weight_std must be >= 0, got {weight_std}")
    return float(weight_mean), float(weight_std)


def _check_stdp(fn: str, stdp, features: int):
    """Validates a per-layer STDP config: None, an STDPConfig, or a rate pair / table."""
    if stdp is None or isinstance(stdp, STDPConfig):
        return stdp
    if isinstance(stdp, (list, tuple)) and stdp and all(isinstance(c, STDPConfig) for c in stdp):
        raise ValueError(
            f"{fn}: stdp must be one STDPConfig or (a_LTP, a_LTD) rates, got a list of "
            f"{len(stdp)} STDPConfigs (Spyker's per-winner configs: use spyxlike.stdp.stdp_spyker)"
        )
    learning_rate_table(stdp, features, f"{fn}: stdp")
    return stdp


def _check_waves(fn: str, waves, ndim: int, layout: str):
    shape = tuple(np.shape(waves))
    if len(shape) != ndim:
        raise ValueError(f"{fn}: waves must be {layout} (rank {ndim}), got shape {shape}")
    return waves


# --------------------------------------------------------------------------- modules

class STDPLayerSpec(NamedTuple):
    """What :func:`stdp_layers` reports about one STDP layer.

    Attributes:
      kind: ``"conv"`` or ``"fc"``.
      stdp: the layer's STDP config as given (``None``, an
        :class:`~spyxlike.stdp_config.STDPConfig` or ``(a_LTP, a_LTD)`` rates).
      stride: ``(sh, sw)`` (``(1, 1)`` for FC).
      padding: ``(top, left, bottom, right)`` (zeros for FC).
      weight_mean: the initialisation mean.
      weight_std: the initialisation standard deviation.
    """

    kind: str
    stdp: Any
    stride: tuple
    padding: tuple
    weight_mean: float
    weight_std: float


class _STDPLayer(hk.Module):
    """Common base of :class:`Convolution` and :class:`FC` (found by :func:`stdp_layers`)."""

    kind = ""
    stride = (1, 1)
    padding = (0, 0, 0, 0)

    def _weights(self, shape) -> jax.Array:
        init = hk.initializers.RandomNormal(stddev=self.weight_std, mean=self.weight_mean)
        return hk.get_parameter("w", shape, jnp.float32, init=init)


class Convolution(_STDPLayer):
    """Single-spike convolution layer (SpykeTorch's ``snn.Convolution``, Spyker's ``Conv``).

    Parameter ``"w"``: HWIO kernel ``(kh, kw, Cin, Cout)``, float32, drawn from
    ``normal(weight_mean, weight_std)`` (SpykeTorch default ``(0.8, 0.02)``;
    Spyker's ``Conv`` uses mean 0.5). ``Cin`` comes from the first input.

    Attributes:
      out_channels: ``Cout``.
      kernel_size: ``(kh, kw)``.
      stride: ``(sh, sw)``.
      padding: ``(top, left, bottom, right)``.
      weight_mean: initialisation mean.
      weight_std: initialisation standard deviation.
      stdp: the layer's STDP config (``None``, an STDPConfig or rates), read
        outside the transform with :func:`stdp_layers` and passed to
        :func:`stdp_update`.
    """

    kind = "conv"

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0,
                 weight_mean: float = 0.8, weight_std: float = 0.02, stdp=None,
                 name: str | None = None):
        """Creates the layer (inside ``hk.transform``).

        Args:
          out_channels: number of feature maps ``Cout >= 1``.
          kernel_size: Spyker ``Expand2``: int or ``(kh, kw)``, each >= 1.
          stride: Spyker ``Expand2``: int or ``(sh, sw)``, each >= 1.
          padding: Spyker ``Expand4``: int, ``(vertical, horizontal)`` or
            ``(top, left, bottom, right)``, each >= 0 (zero padding, never spikes).
          weight_mean: mean of the initial weights (SpykeTorch 0.8, Spyker 0.5).
          weight_std: standard deviation of the initial weights, >= 0.
          stdp: ``None``, an :class:`~spyxlike.stdp_config.STDPConfig` or
            ``(a_LTP, a_LTD)`` rates (one pair or ``Cout`` pairs).
          name: Haiku module name (default ``"convolution"``).

        Raises:
          ValueError: ``out_channels < 1``, kernel size or stride < 1, negative
            padding, negative ``weight_std``, rates of the wrong count.
          TypeError: non-integer sizes or non-real init parameters.
        """
        super().__init__(name=name)
        fn = type(self).__name__
        self.out_channels = _check_positive_int(fn, "out_channels", out_channels)
        self.kernel_size = expand2(kernel_size, f"{fn}: kernel_size", minimum=1)
        self.stride = expand2(stride, f"{fn}: stride", minimum=1)
        self.padding = expand4(padding, f"{fn}: padding")
        self.weight_mean, self.weight_std = _check_init(fn, weight_mean, weight_std)
        self.stdp = _check_stdp(fn, stdp, self.out_channels)

    def weights(self, in_channels: int) -> jax.Array:
        """The ``(kh, kw, in_channels, Cout)`` kernel parameter ``"w"`` (created on first use)."""
        return self._weights(self.kernel_size + (in_channels, self.out_channels))

    def __call__(self, waves) -> jax.Array:
        """Potentials of every time step: :func:`spyxlike.spikeconv.conv` with ``"w"``.

        Args:
          waves: ``(B, T, H, W, Cin)`` spike-waves (cumulative) or any real input.

        Returns:
          float32 ``(B, T, Ho, Wo, Cout)`` potentials.

        Raises:
          ValueError: ``waves`` not rank 5, kernel larger than the padded input.
        """
        _check_waves(f"{type(self).__name__}", waves, 5, "(B, T, H, W, Cin)")
        w = self.weights(np.shape(waves)[-1])
        return spikeconv.conv(waves, w, stride=self.stride, padding=self.padding)

    def fire_times(self, pre_times, threshold, time_steps: int, return_final: bool = False,
                   *, impl: str = "auto"):
        """Conv + fire on spike times: :func:`spyxlike.event_conv.conv_fire` with ``"w"``.

        Args:
          pre_times: int ``(B, H, W, Cin)`` input spike times in ``[0, T]``.
          threshold: firing threshold (a potential must exceed it).
          time_steps: ``T``.
          return_final: also return the potentials at ``t = T - 1``.
          impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

        Returns:
          ``(post_times, fire_potentials)`` (+ ``final_potentials``), each
          ``(B, Ho, Wo, Cout)``.

        Raises:
          ValueError: ``pre_times`` not rank 4, and the errors of ``conv_fire``.
        """
        fn = f"{type(self).__name__}.fire_times"
        shape = tuple(np.shape(pre_times))
        if len(shape) != 4:
            raise ValueError(f"{fn}: pre_times must be (B, H, W, Cin) (rank 4), got shape {shape}")
        w = self.weights(shape[-1])
        return event_conv.conv_fire(pre_times, w, threshold, time_steps, stride=self.stride,
                                    padding=self.padding, return_final=return_final, impl=impl)


Conv = Convolution


class FC(_STDPLayer):
    """Single-spike fully connected layer (Spyker's ``FC``).

    Parameter ``"w"``: ``(Fin, Fout)`` float32 from ``normal(weight_mean,
    weight_std)`` (default ``(0.8, 0.02)`` like SpykeTorch's layers; Spyker's
    ``FC`` uses mean 0.5 and stores ``(Fout, Fin)``).

    Attributes:
      out_features: ``Fout``.
      weight_mean: initialisation mean.
      weight_std: initialisation standard deviation.
      stdp: the layer's STDP config (see :class:`Convolution`).
    """

    kind = "fc"

    def __init__(self, out_features: int, weight_mean: float = 0.8, weight_std: float = 0.02,
                 stdp=None, name: str | None = None):
        """Creates the layer (inside ``hk.transform``).

        Args:
          out_features: number of output neurons ``Fout >= 1``.
          weight_mean: mean of the initial weights.
          weight_std: standard deviation of the initial weights, >= 0.
          stdp: ``None``, an STDPConfig or ``(a_LTP, a_LTD)`` rates (one pair
            or ``Fout`` pairs).
          name: Haiku module name (default ``"fc"``).

        Raises:
          ValueError: ``out_features < 1``, negative ``weight_std``, rates of
            the wrong count.
          TypeError: non-integer ``out_features`` or non-real init parameters.
        """
        super().__init__(name=name)
        fn = type(self).__name__
        self.out_features = _check_positive_int(fn, "out_features", out_features)
        self.weight_mean, self.weight_std = _check_init(fn, weight_mean, weight_std)
        self.stdp = _check_stdp(fn, stdp, self.out_features)

    def weights(self, in_features: int) -> jax.Array:
        """The ``(in_features, Fout)`` weight parameter ``"w"`` (created on first use)."""
        return self._weights((in_features, self.out_features))

    def __call__(self, waves) -> jax.Array:
        """Potentials of every time step: :func:`spyxlike.spikeconv.fc` with ``"w"``.

        Args:
          waves: ``(B, T, Fin)`` spike-waves.

        Returns:
          float32 ``(B, T, Fout)`` potentials.

        Raises:
          ValueError: ``waves`` not rank 3.
        """
        _check_waves("FC", waves, 3, "(B, T, Fin)")
        return spikeconv.fc(waves, self.weights(np.shape(waves)[-1]))

    def fire_times(self, pre_times, threshold, time_steps: int, return_final: bool = False,
                   *, impl: str = "auto"):
        """FC + fire on spike times: :func:`spyxlike.event_conv.fc_fire` with ``"w"``.

        Args:
          pre_times: int ``(B, Fin)`` input spike times in ``[0, T]``.
          threshold: firing threshold.
          time_steps: ``T``.
          return_final: also return the potentials at ``t = T - 1``.
          impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

        Returns:
          ``(post_times, fire_potentials)`` (+ ``final_potentials``), each ``(B, Fout)``.

        Raises:
          ValueError: ``pre_times`` not rank 2, and the errors of ``fc_fire``.
        """
        shape = tuple(np.shape(pre_times))
        if len(shape) != 2:
            raise ValueError(
                f"FC.fire_times: pre_times must be (B, Fin) (rank 2), got shape {shape}")
        w = self.weights(shape[-1])
        return event_conv.fc_fire(pre_times, w, threshold, time_steps,
                                  return_final=return_final, impl=impl)


class Pooling(hk.Module):
    """Max pooling propagating the earliest spike (SpykeTorch's ``snn.Pooling``).

    No parameters. ``stride=None`` means ``stride = kernel_size`` (SpykeTorch).

    Attributes:
      kernel_size: ``(kh, kw)``.
      stride: ``(sh, sw)``.
      padding: ``(top, left, bottom, right)``.
    """

    def __init__(self, kernel_size, stride=None, padding=0, name: str | None = None):
        """Creates the layer.

        Args:
          kernel_size: Spyker ``Expand2`` window, each >= 1.
          stride: Spyker ``Expand2``, each >= 1, or ``None`` for ``kernel_size``.
          padding: Spyker ``Expand4``, each >= 0.
          name: Haiku module name (default ``"pooling"``).

        Raises:
          ValueError: window or stride < 1, negative padding.
          TypeError: non-integer sizes.
        """
        super().__init__(name=name)
        self.kernel_size = expand2(kernel_size, "Pooling: kernel_size", minimum=1)
        self.stride = (self.kernel_size if stride is None
                       else expand2(stride, "Pooling: stride", minimum=1))
        self.padding = expand4(padding, "Pooling: padding")

    def __call__(self, waves) -> jax.Array:
        """:func:`spyxlike.spikeconv.pool` on ``(B, T, H, W, C)`` spike-waves.

        Args:
          waves: ``(B, T, H, W, C)``.

        Returns:
          ``(B, T, Ho, Wo, C)`` of ``waves``'s dtype.

        Raises:
          ValueError: ``waves`` not rank 5, window larger than the padded input.
        """
        _check_waves("Pooling", waves, 5, "(B, T, H, W, C)")
        return spikeconv.pool(waves, self.kernel_size, self.stride, self.padding)

    def pool_times(self, times) -> jax.Array:
        """:func:`spyxlike.event_conv.pool_times` on ``(B, H, W, C)`` spike times.

        Args:
          times: int ``(B, H, W, C)`` spike times.

        Returns:
          int32 ``(B, Ho, Wo, C)``.

        Raises:
          ValueError: as :func:`spyxlike.event_conv.pool_times`.
        """
        return event_conv.pool_times(times, self.kernel_size, self.stride, self.padding)


# --------------------------------------------------------------------------- pure helpers

def stdp_layers(f, *args, **kwargs) -> dict:
    """Every STDP layer (:class:`Convolution`, :class:`FC`) that ``f`` calls, read untransformed.

    Runs ``hk.transform(f).init`` abstractly (``jax.eval_shape``: no
    computation, no parameters kept) on example inputs and records each
    layer's :class:`STDPLayerSpec` when one of its methods is called.

    Args:
      f: the network function (the one given to ``hk.transform``).
      *args: example positional inputs for ``f``.
      **kwargs: example keyword inputs for ``f``.

    Returns:
      ``{module_name: STDPLayerSpec}`` in call order; the names are the keys
      of the module's entry in ``params``.

    Raises:
      TypeError: ``f`` is not callable.
    """
    if not callable(f):
        raise TypeError(f"stdp_layers: f must be the network function, got {f!r}")
    found: dict = {}

    def interceptor(next_f, a, k, context):
        module = context.module
        out = next_f(*a, **k)  # after the call: __init__ is intercepted too
        if isinstance(module, _STDPLayer) and context.method_name != "__init__" \
                and module.module_name not in found:
            found[module.module_name] = STDPLayerSpec(
                module.kind, module.stdp, module.stride, module.padding, module.weight_mean,
                module.weight_std)
        return out

    def wrapped(*a, **k):
        with hk.intercept_methods(interceptor):
            return f(*a, **k)

    init = hk.transform(wrapped).init
    jax.eval_shape(lambda: init(jax.random.PRNGKey(0), *args, **kwargs))
    return found


def _module_weights(fn: str, params, module_name):
    if not isinstance(module_name, str):
        raise TypeError(f"{fn}: module_name must be a str, got {module_name!r}")
    if module_name not in params:
        raise ValueError(
            f"{fn}: unknown module_name {module_name!r}; params hold {sorted(params)}"
        )
    if "w" not in params[module_name]:
        raise ValueError(
            f"{fn}: module {module_name!r} has no parameter 'w' (has {sorted(params[module_name])})"
        )
    w = params[module_name]["w"]
    if np.ndim(w) not in (2, 4):
        raise ValueError(
            f"{fn}: {module_name}/w must be an FC (Fin, Fout) or conv (kh, kw, Cin, Cout) "
            f"weight, got shape {tuple(np.shape(w))}"
        )
    return w


def _replace_w(params, module_name, w):
    return {**params, module_name: {**params[module_name], "w": w}}


def _geometry(fn, w, stride, padding, spec):
    """Stride/padding for the update: explicit, else from a spec, else 1 / 0."""
    if stride is None:
        stride = spec.stride if spec is not None else 1
    if padding is None:
        padding = spec.padding if spec is not None else 0
    if np.ndim(w) == 2:
        if expand2(stride, f"{fn}: stride", minimum=1) != (1, 1) or \
                any(expand4(padding, f"{fn}: padding")):
            raise ValueError(f"{fn}: an FC layer takes no stride or padding, got stride="
                             f"{stride!r}, padding={padding!r}")
    return stride, padding


def stdp_update(params, module_name: str, pre_times, post_times, winners, config_or_rates, *,
                stride=None, padding=None, use_stabilizer=None, lower_bound=None,
                upper_bound=None, time_steps=None, accumulate="sum", impl="auto"):
    """New ``params`` with ``module_name``'s ``"w"`` updated by STDP (SpykeTorch's ``STDP``, pure).

    A conv kernel (rank 4) goes through :func:`spyxlike.stdp.stdp_conv`, an
    FC weight (rank 2) through :func:`spyxlike.stdp.stdp_fc`; all other
    entries of ``params`` are returned unchanged (the same arrays).

    Args:
      params: Haiku params (``{module_name: {"w": ...}, ...}``).
      module_name: the layer to update, e.g. ``"conv1"`` or ``"net/convolution"``.
      pre_times: int input spike times ``(B, H, W, Cin)`` or ``(B, Fin)``.
      post_times: int output spike times ``(B, Ho, Wo, Cout)`` or ``(B, Fout)``.
      winners: :class:`spyxlike.winners.Winners` of the layer.
      config_or_rates: the rule: ``(a_LTP, a_LTD)`` rates (one pair or one
        per feature), an :class:`~spyxlike.stdp_config.STDPConfig` (its
        ``stabilize``/``lower``/``upper`` are used), or a
        :class:`STDPLayerSpec` from :func:`stdp_layers` (its ``stdp`` is the
        rule and its stride/padding the layer's).
      stride: the conv layer's stride (default: the spec's, else 1).
      padding: the conv layer's padding (default: the spec's, else 0).
      use_stabilizer: default True (or the STDPConfig's ``stabilize``).
      lower_bound: default 0 (or the STDPConfig's ``lower``).
      upper_bound: default 1 (or the STDPConfig's ``upper``).
      time_steps: ``T`` (optional; see :func:`spyxlike.stdp.stdp_conv`).
      accumulate: ``"sum"`` or ``"sequential"``.
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      the new params pytree.

    Raises:
      ValueError: unknown ``module_name``, no ``"w"``, a spec without a
        config, bounds given both in an STDPConfig and as arguments, stride
        or padding for an FC layer, and the errors of ``stdp_conv``/``stdp_fc``.
      TypeError: non-str ``module_name`` and the errors of ``stdp_conv``.
    """
    fn = "stdp_update"
    w = _module_weights(fn, params, module_name)
    spec = config_or_rates if isinstance(config_or_rates, STDPLayerSpec) else None
    rule = spec.stdp if spec is not None else config_or_rates
    if rule is None:
        raise ValueError(f"{fn}: module {module_name!r} has no STDP config; pass config_or_rates "
                         "as rates or an STDPConfig")
    stride, padding = _geometry(fn, w, stride, padding, spec)
    rates = rule
    if isinstance(rule, STDPConfig):
        given = [n for n, v in (("use_stabilizer", use_stabilizer), ("lower_bound", lower_bound),
                                ("upper_bound", upper_bound)) if v is not None]
        if given:
            raise ValueError(f"{fn}: {', '.join(given)} given both as argument and in the "
                             f"STDPConfig {rule}; use one of them")
        rates = (rule.positive, rule.negative)
        use_stabilizer, lower_bound, upper_bound = bool(rule.stabilize), rule.lower, rule.upper
    kw = dict(use_stabilizer=True if use_stabilizer is None else use_stabilizer,
              lower_bound=0.0 if lower_bound is None else lower_bound,
              upper_bound=1.0 if upper_bound is None else upper_bound,
              time_steps=time_steps, accumulate=accumulate, impl=impl)
    if np.ndim(w) == 4:
        new = stdp_conv(w, pre_times, post_times, winners, rates, stride=stride,
                        padding=padding, **kw)
    else:
        new = stdp_fc(w, pre_times, post_times, winners, rates, **kw)
    return _replace_w(params, module_name, new)


def rstdp_update(params, module_name: str, pre_times, post_times, winners, reward, stdp_rates,
                 anti_stdp_rates, *, stride=1, padding=0, use_stabilizer=True, lower_bound=0.0,
                 upper_bound=1.0, time_steps=None, accumulate="sum", impl="auto"):
    """New ``params`` with ``module_name``'s ``"w"`` updated by R-STDP (Mozafari et al. 2019).

    :func:`spyxlike.rstdp.rstdp_conv` for a conv kernel,
    :func:`spyxlike.rstdp.rstdp_fc` for an FC weight: sample ``b`` uses
    ``stdp_rates`` when ``reward[b] > 0``, ``anti_stdp_rates`` when
    ``reward[b] < 0``, nothing when 0. Other params are unchanged.

    Args:
      params: Haiku params.
      module_name: the layer to update.
      pre_times: int input spike times ``(B, H, W, Cin)`` or ``(B, Fin)``.
      post_times: int output spike times ``(B, Ho, Wo, Cout)`` or ``(B, Fout)``.
      winners: :class:`spyxlike.winners.Winners`.
      reward: ``(B,)`` reward (> 0), punishment (< 0) or nothing (0).
      stdp_rates: ``(a_LTP, a_LTD)`` pair(s) on reward, e.g. ``(0.004, -0.003)``.
      anti_stdp_rates: pair(s) on punishment, e.g. ``(-0.004, 0.0005)``.
      stride: the conv layer's stride (must be 1 for FC).
      padding: the conv layer's padding (must be 0 for FC).
      use_stabilizer: multiply by ``(W - lower_bound)(upper_bound - W)``.
      lower_bound: lower weight bound.
      upper_bound: upper weight bound.
      time_steps: ``T`` (optional).
      accumulate: ``"sum"`` or ``"sequential"``.
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      the new params pytree.

    Raises:
      ValueError: unknown ``module_name``, no ``"w"``, stride or padding
        for an FC layer, and the errors of ``rstdp_conv``/``rstdp_fc``.
      TypeError: non-str ``module_name`` and the errors of ``rstdp_conv``.
    """
    fn = "rstdp_update"
    w = _module_weights(fn, params, module_name)
    stride, padding = _geometry(fn, w, stride, padding, None)
    kw = dict(use_stabilizer=use_stabilizer, lower_bound=lower_bound, upper_bound=upper_bound,
              time_steps=time_steps, accumulate=accumulate, impl=impl)
    if np.ndim(w) == 4:
        new = rstdp_conv(w, pre_times, post_times, winners, reward, stdp_rates, anti_stdp_rates,
                         stride=stride, padding=padding, **kw)
    else:
        new = rstdp_fc(w, pre_times, post_times, winners, reward, stdp_rates, anti_stdp_rates,
                       **kw)
    return _replace_w(params, module_name, new)


def reset_weight(params, key, weight_mean: float = 0.8, weight_std: float = 0.02,
                 module_name=None):
    """New ``params`` with STDP kernels redrawn from ``normal(weight_mean, weight_std)``.

    SpykeTorch's ``Convolution.reset_weight``, pure. With ``module_name=None``
    every module whose ``"w"`` is an FC ``(Fin, Fout)`` or conv HWIO kernel
    is redrawn (meant for nets made of STDP layers; pass names, e.g.
    ``list(stdp_layers(f, x))``, to restrict it). Each module gets its own
    key (``jax.random.fold_in(key, i)`` in sorted-name order); everything
    else is returned unchanged.

    Args:
      params: Haiku params.
      key: a JAX PRNG key.
      weight_mean: mean of the new weights (SpykeTorch default 0.8).
      weight_std: standard deviation of the new weights, >= 0.
      module_name: one module name, a sequence of names, or ``None`` for all.

    Returns:
      the new params pytree (the redrawn kernels keep shape and dtype).

    Raises:
      ValueError: unknown module name, a module without a rank-2/4 ``"w"``,
        negative ``weight_std``.
      TypeError: non-real ``weight_mean``/``weight_std`` or bad ``module_name``.
    """
    fn = "reset_weight"
    weight_mean, weight_std = _check_init(fn, weight_mean, weight_std)
    if module_name is None:
        names = sorted(n for n, p in params.items()
                       if "w" in p and np.ndim(p["w"]) in (2, 4))
    elif isinstance(module_name, str):
        names = [module_name]
    elif isinstance(module_name, (list, tuple)):
        names = list(module_name)
    else:
        raise TypeError(f"{fn}: module_name must be a str, a sequence of str or None, "
                        f"got {module_name!r}")
    out = dict(params)
    for name in names:
        _module_weights(fn, params, name)
    for i, name in enumerate(sorted(set(names))):
        w = params[name]["w"]
        noise = jax.random.normal(jax.random.fold_in(key, i), np.shape(w), jnp.float32)
        new = (weight_mean + weight_std * noise).astype(jnp.result_type(w))
        out[name] = {**params[name], "w": new}
    return out
