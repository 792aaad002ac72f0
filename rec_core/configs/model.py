"""The model configs, one frozen dataclass per model kind, and `MODEL_CONFIGS` (kind -> config
class): torch-free, so configs are built, validated and serialised without loading the models.

Each model module (`rec_core.models.mf`, ...) re-exports its config; `rec_core.models.registry`
pairs these classes with the model classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from rec_core.configs.convert import check_number
from rec_core.configs.presets import PRESETS
from rec_core.configs.text import Pooling, check_precision
from rec_core.errors import ConfigError

__all__ = [
    "BUILT_IN_BACKBONES",
    "EASEConfig",
    "EnhancedConfig",
    "GPT2RecConfig",
    "ItemKNNConfig",
    "MFConfig",
    "MODEL_CONFIGS",
    "PopularityConfig",
    "check_mf_part",
    "check_run_id",
    "model_config_class",
]

# Backbones every mode supports (the test suite runs them all); `rec_core.text.layout` skips
# its check for the same names, so validating a config with them loads no torch.
BUILT_IN_BACKBONES: tuple[str, ...] = ("minilm", "tiny-gpt2")


def check_run_id(run_id: Any) -> None:
    """`init_from_run` is a run id (a folder name of the runs directory), "auto" or "" (off);
    never a path, which could reach outside the runs directory."""
    if not isinstance(run_id, str) or any(ch in run_id for ch in "/\\") or run_id in (".", ".."):
        raise ConfigError(
            "init_from_run", f"must be a run id (a folder name in the runs directory) or empty; got {run_id!r}"
        )


def check_mf_part(config: Any) -> None:
    """Rules on the fields both text models share for their MF part and its gate:
    `gate_init`, `reg_weight`, `init_std`, `init_from_run`, `freeze_mf`."""
    if not math.isfinite(config.gate_init):
        raise ConfigError("gate_init", f"must be a finite number, got {config.gate_init}")
    check_number("reg_weight", config.reg_weight)
    check_number("init_std", config.init_std, strict=True)
    run_id = config.init_from_run
    check_run_id(run_id)
    if config.freeze_mf and not run_id:
        raise ConfigError(
            "freeze_mf",
            "freezes the MF part a warm start copied from an MF run; it needs init_from_run (a run id or 'auto')",
        )


def _check_backbone_mode(name: str, mode: str, k: int) -> None:
    """`rec_core.text.layout.check_backbone_mode`, imported only for a backbone that is not
    built in: it reads the backbone's config.json and builds it on the meta device (torch)."""
    if name in BUILT_IN_BACKBONES:
        return
    from rec_core.text.layout import check_backbone_mode

    check_backbone_mode(name, mode, k)


@dataclass(frozen=True)
class PopularityConfig:
    """Popularity has no hyperparameters; the config exists so every model has one."""

    name: str = "pop"  # model kind, used by the registry and the run record


@dataclass(frozen=True)
class MFConfig:
    name: str = "mf"  # model kind, used by the registry and the run record
    embed_dim: int = 64  # size of user and item embeddings (RecBole's BPR uses 64)
    init_std: float = 0.1  # std of the normal init; xavier-like scale for dim 64
    reg_weight: float = 5e-3  # L2 on the batch's embeddings, added to the loss (chosen on ML-100K valid)
    item_bias: bool = True  # add a learned per-item bias to every score (popularity prior)
    init_from_run: str = ""  # "MF continued": id of a finished MF run (same data, split, seed, embed_dim), or "auto", whose weights start this one; "" trains from scratch

    def __post_init__(self) -> None:
        if self.embed_dim <= 0:
            raise ConfigError("embed_dim", f"must be > 0, got {self.embed_dim}")
        check_number("init_std", self.init_std, strict=True)
        check_number("reg_weight", self.reg_weight)
        check_run_id(self.init_from_run)


@dataclass(frozen=True)
class EASEConfig:
    name: str = "ease"  # model kind, used by the registry and the run record
    # L2 weights (lambda) fitted in turn and compared on validation; the best is kept. One value:
    # no search. The first is also what a bare prepare() fits. ML-100K `ratio` valid NDCG@10
    # peaks at 300 (seed 0: 0.257 at 100, 0.268 at 300, 0.261 at 800); RecBole's default is 250.
    l2_grid: tuple[float, ...] = (100.0, 200.0, 300.0, 500.0, 800.0)
    # Largest catalogue solved densely. Memory grows with the square of the catalogue: at
    # 20,000 items about 8 GB at peak (two float64 20k x 20k matrices of 3.2 GB each, the Gram
    # matrix and its inverse, plus the float32 weights of 1.6 GB, also the checkpoint's size).
    max_items: int = 20_000

    def __post_init__(self) -> None:
        if not self.l2_grid:
            raise ConfigError("l2_grid", "give at least one L2 weight (a positive number)")
        bad = [v for v in self.l2_grid if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0)]
        if bad:
            raise ConfigError("l2_grid", f"every L2 weight must be a positive finite number; got {bad[0]!r}")
        if len(set(self.l2_grid)) != len(self.l2_grid):
            raise ConfigError("l2_grid", f"values must be distinct; got {list(self.l2_grid)}")
        if isinstance(self.max_items, bool) or self.max_items < 1:
            raise ConfigError("max_items", f"must be an integer >= 1, got {self.max_items!r}")


@dataclass(frozen=True)
class ItemKNNConfig:
    name: str = "itemknn"  # model kind, used by the registry and the run record
    # Neighbours kept per item, tried on validation with every shrink value; one value: no
    # search. The first is what a bare prepare() fits (RecBole's default k is 100). ML-100K
    # `ratio` valid NDCG@10 (seed 0, shrink 0): 0.228 at 50, 0.236 at 100, 0.239 at 200 and 400.
    k_grid: tuple[int, ...] = (50, 100, 200, 400)
    # Shrink term added to the cosine's denominator: damps similarities of rarely co-rated
    # pairs; 0 is the plain cosine (best on ML-100K; 10 is as good, 50-100 lose 0.005-0.02).
    shrink_grid: tuple[float, ...] = (0.0, 10.0, 50.0)

    def __post_init__(self) -> None:
        if not self.k_grid:
            raise ConfigError("k_grid", "give at least one neighbourhood size (an integer >= 1)")
        bad_k = [k for k in self.k_grid if isinstance(k, bool) or not isinstance(k, int) or k < 1]
        if bad_k:
            raise ConfigError("k_grid", f"every neighbourhood size must be an integer >= 1; got {bad_k[0]!r}")
        if not self.shrink_grid:
            raise ConfigError("shrink_grid", "give at least one shrink value (a number >= 0)")
        bad_s = [s for s in self.shrink_grid if not (isinstance(s, (int, float)) and math.isfinite(s) and s >= 0)]
        if bad_s:
            raise ConfigError("shrink_grid", f"every shrink value must be a finite number >= 0; got {bad_s[0]!r}")
        for field, values in (("k_grid", self.k_grid), ("shrink_grid", self.shrink_grid)):
            if len(set(values)) != len(values):
                raise ConfigError(field, f"values must be distinct; got {list(values)}")


@dataclass(frozen=True)
class GPT2RecConfig:
    name: str = "gpt2rec"  # model kind, used by the registry and the run record
    embed_dim: int = 64  # size of the ID embeddings and of the projected user/item vectors
    backbone: str = "minilm"  # text backbone: minilm, tiny-gpt2, gpt2, distilgpt2 or a directory
    max_length: int = 64  # tokens per text, special tokens included
    pooling: Pooling = "auto"  # auto | last | mean
    id_dropout: float = 0.1  # share of batch ids replaced by the neutral ID embedding (cold start)
    init_std: float = 0.1  # std of the ID embeddings' normal init
    use_user_text: bool = True  # concatenate user profile embeddings too (off: users ID-only)
    gate_init: float = (
        0.1  # initial value of every dimension of the learned gate on the text part (0: start as pure MF)
    )
    item_bias: bool = True  # MF part: a learned per-item bias (0 for unseen items), as MFConfig.item_bias
    reg_weight: float = 5e-3  # MF part: L2 on the batch's ID embeddings added to the loss, as MFConfig.reg_weight
    mf_dropout: bool = False  # id_dropout also zeroes a dropped id's MF part (DropoutNet-style, for cold items); False: it only swaps the projected part's ID for the neutral one
    init_from_run: str = ""  # warm start: id of a finished MF run (same data, split, seed, embed_dim) whose ID embeddings and item bias start the MF part; "" off
    freeze_mf: bool = False  # with init_from_run: keep the warm-started MF part (ID embeddings, item bias) fixed, so the text part learns a residual over that MF
    precision: Literal["auto", "fp32", "bf16"] = (
        "auto"  # backbone arithmetic: auto (bf16 on a CUDA GPU that has it, else fp32), fp32 or bf16 (autocast; outputs float32)
    )

    def __post_init__(self) -> None:
        for name in ("embed_dim", "max_length"):
            if getattr(self, name) <= 0:
                raise ConfigError(name, f"must be > 0, got {getattr(self, name)}")
        if not 0 <= self.id_dropout < 1:
            raise ConfigError("id_dropout", f"must be in [0, 1), got {self.id_dropout}")
        if self.init_std <= 0:
            raise ConfigError("init_std", f"must be > 0, got {self.init_std}")
        if self.pooling not in ("auto", "last", "mean"):
            raise ConfigError("pooling", f"allowed: auto, last, mean; got {self.pooling!r}")
        check_mf_part(self)
        check_precision(self.precision)


@dataclass(frozen=True)
class EnhancedConfig:
    name: str = "enhanced"  # model kind, used by the registry and the run record
    preset: str = (
        ""  # "", scheme1, scheme2, scheme3, cold or warm (rec_core.configs.PRESETS): where the values below came from
    )
    embed_dim: int = 64  # size of ID, text and fused embeddings
    backbone: str = "minilm"  # text backbone: minilm, tiny-gpt2, gpt2, distilgpt2 or a directory
    max_length: int = 64  # tokens per text, special tokens included
    pooling: Pooling = "auto"  # auto | last | mean (auto: last token for causal LMs, mean otherwise)
    use_cache: bool = True  # True: frozen cached token states; False: dynamic top blocks
    use_attention: bool = True  # cross-attention fusion (else: ID + MLP(pooled text))
    freeze_gpt2: bool = True  # keep the backbone frozen (ignored by LoRA, which freezes the base)
    use_peft: bool = False  # LoRA adapters on the top `dynamic_layers` blocks (needs dynamic mode)
    contrastive_weight: float = 0.0  # weight of the InfoNCE term between ID and text views; 0 off (no weight helped on validation: bench/results/search_text_*.json; schemes 2 and 3 keep the design's 0.1)
    temperature: float = 0.2  # InfoNCE temperature
    contrastive_sample: int = 256  # entities per side in each step's InfoNCE (cost grows with its square)
    n_heads: int = 4  # cross-attention heads; must divide embed_dim
    lora_rank: int = 8  # LoRA rank r
    lora_alpha: int = 16  # LoRA scaling alpha (scale = alpha / r)
    lora_dropout: float = 0.05  # dropout on the LoRA branch
    dynamic_layers: int = 2  # top backbone blocks run with gradients in dynamic mode
    cached_epochs: int = 0  # scheme 3: epochs in cache mode before switching to dynamic (-1: half)
    dynamic_patience: int = -1  # scheme 3: patience within the dynamic phase (-1: the run's; 0: never stop)
    id_dropout: float = 0.1  # share of batch ids replaced by the neutral ID embedding (cold start)
    dropout: float = 0.1  # dropout in the fusion
    init_std: float = 0.1  # std of the ID embeddings' normal init
    use_user_text: bool = True  # fuse user profile texts too (off: users are ID-only)
    text_rank: int = 64  # token states are reduced by a fixed PCA to this many dims before attention
    gate_init: float = (
        0.1  # initial value of every dimension of the learned gate on the text part (0: start as pure MF)
    )
    item_bias: bool = True  # MF part: a learned per-item bias (0 for unseen items), as MFConfig.item_bias
    reg_weight: float = 5e-3  # MF part: L2 on the batch's ID embeddings added to the loss, as MFConfig.reg_weight
    text_residual: bool = False  # text part f = LayerNorm(q + attention) as the seed's fused vector; False: LayerNorm(attention), the ID only steering attention (the MF part carries it)
    mf_dropout: bool = False  # id_dropout also zeroes a dropped id's MF part (DropoutNet-style, for cold items: the text part learns to score alone); False: it only swaps the text part's query for the neutral one
    query_grad: bool = True  # the text part's gradient reaches the ID embeddings through the query; False: they learn from the MF part and InfoNCE only (the text part cannot become a second, unregularised ID model)
    base: str = "mf"  # what the attention part adds to: "mf" (ID embeddings + item bias) or "gpt2rec" (GPT2Recommender's whole score: its MF part + gated pooled-text part, the same arithmetic), so that a GPT2Recommender run's weights with gate_init 0 score exactly as that run
    base_gate_init: float = 0.1  # base "gpt2rec": initial value of the pooled-text part's gate (a warm start copies the GPT2Recommender run's)
    init_from_run: str = ""  # warm start: id of a finished MF run (same data, split, seed, embed_dim) whose ID embeddings and item bias start the MF part, or with base "gpt2rec" a GPT2Recommender run (every shared weight); "" off
    freeze_mf: bool = False  # with init_from_run: keep the warm-started MF part (ID embeddings, item bias) fixed, so the text part learns a residual over that MF
    content_keys: bool = False  # attention keys only on tokens of field values (title, genres, age, ...): special tokens and template words ("Genres:", "year", "old") masked
    text_to_id: bool = False  # a learned map A from an item's text view t to its ID side: items unseen in training (and, with mf_dropout, dropped ones) get MF rows A t instead of 0
    text_to_id_weight: float = 1.0  # text_to_id: weight of its regression term, mean ||A t_i - e_i||^2 over the batch's seen items (e_i detached: the map learns the ID space, it does not move it)
    precision: Literal["auto", "fp32", "bf16"] = (
        "auto"  # backbone arithmetic: auto (bf16 on a CUDA GPU that has it, else fp32), fp32 or bf16 (autocast; outputs float32)
    )

    def __post_init__(self) -> None:
        if self.preset not in ("", *PRESETS):
            raise ConfigError("preset", f"allowed: {', '.join(PRESETS)} (or empty); got {self.preset!r}")
        for name in (
            "embed_dim",
            "max_length",
            "n_heads",
            "lora_rank",
            "lora_alpha",
            "dynamic_layers",
            "text_rank",
            "contrastive_sample",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(name, f"must be > 0, got {getattr(self, name)}")
        if self.embed_dim % self.n_heads:
            raise ConfigError(
                "n_heads, embed_dim", f"n_heads ({self.n_heads}) must divide embed_dim ({self.embed_dim})"
            )
        check_number("contrastive_weight", self.contrastive_weight)
        check_number("temperature", self.temperature, strict=True)
        check_mf_part(self)
        check_precision(self.precision)
        if self.base not in ("mf", "gpt2rec"):
            raise ConfigError("base", f"allowed: mf, gpt2rec; got {self.base!r}")
        check_number("base_gate_init", self.base_gate_init)
        check_number("text_to_id_weight", self.text_to_id_weight)
        for name in ("lora_dropout", "id_dropout", "dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(name, f"must be in [0, 1), got {getattr(self, name)}")
        if self.pooling not in ("auto", "last", "mean"):
            raise ConfigError("pooling", f"allowed: auto, last, mean; got {self.pooling!r}")
        if self.use_peft and self.use_cache:
            raise ConfigError(
                "use_peft, use_cache",
                "LoRA needs dynamic encoding: a cached encoder gets no gradient. Set "
                "use_cache=false (with cached_epochs > 0 for a cached warm-up: scheme 3)",
            )
        if self.cached_epochs < -1:
            raise ConfigError("cached_epochs", f"must be >= 0 (or -1 for half), got {self.cached_epochs}")
        if self.dynamic_patience < -1:
            raise ConfigError(
                "dynamic_patience", f"must be >= 0 (or -1 for the run's patience), got {self.dynamic_patience}"
            )
        if self.cached_epochs != 0 and self.use_cache:
            raise ConfigError(
                "cached_epochs, use_cache",
                "cached_epochs is the cached warm-up before dynamic epochs; it needs use_cache=false",
            )
        # A backbone that cannot run this mode is refused here, before any run folder exists.
        _check_backbone_mode(
            self.backbone,
            "lora" if self.use_peft else "dynamic" if self.trainable_backbone else "cached",
            self.dynamic_layers,
        )

    @property
    def trainable_backbone(self) -> bool:
        """Whether any backbone weight learns (LoRA adapters or unfrozen top blocks)."""
        return self.use_peft or not self.freeze_gpt2

    @staticmethod
    def from_preset(preset: str, **overrides: Any) -> "EnhancedConfig":
        """The preset's switches, with `overrides` on top."""
        if preset not in PRESETS:
            raise ConfigError("preset", f"allowed: {', '.join(PRESETS)}; got {preset!r}")
        return EnhancedConfig(**{**PRESETS[preset], "preset": preset, **overrides})


# name -> config class; the config's `name` field holds the same key.
MODEL_CONFIGS: dict[str, type] = {
    "pop": PopularityConfig,
    "mf": MFConfig,
    "ease": EASEConfig,
    "itemknn": ItemKNNConfig,
    "gpt2rec": GPT2RecConfig,
    "enhanced": EnhancedConfig,
}


def model_config_class(name: str) -> type:
    """The config dataclass of model kind `name`; ConfigError lists the kinds otherwise."""
    if name not in MODEL_CONFIGS:
        raise ConfigError("model", f"unknown model {name!r}; allowed: {', '.join(MODEL_CONFIGS)}")
    return MODEL_CONFIGS[name]
