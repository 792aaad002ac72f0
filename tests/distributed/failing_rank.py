"""torchrun entry for the fault test: `python -m rec_core` whose rank 1 fails in its second epoch."""

from __future__ import annotations

import os
import sys

from rec_core.train import trainer

if os.environ.get("RANK") == "1":
    _train_epoch = trainer.Trainer._train_epoch

    def _failing(self: trainer.Trainer, model: object) -> object:
        if self.epoch >= 1:
            raise RuntimeError("injected failure on rank 1")
        return _train_epoch(self, model)  # type: ignore[arg-type]  # the model the trainer passes

    trainer.Trainer._train_epoch = _failing  # type: ignore[method-assign]  # fault injection

from rec_core.cli import main  # after the patch, as the CLI imports the trainer lazily

sys.exit(main(sys.argv[1:]))
