"""Model kinds by name: one config class and one model class each, no importlib lookups. The
config classes alone, torch-free, are `rec_core.configs.MODEL_CONFIGS`."""

from __future__ import annotations

from typing import Any

from rec_core.configs.model import MODEL_CONFIGS
from rec_core.configs.model import model_config_class as model_config_class
from rec_core.data.interactions import InteractionData
from rec_core.models.base import Recommender
from rec_core.models.ease import EASE, EASEConfig
from rec_core.models.enhanced import EnhancedConfig, GPT2RecommenderEnhanced
from rec_core.models.gpt2rec import GPT2RecConfig, GPT2Recommender
from rec_core.models.itemknn import ItemKNN, ItemKNNConfig
from rec_core.models.mf import MF, MFConfig
from rec_core.models.popularity import Popularity, PopularityConfig

__all__ = ["MODELS", "build_model", "model_config_class"]

# name -> (config class, model class); the config's `name` field holds the same key.
MODELS: dict[str, tuple[type, type[Recommender]]] = {
    "pop": (PopularityConfig, Popularity),
    "mf": (MFConfig, MF),
    "ease": (EASEConfig, EASE),
    "itemknn": (ItemKNNConfig, ItemKNN),
    "gpt2rec": (GPT2RecConfig, GPT2Recommender),
    "enhanced": (EnhancedConfig, GPT2RecommenderEnhanced),
}
# The torch-free name -> config map (`rec_core.configs.MODEL_CONFIGS`) must name the same pairs.
if {k: v[0] for k, v in MODELS.items()} != MODEL_CONFIGS:
    raise AssertionError("rec_core.configs.MODEL_CONFIGS and rec_core.models.registry.MODELS disagree")


def build_model(config: Any, data: InteractionData) -> Recommender:
    """A fresh, untrained model for `data` (seed torch first for a reproducible init)."""
    _, cls = MODELS[config.name]
    if cls.needs_data:
        return cls(data.n_users, data.n_items, config, dataset=data)  # type: ignore[call-arg]
    return cls(data.n_users, data.n_items, config)  # type: ignore[call-arg]
