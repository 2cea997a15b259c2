"""Render a results JSON of ``run.py`` as a reStructuredText table for the docs.

Run: ``python benchmarks/accuracy/table.py benchmarks/results/accuracy_report.json``
(prints the table; the docs page ``docs/accuracy.rst`` holds the report split's).
"""

from __future__ import annotations

import argparse
import json

SHORT = {
    "default": "default",
    "raw_pca_kmeans_truek": "raw+PCA+k-means (true k)",
    "ewpc_pca_kmeans_truek": "EWPC+PCA+k-means (true k)",
    "ewpc_umap_hdbscan_5pct": "EWPC+UMAP+HDBSCAN 5 %",
}


def rst_table(rows: list[list[str]]) -> str:
    """A grid-free ``simple`` reStructuredText table (first row = header)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule]
    for j, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if j == 0:
            lines.append(rule)
    lines.append(rule)
    return "\n".join(lines)


def render(results: dict) -> str:
    methods = [m for m in results["methods"] if m in SHORT] or results["methods"]
    header = ["scenario", "true k"] + [SHORT.get(m, m) for m in methods]
    rows = [header]
    for row in results["rows"]:
        cells = [row["name"], str(row["true_k"])]
        best = (
            max(row["methods"][m]["ari"] for m in methods if m != "default")
            if len(methods) > 1
            else None
        )
        for m in methods:
            r = row["methods"][m]
            text = f"{r['ari']:.2f} (k {r['k']:.0f}, {r['time']:.0f} s)"
            if m == "default" and best is not None and r["ari"] < best - 0.02:
                text += " *"
            cells.append(text)
        rows.append(cells)
    return rst_table(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json")
    args = parser.parse_args()
    with open(args.json) as fh:
        results = json.load(fh)
    print(render(results))
    summary = results.get("summary")
    if summary:
        print()
        print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
