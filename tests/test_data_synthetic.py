"""Synthetic data: deterministic, fast, and its metadata text predicts interactions (cold items too)."""

from __future__ import annotations


import numpy as np
import pytest

from rec_core.data import SYNTHETIC_GENRE_NAMES, DataConfig, InteractionData, load_dataset
from rec_core.data.synthetic import GENRE_OCCUPATIONS, GENRE_WORDS, OCCUPATIONS


@pytest.fixture(scope="module")
def synthetic() -> InteractionData:
    return load_dataset(DataConfig(name="synthetic"))


def test_sized(synthetic: InteractionData) -> None:
    # Its speed is measured in bench/, not asserted here (tests never assert wall-clock times).
    assert synthetic.name == "synthetic"
    assert (synthetic.n_users, synthetic.n_items) == (600, 500)
    assert 30 <= synthetic.n_interactions / synthetic.n_users <= 50  # mean 40
    assert np.bincount(synthetic.users).min() >= 3


def test_deterministic_per_seed(synthetic: InteractionData) -> None:
    again = load_dataset(DataConfig(name="synthetic"))
    for name in ("users", "items", "ratings", "timestamps", "user_ids", "item_ids"):
        assert np.array_equal(getattr(again, name), getattr(synthetic, name))
    assert again.item_text == synthetic.item_text and again.user_text == synthetic.user_text
    other = load_dataset(DataConfig(name="synthetic", synthetic_seed=1))
    assert other.item_text != synthetic.item_text


def test_fields_texts_and_time_order(synthetic: InteractionData) -> None:
    genres = set(SYNTHETIC_GENRE_NAMES[:8])
    for item_genres in synthetic.item_fields["genres"]:
        assert 1 <= len(item_genres) <= 3 and set(item_genres) <= genres
    assert str(synthetic.item_fields["year"].dtype) == "Int64"
    assert set(synthetic.ratings.tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    text = synthetic.item_text.texts[0]
    assert text.endswith(".") and "Genres: " in text
    for _name, start, end in synthetic.item_text.spans[0]:
        assert text[start:end]
    # User text is demographic only: no genre name leaks into it.
    assert not any(g in t for t in synthetic.user_text.texts for g in SYNTHETIC_GENRE_NAMES)
    assert set(synthetic.user_fields["occupation"]) <= set(OCCUPATIONS)
    same_user = synthetic.users[1:] == synthetic.users[:-1]
    assert (np.diff(synthetic.timestamps)[same_user] > 0).all()  # strictly increasing per user


def _genre_matrix(data: InteractionData) -> np.ndarray:
    names = list(SYNTHETIC_GENRE_NAMES)
    matrix = np.zeros((data.n_items, len(names)))
    for i, item_genres in enumerate(data.item_fields["genres"]):
        matrix[i, [names.index(g) for g in item_genres]] = 1.0
    return matrix


def _title_genre_matrix(data: InteractionData) -> np.ndarray:
    """Genres guessed from title words alone."""
    names = list(SYNTHETIC_GENRE_NAMES)
    word_genre = {w: names.index(g) for g, words in GENRE_WORDS.items() for w in words}
    matrix = np.zeros((data.n_items, len(names)))
    for i, title in enumerate(data.item_fields["title"]):
        for word in title.split():
            if word in word_genre:
                matrix[i, word_genre[word]] += 1.0
    return matrix


def _cold_item_auc(data: InteractionData, features: np.ndarray, seed: int = 0) -> float:
    """Mean per-user AUC ranking held-out (cold) items by a genre profile learnt on the rest."""
    rng = np.random.default_rng(seed)
    cold = rng.random(data.n_items) < 0.2
    warm_rows = ~cold[data.items]
    profile = np.zeros((data.n_users, features.shape[1]))
    np.add.at(profile, data.users[warm_rows], features[data.items[warm_rows]])
    cold_items = np.flatnonzero(cold)
    scores = profile @ features[cold_items].T  # (n_users, n_cold)
    positives = np.zeros((data.n_users, data.n_items), dtype=bool)
    positives[data.users[~warm_rows], data.items[~warm_rows]] = True
    positives = positives[:, cold_items]
    aucs = []
    for u in range(data.n_users):
        pos, neg = scores[u, positives[u]], scores[u, ~positives[u]]
        if len(pos) and len(neg):
            aucs.append(((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean())
    return float(np.mean(aucs))


def test_metadata_predicts_cold_items(synthetic: InteractionData) -> None:
    # Items never seen in "training" are ranked well from their genres, and from title words alone.
    assert _cold_item_auc(synthetic, _genre_matrix(synthetic)) > 0.7  # measured 0.78 (seed 0)
    assert _cold_item_auc(synthetic, _title_genre_matrix(synthetic)) > 0.65  # measured 0.72


def test_preferences_shape_ratings_and_occupations(synthetic: InteractionData) -> None:
    preferred = synthetic.user_fields["preferred_genres"].tolist()
    item_genres = synthetic.item_fields["genres"].tolist()
    liked = np.array([bool(set(preferred[u]) & set(item_genres[i])) for u, i in zip(synthetic.users, synthetic.items)])
    assert 0.75 <= liked.mean() <= 0.95  # ~80% from preferred genres, plus random hits
    assert synthetic.ratings[liked].mean() > synthetic.ratings[~liked].mean() + 1.0
    matches = np.mean(
        [occ in GENRE_OCCUPATIONS[prefs[0]] for occ, prefs in zip(synthetic.user_fields["occupation"], preferred)]
    )
    assert matches > 0.5  # chance alone gives ~0.15


def test_small_config_and_min_rating() -> None:
    small = load_dataset(
        DataConfig(
            name="synthetic",
            synthetic_users=5,
            synthetic_items=10,
            synthetic_genres=2,
            synthetic_interactions_per_user=3,
        )
    )
    assert small.n_users == 5 and small.n_items <= 10 and small.n_interactions >= 15
    filtered = load_dataset(DataConfig(name="synthetic", min_rating=4.0))
    assert filtered.ratings.min() >= 4.0 and any("rating >= 4" in n for n in filtered.notes)
