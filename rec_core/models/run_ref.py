"""The rule on a model config's reference to a finished run (`init_from_run`), shared by MF
("MF continued") and the text models' MF part."""

from __future__ import annotations

from rec_core.configs.model import check_run_id

__all__ = ["check_run_id"]
