"""rec_app: what the Streamlit app needs that is not Streamlit glue, testable without Streamlit.

Strings and translation (`i18n`, `i18n_analysis`), plotly figures (`figures`,
`figures_analysis`), view models of the runs and Compare tables (`run_table`,
`compare_table`), duration estimates (`estimate`) and launching runs from the app (`launch`).
It builds on `rec_core`; `rec_core` never imports it.
"""
