"""The YAML network description of SLAYER (``slayerParams.yamlParams``).

A description has the sections ``simulation`` (``Ts``, ``tSample``),
``neuron`` (``type`` and its fields), ``layer`` (a list of ``{dim: ...}``
entries) and ``training`` (``error``, ``path``, ...)::

    simulation: {Ts: 1.0, tSample: 1450}
    neuron: {type: SRMALPHA, theta: 10, tauSr: 1.0, tauRef: 1.0,
             scaleRef: 2, tauRho: 1, scaleRho: 1}
    layer:
      - {dim: 34x34x2, wScale: 0.5}
      - {dim: 16c5z}
      - {dim: 2a}
      - {dim: 512}
      - {dim: 10}
    training:
      error:
        type: NumSpikes
        tgtSpikeRegion: {start: 0, stop: 350}
        tgtSpikeCount: {true: 60, false: 10}

:class:`NetParams` reads it with ``yaml.safe_load`` (never ``yaml.load``),
gives dictionary-like access (``params["simulation"]["Ts"]``), validates
the sections it knows and raises ``ValueError`` naming the offending field
(``simulation.Ts``, ``neuron.tauSr``, ``layer[2].dim``, ...), and parses
the ``layer`` list into typed, self-contained specs with their shapes.

Layer strings (the ``dim`` of each entry), following SLAYER's C++ network
description:

* first entry, the input: ``WxHxC`` (width x height x channels, SLAYER's
  order), ``WxH`` (one channel) or ``N`` (``N`` neurons) ->
  :class:`InputSpec`;
* ``<F>c<K>`` -> :class:`ConvSpec`, ``F`` filters of ``K x K``, no padding,
  stride 1; ``<F>c<K>z`` zero-pads ``K - 1`` in total so that the output
  keeps the input's height and width (the seed's example
  ``34x34x2 -> 16c5z -> 2a -> 64c3z -> 2a`` gives ``34 -> 34 -> 17 -> 17 -> 8``);
* ``<K>a`` -> :class:`PoolSpec`, ``K x K`` sum pooling ("aggregation")
  with stride ``K``, no padding (output ``floor(in / K)``);
* ``<N>`` after the first entry -> :class:`DenseSpec`, ``N`` neurons fully
  connected to the flattened input.

Shapes are spyxlike's channels-last ``(H, W, C)`` (without batch and time);
a dense layer's shape is ``(N,)``. Other keys of an entry (``wScale`` ->
``w_scale``; anything else in ``options``) are kept on the spec for the
network builder.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
import os
import re
from collections.abc import Mapping

import yaml

__all__ = [
    "NetParams",
    "InputSpec",
    "ConvSpec",
    "PoolSpec",
    "DenseSpec",
    "parse_layers",
    "NEURON_FIELDS",
    "ERROR_TYPES",
]

#: Known neuron types and their required fields.
NEURON_FIELDS = {
    "SRMALPHA": ("theta", "tauSr", "tauRef", "scaleRef", "tauRho", "scaleRho"),
    "LOIHI": ("vThMant", "vDecay", "iDecay", "refDelay", "wgtExp", "tauRho",
              "scaleRho"),
}

#: Known ``training.error.type`` values (``ProbSpikes`` is declared by
#: SLAYER but has no implementation there or here).
ERROR_TYPES = ("NumSpikes", "SpikeTime", "ProbSpikes")


# --------------------------------------------------------------------------
# Layer specs
# --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class InputSpec:
    """The input layer (first ``layer`` entry).

    Attributes:
      shape: ``(H, W, C)`` for ``WxHxC`` / ``WxH`` strings, ``(N,)`` for
        ``N``.
      w_scale: the entry's ``wScale`` (``None`` if absent).
      options: other keys of the entry.
      dim: the original string.
    """

    shape: tuple
    w_scale: float | None = None
    options: dict = dataclasses.field(default_factory=dict)
    dim: str = ""

    @property
    def out_shape(self):
        """Same as ``shape``."""
        return self.shape


@dataclasses.dataclass(frozen=True)
class ConvSpec:
    """A convolution layer ``<F>c<K>[z]``.

    Attributes:
      features: number of output channels ``F``.
      kernel_size: ``K`` (square kernel).
      padding: ``((top, bottom), (left, right))`` zero padding; ``z`` gives
        ``((K-1)//2, K-1-(K-1)//2)`` on both axes, otherwise zeros.
      in_shape: ``(H, W, C)`` of the input.
      out_shape: ``(H', W', F)``.
      w_scale: the entry's ``wScale`` (``None`` if absent).
      options: other keys of the entry.
      dim: the original string.
    """

    features: int
    kernel_size: int
    padding: tuple
    in_shape: tuple
    out_shape: tuple
    w_scale: float | None = None
    options: dict = dataclasses.field(default_factory=dict)
    dim: str = ""

    @property
    def same_padding(self):
        """Whether the layer keeps the spatial size (``z`` suffix)."""
        return self.padding != ((0, 0), (0, 0))


@dataclasses.dataclass(frozen=True)
class PoolSpec:
    """A sum-pooling ("aggregation") layer ``<K>a``: window and stride ``K``.

    Attributes:
      kernel_size: ``K``.
      in_shape: ``(H, W, C)`` of the input.
      out_shape: ``((H + H % K) // K, (W + W % K) // K, C)``: SLAYER pads
        a map whose size is not a multiple of ``K`` with ``size % K`` zero
        rows/columns before pooling.
      w_scale: the entry's ``wScale`` (``None`` if absent).
      options: other keys of the entry.
      dim: the original string.
    """

    kernel_size: int
    in_shape: tuple
    out_shape: tuple
    w_scale: float | None = None
    options: dict = dataclasses.field(default_factory=dict)
    dim: str = ""


@dataclasses.dataclass(frozen=True)
class DenseSpec:
    """A fully connected layer ``<N>`` on the flattened input.

    Attributes:
      features: ``N``.
      in_shape: the input's shape (any rank).
      out_shape: ``(N,)``.
      w_scale: the entry's ``wScale`` (``None`` if absent).
      options: other keys of the entry.
      dim: the original string.
    """

    features: int
    in_shape: tuple
    out_shape: tuple
    w_scale: float | None = None
    options: dict = dataclasses.field(default_factory=dict)
    dim: str = ""

    @property
    def in_features(self):
        """Number of input neurons (product of ``in_shape``)."""
        return math.prod(self.in_shape)


_INPUT_RE = re.compile(r"^(\d+)(?:x(\d+))?(?:x(\d+))?$")
_CONV_RE = re.compile(r"^(\d+)c(\d+)(z?)$")
_POOL_RE = re.compile(r"^(\d+)a$")
_DENSE_RE = re.compile(r"^(\d+)$")


def _positive(field, text, value):
    value = int(value)
    if value < 1:
        raise ValueError(f"{field}: every size in {text!r} must be >= 1")
    return value


def _entry_parts(i, entry):
    field = f"layer[{i}]"
    if isinstance(entry, (str, int)) and not isinstance(entry, bool):
        entry = {"dim": entry}
    if not isinstance(entry, Mapping):
        raise ValueError(f"{field}: each layer must be a mapping like "
                         f"{{dim: 16c5}}; got {entry!r}")
    if "dim" not in entry:
        raise ValueError(f"{field}.dim is missing (each layer needs a dim "
                         f"string such as 34x34x2, 16c5z, 2a or 512)")
    dim = entry["dim"]
    if isinstance(dim, bool) or not isinstance(dim, (str, int)):
        raise ValueError(f"{field}.dim must be a string such as 16c5z; got "
                         f"{dim!r}")
    text = str(dim).strip().lower().replace(" ", "")
    w_scale = entry.get("wScale")
    if w_scale is not None:
        if isinstance(w_scale, bool) or not isinstance(w_scale, numbers.Real) \
                or not math.isfinite(w_scale):
            raise ValueError(f"{field}.wScale must be a finite number; got "
                             f"{w_scale!r}")
        w_scale = float(w_scale)
    options = {k: v for k, v in entry.items() if k not in ("dim", "wScale")}
    return field + ".dim", text, str(dim), w_scale, options


def parse_layers(layers):
    """Parse SLAYER's ``layer`` list into specs with shapes.

    Args:
      layers: a list of ``{dim: str, wScale: float, ...}`` mappings (a bare
        string or int is read as ``{dim: ...}``). The first is the input.

    Returns:
      a list ``[InputSpec, ConvSpec | PoolSpec | DenseSpec, ...]``.

    Raises:
      ValueError: naming ``layer[i].dim`` (or ``layer[i].wScale``) for a
        malformed string, a non-positive size, a conv/pool after a dense
        layer, or a layer that would shrink the map below 1 x 1.
    """
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError(f"layer must be a non-empty list of {{dim: ...}} "
                         f"entries; got {layers!r}")
    specs = []
    shape = None
    for i, entry in enumerate(layers):
        field, text, dim, w_scale, options = _entry_parts(i, entry)
        common = dict(w_scale=w_scale, options=options, dim=dim)
        if i == 0:
            m = _INPUT_RE.match(text)
            if not m:
                raise ValueError(f"{field}: malformed input size {dim!r}; "
                                 f"expected WxHxC, WxH or N (e.g. 34x34x2)")
            sizes = [_positive(field, dim, g) for g in m.groups() if g]
            if len(sizes) == 1:
                shape = (sizes[0],)
            else:
                w, h = sizes[0], sizes[1]
                shape = (h, w, sizes[2] if len(sizes) == 3 else 1)
            specs.append(InputSpec(shape=shape, **common))
            continue
        m_conv, m_pool, m_dense = (_CONV_RE.match(text), _POOL_RE.match(text),
                                   _DENSE_RE.match(text))
        if m_dense:
            n = _positive(field, dim, m_dense.group(1))
            out = (n,)
            specs.append(DenseSpec(features=n, in_shape=shape, out_shape=out,
                                   **common))
            shape = out
            continue
        if not (m_conv or m_pool):
            raise ValueError(f"{field}: malformed layer string {dim!r}; "
                             f"expected <F>c<K> or <F>c<K>z (convolution), "
                             f"<K>a (pooling) or <N> (dense)")
        if len(shape) != 3:
            raise ValueError(f"{field}: {dim!r} needs a (H, W, C) input map; "
                             f"the previous layer gives shape {shape}")
        h, w, c = shape
        if m_conv:
            f = _positive(field, dim, m_conv.group(1))
            k = _positive(field, dim, m_conv.group(2))
            if m_conv.group(3):
                lo = (k - 1) // 2
                pad = ((lo, k - 1 - lo), (lo, k - 1 - lo))
                out = (h, w, f)
            else:
                pad = ((0, 0), (0, 0))
                out = (h - k + 1, w - k + 1, f)
            if out[0] < 1 or out[1] < 1:
                raise ValueError(f"{field}: kernel {k} of {dim!r} is larger "
                                 f"than the {h}x{w} input map")
            specs.append(ConvSpec(features=f, kernel_size=k, padding=pad,
                                  in_shape=shape, out_shape=out, **common))
        else:
            k = _positive(field, dim, m_pool.group(1))
            # SLAYER first extends an odd map by (size % k) zero rows/columns,
            # so 17 pooled by 2 gives 9 (slayer_layers.Pool does the same).
            out = ((h + h % k) // k, (w + w % k) // k, c)
            if k > h or k > w:
                raise ValueError(f"{field}: pooling {k} of {dim!r} is larger "
                                 f"than the {h}x{w} input map")
            specs.append(PoolSpec(kernel_size=k, in_shape=shape,
                                  out_shape=out, **common))
        shape = out
    return specs


# --------------------------------------------------------------------------
# Validation of the sections
# --------------------------------------------------------------------------

def _number(field, value, *, positive=False, nonneg=False, integer=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{field} must be a number; got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{field} must be finite; got {value!r}")
    if integer and value != int(value):
        raise ValueError(f"{field} must be an integer; got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{field} must be > 0; got {value!r}")
    if nonneg and value < 0:
        raise ValueError(f"{field} must be >= 0; got {value!r}")
    return value


def _section(params, name):
    sec = params.get(name)
    if sec is not None and not isinstance(sec, Mapping):
        raise ValueError(f"{name} must be a mapping; got {sec!r}")
    return sec


def _validate_simulation(sim):
    for key in ("Ts", "tSample"):
        if key not in sim:
            raise ValueError(f"simulation.{key} is missing")
    ts = _number("simulation.Ts", sim["Ts"], positive=True)
    t_sample = _number("simulation.tSample", sim["tSample"], positive=True)
    steps = t_sample / ts
    if abs(steps - round(steps)) > 1e-6 * max(1.0, steps):
        raise ValueError(f"simulation.Ts={ts!r} must divide "
                         f"simulation.tSample={t_sample!r} (tSample / Ts = "
                         f"{steps:g} is not an integer)")


_NEURON_CHECKS = {
    "theta": dict(positive=True),
    "tauSr": dict(positive=True),
    "tauRef": dict(positive=True),
    "scaleRef": dict(nonneg=True),
    "tauRho": dict(positive=True),
    "scaleRho": dict(positive=True),
    "vThMant": dict(nonneg=True, integer=True),
    "vDecay": dict(nonneg=True, integer=True),
    "iDecay": dict(nonneg=True, integer=True),
    "refDelay": dict(positive=True, integer=True),
    "wgtExp": dict(integer=True),
}


def _validate_neuron(neuron):
    kind = neuron.get("type")
    if kind not in NEURON_FIELDS:
        raise ValueError(f"neuron.type: unknown neuron type {kind!r}; expected "
                         f"one of {', '.join(NEURON_FIELDS)}")
    for key in NEURON_FIELDS[kind]:
        if key not in neuron:
            raise ValueError(f"neuron.{key} is missing (required for type "
                             f"{kind})")
    for key, value in neuron.items():
        if key in _NEURON_CHECKS:
            _number(f"neuron.{key}", value, **_NEURON_CHECKS[key])
    if kind == "LOIHI":
        for key in ("vDecay", "iDecay"):
            if neuron[key] > 4096:
                raise ValueError(f"neuron.{key} must be in [0, 4096]; got "
                                 f"{neuron[key]!r}")


def _validate_error(err, sim):
    kind = err.get("type")
    if kind not in ERROR_TYPES:
        raise ValueError(f"training.error.type: unknown error type {kind!r}; "
                         f"expected one of {', '.join(ERROR_TYPES)}")
    if kind != "NumSpikes":
        return
    region = err.get("tgtSpikeRegion")
    if not isinstance(region, Mapping) or not {"start", "stop"} <= set(region):
        raise ValueError(f"training.error.tgtSpikeRegion must be a mapping "
                         f"{{start: ..., stop: ...}}; got {region!r}")
    start = _number("training.error.tgtSpikeRegion.start", region["start"],
                    nonneg=True)
    stop = _number("training.error.tgtSpikeRegion.stop", region["stop"])
    if stop <= start:
        raise ValueError(f"training.error.tgtSpikeRegion.stop={stop!r} must "
                         f"be greater than start={start!r}")
    if sim is not None and stop > sim["tSample"] + 1e-9:
        raise ValueError(f"training.error.tgtSpikeRegion.stop={stop!r} must "
                         f"not exceed simulation.tSample={sim['tSample']!r}")
    counts = err.get("tgtSpikeCount")
    if not isinstance(counts, Mapping) or not {True, False} <= set(counts):
        raise ValueError(f"training.error.tgtSpikeCount must be a mapping "
                         f"{{true: ..., false: ...}}; got {counts!r}")
    for key in (True, False):
        _number(f"training.error.tgtSpikeCount.{str(key).lower()}",
                counts[key], nonneg=True)


def _validate(params):
    if not isinstance(params, Mapping):
        raise ValueError(f"a network description must be a mapping of "
                         f"sections; got {type(params).__name__}")
    sim = _section(params, "simulation")
    if sim is not None:
        _validate_simulation(sim)
    neuron = _section(params, "neuron")
    if neuron is not None:
        _validate_neuron(neuron)
    if "layer" in params:
        parse_layers(params["layer"])
    training = _section(params, "training")
    if training is not None:
        err = training.get("error")
        if err is not None:
            if not isinstance(err, Mapping):
                raise ValueError(f"training.error must be a mapping; got "
                                 f"{err!r}")
            _validate_error(err, sim)


# --------------------------------------------------------------------------
# NetParams
# --------------------------------------------------------------------------

class NetParams:
    """A SLAYER network description with dictionary-like access
    (``slayerParams.yamlParams``).

    Args:
      path_or_dict: a path to a YAML file (read with ``yaml.safe_load``), a
        YAML string containing a newline, or a mapping (deep-copied).

    Raises:
      ValueError: for invalid content, naming the field (see
        :meth:`validate`).

    ``params[key]`` / ``params[key] = value`` access the top-level sections
    (plain dicts and lists, so nested assignment such as
    ``params["training"]["learning"]["etaW"] = 0.01`` works as in SLAYER);
    call :meth:`validate` after editing to re-check.
    """

    def __init__(self, path_or_dict):
        if isinstance(path_or_dict, NetParams):
            data = copy.deepcopy(path_or_dict.parameters)
        elif isinstance(path_or_dict, Mapping):
            data = copy.deepcopy(dict(path_or_dict))
        elif isinstance(path_or_dict, str) and "\n" in path_or_dict:
            data = self._load_text(path_or_dict, "<string>")
        elif isinstance(path_or_dict, (str, os.PathLike)):
            with open(path_or_dict, encoding="utf-8") as f:
                data = self._load_text(f.read(), os.fspath(path_or_dict))
        else:
            raise TypeError(f"NetParams needs a path, a YAML string or a "
                            f"mapping; got {type(path_or_dict).__name__}")
        self.parameters = data
        self.validate()

    @staticmethod
    def _load_text(text, where):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"{where}: not valid YAML: {exc}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ValueError(f"{where}: a network description must be a "
                             f"mapping of sections; got {type(data).__name__}")
        return data

    def validate(self):
        """Check the known sections; raise ``ValueError`` naming the field.

        Checks: ``simulation.Ts`` and ``simulation.tSample`` positive with
        ``Ts`` dividing ``tSample``; ``neuron.type`` one of
        :data:`NEURON_FIELDS` with its required fields, positive time
        constants (``tauSr``, ``tauRef``, ``tauRho``) and thresholds; the
        ``layer`` strings (:func:`parse_layers`); ``training.error`` (type,
        ``tgtSpikeRegion`` inside ``tSample``, ``tgtSpikeCount`` with
        ``true``/``false``). Absent sections are not required here.
        """
        _validate(self.parameters)

    # dictionary-like access -------------------------------------------
    def __getitem__(self, key):
        try:
            return self.parameters[key]
        except KeyError:
            raise KeyError(f"network description has no section {key!r} "
                           f"(has {sorted(map(str, self.parameters))})") \
                from None

    def __setitem__(self, key, value):
        self.parameters[key] = value

    def __contains__(self, key):
        return key in self.parameters

    def __iter__(self):
        return iter(self.parameters)

    def __len__(self):
        return len(self.parameters)

    def get(self, key, default=None):
        """``params[key]`` or ``default``."""
        return self.parameters.get(key, default)

    def keys(self):
        """The section names."""
        return self.parameters.keys()

    def to_dict(self):
        """A deep copy of the parameters as plain dicts and lists."""
        return copy.deepcopy(self.parameters)

    def __eq__(self, other):
        if isinstance(other, NetParams):
            return self.parameters == other.parameters
        return NotImplemented

    def __repr__(self):
        return f"NetParams({self.parameters!r})"

    # derived values ----------------------------------------------------
    @property
    def Ts(self):
        """``simulation.Ts``."""
        return self["simulation"]["Ts"]

    @property
    def t_sample(self):
        """``simulation.tSample``."""
        return self["simulation"]["tSample"]

    @property
    def num_steps(self):
        """Number of time steps ``round(tSample / Ts)``."""
        return int(round(self.t_sample / self.Ts))

    @property
    def neuron_type(self):
        """``neuron.type`` (``SRMALPHA``, ``LOIHI``)."""
        return self["neuron"]["type"]

    @property
    def layers(self):
        """The ``layer`` list parsed by :func:`parse_layers`."""
        return parse_layers(self["layer"])

    # files -------------------------------------------------------------
    def save(self, path):
        """Write the parameters as YAML (``yaml.safe_dump``, section order
        kept); ``NetParams(path)`` reads them back equal."""
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(self.parameters, f, sort_keys=False,
                           default_flow_style=None)
