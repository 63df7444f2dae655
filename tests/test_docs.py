"""The documentation site builds with ``mkdocs build --strict`` and its API
pages are generated from the docstrings.

Repo files (mkdocs.yml, docs/) are found relative to this file, so the test
works when spyxlike is imported from site-packages. mkdocstrings reads the
sources statically from the repo root (``paths: [.]``), so the native
extension is not needed for the build.
"""

import html
import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
MKDOCS_YML = REPO / "mkdocs.yml"

# API page -> names that must appear in it (rendered from the docstrings).
API_PAGES = {
    "axn": ["superspike", "arctan", "boxcar", "triangular", "fast_sigmoid", "custom"],
    "neurons": ["lif_step", "alif_step", "cuba_lif_step", "rcuba_lif_step"],
    "nn": ["LIF", "ALIF", "RLIF", "CuBaLIF", "ActivityRegularization", "PopulationCode"],
    "fn": ["integral_crossentropy", "integral_accuracy", "mse_spikerate", "silence_reg",
           "sparsity_reg"],
    "data": ["rate_code", "angle_code", "shift_augment", "shuffler"],
    "datasets": ["load_digits"],
    "coding": ["rank_code", "times_to_waves", "waves_to_times"],
    "unroll": ["layered_unroll"],
    "spike_linear": ["SpikeLinear"],
    "train": ["TrainState", "make_train_step", "fit", "save_checkpoint", "restore_checkpoint"],
    "parallel": ["data_mesh", "make_data_parallel_train_step"],
    "viz": ["spike_raster"],
    "ops_dispatch": ["use_native", "check_impl"],
    "ops_leaky_scan": ["lif_scan", "li_scan"],
    "ops_spike_matmul": ["spike_matmul"],
    "ops_rank_code": ["rank_code_times_reference", "rank_code_times_native"],
    "winners": ["Winners", "winners_from_list"],
    "expand": ["expand2", "expand4"],
    "spikewave": ["code", "fire", "spyker_fire", "threshold", "infinite", "quantize", "pad"],
    "spiketime": ["gather", "scatter", "labelize", "backward"],
    "spikeconv": ["conv", "fc", "pool"],
    "filter_kernels": ["DoGKernel", "GaborKernel", "DoGFilter", "GaborFilter"],
    "filters": ["Filter", "DoG", "Gabor", "LoG", "local_normalization"],
    "intensity_inhibition": ["generate_inhibition_kernel", "intensity_lateral_inhibition"],
    "zca": ["ZCA", "zca_fit"],
    "canny": ["canny"],
    "competition": ["get_k_winners", "k_winners_from_times", "convwta", "fcwta"],
    "inhibition": ["pointwise_inhibition", "inhibit", "feature_inhibition"],
    "stdp": ["stdp_conv", "stdp_fc", "stdp_spyker", "get_pre_post_ordering"],
    "stdp_config": ["STDPConfig", "update_learning_rate", "update_all_learning_rate"],
    "rstdp": ["rstdp_conv", "rstdp_fc"],
    "event_conv": ["conv_fire", "fc_fire", "pool_times"],
    "spike_time_inhibition": ["pointwise_inhibition_times"],
    "stdp_features": ["KheradpishehConfig", "train_extractor", "extract_features"],
    "rstdp_readout": ["RSTDPReadout"],
    "stdp_demo": ["run"],
    "feature_viz": ["get_deep_feature", "get_deep_receptive_field", "show_tensor"],
    "sparse_spikes": ["SparseSpikes"],
    "sparse": ["code", "conv", "pool", "gather", "convwta"],
    "compat_spyketorch": ["fire", "pad", "Convolution", "STDP", "Intensity2Latency"],
    "compat_spyker": ["conv", "convwta", "stdp", "Conv", "Winner"],
    "ops_fire": [],
    "ops_kwta": [],
    "ops_pointwise_inhibition": [],
    "ops_stdp": [],
    "ops_event_conv": [],
    "ops_sparse_ops": [],
}
GUIDES = ["index", "surrogate_gradients", "native", "training", "coming_from_spyx",
          "single_spike", "sparse", "coming_from_spyketorch"]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None,
    reason="mkdocs / mkdocstrings not installed (pip install '.[test]')",
)


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(MKDOCS_YML), "-d", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{log}"
    assert "WARNING" not in log, f"mkdocs build logged warnings:\n{log}"
    return out


def test_guides_are_built(site):
    for page in GUIDES:
        path = site / ("index.html" if page == "index" else f"{page}/index.html")
        assert path.is_file(), f"{page} was not built"
    index = _text((site / "index.html").read_text(encoding="utf-8"))
    for needle in ("pip install . && spyxlike demo", 'pip install ".[test]" && pytest',
                   "layered_unroll", "integral_crossentropy", "train.fit", '"native"'):
        assert needle in index, needle


@pytest.mark.parametrize("page", sorted(API_PAGES))
def test_api_page_documents_names(site, page):
    path = site / "api" / page / "index.html"
    assert path.is_file(), f"API page {page} was not built"
    page_html = path.read_text(encoding="utf-8")
    for name in API_PAGES[page]:
        # mkdocstrings gives every documented object an anchor with its full path.
        assert re.search(rf'id="spyxlike\.[\w.]*\b{re.escape(name)}"', page_html), (
            f"{name} is not documented on api/{page}"
        )
    # The RST markup of the Sphinx-style docstrings was turned into Markdown.
    body = _text(page_html)
    assert ".. math::" not in body and ":func:`" not in body and ":class:`" not in body


def test_math_is_rendered(site):
    page_html = (site / "api" / "neurons" / "index.html").read_text(encoding="utf-8")
    assert 'class="arithmatex"' in page_html
    assert r"\mathrm{act}(V_{t-1} - \vartheta)" in page_html


def test_nav_lists_every_page():
    nav = MKDOCS_YML.read_text(encoding="utf-8")
    for page in GUIDES:
        assert f"{page}.md" in nav
    for page in API_PAGES:
        assert f"api/{page}.md" in nav
        assert (REPO / "docs" / "api" / f"{page}.md").is_file()


def test_rst_to_markdown_rewrites():
    spec = importlib.util.spec_from_file_location("griffe_rst", REPO / "docs" / "griffe_rst.py")
    griffe_rst = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(griffe_rst)
    text = (
        "Step (see :func:`spyxlike.nn.LIF`, :class:`~haiku.Linear`).\n\n"
        "    .. math::\n"
        "        a = b \\\\\n"
        "        c = d\n\n"
        "    :param x: input.\n"
        "Title\n-----\nbody::\n\n    code\n"
    )
    out = griffe_rst.rst_to_markdown(text)
    assert "`spyxlike.nn.LIF`" in out and "`haiku.Linear`" in out and ":func:" not in out
    assert "    $$\n    \\begin{gathered}\n    a = b \\\\\n    c = d\n    \\end{gathered}\n    $$" in out
    assert "    :param x: input." in out
    assert "**Title**" in out and "-----" not in out and "body:\n" in out


SPYKETORCH_NAMES = [
    "fire_", "threshold_", "feature_inhibition_", "get_k_winners", "intensity_lateral_inhibition",
    "local_normalization", "pointwise_inhibition", "pooling", "Convolution", "Pooling", "STDP",
    "get_pre_post_ordering", "update_learning_rate", "update_all_learning_rate", "CacheDataset",
    "DoGKernel", "GaborKernel", "FilterKernel", "Filter", "Intensity2Latency",
    "LateralIntencityInhibition", "generate_inhibition_kernel", "to_pair", "get_deep_feature",
    "get_deep_receptive_field", "plot_tensor_in_image", "show_tensor",
]
SPYKER_NAMES = [
    "code", "fire", "gather", "scatter", "threshold", "quantize", "infinite", "pad", "labelize",
    "backward", "conv", "fc", "pool", "inhibit", "convwta", "fcwta", "stdp", "DoGFilter",
    "GaborFilter", "LoG", "ZCA", "canny", "STDPConfig", "BPConfig", "Winner", "CodingType",
    "SparseTensor", "wrap_array", "to_sparse", "read_mnist", "read_image", "read_csv",
    "cuda_available", "max_threads", "sparse.code", "sparse.conv", "sparse.pool",
    "sparse.inhibit", "sparse.gather", "sparse.convwta",
]


def test_migration_page_maps_every_seed_name(site):
    body = _text((site / "coming_from_spyketorch" / "index.html").read_text(encoding="utf-8"))
    missing = [n for n in SPYKETORCH_NAMES + SPYKER_NAMES if n not in body]
    assert not missing, missing
    assert "(left, right, top, bottom)" in body and "(top, left, bottom, right)" in body
