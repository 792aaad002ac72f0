"""The Enhanced model's fast paths against straightforward reference computations (issue 25).

Every speed-up of the cached epoch, the evaluation and the dynamic step must leave the model's
numbers alone: for the same weights, the same fused vectors, losses, gradients and scores to
1e-5. The references here are written plainly (per-head key and value projections of every
token, a LayerNorm then a linear map, one dot product per pair) and share no code with the
model's paths apart from the weights they read.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from rec_core.evaluate import evaluate
from rec_core.models.base import Batch, TrainContext
from rec_core.models import fast_paths
from rec_core.models.enhanced import AttentionTower, CrossAttention, EnhancedConfig, GPT2RecommenderEnhanced
from rec_core.models.fast_paths import UniformDropout, uniform_dropout
from tests.helpers import split_of, synthetic

TINY = {"backbone": "tiny-gpt2", "max_length": 32, "embed_dim": 16, "n_heads": 2}
# Deterministic training-mode losses: no dropout draws, every batch entity in InfoNCE.
EXACT = {"dropout": 0.0, "id_dropout": 0.0, "contrastive_sample": 10_000}


def close(actual: Tensor, expected: Tensor, what: str = "") -> None:
    """Equal to 1e-5 (relative and absolute)."""
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5, msg=(lambda s: f"{what}: {s}") if what else None)


def reference_attention(fusion: CrossAttention, query: Tensor, states: Tensor, mask: Tensor) -> Tensor:
    """LayerNorm([q +] W_o concat_h(sum_t a_ht (W_v,h s_t + b_v,h)) + b_o) in eval mode, with
    a_h = softmax over real tokens of <W_q,h q + b_q,h, W_k,h s_t> / sqrt(head_dim)."""
    n, t, _ = states.shape
    nh, hd = fusion.heads, fusion.hd
    q = F.linear(query, fusion.W_q.weight, fusion.W_q.bias).view(n, nh, hd)
    k = F.linear(states, fusion.W_k.weight).view(n, t, nh, hd)
    v = F.linear(states, fusion.W_v.weight, fusion.W_v.bias).view(n, t, nh, hd)
    logits = torch.einsum("nhj,nthj->nht", q, k) / math.sqrt(hd)
    logits = logits.masked_fill(~mask.unsqueeze(1), float("-inf"))
    ctx = torch.einsum("nht,nthj->nhj", torch.softmax(logits, -1), v).reshape(n, nh * hd)
    out = F.linear(ctx, fusion.W_o.weight, fusion.W_o.bias)
    return fusion.norm(query + out if fusion.residual else out)


@pytest.mark.parametrize(("n_heads", "rank", "folded"), [(4, 64, False), (2, 32, True), (1, 16, True), (8, 16, False)])
@pytest.mark.parametrize("residual", [False, True])
def test_attention_matches_the_reference_in_both_layouts(n_heads: int, rank: int, folded: bool, residual: bool) -> None:
    """Folded and per-head projections, whole batch and length buckets: fused vectors, attention
    weights and every gradient as the plain per-token computation."""
    torch.manual_seed(0)
    fusion = CrossAttention(64, rank, n_heads, 0.0, residual)
    assert fusion.folded == folded
    with torch.no_grad():
        for p in fusion.parameters():
            p.add_(0.05 * torch.randn_like(p))
    n, t = 40, 12
    states = torch.randn(n, t, rank)
    mask = torch.rand(n, t) < 0.7
    mask[:, 0] = True
    lengths = torch.tensor([5] * 25 + [12] * 15)
    mask &= torch.arange(t) < lengths.unsqueeze(1)
    query = torch.randn(n, 64, requires_grad=True)
    expected = reference_attention(fusion, query, states, mask)
    got, weights = fusion(query, states, mask)
    close(got, expected, "fused")
    close(weights.sum(-1), torch.ones(n, n_heads), "weights")
    buckets = []
    for a, b, width in ((0, 25, 5), (25, 40, 12)):
        s_b = states[a:b, :width].contiguous()
        additive = torch.zeros(b - a, width).masked_fill_(~mask[a:b, :width], float("-inf")).unsqueeze(1)
        buckets.append((a, b, s_b, additive, s_b.transpose(1, 2).contiguous()))
    bucketed = fast_paths.attend_buckets(fusion, query, buckets)
    close(bucketed, expected, "buckets")
    w = torch.randn_like(expected)
    params = [query, *fusion.parameters()]
    g_ref = torch.autograd.grad((expected * w).sum(), params, retain_graph=True)
    for got_out in (got, bucketed):
        for name, a_, b_ in zip(
            ["query"] + [k for k, _ in fusion.named_parameters()],
            torch.autograd.grad((got_out * w).sum(), params, retain_graph=True),
            g_ref,
        ):
            close(a_, b_, name)


def reference_text_view(tower: AttentionTower, rows: Tensor) -> Tensor:
    """text_proj(pooled[rows]) as the module computes it: LayerNorm, linear, GELU, linear."""
    assert tower.text is not None
    return tower.text_proj(tower.text.pooled[rows])


def reference_query(model: GPT2RecommenderEnhanced, side: str, ids: Tensor) -> Tensor:
    """The ID query of `ids` (no ID dropout): own row for seen ids, else the neutral vector."""
    tower = model.tower(side)  # type: ignore[arg-type]
    seen = model.seen_mask(side)  # type: ignore[arg-type]
    return torch.where(seen[ids].unsqueeze(1), tower.ids.table.weight[ids], tower.ids.neutral)


def reference_fused(model: GPT2RecommenderEnhanced, side: str, ids: Tensor) -> Tensor:
    """The text part's vectors f of `ids` (no ID dropout): own row for seen ids, else neutral."""
    tower = model.tower(side)  # type: ignore[arg-type]
    q = reference_query(model, side, ids)
    if tower.text is None:
        return q
    if isinstance(tower.fusion, CrossAttention):
        # key_mask: every real token, or with `content_keys` the field values' tokens only
        return reference_attention(tower.fusion, q, tower.text.reduced[ids], tower.text.key_mask[ids])
    t = reference_text_view(tower, ids)
    return tower.fusion(q + t if tower.text_residual else t)


def reference_pooled(model: GPT2RecommenderEnhanced, side: str, ids: Tensor) -> Tensor:
    """Base "gpt2rec": GPT2Recommender's text part W [q ; z] of `ids`, one concatenation."""
    q = reference_query(model, side, ids)
    part = model.user_pooled if side == "user" else model.item_pooled
    if part is None:
        return q
    return F.linear(torch.cat([q, part.meta[ids]], -1), part.fusion.weight, part.fusion.bias)


def reference_loss(model: GPT2RecommenderEnhanced, batch: Batch) -> dict[str, Tensor]:
    """BPR + L2 (+ InfoNCE) of `batch`, one triple at a time, from `reference_fused`."""
    c = model.config
    su, si = model.seen_users, model.seen_items
    e_u = model.user_tower.ids.table.weight[batch.users] * su[batch.users].unsqueeze(1)
    e_p = model.item_tower.ids.table.weight[batch.pos_items] * si[batch.pos_items].unsqueeze(1)
    e_n = model.item_tower.ids.table.weight[batch.neg_items] * si[batch.neg_items].unsqueeze(1)
    f_u = reference_fused(model, "user", batch.users) / math.sqrt(c.embed_dim)
    f_p = reference_fused(model, "item", batch.pos_items) * model.gate
    f_n = reference_fused(model, "item", batch.neg_items) * model.gate
    pos = (e_u * e_p).sum(1) + (f_u * f_p).sum(1)
    neg = (e_u * e_n).sum(1) + (f_u * f_n).sum(1)
    if model.item_pooled is not None:
        p_u = reference_pooled(model, "user", batch.users)
        pos = pos + (p_u * reference_pooled(model, "item", batch.pos_items) * model.base_gate).sum(1)
        neg = neg + (p_u * reference_pooled(model, "item", batch.neg_items) * model.base_gate).sum(1)
    if model.bias is not None:
        pos = pos + model.bias[batch.pos_items] * si[batch.pos_items]
        neg = neg + model.bias[batch.neg_items] * si[batch.neg_items]
    out = {"bpr": -F.logsigmoid(pos - neg).mean()}
    total = out["bpr"]
    if c.reg_weight > 0:
        sq = e_u.pow(2).sum() + e_p.pow(2).sum() + e_n.pow(2).sum()
        out["reg"] = c.reg_weight * sq / len(batch.users)
        total = total + out["reg"]
    if c.contrastive_weight > 0:
        parts = []
        for side, ids in (("item", torch.cat([batch.pos_items, batch.neg_items])), ("user", batch.users)):
            tower = model.tower(side)  # type: ignore[arg-type]
            if tower.text is None:
                continue
            rows = ids.unique()
            rows = rows[model.seen_mask(side)[rows]]  # type: ignore[arg-type]
            a = F.normalize(tower.ids.table.weight[rows], dim=-1)
            b = F.normalize(reference_text_view(tower, rows), dim=-1)
            logits = a @ b.T / c.temperature
            labels = torch.arange(len(rows))
            parts.append((F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2)
        out["contrastive"] = sum(parts) / len(parts)  # type: ignore[assignment]
        total = total + c.contrastive_weight * out["contrastive"]
    out["total"] = total
    return out


def _model(**overrides: Any) -> tuple[GPT2RecommenderEnhanced, Any, Any]:
    data = synthetic()
    split = split_of(data, "ratio")
    torch.manual_seed(0)
    m = GPT2RecommenderEnhanced(data.n_users, data.n_items, EnhancedConfig(**{**TINY, **overrides}), dataset=data)
    m.prepare(TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train]))
    # Away from the initialisation (zero biases, unit LayerNorms), so every weight matters.
    with torch.no_grad():
        for name, p in m.named_parameters():
            if p.requires_grad and "encoder" not in name:
                p.add_(0.05 * torch.randn_like(p))
    return m, data, split


def _batch(data: Any, split: Any, n: int, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    tr = split.train
    users = torch.from_numpy(data.users[tr]).long()
    items = torch.from_numpy(data.items[tr]).long()
    pick = torch.randperm(len(users), generator=g)[:n]
    neg = torch.randint(0, data.n_items, (n,), generator=g)
    return Batch(users[pick], items[pick], neg)


CONFIGS = [
    pytest.param({}, id="attention"),
    pytest.param({"contrastive_weight": 0.1}, id="contrastive"),
    pytest.param({"text_residual": True}, id="residual"),
    pytest.param({"use_attention": False, "contrastive_weight": 0.1}, id="scheme1-like"),
    pytest.param({"use_user_text": False}, id="no-user-text"),
    pytest.param({"content_keys": True}, id="content-keys"),
    pytest.param({"base": "gpt2rec", "content_keys": True, "gate_init": 0.1, "base_gate_init": 0.1}, id="cold-preset"),
]


@pytest.mark.parametrize("overrides", CONFIGS)
@pytest.mark.parametrize("size", [8, 600], ids=["gathered-batch", "every-entity-batch"])
def test_training_loss_and_gradients_match_the_reference(overrides: dict[str, Any], size: int) -> None:
    m, data, split = _model(**EXACT, **overrides)
    batch = _batch(data, split, size)
    users, items = batch.users.unique(), torch.cat([batch.pos_items, batch.neg_items]).unique()
    # Both of the loss's paths are covered: a few ids gather the batch's states, most attend over all.
    assert fast_paths.attends_all(m, len(users), len(items)) == (size == 600)
    m.train()
    fast = m.loss(batch)
    ref = reference_loss(m, batch)
    assert fast.keys() == ref.keys()
    for key in ref:
        close(fast[key], ref[key])
    params = [p for p in m.parameters() if p.requires_grad]
    g_fast = torch.autograd.grad(fast["total"], params, allow_unused=True)
    g_ref = torch.autograd.grad(ref["total"], params, allow_unused=True)
    for (name, _), a, b in zip([(n, p) for n, p in m.named_parameters() if p.requires_grad], g_fast, g_ref):
        if a is None or b is None:
            assert a is None or not a.any(), name
            assert b is None or not b.any(), name
            continue
        close(a, b, name)


@pytest.mark.parametrize("overrides", CONFIGS)
def test_scores_and_fused_vectors_match_the_reference(overrides: dict[str, Any]) -> None:
    m, data, _ = _model(**overrides)
    m.eval()
    users, items = torch.arange(data.n_users), torch.arange(data.n_items)
    with torch.no_grad():
        f_u = reference_fused(m, "user", users)
        f_i = reference_fused(m, "item", items)
        e_u = m.user_tower.ids.table.weight * m.seen_users.unsqueeze(1)
        e_i = m.item_tower.ids.table.weight * m.seen_items.unsqueeze(1)
        expected = e_u @ e_i.T + (f_u / math.sqrt(m.config.embed_dim)) @ (f_i * m.gate).T
        if m.bias is not None:
            expected = expected + m.bias * m.seen_items
        if m.item_pooled is not None:
            expected = (
                expected + reference_pooled(m, "user", users) @ (reference_pooled(m, "item", items) * m.base_gate).T
            )
        with m.scoring():
            close(m.full_scores(users), expected)
            pairs = torch.randint(0, data.n_items, (len(users),))
            close(m.score(users, pairs), expected[users, pairs])
        close(m.item_embeddings("fused"), f_i)
        # The gathered path (explanations, dynamic mode) agrees with the reference too.
        close(m.represent("item", items)["fusion"], f_i)


def test_evaluation_runs_the_item_tower_once(monkeypatch: pytest.MonkeyPatch) -> None:
    m, data, split = _model()
    calls = {"item": 0, "user": 0}
    original = fast_paths.fused_all

    def counted(tower: AttentionTower, keep: Tensor) -> Tensor:
        calls["user" if tower is m.user_tower else "item"] += 1
        return original(tower, keep)

    monkeypatch.setattr(fast_paths, "fused_all", counted)
    result = evaluate(m, data, split, "test")
    assert result.metrics  # every test user ranked every item
    assert calls == {"item": 1, "user": 1}


def test_bucketed_dynamic_encoding_matches_one_padded_batch() -> None:
    m, data, _ = _model(**{**EXACT, **{"use_cache": False, "use_peft": True, "lora_dropout": 0.0}})
    with torch.no_grad():  # non-zero adapters, so their gradients are not trivially zero
        for name, p in m.encoder.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.1)
    m.eval()  # the backbone's own dropout off; gradients still flow to the adapters
    tower = m.item_tower
    assert tower.text is not None
    ids = torch.arange(data.n_items)
    lengths = tower.text.mask.sum(1)
    assert int(lengths.max()) - int(lengths.min()) >= 8  # texts of different lengths: several buckets
    lora = [p for n, p in m.encoder.named_parameters() if p.requires_grad]
    assert lora
    plain = tower.text.dynamic(m.encoder, ids)
    bucketed = fast_paths.encode_in_buckets(tower.text, m.encoder, ids)
    for a, b in zip(plain, bucketed):
        close(a, b)
    w = torch.randn_like(plain[0])
    g_plain = torch.autograd.grad((plain[0] * w).sum() + plain[2].sum(), lora)
    g_bucketed = torch.autograd.grad((bucketed[0] * w).sum() + bucketed[2].sum(), lora)
    for a, b in zip(g_plain, g_bucketed):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_uniform_dropout_keeps_the_distribution() -> None:
    torch.manual_seed(0)
    x = torch.ones(200_000)
    y = uniform_dropout(x, 0.25, True)
    zeros = float((y == 0).float().mean())
    assert abs(zeros - 0.25) < 0.01
    assert torch.all((y == 0) | torch.isclose(y, torch.tensor(1 / 0.75)))
    assert abs(float(y.mean()) - 1.0) < 0.02
    assert torch.equal(uniform_dropout(x, 0.25, False), x)
    module = UniformDropout(0.5).eval()
    assert torch.equal(module(x), x)


def test_dynamic_models_use_the_uniform_dropout() -> None:
    m, _, _ = _model(use_cache=False, use_peft=True)
    kinds = {type(module) for module in m.encoder.model.modules()}
    assert torch.nn.Dropout not in kinds
    assert UniformDropout in kinds
