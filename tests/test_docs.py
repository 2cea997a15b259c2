"""The API reference lists the whole public API (the Sphinx build itself runs in CI)."""

import re
from pathlib import Path

import pytest
import yaml

import hyperspy_manifold

DOCS = Path(__file__).parent.parent / "docs"
API_SOURCE = DOCS / "api" / "index.rst"


def _listed(name: str) -> bool:
    text = API_SOURCE.read_text(encoding="utf-8")
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


@pytest.mark.parametrize("name", hyperspy_manifold.__all__)
def test_public_name_in_api_reference(name):
    assert _listed(name), (
        f"{name!r} is in hyperspy_manifold.__all__ but not in {API_SOURCE}"
    )


def _registered():
    extension = Path(hyperspy_manifold.__file__).parent / "hyperspy_extension.yaml"
    registry = yaml.safe_load(extension.read_text(encoding="utf-8"))
    names = list(registry.get("signals", {}))
    for key in ("components1D", "components2D"):
        names += list(registry.get(key, {}))
    return names


@pytest.mark.parametrize("name", _registered())
def test_registered_class_in_api_reference(name):
    assert _listed(name), (
        f"{name!r} is registered with HyperSpy but not in {API_SOURCE}"
    )


def test_every_user_guide_page_cites_a_paper():
    for page in (DOCS / "user_guide").glob("*.rst"):
        if page.stem in ("index", "references", "simulated_data"):
            continue
        assert re.search(r"\[\w+\]_", page.read_text(encoding="utf-8")), page.name
