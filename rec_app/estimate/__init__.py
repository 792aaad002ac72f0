"""How long a run will take before it is launched, from seconds measured on this machine.

`profiles`: cost profiles, their signatures and the arithmetic of an estimate; `observed`:
finished runs as profiles; `calibration`: a short measurement of settings no run has priced yet.
The Train page's box around them is `rec_app.ui.estimates`.
"""
