"""The notebooks in notebooks/ run top to bottom (at reduced size) and learn.

Each notebook keeps its size knobs in one cell tagged ``parameters``; the test
inserts a cell right after it that shrinks the run, executes the notebook
with nbclient on the ``python3`` kernel (ipykernel's kernel on the current
interpreter, so it imports the installed spyxlike), and checks the results
the notebook computes itself. The kernel runs in a temporary directory, so
the source tree is not on its path and nothing is written into the repo.
"""

import json
import pathlib
import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
TIMEOUT_S = 300  # per cell; the reduced run takes ~15 s on 2 CPU cores


def _load(name):
    path = NOTEBOOKS / name
    assert path.is_file(), f"missing notebook {path}"
    return nbformat.read(path, as_version=4)


def _parameters_index(nb):
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "a notebook needs exactly one cell tagged 'parameters'"
    return tagged[0]


def _run(nb, overrides, cwd):
    nb.cells.insert(_parameters_index(nb) + 1, nbformat.v4.new_code_cell(overrides))
    client = nbclient.NotebookClient(
        nb, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return nb


def _stdout(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream"
                   and o.name == "stdout")


def _all_stdout(nb):
    return "\n".join(_stdout(c) for c in nb.cells if c.cell_type == "code")


def _image_count(nb):
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
               for o in c.outputs)


def _last_cell_accuracy(nb):
    """The ``TEST_ACCURACY = x`` the notebook's last cell prints (and asserts)."""
    match = re.search(r"TEST_ACCURACY = ([0-9.]+)", _stdout(nb.cells[-1]))
    assert match, f"last cell printed no accuracy: {_stdout(nb.cells[-1])!r}"
    accuracy = float(match.group(1))
    print("reduced-size held-out accuracy:", accuracy)
    return accuracy


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_is_stored_without_outputs(name):
    nb = _load(name)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{name}: cell {i} has stored outputs; clear them before committing"
            )
    _parameters_index(nb)


def test_sg_digits_runs_and_learns(tmp_path):
    nb = _load("sg_digits.ipynb")
    overrides = "EPOCHS = 3\nTRAIN_LIMIT = 640\n"
    nb = _run(nb, overrides, tmp_path)  # raises CellExecutionError on any failing cell

    # The last cell prints and asserts the notebook's own held-out accuracy.
    accuracy = _last_cell_accuracy(nb)
    assert accuracy > 0.3, f"held-out accuracy {accuracy} is not above chance (0.1) by enough"

    # It drew its figures: digits, input raster, curves, confusion matrix,
    # hidden-layer rasters, class scores.
    images = _image_count(nb)
    assert images >= 6, f"expected at least 6 figures, got {images}"

    # The layered unroll agreed with hk.dynamic_unroll inside the notebook.
    text = _all_stdout(nb)
    diff = re.search(r"max \|layered - dynamic_unroll\| = ([0-9.e+-]+)", text)
    assert diff and float(diff.group(1)) < 1e-4, text

    # The reduced run really was reduced (the override cell took effect).
    assert "train (640, 64)" in text
    assert json.dumps(nb.metadata["kernelspec"]["name"]) == '"python3"'


def test_slayer_nmnist_style_runs_and_learns(tmp_path):
    nb = _load("slayer_nmnist_style.ipynb")
    overrides = "N_PER_CLASS = 30\nEPOCHS = 4\n"
    nb = _run(nb, overrides, tmp_path)  # raises CellExecutionError on any failing cell

    accuracy = _last_cell_accuracy(nb)
    # 240 training digits, 4 epochs: ~0.7; the full run ~0.95
    assert accuracy > 0.3, f"held-out accuracy {accuracy} is not above chance (0.1) by enough"

    # Event frames, input rasters, curves, confusion matrix, output and hidden rasters.
    images = _image_count(nb)
    assert images >= 6, f"expected at least 6 figures, got {images}"
    text = _all_stdout(nb)
    assert "train (240, 60, 34, 34, 2) uint8" in text       # the override cell took effect
    assert text.count("Epoch ") >= 4                       # one LearningStats line per epoch
    # SLAYER's files were written next to the notebook's working directory
    for name in ("network.yaml", "loss.txt", "accuracy.txt", "learning_curves.png"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "event_digits" / "train.txt").is_file()


def test_event_simulation_runs_checks_and_learns(tmp_path):
    nb = _load("event_simulation.ipynb")
    overrides = "BATCH = 8\nFINE_DT = 5e-5\nTRAIN_HIDDEN = 64\nTRAIN_EPOCHS = 4\nTRAIN_LIMIT = 720\n"
    nb = _run(nb, overrides, tmp_path)  # raises CellExecutionError on any failing cell

    # The last cell prints the notebook's own checks and accuracies.
    last = _stdout(nb.cells[-1])
    values = dict(re.findall(r"^([A-Z_0-9]+) = (\S+)$", last, flags=re.M))
    assert "TEST_ACCURACY" in values, f"last cell printed no results: {last!r}"
    # the engine's spike times equal the float64 closed-form solve, neuron by neuron
    assert float(values["CLOSED_FORM_MATCH"]) >= 0.95
    assert float(values["CLOSED_FORM_REL_ERR"]) < 1e-5
    # the time-stepped simulation approaches the exact one as dt shrinks
    assert float(values["STEPPED_MATCH"]) >= 0.8 and values["STEPPED_ERR_SHRINKS"] == "True"
    # the custom NeuronModel agrees with a time-stepped simulation of the same neuron
    assert float(values["CUSTOM_MATCH"]) >= 0.8
    # spike-time training learns (720 digits, 4 epochs: ~0.8; the full run ~0.94), and the
    # trained weights give the same accuracy in a SpikingNetwork
    accuracy = float(values["TEST_ACCURACY"])
    print("reduced-size held-out accuracy:", accuracy)
    assert accuracy > 0.5, f"held-out accuracy {accuracy} is not above chance (0.1) by enough"
    assert abs(float(values["NETWORK_ACCURACY"]) - accuracy) <= 0.03

    text = _all_stdout(nb)
    assert "batched == one sample at a time: True" in text
    assert "8 samples in" in text                          # the override cell took effect
    # rasters, potentials, custom neuron, training curve, trained digit
    images = _image_count(nb)
    assert images >= 5, f"expected at least 5 figures, got {images}"


def test_stdp_digits_runs_and_learns(tmp_path):
    nb = _load("stdp_digits.ipynb")
    overrides = "N_TRAIN = 400\nEPOCHS1 = 3\nEPOCHS2 = 4\nRSTDP_EPOCHS = 15\nN_TEST = 300\n"
    nb = _run(nb, overrides, tmp_path)  # raises CellExecutionError on any failing cell

    last = _stdout(nb.cells[-1])
    values = dict(re.findall(r"^([A-Z_]+) = (\S+)$", last, flags=re.M))
    assert "TEST_ACCURACY" in values, f"last cell printed no results: {last!r}"
    accuracy = float(values["TEST_ACCURACY"])
    print("reduced-size held-out accuracy:", accuracy, values)
    # 400 images, 3 + 4 epochs: ~0.9 (full size 0.965); R-STDP 15 epochs ~0.55 (full size 0.87)
    assert accuracy > 0.8, accuracy
    assert float(values["RSTDP_ACCURACY"]) > 0.4, values
    # STDP features beat the same read-out on the untrained network
    assert accuracy > float(values["UNTRAINED_ACCURACY"]), values
    text = _all_stdout(nb)
    assert "train (400, 28, 28, 1)" in text                 # the override cell took effect
    assert re.search(r"conv_fire native vs reference: \d+ of \d+ spike times differ", text)
    images = _image_count(nb)   # digits/DoG/times, waves, layer-1 features, winners, layer-2, R-STDP
    assert images >= 6, f"expected at least 6 figures, got {images}"
