"""Text side of the recommenders: backbones, `TextEncoder`, the feature cache, token labels.

`load_backbone` works offline (bundled MiniLM, a tiny random GPT-2 for tests, or models
already on disk); `TextEncoder.encode` gives frozen features, `forward`/`run_top_layers`
the dynamic path with gradients (split execution of the top blocks for any architecture with a
block list, see `layout`); `FeatureCache` keeps encoded texts on disk.
"""

from rec_core.text.backbones import (
    MINILM,
    TINY_GPT2,
    Backbone,
    BackboneUnavailable,
    available_backbones,
    load_backbone,
    minilm_dir,
)
from rec_core.text.cache import FeatureCache, default_cache_root
from rec_core.text.encoder import (
    EncodedTexts,
    SplitPlan,
    TextEncoder,
    TextEncoderConfig,
    TokenBatch,
)
from rec_core.text.layout import check_backbone_mode
from rec_core.text.tokens import SPECIAL, TEMPLATE, readable_tokens, token_labels

__all__ = [
    "MINILM",
    "SPECIAL",
    "TEMPLATE",
    "TINY_GPT2",
    "Backbone",
    "BackboneUnavailable",
    "EncodedTexts",
    "FeatureCache",
    "SplitPlan",
    "TextEncoder",
    "TextEncoderConfig",
    "TokenBatch",
    "available_backbones",
    "check_backbone_mode",
    "default_cache_root",
    "load_backbone",
    "minilm_dir",
    "readable_tokens",
    "token_labels",
]
