"""Every plotly figure of the app, in one visual style, with every label from `rec_app.i18n`.

`style`: the style (`Style`), palette and the runs' figures (metric bars, segment bars,
training curves); `export`: figures as PNG / SVG files; `analysis`: attention heatmaps, projections and histograms
of the analysis pages; `alignment`: the Embeddings page's joint map of ID and text vectors. Everything public is importable from `rec_app.figures`.
"""

from rec_app.figures.alignment import aligned_figure
from rec_app.figures.analysis import (
    FIELD_COLOURS,
    HEAT_SCALE,
    attention_heatmaps,
    category_colours,
    difference_histogram,
    field_bars,
    field_heatmap,
    field_name,
    projection_figure,
)
from rec_app.figures.export import EXPORT_ATTEMPTS, chart_config, export_images, export_zip
from rec_app.figures.style import (
    DASHES,
    FONT_FAMILY,
    PALETTE,
    SLIDE,
    Style,
    metric_bars,
    run_colours,
    segment_bars,
    training_curves,
)

__all__ = [
    "aligned_figure",
    "DASHES",
    "EXPORT_ATTEMPTS",
    "FIELD_COLOURS",
    "FONT_FAMILY",
    "HEAT_SCALE",
    "PALETTE",
    "SLIDE",
    "Style",
    "attention_heatmaps",
    "category_colours",
    "chart_config",
    "difference_histogram",
    "export_images",
    "export_zip",
    "field_bars",
    "field_heatmap",
    "field_name",
    "metric_bars",
    "projection_figure",
    "run_colours",
    "segment_bars",
    "training_curves",
]
