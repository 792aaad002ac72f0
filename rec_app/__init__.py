"""rec_app: the Streamlit app's logic, one sub-package per part of the app.

- `rec_app.ui`: the Streamlit glue (session, language, cached resources, widgets, the live
  panel); the only part of rec_app that imports streamlit.
- `rec_app.train`: the Train page's logic: form state and checks, CSV checks, launching runs,
  the live panel's words.
- `rec_app.estimate`: how long a run will take (measured costs, calibration, the queue ahead).
- `rec_app.runs`: runs as the app shows them: the runs table's rows, model display names.
- `rec_app.compare`: the Compare page's groups, tables, verdicts, exports, equal-budget pairs.
- `rec_app.analysis`: the analysis pages' (Attention, Embeddings, Error analysis) tables.
- `rec_app.figures`: every plotly figure, in one style.
- `rec_app.report`: the defence report (one HTML file, a ZIP of its parts).
- `rec_app.i18n`: every UI string in English and Simplified Chinese.

Imports go down: pages and app.py -> rec_app.ui -> the other sub-packages -> rec_core. Only
rec_app.ui imports streamlit; nothing in rec_app imports pages; rec_core never imports rec_app.
"""
