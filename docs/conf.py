"""Sphinx configuration of the hyperspy_manifold documentation.

Build (offline, warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The gallery is built from ``../examples`` (every example is run) into
``auto_examples/``; the API pages are generated from the docstrings into
``api/generated/``. Both folders are generated and git-ignored.
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import hyperspy_manifold  # noqa: E402

DOCS = Path(__file__).parent

project = "hyperspy_manifold"
author = "The hyperspy_manifold developers"
copyright = "the hyperspy_manifold developers, GPL-3.0-or-later"
version = release = hyperspy_manifold.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
root_doc = "index"
# Warnings are errors (-W), but unresolved cross-references are not reported:
# the docs build offline, without intersphinx inventories of numpy, HyperSpy or
# pyxem, so their types in docstrings can not be resolved.
nitpicky = False

# -- autodoc / autosummary / numpydoc ------------------------------------------

autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc sections hold the types
# The class pages list their methods themselves (see _templates/autosummary);
# numpydoc's own member tables would list every inherited HyperSpy/pyxem method.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- sphinx-gallery --------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": str(DOCS / "auto_examples"),
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib",),
    "first_notebook_cell": None,
    "min_reported_time": 1,
    # "Examples using ..." on every API page (the minigallery in
    # _templates/autosummary/function.rst).
    "doc_module": ("hyperspy_manifold",),
    "backreferences_dir": str(DOCS / "api" / "generated" / "backreferences"),
}

# -- HTML ------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"hyperspy_manifold {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {page: [] for page in ("index", "changelog", "cli", "scaling")}
html_show_sourcelink = False


# -- the command-line help, generated so it never drifts from cli.py ---------------


def _write_cli_help():
    from hyperspy_manifold.cli import build_parser

    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal width
    parser = build_parser()
    subparsers = next(
        a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"
    )
    out = DOCS / "api" / "generated"
    out.mkdir(parents=True, exist_ok=True)
    text = ["$ hyperspy-manifold --help\n", parser.format_help()]
    for name, sub in subparsers.choices.items():
        text.append(f"\n$ hyperspy-manifold {name} --help\n")
        text.append(sub.format_help())
    target = out / "cli_help.txt"
    new = "".join(text)
    # Rewriting an unchanged file would make Sphinx rebuild the page every time.
    if not target.exists() or target.read_text() != new:
        target.write_text(new)


_write_cli_help()
