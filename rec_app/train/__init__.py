"""The Train page's logic, without Streamlit: the form's values across pages (`form_state`),
checks the config cannot make on its own (`form_checks`, `csv_checks`), errors worded with the
on-screen labels (`field_labels`), datasets on this machine (`datasets`), launching runs
(`launch`) and what the live panel says about each run (`live_view`)."""
