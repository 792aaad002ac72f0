"""The Enhanced model's side facing a run and the app (models/enhanced.py holds the model).

`EnhancedRunMixin` gives `GPT2RecommenderEnhanced` what the rest of the product calls beyond
training and scoring: scheme 3's training phases, the warm start from a GPT2Recommender run
(base "gpt2rec"), checkpoints without the frozen backbone, the run record's facts, and what the
analysis pages read (embedding views, cross-attention explanations).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from rec_core.errors import ConfigError
from rec_core.models import fast_paths
from rec_core.models.base import Recommender, View
from rec_core.models.explain import Explanation, explain_entity
from rec_core.models.legacy import convert_legacy_state, has_legacy_keys
from rec_core.models.towers import Side

if TYPE_CHECKING:
    from rec_core.models.gpt2rec import PooledPart

__all__ = ["EnhancedRunMixin"]


class EnhancedRunMixin(Recommender):
    """Methods of `GPT2RecommenderEnhanced` (listed first among its bases) that read the model
    but are no part of its arithmetic. `self` is that model (typed Any: a mixin's methods see
    none of the attributes the model class defines)."""

    def load_base_weights(self: Any, state: dict[str, Tensor]) -> None:
        """Warm start from a GPT2Recommender checkpoint (base "gpt2rec"): every weight the two
        models share (ID tables and neutral vectors, item bias, projections, gate). With
        `gate_init` 0 the model then scores exactly as that run; with `freeze_mf` the copied
        weights stay fixed, and the attention part learns a residual over that run."""
        if self.item_pooled is None:
            raise ConfigError("base", "a GPT2Recommender run can only start a model with base 'gpt2rec'")
        state = convert_legacy_state(state) if has_legacy_keys(state) else state
        pairs: list[tuple[str, Tensor]] = [("gate", self.base_gate)]
        sides: tuple[tuple[Side, PooledPart | None], ...] = (("user", self.user_pooled), ("item", self.item_pooled))
        for side, part in sides:
            ids = self.tower(side).ids
            pairs += [(f"{side}_tower.ids.table.weight", ids.table.weight), (f"{side}_tower.ids.neutral", ids.neutral)]
            if part is not None:
                pairs += [(f"{side}_tower.fusion.{w}", getattr(part.fusion, w)) for w in ("weight", "bias")]
        if self.bias is not None:
            pairs.append(("bias", self.bias))
        missing = [k for k, t in pairs if k not in state or state[k].shape != t.shape]
        if missing:
            raise ConfigError(
                "init_from_run", f"the GPT2Recommender checkpoint lacks or mis-sizes {', '.join(missing)}"
            )
        with torch.no_grad():
            for key, target in pairs:
                target.copy_(state[key])
        if self.config.freeze_mf:  # all of GPT2Recommender stays fixed
            for _key, target in pairs:
                target.requires_grad_(False)
        self.warm_started = True

    def fit_phases(self: Any, epochs: int) -> list[tuple[str, int, Callable[[], None] | None]]:
        """(name, epochs, setup) per phase. Scheme 3: `cached_epochs` in cache mode ("cached"),
        then the rest with dynamic encoding ("dynamic"); else one phase named after the mode.
        The names go into every epoch record and the run's `best_phase`."""
        c = self.config
        if c.cached_epochs == 0 or not c.trainable_backbone:
            return [("cached" if self.use_cache else "dynamic", epochs, None)]
        cached = epochs // 2 if c.cached_epochs < 0 else min(c.cached_epochs, epochs)
        return [
            ("cached", cached, partial(setattr, self, "use_cache", True)),
            ("dynamic", epochs - cached, partial(setattr, self, "use_cache", False)),
        ]

    def phase_patience(self: Any, name: str) -> int | None:
        """Scheme 3's dynamic phase stops after `dynamic_patience` epochs that do not beat the
        best so far (the cached phase's best included); other phases use the run's patience."""
        c = self.config
        return c.dynamic_patience if name == "dynamic" and c.cached_epochs != 0 and c.dynamic_patience >= 0 else None

    def user_embeddings(self: Any, view: View = "fused") -> Tensor:
        self._check_view(view)
        if view == "text" and not self.use_user_text:
            raise ConfigError("view", "this model has no user text (use_user_text is off or users have no text)")
        return self._embeddings("user", view)

    def item_embeddings(self: Any, view: View = "fused") -> Tensor:
        self._check_view(view)
        return self._embeddings("item", view)

    def _embeddings(self: Any, side: Side, view: str) -> Tensor:
        """`id`: the MF part's rows (0 for unseen ids; for items with `text_to_id` their mapped
        text); `text`: the text view t; `fused`: f, the text part of the score."""
        was = self.training
        self.eval()
        try:
            with torch.no_grad():
                if view == "id":
                    rows = self._item_mf_rows() if side == "item" else self.user_tower.mf_rows(self.seen_users)
                    return rows.detach().cpu()
                return self._all(side, "text" if view == "text" else "fusion").detach().cpu()
        finally:
            self.train(was)

    # -- explanations, checkpoints ----------------------------------------------------------------
    def explain_user(self: Any, u: int) -> Explanation:
        """Cross-attention of user `u`'s ID query over its profile tokens (heads x tokens)."""
        return explain_entity(self, "user", u)

    def explain_item(self: Any, i: int) -> Explanation:
        """Cross-attention of item `i`'s ID query over its metadata tokens (heads x tokens)."""
        return explain_entity(self, "item", i)

    def checkpoint_state(self: Any) -> dict[str, Tensor]:
        """The state without frozen backbone weights (rebuilt from the backbone's name);
        adapters and unfrozen top blocks were trained and are kept."""
        frozen = {f"encoder.model.{n}" for n, p in self.encoder.model.named_parameters() if not p.requires_grad}
        return {k: v for k, v in self.state_dict().items() if k not in frozen}

    def load_checkpoint_state(self: Any, state: dict[str, Tensor]) -> None:
        super().load_checkpoint_state(state)
        for tower in (self.item_tower, self.user_tower):  # reduced features with the checkpoint's PCA map
            if tower.text is not None:
                tower.text.refresh(tower.text._states)
        self._fit_pooled()  # from the checkpoint's seen masks, as when it was trained

    def describe(self: Any) -> dict[str, Any]:
        """Facts for the run record: backbone, cache hits, trainable counts."""
        b = self.encoder.backbone
        return {
            "backbone": b.name,
            "backbone_description": b.description,
            "backbone_identity": b.identity,
            "text_cache_hits": self.cache_hits,
            "backbone_trainable_params": self.backbone_trainable_params,
            "use_user_text": self.use_user_text,
        }

    def _all(self: Any, side: Side, view: str, chunk: int = 1024) -> Tensor:
        """(n, d) view `view` ("text" or "fusion") of every entity of `side`."""
        if view == "fusion" and not self.dynamic and not self.training:
            return fast_paths.fused_all(self.tower(side), self.seen_mask(side))
        n, dev = (self.n_users if side == "user" else self.n_items), self.seen_items.device
        return torch.cat(
            [self.represent(side, torch.arange(s, min(n, s + chunk), device=dev))[view] for s in range(0, n, chunk)]
        )

    def _fit_pooled(self: Any) -> None:
        """Base "gpt2rec": the pooled text standardised with the seen entities' statistics."""
        for part, seen in ((self.user_pooled, self.seen_users), (self.item_pooled, self.seen_items)):
            if part is not None:
                part.fit(seen)
