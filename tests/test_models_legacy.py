"""Checkpoints with older key names load through one converter (models/legacy.py).

The model classes know only today's names; `load_checkpoint_state` converts a state holding an
old name once. Covered here: the converter on hand-written names, a checkpoint written with the
key names in use until the textbook rewrite (towers layout, `q_proj`... in the cross-attention)
built in code from a trained tiny model, and a GPT2Recommender checkpoint of the layout before
the towers warm-starting an Enhanced model over GPT2Recommender. The layout before the towers
through the run store: tests/test_models_towers.py.
"""

from __future__ import annotations

import pytest
import torch

from rec_core.models.legacy import convert_legacy_state, has_legacy_keys
from rec_core.models.registry import build_model
from tests.test_models_towers import CONFIGS, _old_key, _pre_textbook_key, _trained


def test_the_converter_maps_each_old_name_to_todays() -> None:
    t = torch.zeros(1)
    old = {
        "item_id.table.weight": t,
        "item_text_proj.0.weight": t,
        "item_text.pca_axes": t,
        "user_fusion.q_proj.weight": t,
        "user_norm.bias": t,
        "user_proj.weight": t,
        "item_tower.fusion.out_proj.bias": t,
        "item_tower.fusion.k_proj.weight": t,
        "gate": t,
        "user_emb.weight": t,  # MF: never renamed
        "encoder.model.h.0.attn.c_attn.lora_A.default.weight": t,
    }
    assert has_legacy_keys(old)
    assert set(convert_legacy_state(old)) == {
        "item_tower.ids.table.weight",
        "item_tower.text_proj.0.weight",
        "item_tower.text.pca_axes",
        "user_tower.fusion.W_q.weight",
        "user_tower.fusion.bias",
        "user_tower.fusion.weight",
        "item_tower.fusion.W_o.bias",
        "item_tower.fusion.W_k.weight",
        "gate",
        "user_emb.weight",
        "encoder.model.h.0.attn.c_attn.lora_A.default.weight",
    }
    new = convert_legacy_state(old)
    assert not has_legacy_keys(new) and convert_legacy_state(new) == new
    with pytest.raises(ValueError, match="both an old and a new name"):
        convert_legacy_state({"item_id.neutral": t, "item_tower.ids.neutral": t})


@pytest.mark.parametrize("kind", ["enhanced", "enhanced-no-user-text"])
def test_a_checkpoint_with_the_names_before_the_textbook_rewrite_scores_the_same(kind: str) -> None:
    model, data, _ = _trained(kind)
    state = model.checkpoint_state()
    before = {_pre_textbook_key(k): v for k, v in state.items()}
    assert any(".fusion.q_proj." in k for k in before) and not any(".W_q." in k for k in before)
    torch.manual_seed(1)  # other initial weights: everything must come from the checkpoint
    fresh = build_model(CONFIGS[kind], data)
    fresh.load_checkpoint_state(before)
    fresh.eval()
    assert all(torch.equal(fresh.state_dict()[k], v) for k, v in model.state_dict().items())
    users = torch.arange(data.n_users)
    with torch.no_grad():
        assert torch.equal(fresh.full_scores(users), model.full_scores(users))


def test_an_old_gpt2rec_checkpoint_warm_starts_the_model_over_it() -> None:
    from rec_core.configs.model import EnhancedConfig

    source, data, ctx = _trained("gpt2rec")
    state = source.checkpoint_state()
    old = {_old_key(k, "gpt2rec"): v for k, v in state.items()}
    assert has_legacy_keys(old)
    over = EnhancedConfig(backbone="tiny-gpt2", max_length=32, embed_dim=16, n_heads=2, base="gpt2rec", gate_init=0.0)
    scores = []
    for checkpoint in (state, old):
        torch.manual_seed(0)
        model = build_model(over, data)
        model.prepare(ctx)
        model.load_base_weights(checkpoint)  # type: ignore[attr-defined]
        model.eval()
        with torch.no_grad():
            scores.append(model.full_scores(torch.arange(data.n_users)))
    assert torch.equal(scores[0], scores[1])
    with torch.no_grad():
        torch.testing.assert_close(scores[0], source.full_scores(torch.arange(data.n_users)), rtol=1e-5, atol=1e-5)
