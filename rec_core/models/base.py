"""The one model contract every recommender implements (ARCHITECTURE.md, "Contracts")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import torch
from torch import Tensor, nn

from rec_core.errors import ConfigError
from rec_core.models.legacy import convert_legacy_state, has_legacy_keys

__all__ = ["Batch", "Recommender", "TrainContext", "View"]

View = Literal["id", "text", "fused"]
T = TypeVar("T")


@dataclass(frozen=True)
class Batch:
    """One BPR batch: (user, positive item, sampled negative item) triples, all int64 (B,)."""

    users: Tensor
    pos_items: Tensor
    neg_items: Tensor

    def to(self, device: torch.device) -> "Batch":
        return Batch(self.users.to(device), self.pos_items.to(device), self.neg_items.to(device))


@dataclass(frozen=True, eq=False)
class TrainContext:
    """What a model may learn from before training: the training interactions only.

    Passed to `Recommender.prepare` so models can count popularity or record which ids were
    seen; never holds valid or test rows.
    """

    n_users: int
    n_items: int
    train_users: np.ndarray  # (n_train,) int64
    train_items: np.ndarray  # (n_train,) int64


class Recommender(nn.Module):
    """Base class: scores users against items.

    Subclasses set `name` and `config` (a frozen dataclass in the model's file) and implement
    `loss`, `full_scores` and the embedding views. A model knows which ids it saw in training
    (`seen_users`, `seen_items` buffers) so that unseen ids can be given a neutral embedding.

    Scoring passes: models whose scores need a table of every user and item (the text
    models) build it once per *scoring pass* and drop it when the pass ends; outside a pass
    every `full_scores` / `score` call computes from the current weights. Nothing is keyed on
    weights' version counters, so weights changed through `.data`, a dtype or device move, or
    a checkpoint load can never leave old scores behind. An evaluation wraps its calls:

        with model.scoring():
            for users in chunks: model.full_scores(users)

    Inside a pass the weights must not change (no optimizer step, no checkpoint load).
    """

    name: ClassVar[str] = "base"
    config: Any
    # Buffers (register_buffer below), declared for the type checker: nn.Module's attribute
    # lookup would type them `Tensor | Module`.
    seen_users: Tensor  # (n_users,) bool: ids that occur in the training interactions
    seen_items: Tensor  # (n_items,) bool
    # Whether the constructor takes the dataset (`dataset=`): the text models read its texts.
    needs_data: ClassVar[bool] = False

    def __init__(self, n_users: int, n_items: int) -> None:
        super().__init__()
        self.n_users = n_users
        self.n_items = n_items
        # Buffers so they travel with state_dict (and the checkpoint) and with .to(device).
        self.register_buffer("seen_users", torch.zeros(n_users, dtype=torch.bool))
        self.register_buffer("seen_items", torch.zeros(n_items, dtype=torch.bool))
        self._scoring_depth = 0  # > 0 inside `scoring()` (passes may nest; the outermost owns the tables)
        self._scoring_memo: dict[Any, Any] = {}  # what `scoring_table` built in the current pass

    # -- training ---------------------------------------------------------------------------
    def prepare(self, ctx: TrainContext) -> None:
        """Learn non-gradient state from the training interactions (default: seen ids)."""
        self.seen_users.zero_()
        self.seen_items.zero_()
        self.seen_users[torch.as_tensor(ctx.train_users, dtype=torch.long)] = True
        self.seen_items[torch.as_tensor(ctx.train_items, dtype=torch.long)] = True

    def loss(self, batch: Batch) -> dict[str, Tensor]:
        """Named loss parts, always including `total` (the one that is back-propagated)."""
        raise NotImplementedError

    def fit_phases(self, epochs: int) -> list[tuple[str, int, Callable[[], None] | None]]:
        """The training schedule as (phase name, epochs, setup run before the phase): one phase
        "train" by default; the Enhanced model's scheme 3 has "cached" then "dynamic". The
        names go into every epoch record and the run's `best_phase`."""
        return [("train", epochs, None)]

    def phase_patience(self, name: str) -> int | None:
        """Early-stopping patience within phase `name` of `fit_phases` (None: the run's
        `TrainConfig.patience`); the Enhanced model's scheme 3 may give its dynamic phase its own."""
        return None

    def describe(self) -> dict[str, Any]:
        """Facts about the built model for the run's results (`model_info`); none by default."""
        return {}

    def forward(self, batch: Batch) -> dict[str, Tensor]:
        """`loss(batch)`: what a training step calls, through DistributedDataParallel when
        several processes train one run (DDP hooks `forward`)."""
        return self.loss(batch)

    @property
    def trainable(self) -> bool:
        """False for models with nothing to fit by gradient (Popularity)."""
        return any(p.requires_grad for p in self.parameters())

    @property
    def validate_initial(self) -> bool:
        """Whether the trainer validates the weights before the first epoch and may restore
        them (epoch 0, phase "initial"). True for a warm-started text model: its initial
        weights are a finished MF run's, so the weights it keeps can never validate worse
        than that MF."""
        return False

    # -- scoring ----------------------------------------------------------------------------
    def full_scores(self, users: Tensor) -> Tensor:
        """Scores of `users` (B,) against every item: (B, n_items). Higher is better."""
        raise NotImplementedError

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        """Scores of aligned (user, item) pairs: (B,). Default: gather from full scores."""
        return self.full_scores(users).gather(1, items.view(-1, 1)).squeeze(1)

    # -- scoring passes -----------------------------------------------------------------------
    def begin_scoring(self) -> None:
        """Start a scoring pass (see the class docstring); pair with `end_scoring`."""
        self._scoring_depth += 1

    def end_scoring(self) -> None:
        """End a scoring pass; the outermost end drops every table the pass built."""
        if self._scoring_depth <= 0:
            raise RuntimeError("end_scoring() without begin_scoring()")
        self._scoring_depth -= 1
        if self._scoring_depth == 0:
            self._scoring_memo.clear()

    @contextmanager
    def scoring(self) -> Iterator["Recommender"]:
        """`with model.scoring(): ...`: one scoring pass; tables are built at most once in it."""
        self.begin_scoring()
        try:
            yield self
        finally:
            self.end_scoring()

    @property
    def in_scoring_pass(self) -> bool:
        return self._scoring_depth > 0

    def scoring_table(self, key: Any, build: Callable[[], T]) -> T:
        """`build()` once per scoring pass under `key` (the mode it depends on, e.g. training
        or cache mode); outside a pass, `build()` on every call."""
        if self._scoring_depth == 0:
            return build()
        full_key = (key, self.training)
        if full_key not in self._scoring_memo:
            self._scoring_memo[full_key] = build()
        return self._scoring_memo[full_key]

    # -- checkpoints --------------------------------------------------------------------------
    def checkpoint_state(self) -> dict[str, Tensor]:
        """What a checkpoint must hold to rebuild this model (default: the whole state).

        Models with a frozen pretrained backbone override this to leave the backbone out: it
        is rebuilt from its name and identity, not stored again in every run.
        """
        return dict(self.state_dict())

    def load_checkpoint_state(self, state: dict[str, Tensor]) -> None:
        """Inverse of `checkpoint_state`; a key missing from `state` is an error. A checkpoint
        with older key names (models/legacy.py) is converted first."""
        self._scoring_memo.clear()  # loading inside a pass would otherwise keep its tables
        if has_legacy_keys(state):
            state = convert_legacy_state(state)
        missing, unexpected = self.load_state_dict(state, strict=False)
        expected = set(self.checkpoint_state())
        missing = [k for k in missing if k in expected]
        if missing or unexpected:
            raise ValueError(f"checkpoint does not match the model: missing {missing[:5]}, unexpected {unexpected[:5]}")

    # -- projections --------------------------------------------------------------------------
    views: ClassVar[tuple[str, ...]] = ("id",)

    def user_embeddings(self, view: View = "id") -> Tensor:
        """(n_users, d) embeddings of every user in `view` (one of `self.views`)."""
        raise NotImplementedError

    def item_embeddings(self, view: View = "id") -> Tensor:
        """(n_items, d) embeddings of every item in `view` (one of `self.views`)."""
        raise NotImplementedError

    def _check_view(self, view: str) -> None:
        if view not in self.views:
            raise ConfigError("view", f"{self.name} has views {', '.join(self.views)}; got {view!r}")
