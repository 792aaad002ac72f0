"""Small builders shared by the model, trainer and pipeline tests (real objects, tiny sizes)."""

from __future__ import annotations

from functools import lru_cache

from rec_core.data import DataConfig, InteractionData, load_dataset
from rec_core.split import Split, SplitConfig, make_split


@lru_cache(maxsize=4)
def synthetic(users: int = 120, items: int = 90, seed: int = 0) -> InteractionData:
    """A small synthetic dataset (genres drive preferences; texts carry the genres)."""
    return load_dataset(DataConfig(name="synthetic", synthetic_users=users, synthetic_items=items, synthetic_seed=seed))


@lru_cache(maxsize=8)
def split_of(data: InteractionData, kind: str = "ratio", seed: int = 0) -> Split:
    return make_split(data, SplitConfig(kind=kind, seed=seed))  # type: ignore[arg-type]  # kind: a plain str


# Item texts in the shape the MovieLens templates produce, with an empty and a one-letter text.
SAMPLE_TEXTS = [
    "Toy Story (1995). Genres: Animation, Children's, Comedy.",
    "Heat (1995). Genres: Action, Crime, Thriller.",
    "a",
    "",
    "Star Wars (1977). Genres: Action, Adventure, Romance, Sci-Fi, War. Age: 24.",
    "Fargo (1996). Genres: Crime.",
]
