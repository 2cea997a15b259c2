"""The self-contained HTML report (plot/html_report.py), also in a browser.

The browser test drives the system Chromium (``/usr/bin/chromium``, Debian package
``chromium``) through playwright; nothing is downloaded.  Screenshots go to
``tests/artifacts/``; ``docs/_static/report_screenshot.png`` is written when it
is missing or when ``HYPERSPY_MANIFOLD_UPDATE_SCREENSHOT=1``.
"""

import io
import json
import os
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from hyperspy_manifold.data import polycrystalline_film
from hyperspy_manifold.learn.manifold import manifold_decomposition
from hyperspy_manifold.learn.similarity import get_similarity_loadings
from hyperspy_manifold.plot.html_report import flatten_summary, scatter_sample, shrink
from hyperspy_manifold.plot.report import save_results

CHROMIUM = Path("/usr/bin/chromium")
# Without these flags Chromium hangs trying to reach the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
DOCS_SCREENSHOT = (
    Path(__file__).parents[2] / "docs" / "_static" / "report_screenshot.png"
)
MAX_DOCS_SCREENSHOT = 300_000  # bytes


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """The CLI's path: decomposition, similarity, save_results, then the report."""
    out = tmp_path_factory.mktemp("report")
    s, _ = polycrystalline_film(shape=(16, 16), detector=32, random_state=0)
    t0 = time.perf_counter()
    result = manifold_decomposition(
        s, return_info=True, random_state=0, show_progressbar=False
    )
    timings = {"features_and_learning_s": time.perf_counter() - t0}
    similarity = get_similarity_loadings(s, result.labels, show_progressbar=False)
    summary = save_results(
        result,
        out,
        similarity=similarity,
        summary={"input": "polycrystalline_film(shape=(16, 16))", "timings": timings},
        figures=False,
    )
    page = result.to_html(
        out / "report.html", signal=s, similarity=similarity, summary=summary
    )
    return SimpleNamespace(s=s, result=result, out=out, page=page)


class ReportParser(HTMLParser):
    """Rows of every ``<table id=...>`` and the ``summary-json`` script."""

    def __init__(self, text):
        super().__init__()
        self.tables, self.summary_json = {}, None
        self._table = self._cell = None
        self._in_json = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("th", "td") and self._table:
            self._cell = []
        elif tag == "script" and attrs.get("id") == "summary-json":
            self._in_json, self.summary_json = True, ""

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "script":
            self._in_json = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_json:
            self.summary_json += data


def _leaves(tree, prefix=""):
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            out.update(_leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


# -------------------------------------------------------------- pure helpers


def test_scatter_sample_is_a_seeded_sorted_subset():
    candidates = np.arange(0, 2000, 2)
    np.testing.assert_array_equal(scatter_sample(candidates, 5000), candidates)
    sample = scatter_sample(candidates, 100, random_state=3)
    assert sample.size == 100 and np.all(np.diff(sample) > 0)
    assert np.isin(sample, candidates).all()
    np.testing.assert_array_equal(sample, scatter_sample(candidates, 100, 3))
    assert not np.array_equal(sample, scatter_sample(candidates, 100, 4))


def test_shrink_bins_only_large_images():
    image = np.arange(12.0).reshape(3, 4)
    same, factor = shrink(image, 4)
    assert factor == 1 and same is not None
    np.testing.assert_array_equal(same, image)
    binned, factor = shrink(image, 2)
    assert factor == 2
    np.testing.assert_allclose(binned, [[2.5, 4.5]])  # the odd last row is dropped
    row, factor = shrink(np.arange(8.0)[None], 4)  # a line scan keeps its one row
    np.testing.assert_allclose(row, [[0.5, 2.5, 4.5, 6.5]])


def test_flatten_summary_rows():
    rows = flatten_summary({"a": {"b": 1, "c": "x"}, "d": None, "e": [1, 2], "f": {}})
    assert rows == [
        ("a.b", "1"),
        ("a.c", "x"),
        ("d", "null"),
        ("e", "[1, 2]"),
        ("f", "{}"),
    ]


# ------------------------------------------------------------------ the page


@pytest.mark.slow
def test_report_is_self_contained(pipeline):
    text = pipeline.page.read_text(encoding="utf-8")
    assert "Bokeh" in text and len(text) > 300_000  # BokehJS is inlined
    # (BokehJS itself names a MathJax CDN, fetched only for LaTeX labels: the
    # browser test checks that no request leaves the file.)
    markup = re.sub(r"(?s)(<script[^>]*>).*?</script>", r"\1</script>", text)
    assert not re.search(r"<script[^>]+\bsrc=", markup)
    assert not re.search(r"<link[^>]+\bhref=", markup)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    for section in ("linked", "means", "typical", "similarity", "k-scan", "data"):
        assert f'id="{section}"' in text
    assert "sampling-note" not in text  # 256 positions: nothing left out


def test_provenance_table_matches_summary_json(pipeline):
    on_disk = json.loads((pipeline.out / "summary.json").read_text())
    page = ReportParser(pipeline.page.read_text(encoding="utf-8"))
    assert json.loads(page.summary_json) == on_disk
    table = {row[0]: row[1] for row in page.tables["provenance"]}
    leaves = _leaves(on_disk)
    assert set(table) == set(leaves)
    for key, value in leaves.items():
        shown = table[key]
        assert (shown if isinstance(value, str) else json.loads(shown)) == value, key
    assert (
        table["versions.hyperspy_manifold"] == on_disk["versions"]["hyperspy_manifold"]
    )
    assert table["input"] == "polycrystalline_film(shape=(16, 16))"
    assert "timings.features_and_learning_s" in table
    clusters = page.tables["clusters"]
    counts = [int(row[3]) for row in clusters[1:]]
    assert counts == list(pipeline.result.counts)


def test_to_html_rejects_bad_arguments(pipeline, tmp_path):
    with pytest.raises(ValueError, match="`max_points` must be an integer >= 1"):
        pipeline.result.to_html(tmp_path / "r.html", max_points=0)
    with pytest.raises(ValueError, match="navigation shape of the result"):
        pipeline.result.to_html(tmp_path / "r.html", signal=pipeline.s.inav[:4])
    assert not (tmp_path / "r.html").exists()


# --------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(
            "no /usr/bin/chromium: install the Debian package `chromium` (the test "
            "uses the system browser; playwright never downloads one)"
        )
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900},
        )
        yield context
        context.close()


def _open(browser, path):
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Anything but the file itself (and data: URLs) would need a network.
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(("file:", "data:", "blob:"))
            else errors.append(f"request to {r.url}")
        ),
    )
    page.goto(path.as_uri())
    page.wait_for_function(
        "window.Bokeh !== undefined && Bokeh.documents.length > 0 "
        "&& Bokeh.documents[0].is_idle",
        timeout=30_000,
    )
    return page, errors


#: Screen geometry of a figure's frame and of every point of the shared source.
GEOMETRY_JS = """([figure, xs, ys]) => {
  const doc = Bokeh.documents[0];
  const view = Bokeh.index.get_one(doc.get_model_by_name(figure));
  const canvas = view.canvas_view.el.getBoundingClientRect();
  const frame = view.frame;
  const data = doc.get_model_by_name('positions').data;
  const sx = Array.from(data[xs], (v) => canvas.left + frame.x_scale.compute(v));
  const sy = Array.from(data[ys], (v) => canvas.top + frame.y_scale.compute(v));
  return {left: canvas.left + frame.bbox.left, top: canvas.top + frame.bbox.top,
          width: frame.bbox.width, height: frame.bbox.height, sx: sx, sy: sy};
}"""
SELECTED_JS = "Bokeh.documents[0].get_model_by_name('positions').selected.indices"


def _drag(page, start, end):
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=6)
    page.mouse.up()
    page.wait_for_timeout(300)


def _grab(page, geometry):
    from PIL import Image

    clip = {k: geometry[k] for k in ("left", "top", "width", "height")}
    clip["x"], clip["y"] = clip.pop("left"), clip.pop("top")
    png = page.screenshot(clip=clip)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


def _pixel(image, geometry, sx, sy):
    return image[int(sy - geometry["top"]), int(sx - geometry["left"])]


def _save_screenshots(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report_full_page.png"), full_page=True)
    top = page.screenshot(clip={"x": 0, "y": 0, "width": 1200, "height": 780})
    (ARTIFACTS / "report_selection.png").write_bytes(top)
    assert len(top) < MAX_DOCS_SCREENSHOT
    if DOCS_SCREENSHOT.exists() and not os.environ.get(
        "HYPERSPY_MANIFOLD_UPDATE_SCREENSHOT"
    ):
        return
    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    DOCS_SCREENSHOT.write_bytes(top)


def test_report_renders_and_selections_are_linked(pipeline, browser):
    page, errors = _open(browser, pipeline.page)
    assert page.locator("canvas").count() >= 10
    assert page.evaluate(SELECTED_JS) == []
    labels = np.asarray(
        page.evaluate(
            "Array.from(Bokeh.documents[0].get_model_by_name('positions').data.label)"
        )
    )
    assert labels.size == 256

    # -- box select (the active drag tool) around the largest cluster's points
    emb = page.evaluate(GEOMETRY_JS, ["embedding", "ex", "ey"])
    cells = page.evaluate(GEOMETRY_JS, ["label_map", "x", "y"])
    sx, sy = np.asarray(emb["sx"]), np.asarray(emb["sy"])
    largest = np.bincount(labels[labels >= 0]).argmax()
    members = labels == largest
    x0, x1 = sx[members].min() - 3, sx[members].max() + 3
    y0, y1 = sy[members].min() - 3, sy[members].max() + 3
    map_before = _grab(page, cells)
    _drag(page, (x0, y0), (x1, y1))
    selected = np.zeros(labels.size, dtype=bool)
    selected[page.evaluate(SELECTED_JS)] = True
    inside = (sx > x0 + 1) & (sx < x1 - 1) & (sy > y0 + 1) & (sy < y1 - 1)
    near = (sx >= x0 - 1) & (sx <= x1 + 1) & (sy >= y0 - 1) & (sy <= y1 + 1)
    assert selected[members].all()
    assert np.all(selected[inside]) and not np.any(selected[~near])

    # -- the label map shows the same positions highlighted, the others faded
    map_after = _grab(page, cells)
    cx, cy = np.asarray(cells["sx"]), np.asarray(cells["sy"])
    for i in np.flatnonzero(selected)[:5]:
        before = _pixel(map_before, cells, cx[i], cy[i])
        np.testing.assert_allclose(
            _pixel(map_after, cells, cx[i], cy[i]), before, atol=8
        )
    for i in np.flatnonzero(~selected)[:5]:
        before = _pixel(map_before, cells, cx[i], cy[i])
        after = _pixel(map_after, cells, cx[i], cy[i])
        assert after.sum() > before.sum() + 60  # faded towards the white background
    _save_screenshots(page)

    # -- and the other way round: a box in the label map selects embedding points
    page.evaluate(
        "Bokeh.documents[0].get_model_by_name('positions').selected.indices = []"
    )
    emb_before = _grab(page, emb)
    _drag(page, (cells["left"] + 5, cells["top"] + 5), (cx.mean(), cy.mean()))
    selected = np.zeros(labels.size, dtype=bool)
    selected[page.evaluate(SELECTED_JS)] = True
    corner = (cx < cx.mean() - 2) & (cy < cy.mean() - 2)
    assert selected.sum() > 0 and np.all(selected[corner])
    # a cell is hit when it overlaps the box: none whose edge lies beyond it
    half_x = cells["width"] / np.unique(cx.round(1)).size / 2
    half_y = cells["height"] / np.unique(cy.round(1)).size / 2
    beyond = (cx > cx.mean() + half_x + 2) | (cy > cy.mean() + half_y + 2)
    assert not np.any(selected[beyond])
    emb_after = _grab(page, emb)
    assert np.abs(emb_after - emb_before).sum(axis=-1).astype(bool).mean() > 0.005
    assert errors == []
    page.close()


def test_downsampled_report_says_so_and_renders(pipeline, browser, tmp_path):
    path = pipeline.result.to_html(
        tmp_path / "sampled.html", max_points=100, random_state=1
    )
    text = path.read_text(encoding="utf-8")
    note = re.search(r'<p class="note" id="sampling-note">(.*?)</p>', text)
    assert note and "100 of the 256 scan positions" in note.group(1)
    assert "seed 1" in note.group(1)
    page, errors = _open(browser, path)
    positions = page.evaluate(
        "Array.from(Bokeh.documents[0].get_model_by_name('positions').data.position)"
    )
    assert len(positions) == 100
    labels = np.asarray(pipeline.result.labels.data).ravel()
    expected = scatter_sample(np.flatnonzero(labels != -2), 100, random_state=1)
    np.testing.assert_array_equal(positions, expected)
    assert page.locator("canvas").count() >= 10
    assert errors == []
    page.close()
