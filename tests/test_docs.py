"""Build the documentation and run its code.

Two ``sphinx-build`` runs on a copy of ``docs/`` and ``examples/`` (so the
working tree gets no build output): the HTML builder with warnings as
errors, which also executes the quick gallery examples (``plot_*.py``), then
the doctest builder, which runs every ``>>>`` snippet of the pages and of the
docstrings. Skipped when the documentation dependencies are not installed:
``pip install -e ".[docs]"``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS_REQUIREMENTS = [
    "sphinx",
    "numpydoc",
    "sphinx_gallery",
    "myst_parser",
    "pydata_sphinx_theme",
    "matplotlib",
    "pandas",
]
_missing = [name for name in DOCS_REQUIREMENTS if importlib.util.find_spec(name) is None]

pytestmark = [
    pytest.mark.skipif(
        bool(_missing),
        reason=(
            f"documentation dependencies not installed ({', '.join(_missing)}): "
            'pip install -e ".[docs]"'
        ),
    ),
    # Two builds with a gallery example and ~200 doctests: about a minute
    # and a half on two idle cores; more on a busy machine.
    pytest.mark.timeout(900),
]


def _sphinx(builder, source, out, doctrees):
    env = dict(os.environ)
    # One BLAS thread per process: the snippets fit small models, and
    # oversubscribed BLAS threads make them many times slower.
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["MPLBACKEND"] = "Agg"
    command = [
        sys.executable, "-m", "sphinx",
        "-W", "--keep-going",
        "-b", builder,
        "-d", str(doctrees),
        str(source), str(out),
    ]
    return subprocess.run(
        command, cwd=source, env=env, capture_output=True, text=True, timeout=800
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The copied sources, and the HTML and doctest builds' results."""
    root = tmp_path_factory.mktemp("docs_build")
    ignore = shutil.ignore_patterns(
        "_build", "generated", "auto_examples", "sg_execution_times.rst", "__pycache__"
    )
    shutil.copytree(ROOT / "docs", root / "docs", ignore=ignore)
    shutil.copytree(ROOT / "examples", root / "examples", ignore=ignore)
    doctrees = root / "doctrees"
    html = _sphinx("html", root / "docs", root / "html", doctrees)
    doctest = None
    if html.returncode == 0:
        doctest = _sphinx("doctest", root / "docs", root / "doctest", doctrees)
    return root, html, doctest


def _text(html):
    """The words of an HTML page, tags removed, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _tail(result, n=6000):
    return (result.stdout + result.stderr)[-n:]


def test_html_builds_without_warnings(built):
    root, html, _ = built
    assert html.returncode == 0, _tail(html)
    out = root / "html"
    for page in [
        "index.html",
        "api.html",
        "generated/harmonica_sklearn.HarmonicaSearchCV.html",
        "generated/harmonica_sklearn.StageReport.html",
        "generated/harmonica_sklearn.SearchSpace.html",
        "generated/harmonica_sklearn.inspection.plot_history.html",
        "user_guide/how_it_works.html",
        "user_guide/search_space.html",
        "user_guide/budget.html",
        "user_guide/halving.html",
        "user_guide/migrating.html",
        "user_guide/interpretability.html",
        "user_guide/parallel.html",
        "user_guide/skorch.html",
        "user_guide/algorithm.html",
        "auto_examples/index.html",
    ]:
        assert (out / page).is_file(), page


def test_index_shows_the_migration(built):
    root, html, _ = built
    assert html.returncode == 0, _tail(html)
    text = _text((root / "html" / "index.html").read_text())
    assert "replace GridSearchCV(est, grid) with HarmonicaSearchCV(est, grid)" in text
    assert "Quick start" in text


def test_gallery_runs_only_quick_examples(built):
    root, html, _ = built
    assert html.returncode == 0, _tail(html)
    images = root / "html" / "_images"
    quick = sorted(p.name for p in (ROOT / "examples").glob("plot_*.py"))
    assert quick, "no quick example (examples/plot_*.py)"
    for name in quick:
        stem = name[: -len(".py")]
        assert list(images.glob(f"sphx_glr_{stem}_00*.png")), f"{name} made no figure"
        page = (root / "html" / "auto_examples" / f"{stem}.html").read_text()
        # The example ran: its printed output is on the page.
        assert "sphx-glr-script-out" in page
    # The slow examples are shown, not run.
    for path in (ROOT / "examples").glob("*.py"):
        if path.name.startswith("plot_"):
            continue
        page = root / "html" / "auto_examples" / f"{path.stem}.html"
        assert page.is_file(), path.name
        assert "sphx-glr-script-out" not in page.read_text()
        assert not list(images.glob(f"sphx_glr_{path.stem}_00*.png"))


def test_doctests_pass(built):
    root, html, doctest = built
    assert html.returncode == 0, _tail(html)
    assert doctest is not None
    report = (root / "doctest" / "output.txt").read_text()
    assert doctest.returncode == 0, report[-6000:] + _tail(doctest, 2000)
    summary = re.search(r"(\d+) tests\s+(\d+) failures? in tests", report)
    assert summary, report[-2000:]
    n_tests, n_failures = map(int, summary.groups())
    assert n_failures == 0
    assert n_tests >= 100  # the snippets of every page and docstring ran
