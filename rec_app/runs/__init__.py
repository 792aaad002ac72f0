"""Runs as the app shows them: the runs table's rows (`table`, over rec_core's run reader) and
a run's model in words (`model_names`)."""
