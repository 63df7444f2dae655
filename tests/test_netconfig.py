"""YAML network description: the seed's example parses into layer specs with
shapes; malformed layer strings and bad fields raise ValueError naming the
field; save/load round trip; only safe YAML."""

import pytest
import yaml

from spyxlike.netconfig import (ConvSpec, DenseSpec, InputSpec, NetParams,
                                PoolSpec, parse_layers)

SEED_YAML = """\
simulation:
  Ts: 1.0
  tSample: 1450
neuron:
  type: SRMALPHA
  theta: 10
  tauSr: 1.0
  tauRef: 1.0
  scaleRef: 2      # relative to theta
  tauRho: 1        # relative to theta
  scaleRho: 1
layer:
  - {dim: 34x34x2, wScale: 0.5}
  - {dim: 16c5z}
  - {dim: 2a}
  - {dim: 64c3z}
  - {dim: 2a}
  - {dim: 512}
  - {dim: 10}
training:
  error:
    type: NumSpikes #ProbSpikes #NumSpikes
    tgtSpikeRegion: {start: 0, stop: 350}
    tgtSpikeCount: {true: 60, false: 10}
  path:
    out: Trained/
    in: path_to_spike_files
    train: path_to_train_list
    test: path_to_test_list
"""


@pytest.fixture
def seed_file(tmp_path):
    path = tmp_path / "network.yaml"
    path.write_text(SEED_YAML)
    return path


def test_seed_example_parses(seed_file):
    p = NetParams(seed_file)
    assert p["simulation"]["Ts"] == 1.0 and p["neuron"]["tauSr"] == 1.0
    assert p["training"]["error"]["tgtSpikeCount"][True] == 60
    assert p.num_steps == 1450 and p.neuron_type == "SRMALPHA"
    layers = p.layers
    assert [type(s) for s in layers] == [InputSpec, ConvSpec, PoolSpec, ConvSpec,
                                         PoolSpec, DenseSpec, DenseSpec]
    assert layers[0].shape == (34, 34, 2) and layers[0].w_scale == 0.5
    assert layers[1].features == 16 and layers[1].kernel_size == 5
    assert layers[1].padding == ((2, 2), (2, 2)) and layers[1].same_padding
    assert [s.out_shape for s in layers] == [
        (34, 34, 2), (34, 34, 16), (17, 17, 16), (17, 17, 64), (9, 9, 64),
        (512,), (10,)]  # SLAYER's pool pads 17 -> 18 before pooling by 2
    assert layers[5].in_features == 9 * 9 * 64
    # dictionary-like access and mutation as in SLAYER
    p["training"]["learning"] = {"etaW": 0.01}
    assert p["training"]["learning"]["etaW"] == 0.01
    assert "layer" in p and set(p.keys()) == {"simulation", "neuron", "layer",
                                              "training"}


def test_round_trip(seed_file, tmp_path):
    p = NetParams(str(seed_file))
    out = tmp_path / "saved.yaml"
    p.save(out)
    q = NetParams(out)
    assert q == p and q.to_dict() == p.to_dict()
    assert list(yaml.safe_load(out.read_text())) == ["simulation", "neuron",
                                                      "layer", "training"]
    assert NetParams(p.to_dict()) == p and NetParams(SEED_YAML) == p


def test_layer_variants():
    specs = parse_layers([{"dim": "700"}, {"dim": 128, "wScale": 2},
                          {"dim": "20", "delay": True}])
    assert specs[0].shape == (700,)
    assert specs[1].in_shape == (700,) and specs[1].w_scale == 2.0
    assert specs[2].options == {"delay": True}
    specs = parse_layers(["28x20", "8c5", "3a", "4C3Z"])
    assert specs[0].shape == (20, 28, 1)
    assert specs[1].out_shape == (16, 24, 8) and not specs[1].same_padding
    assert specs[2].out_shape == (5, 8, 8)
    assert specs[3].out_shape == (5, 8, 4) and specs[3].padding == ((1, 1), (1, 1))
    even = parse_layers(["10x10x1", "2c4z"])[1]
    assert even.padding == ((1, 2), (1, 2)) and even.out_shape == (10, 10, 2)


@pytest.mark.parametrize("layers, field", [
    ([{"dim": "34x34x2"}, {"dim": "16q5"}], r"layer\[1\]\.dim"),
    ([{"dim": "34x34x2"}, {"dim": "2a"}, {"dim": "c5"}], r"layer\[2\]\.dim"),
    ([{"dim": "34x34x2"}, {"dim": "16c5zz"}], r"layer\[1\]\.dim"),
    ([{"dim": "34xx34"}], r"layer\[0\]\.dim"),
    ([{"dim": "0x34x2"}], r"layer\[0\]\.dim"),
    ([{"dim": "34x34x2"}, {"dim": "0c3"}], r"layer\[1\]\.dim"),
    ([{"dim": "34x34x2"}, {"dim": "512"}, {"dim": "16c5"}], r"layer\[2\]\.dim"),
    ([{"dim": "4x4x1"}, {"dim": "2c7"}], r"layer\[1\]\.dim"),
    ([{"dim": "4x4x1"}, {"dim": "8a"}], r"layer\[1\]\.dim"),
    ([{"dim": "4x4x1"}, {"wScale": 1}], r"layer\[1\]\.dim"),
    ([{"dim": "4x4x1"}, {"dim": "8", "wScale": "big"}], r"layer\[1\]\.wScale"),
    ([{"dim": "4x4x1"}, ["8"]], r"layer\[1\]"),
    ([], "layer"),
])
def test_malformed_layers(layers, field):
    with pytest.raises(ValueError, match=field):
        NetParams({"layer": layers})


def _desc(**sections):
    base = yaml.safe_load(SEED_YAML)
    for name, patch in sections.items():
        base[name].update(patch)
    return base


@pytest.mark.parametrize("patch, field", [
    (dict(simulation={"Ts": 0.3}), "simulation.Ts"),
    (dict(simulation={"Ts": -1.0}), "simulation.Ts"),
    (dict(simulation={"tSample": "long"}), "simulation.tSample"),
    (dict(neuron={"tauSr": -1.0}), "neuron.tauSr"),
    (dict(neuron={"tauRef": 0}), "neuron.tauRef"),
    (dict(neuron={"tauRho": -2}), "neuron.tauRho"),
    (dict(neuron={"theta": 0}), "neuron.theta"),
    (dict(neuron={"type": "IZHIKEVICH"}), "neuron.type"),
    (dict(training={"error": {"type": "Hinge"}}), "training.error.type"),
    (dict(training={"error": {"type": "NumSpikes",
                              "tgtSpikeRegion": {"start": 10, "stop": 5},
                              "tgtSpikeCount": {True: 1, False: 0}}}),
     "tgtSpikeRegion.stop"),
    (dict(training={"error": {"type": "NumSpikes",
                              "tgtSpikeRegion": {"start": 0, "stop": 2000},
                              "tgtSpikeCount": {True: 1, False: 0}}}),
     "tgtSpikeRegion.stop"),
    (dict(training={"error": {"type": "NumSpikes",
                              "tgtSpikeRegion": {"start": 0, "stop": 50},
                              "tgtSpikeCount": {"yes": 1}}}), "tgtSpikeCount"),
])
def test_bad_fields_name_the_field(patch, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        NetParams(_desc(**patch))


def test_neuron_types():
    loihi = {"type": "LOIHI", "vThMant": 80, "vDecay": 128, "iDecay": 1024,
             "refDelay": 1, "wgtExp": 0, "tauRho": 1, "scaleRho": 1}
    p = NetParams({"simulation": {"Ts": 1, "tSample": 300}, "neuron": loihi})
    assert p.neuron_type == "LOIHI" and p.num_steps == 300
    with pytest.raises(ValueError, match="neuron.iDecay"):
        NetParams({"neuron": {**loihi, "iDecay": 5000}})
    with pytest.raises(ValueError, match="neuron.refDelay"):
        NetParams({"neuron": {**loihi, "refDelay": 0}})
    missing = dict(loihi)
    del missing["vThMant"]
    with pytest.raises(ValueError, match="neuron.vThMant is missing"):
        NetParams({"neuron": missing})
    # Ts dividing tSample with floats
    assert NetParams({"simulation": {"Ts": 0.1, "tSample": 0.3}}).num_steps == 3


def test_only_safe_yaml(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("simulation: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        NetParams(evil)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="mapping"):
        NetParams(lst)
    with pytest.raises(TypeError):
        NetParams(42)
    with pytest.raises(KeyError, match="layer"):
        NetParams({"simulation": {"Ts": 1, "tSample": 10}})["layer"]
