"""Every model passes the same contract tests (LensKit's conformance-mixin idea)."""

from __future__ import annotations


import pytest
import torch

from rec_core.configs import config_from_dict, config_to_dict
from rec_core.errors import ConfigError
from rec_core.models.base import Batch, Recommender, TrainContext
from rec_core.models.ease import EASEConfig
from rec_core.models.enhanced import EnhancedConfig
from rec_core.models.gpt2rec import GPT2RecConfig
from rec_core.models.itemknn import ItemKNNConfig
from rec_core.models.mf import MFConfig
from rec_core.models.popularity import PopularityConfig
from rec_core.models.registry import build_model
from tests.helpers import split_of, synthetic

CONFIGS = {
    "pop": PopularityConfig(),
    "mf": MFConfig(embed_dim=16),
    "ease": EASEConfig(),
    "itemknn": ItemKNNConfig(k_grid=(10, 40), shrink_grid=(0.0, 5.0)),
    "gpt2rec": GPT2RecConfig(embed_dim=16, backbone="tiny-gpt2", max_length=32),
    "enhanced-cache": EnhancedConfig(embed_dim=16, backbone="tiny-gpt2", max_length=32, n_heads=2),
    "enhanced-simple": EnhancedConfig.from_preset("scheme1", embed_dim=16, backbone="tiny-gpt2", max_length=32),
    "enhanced-lora": EnhancedConfig.from_preset(
        "scheme2", embed_dim=16, backbone="tiny-gpt2", max_length=32, n_heads=2, dynamic_layers=1
    ),
}


def _prepared(key: str, split_kind: str = "ratio") -> tuple[Recommender, object]:
    data = synthetic()
    split = split_of(data, split_kind)
    torch.manual_seed(0)
    model = build_model(CONFIGS[key], data)
    model.prepare(TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train]))
    return model, data


def _batch(data: object, n: int = 32) -> Batch:
    g = torch.Generator().manual_seed(1)
    return Batch(
        torch.randint(0, data.n_users, (n,), generator=g),  # type: ignore[attr-defined]
        torch.randint(0, data.n_items, (n,), generator=g),  # type: ignore[attr-defined]
        torch.randint(0, data.n_items, (n,), generator=g),
    )  # type: ignore[attr-defined]


@pytest.mark.parametrize("key", list(CONFIGS))
class TestModelContract:
    def test_full_scores_shape_and_finite(self, key: str) -> None:
        model, data = _prepared(key)
        model.eval()
        users = torch.arange(7)
        with torch.no_grad():
            s = model.full_scores(users)
        assert s.shape == (7, data.n_items)
        assert torch.isfinite(s).all()

    def test_score_agrees_with_full_scores(self, key: str) -> None:
        model, data = _prepared(key)
        model.eval()
        users = torch.tensor([0, 3, 5])
        items = torch.tensor([2, 2, 9])
        with torch.no_grad():
            full = model.full_scores(users).gather(1, items.view(-1, 1)).squeeze(1)
            pair = model.score(users, items)
        torch.testing.assert_close(pair, full, rtol=1e-5, atol=1e-5)

    def test_loss_parts(self, key: str) -> None:
        model, data = _prepared(key)
        if not model.trainable:  # Popularity: no gradient loss; the Trainer skips its epochs
            with pytest.raises(RuntimeError, match="not trained by gradient"):
                model.loss(_batch(data))
            return
        model.train()
        parts = model.loss(_batch(data))
        assert "total" in parts and parts["total"].requires_grad
        assert all(torch.isfinite(v) for v in parts.values())
        parts["total"].backward()

    def test_config_round_trip(self, key: str) -> None:
        cfg = CONFIGS[key]
        again = config_from_dict(type(cfg), config_to_dict(cfg))
        assert again == cfg

    def test_checkpoint_reload_scores_identically(self, key: str) -> None:
        model, data = _prepared(key)
        if model.trainable:  # move the weights away from their init so the test means something
            opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.05)
            model.train()
            for _ in range(3):
                opt.zero_grad()
                model.loss(_batch(data))["total"].backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            before = model.full_scores(torch.arange(data.n_users))
        state = {k: v.clone() for k, v in model.checkpoint_state().items()}
        torch.manual_seed(123)  # a different init: only the checkpoint can make them equal
        fresh = build_model(CONFIGS[key], data)
        fresh.load_checkpoint_state(state)
        fresh.eval()
        with torch.no_grad():
            after = fresh.full_scores(torch.arange(data.n_users))
        torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-5)

    def test_embedding_views(self, key: str) -> None:
        model, data = _prepared(key)
        for view in model.views:
            items = model.item_embeddings(view)
            assert items.shape[0] == data.n_items and torch.isfinite(items).all()
            users = model.user_embeddings(view)
            assert users.shape[0] == data.n_users and torch.isfinite(users).all()
        with pytest.raises(ConfigError, match="view") as info:
            model.item_embeddings("nonsense")  # type: ignore[arg-type]
        assert info.value.field == "view"

    def test_unseen_items_score_without_their_random_init(self, key: str) -> None:
        # Two unseen items with the same text must score the same for every user: an unseen id
        # gets the neutral embedding, never its own random row.
        model, data = _prepared(key, "cold-items")
        if key == "pop":  # no ID embeddings: every unseen item has count 0
            unseen = (~model.seen_items).nonzero().squeeze(1)
            assert (model.full_scores(torch.arange(3))[:, unseen] == 0).all()
            return
        model.eval()
        unseen = (~model.seen_items).nonzero().squeeze(1)
        assert len(unseen) > 0
        i = int(unseen[0])
        with torch.no_grad():
            before = model.full_scores(torch.arange(5))[:, i].clone()
            for p_name, p in model.named_parameters():
                if p_name.endswith(("item_emb.weight", "item_tower.ids.table.weight")):
                    p[i].add_(10.0)  # changing an unseen id's own row must change nothing
            after = model.full_scores(torch.arange(5))[:, i]
        torch.testing.assert_close(after, before)
