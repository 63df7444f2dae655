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
}
GUIDES = ["index", "surrogate_gradients", "native", "training", "coming_from_spyx"]

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
