"""What draws: every figure, the interactive explorer and the HTML report.

- :mod:`~hyperspy_manifold.plot.colours`: the colours every drawing shares (one
  colour per cluster, noise grey, masked positions white) and the legend naming
  them;
- :mod:`~hyperspy_manifold.plot.report`: the static matplotlib figures of a
  result and :func:`~hyperspy_manifold.plot.report.save_results`, the folder of
  ``results.zspy``, PNG figures and ``summary.json``;
- :mod:`~hyperspy_manifold.plot.explore`: the interactive explorer, embedding,
  label map and patterns linked (matplotlib);
- :mod:`~hyperspy_manifold.plot.html_report`: the self-contained interactive HTML
  report (Bokeh).

The computing side (:mod:`hyperspy_manifold.learn`) never imports this package
at module level: its results call into it only inside the methods that draw
(``ManifoldResult.plot``, ``explore``, ``to_html``), so clustering needs neither
matplotlib nor Bokeh.  Importing this package imports no plotting library
either: each module imports matplotlib or Bokeh inside the functions that draw.
"""
