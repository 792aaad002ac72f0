"""Model kinds by name: one config class and one model class each, no importlib lookups."""

from __future__ import annotations

from typing import Any

from rec_core.data.interactions import InteractionData
from rec_core.errors import ConfigError
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


def model_config_class(name: str) -> type:
    """The config dataclass of model kind `name`; ConfigError lists the kinds otherwise."""
    if name not in MODELS:
        raise ConfigError("model", f"unknown model {name!r}; allowed: {', '.join(MODELS)}")
    return MODELS[name][0]


def build_model(config: Any, data: InteractionData) -> Recommender:
    """A fresh, untrained model for `data` (seed torch first for a reproducible init)."""
    _, cls = MODELS[config.name]
    if cls.needs_data:
        return cls(data.n_users, data.n_items, config, dataset=data)  # type: ignore[call-arg]
    return cls(data.n_users, data.n_items, config)  # type: ignore[call-arg]
