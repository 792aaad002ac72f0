"""rec_core: train and evaluate ID-only and LLM-enhanced recommenders, honestly."""

__version__ = "0.1.0"
