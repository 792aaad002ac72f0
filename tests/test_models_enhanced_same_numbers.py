"""The Enhanced model in one file (issue 24 item 3) computes the numbers it computed before.

Two pins: (1) the cross-attention's arithmetic before the textbook rewrite (`fusion.py`'s
`CrossAttentionFusion`: W_q W_k folded by einsum, or per head by bmm), kept here verbatim as a
reference over the new module's weights, gives the same fused vectors and weights to 1e-5;
(2) for the same seed and config, a tiny model's losses over four training steps and its full
scores afterwards equal the values recorded from the code before the rewrite (commit 9b56168,
tiny-gpt2 backbone, synthetic data), to 1e-5. The steps are plain SGD on one thread: Adam's
first steps move a weight by about lr * sign(gradient), so float noise in a near-zero
gradient (another thread count) would move the recorded numbers by more than the tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from torch import Tensor

from rec_core.configs.model import EnhancedConfig
from rec_core.models.base import Batch, TrainContext
from rec_core.models.enhanced import CrossAttention
from rec_core.models.registry import build_model
from tests.helpers import split_of, synthetic


def old_fusion(m: CrossAttention, query: Tensor, states: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """`CrossAttentionFusion.forward` as it was (eval mode), reading the new module's weights:
    q_proj = W_q, k_proj = W_k, v_proj = W_v, out_proj = W_o."""
    nh, hd, r, d = m.heads, m.hd, m.r, m.d
    scale = 1.0 / math.sqrt(hd)
    w_k = m.W_k.weight.view(nh, hd, r)
    if nh * r <= d + r:  # folded
        w_q = m.W_q.weight.view(nh, hd, d)
        fold = torch.einsum("nji,njh->inh", w_q, w_k).reshape(d, nh * r) * scale
        bias = torch.einsum("nj,njh->nh", m.W_q.bias.view(nh, hd), w_k).reshape(nh * r) * scale
        qk = torch.addmm(bias, query, fold).view(-1, nh, r)
    else:
        q = m.W_q(query) * scale
        qk = torch.bmm(q.view(-1, nh, hd).transpose(0, 1).contiguous(), w_k).transpose(0, 1)
    masked = torch.zeros(mask.shape).masked_fill_(~mask, float("-inf")).unsqueeze(1)
    attn = torch.softmax(torch.baddbmm(masked, qk, states.transpose(1, 2)), dim=-1)
    ctx = torch.bmm(attn, states)
    if nh * r <= d + r:
        w_o = m.W_o.weight.view(d, nh, hd)
        fold = torch.einsum("njh,enj->nhe", m.W_v.weight.view(nh, hd, r), w_o).reshape(nh * r, d)
        out = torch.addmm(m.W_o(m.W_v.bias), ctx.reshape(len(query), nh * r), fold)
    else:
        w_v = m.W_v.weight.view(nh, hd, r).transpose(1, 2)
        values = torch.bmm(ctx.transpose(0, 1).contiguous(), w_v).transpose(0, 1).reshape(len(query), nh * hd)
        out = m.W_o(values + m.W_v.bias)
    return m.norm(query + out if m.residual else out), attn


@pytest.mark.parametrize(("heads", "rank"), [(4, 64), (2, 32), (1, 16), (8, 16)])
@pytest.mark.parametrize("residual", [False, True])
def test_textbook_attention_equals_the_folded_einsum_form(heads: int, rank: int, residual: bool) -> None:
    torch.manual_seed(0)
    m = CrossAttention(64, rank, heads, 0.0, residual).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    states, mask = torch.randn(30, 12, rank), torch.rand(30, 12) < 0.7
    mask[:, 0] = True
    query = torch.randn(30, 64)
    with torch.no_grad():
        f_new, a_new = m(query, states, mask)
        f_old, a_old = old_fusion(m, query, states, mask)
    torch.testing.assert_close(f_new, f_old, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a_new, a_old, rtol=1e-5, atol=1e-5)
    assert {n for n, _ in m.named_parameters()} == {
        "W_q.weight", "W_q.bias", "W_k.weight", "W_v.weight", "W_v.bias", "W_o.weight", "W_o.bias",
        "norm.weight", "norm.bias",
    }  # fmt: skip


T: dict[str, Any] = {"backbone": "tiny-gpt2", "max_length": 32, "embed_dim": 16}
CONFIGS: dict[str, dict[str, Any]] = {
    "two_heads": dict(T, n_heads=2),
    "folded": dict(T, n_heads=2, text_rank=8, dropout=0.2),
    "four_heads_per_head": dict(T, n_heads=4, text_rank=16),
    "simple": dict(T, use_attention=False, text_residual=True),
    "contrastive_residual": dict(T, n_heads=2, contrastive_weight=0.1, text_residual=True, query_grad=False),
    "cold_map_keys": dict(T, n_heads=2, text_to_id=True, content_keys=True, mf_dropout=True),
    "over_gpt2rec": dict(T, n_heads=2, base="gpt2rec", contrastive_weight=0.1),
    "dynamic_lora": dict(T, n_heads=2, use_cache=False, use_peft=True, dynamic_layers=1, contrastive_weight=0.1),
}
# Recorded before the rewrite: per step {part: loss}; then (sum, sum of |.|, user 3's first four)
# of the trained model's full scores (120 users x 90 items).
RECORDED: dict[str, tuple[list[dict[str, float]], tuple[float, float, list[float]]]] = {
    "two_heads": (
        [{'bpr': 0.6897293, 'reg': 0.0025105, 'total': 0.6922399}, {'bpr': 0.6939562, 'reg': 0.0023721, 'total': 0.6963283}, {'bpr': 0.6813762, 'reg': 0.0023328, 'total': 0.683709}, {'bpr': 0.6970427, 'reg': 0.0023935, 'total': 0.6994362}],
        (-1613.90816, 1614.98675, [-0.219591, -0.109619, -0.097507, -0.055648]),
    ),
    "folded": (
        [{'bpr': 0.676264, 'reg': 0.0025105, 'total': 0.6787746}, {'bpr': 0.6901016, 'reg': 0.0023721, 'total': 0.6924736}, {'bpr': 0.6868826, 'reg': 0.0023328, 'total': 0.6892154}, {'bpr': 0.6949706, 'reg': 0.0023934, 'total': 0.697364}],
        (3.00447, 479.58015, [-0.013426, 0.069013, 0.01632, 0.091832]),
    ),
    "four_heads_per_head": (
        [{'bpr': 0.6873751, 'reg': 0.0025105, 'total': 0.6898856}, {'bpr': 0.6960784, 'reg': 0.0023721, 'total': 0.6984506}, {'bpr': 0.6811228, 'reg': 0.0023327, 'total': 0.6834556}, {'bpr': 0.6951455, 'reg': 0.0023936, 'total': 0.6975392}],
        (416.89282, 626.1243, [-0.054744, -0.012295, 0.112276, 0.0768]),
    ),
    "simple": (
        [{'bpr': 0.6770128, 'reg': 0.0025105, 'total': 0.6795233}, {'bpr': 0.6928592, 'reg': 0.0023726, 'total': 0.6952318}, {'bpr': 0.6869996, 'reg': 0.0023329, 'total': 0.6893325}, {'bpr': 0.6973608, 'reg': 0.0023942, 'total': 0.699755}],
        (507.25983, 919.4788, [-0.143267, -0.068054, 0.075401, 0.10429]),
    ),
    "contrastive_residual": (
        [{'bpr': 0.6869664, 'contrastive': 4.452776, 'reg': 0.0025105, 'total': 1.1347545}, {'bpr': 0.6931016, 'contrastive': 4.961236, 'reg': 0.0023721, 'total': 1.1915975}, {'bpr': 0.6774098, 'contrastive': 4.3999434, 'reg': 0.0023328, 'total': 1.119737}, {'bpr': 0.6937212, 'contrastive': 4.8765306, 'reg': 0.0023936, 'total': 1.1837679}],
        (-1038.43545, 1281.33452, [-0.182611, -0.171117, -0.182024, -0.090071]),
    ),
    "cold_map_keys": (
        [{'bpr': 0.6889451, 'reg': 0.0020701, 'text_to_id': 0.1643798, 'total': 0.855395}, {'bpr': 0.6954095, 'reg': 0.0017234, 'text_to_id': 0.1623334, 'total': 0.8594663}, {'bpr': 0.6825851, 'reg': 0.001778, 'text_to_id': 0.1605476, 'total': 0.8449107}, {'bpr': 0.6956811, 'reg': 0.0018915, 'text_to_id': 0.1589548, 'total': 0.8565274}],
        (-1428.80572, 1441.21739, [-0.128318, -0.053653, -0.061441, 0.017546]),
    ),
    "over_gpt2rec": (
        [{'bpr': 0.6864101, 'contrastive': 4.452776, 'reg': 0.0025105, 'total': 1.1341982}, {'bpr': 0.6933944, 'contrastive': 4.9612436, 'reg': 0.0023722, 'total': 1.1918911}, {'bpr': 0.6810017, 'contrastive': 4.3999577, 'reg': 0.002333, 'total': 1.1233304}, {'bpr': 0.6961489, 'contrastive': 4.8765249, 'reg': 0.0023938, 'total': 1.1861953}],
        (-1580.84719, 1582.64458, [-0.214896, -0.111591, -0.080317, -0.055575]),
    ),
    "dynamic_lora": (
        [{'bpr': 0.6902915, 'contrastive': 4.5882254, 'reg': 0.0024195, 'total': 1.1515336}, {'bpr': 0.6959404, 'contrastive': 4.9895148, 'reg': 0.0024859, 'total': 1.1973778}, {'bpr': 0.6923933, 'contrastive': 4.3611898, 'reg': 0.0024452, 'total': 1.1309575}, {'bpr': 0.693028, 'contrastive': 4.9056501, 'reg': 0.0024471, 'total': 1.18604}],
        (828.14063, 886.12395, [-0.020126, 0.08752, 0.044451, 0.066421]),
    ),
}  # fmt: skip


@pytest.fixture
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_losses_and_scores_equal_those_recorded_before_the_rewrite(name: str, one_thread: None) -> None:
    data = synthetic()
    split = split_of(data, "cold-items" if name == "cold_map_keys" else "ratio")
    ctx = TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train])
    torch.manual_seed(0)
    model = build_model(EnhancedConfig(**CONFIGS[name]), data)
    model.prepare(ctx)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    g = torch.Generator().manual_seed(1)
    model.train()
    losses = []
    for step in range(4):
        n = 64 if step % 2 == 0 else 400  # small batches gather their ids, large ones attend over all
        b = Batch(*(torch.randint(0, k, (n,), generator=g) for k in (data.n_users, data.n_items, data.n_items)))
        opt.zero_grad()
        parts = model.loss(b)
        parts["total"].backward()
        opt.step()
        losses.append({k: float(v.detach()) for k, v in parts.items()})
    model.eval()
    with torch.no_grad():
        scores = model.full_scores(torch.arange(data.n_users)).double()
    recorded_losses, (total, total_abs, first) = RECORDED[name]
    for got, want in zip(losses, recorded_losses, strict=True):
        assert got.keys() == want.keys()
        for key in want:
            assert got[key] == pytest.approx(want[key], abs=1e-5), key
    assert float(scores.sum()) == pytest.approx(total, abs=1e-5 * total_abs)  # relative to the scores' size
    assert float(scores.abs().sum()) == pytest.approx(total_abs, rel=1e-5)
    assert scores[3, :4].tolist() == pytest.approx(first, abs=1e-5)
