"""Streamlit glue of the app: session state and language, the page frame, cached resources,
errors shown in the page, the Train form's widgets, the live panel, the duration estimate box,
chart toolbars and the report button.

The only part of rec_app that imports `streamlit`; the pages and app.py build on it, and
everything it decides is delegated to the other rec_app sub-packages (tested without Streamlit).
"""
