"""Sphinx configuration of the harmonica-sklearn documentation.

Build the HTML and run every code snippet of the documentation::

    pip install -e ".[docs]"
    sphinx-build -W --keep-going -b html docs docs/_build/html
    sphinx-build -W --keep-going -b doctest docs docs/_build/doctest

The build needs no network: intersphinx is not used, and only the quick
examples (``examples/plot_*.py``) are executed by sphinx-gallery; the others
are shown without running.
"""

import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Prefer the checkout's package to an installed one.
sys.path.insert(0, str(ROOT))

import harmonica_sklearn  # noqa: E402

project = "harmonica-sklearn"
author = "The harmonica-sklearn developers"
copyright = "2026, " + author
release = harmonica_sklearn.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    # Written for GitHub, not part of the site unless a page includes them.
    "README.md",
    # Per-example timings written by sphinx-gallery.
    "sg_execution_times.rst",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
]
templates_path = ["_templates"]
default_role = "literal"
# No network during the build: no intersphinx inventories are fetched, so
# links to scikit-learn in docstrings stay plain text.

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- doctest --------------------------------------------------------------------
# Every ``>>>`` snippet of the pages and of the docstrings runs in the doctest
# builder, so the documentation cannot drift from the code.
doctest_global_setup = """
import importlib.util
import os
# The Dask and Ray snippets start a local cluster (tens of seconds): they run
# when HARMONICA_DOCS_CLUSTERS=1 and their package is installed.
_clusters = os.environ.get("HARMONICA_DOCS_CLUSTERS") == "1"
dask_missing = not _clusters or importlib.util.find_spec("distributed") is None
ray_missing = not _clusters or importlib.util.find_spec("ray") is None
# scikit-learn's ProgressBar callback: scikit-learn >= 1.9 and rich.
progress_bar_missing = (
    importlib.util.find_spec("rich") is None
    or importlib.util.find_spec("sklearn.callback") is None
)
import matplotlib
matplotlib.use("Agg")
import numpy as np
# NumPy 2 shows scalars as np.float64(0.5), np.True_; print them as NumPy 1
# did, as scikit-learn's doctests do.
np.set_printoptions(legacy="1.25")
"""
doctest_default_flags = (
    __import__("doctest").ELLIPSIS
    | __import__("doctest").NORMALIZE_WHITESPACE
    | __import__("doctest").DONT_ACCEPT_TRUE_FOR_1
)

# -- sphinx-gallery ---------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Only the quick examples run during the build (each takes seconds); the
    # others (the digits demo, neural networks) are shown without running.
    "filename_pattern": re.escape(os.sep) + r"plot_",
    "ignore_pattern": r"__init__\.py|^_",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("harmonica_sklearn",),
    "backreferences_dir": None,
    "reference_url": {"harmonica_sklearn": None},
    "show_memory": False,
    "min_reported_time": 1e9,
    "write_computation_times": False,
}

# -- MyST (Markdown pages written by others: skorch.md, algorithm.md) ------------
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

# -- HTML -----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"harmonica-sklearn {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_static_path = ["_static"]
# Code blocks wrap long lines (docs/_static/custom.css).
html_css_files = ["custom.css"]
html_show_sourcelink = False

# -- Markdown pages written for GitHub: docs/skorch.md, docs/algorithm.md ------
# They are shown as user_guide/skorch and user_guide/algorithm: the stubs
# there are replaced, when the document is read, by the text of the GitHub
# page, whose relative links are rewritten for the site (another page of
# docs/ -> its page here; examples/NAME.py -> its gallery page; any other file
# of the repository -> a download of that file). A stub stays as it is while
# its GitHub page is not written.
_GITHUB_PAGES = {"user_guide/skorch": "skorch.md", "user_guide/algorithm": "algorithm.md"}
_PAGE_OF_FILE = {filename: docname for docname, filename in _GITHUB_PAGES.items()}
exclude_patterns += list(_GITHUB_PAGES.values())
# Their heading levels are theirs to choose.
suppress_warnings = ["myst.header"]

_MARKDOWN_LINK = re.compile(r"(\[[^\]]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")


def _site_link(target):
    """The link for the site of a link ``target`` relative to docs/."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
        return target  # a URL, an anchor, or already absolute
    path, _, anchor = target.partition("#")
    anchor = "#" + anchor if anchor else ""
    resolved = (HERE / path).resolve()
    try:
        inside = resolved.relative_to(HERE).as_posix()
    except ValueError:
        inside = None
    if inside in _PAGE_OF_FILE:
        return f"/{_PAGE_OF_FILE[inside]}.md{anchor}"
    if inside is not None and (HERE / inside).suffix in (".rst", ".md"):
        return f"/{inside}{anchor}"
    examples = ROOT / "examples"
    if resolved.parent == examples and resolved.suffix == ".py":
        return f"/auto_examples/{resolved.stem}.rst{anchor}"
    if resolved.is_file():
        # Relative to the pages (both in user_guide/); "/" would mean docs/.
        return "path:" + os.path.relpath(resolved, HERE / "user_guide").replace(os.sep, "/")
    return None


def _rewrite_links(text):
    def replace(match):
        link = _site_link(match.group(2))
        if link is None:  # nothing to link to: keep the words
            return match.group(1)[1:-2]
        return match.group(1) + link + match.group(3)

    return _MARKDOWN_LINK.sub(replace, text)


def _show_github_page(app, docname, source):
    filename = _GITHUB_PAGES.get(docname)
    if filename is None or not (HERE / filename).exists():
        return
    app.env.note_dependency(str(HERE / filename))
    source[0] = _rewrite_links((HERE / filename).read_text(encoding="utf-8"))


def setup(app):
    app.connect("source-read", _show_github_page)
