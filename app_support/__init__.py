"""Streamlit-side glue of the app: session state, language, cached resources, errors, widgets.

Everything that needs `streamlit` lives here or in the pages; `rec_core` never imports it.
"""
