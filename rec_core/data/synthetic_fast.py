"""The vectorised synthetic generator `generate_synthetic_fast`, for the scale benchmark.

The story of `generate_synthetic` (see `rec_core.data.synthetic`) drawn as arrays: items and
users at once, each user's items as weighted draws without replacement grouped by
preferred-genre set. Items, users and picks use three random streams spawned from the seed,
so the item catalogue depends only on the seed and `synthetic_items`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rec_core.data.config import SYNTHETIC_GENRE_NAMES, DataConfig
from rec_core.data.indexing import index_interactions
from rec_core.data.interactions import InteractionData
from rec_core.data.synthetic_shared import (
    ADJECTIVES,
    GENRE_AGE,
    GENRE_OCCUPATIONS,
    GENRE_WORDS,
    NEUTRAL_WORDS,
    OCCUPATION_FROM_GENRE,
    OCCUPATIONS,
    PREFERRED_SHARE,
    TITLE_GENRE_WORD,
    ZIPF_EXPONENT,
    assemble_synthetic,
)

__all__ = ["generate_synthetic_fast"]


def _first_k(rng: np.random.Generator, n: int, g: int, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order (n, g): a random permutation of 0..g-1 per row, member (n, g) bool: its first
    k[row] entries): k distinct genres per row, uniformly."""
    order = np.argsort(rng.random((n, g)), axis=1)
    member = np.zeros((n, g), dtype=bool)
    np.put_along_axis(member, order, np.arange(g)[None, :] < k[:, None], axis=1)
    return order, member


def _names(member: np.ndarray, genre_names: list[str]) -> list[list[str]]:
    """The genre names of each row of a (n, g) bool matrix, in genre order."""
    codes = member.astype(np.int64) @ (np.int64(1) << np.arange(member.shape[1], dtype=np.int64))
    lookup = {int(c): [genre_names[j] for j in range(member.shape[1]) if int(c) >> j & 1] for c in np.unique(codes)}
    return [list(lookup[c]) for c in codes.tolist()]


def _fast_titles(rng: np.random.Generator, order: np.ndarray, counts: np.ndarray, genre_names: list[str]) -> list[str]:
    """Titles as `_title` builds them (same patterns and word odds), drawn for all items at once."""
    n = len(counts)
    vocab = np.array([GENRE_WORDS[g] for g in genre_names] + [NEUTRAL_WORDS], dtype=object)  # (g + 1, 10)

    def words() -> np.ndarray:
        genre = order[np.arange(n), (rng.random(n) * counts).astype(np.int64)]
        row = np.where(rng.random(n) < TITLE_GENRE_WORD, genre, len(genre_names))
        return vocab[row, rng.integers(vocab.shape[1], size=n)]

    first, second = words(), words()
    adjectives = np.array(ADJECTIVES, dtype=object)[rng.integers(len(ADJECTIVES), size=n)]
    pattern = rng.integers(4, size=n).tolist()
    forms = ("{a} {b}", "{c} {a}", "{a} of the {b}", "The {a}")
    return [forms[p].format(a=a, b=b, c=c) for p, a, b, c in zip(pattern, first, second, adjectives)]


def _distinct_draws(
    rng: np.random.Generator,
    cumulative: np.ndarray,
    pool: np.ndarray,
    owners: np.ndarray,
    need: np.ndarray,
    n_items: int,
    taken: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(owner, item) pairs: `need[k]` distinct items from `pool` for each owner `owners[k]`,
    drawn with probability proportional to the weights whose running sum is `cumulative` and
    never one of the owner's `taken` keys (owner * n_items + item). The first distinct items of
    repeated weighted draws are a weighted sample without replacement (as Gumbel top-k is)."""
    out_owner, out_item = [], []
    taken = np.sort(taken)
    left = need.astype(np.int64)
    active = left > 0
    while active.any():
        who, want = owners[active], left[active]
        draws = np.ceil(want * 1.25).astype(np.int64) + 4
        owner = np.repeat(who, draws)
        item = pool[
            np.searchsorted(cumulative, rng.random(len(owner)) * cumulative[-1], side="right").clip(max=len(pool) - 1)
        ]
        key = owner * np.int64(n_items) + item
        # First draw of each key (a stable sort keeps draw order among equal keys), not taken.
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = sorted_key[1:] != sorted_key[:-1]
        if len(taken):
            at = np.searchsorted(taken, sorted_key).clip(max=len(taken) - 1)
            first &= taken[at] != sorted_key
        index = np.sort(order[first])  # distinct new draws, in draw order (grouped by owner)
        owner, item = owner[index], item[index]
        # Rank of each distinct draw within its owner; keep the first `want` of them.
        starts = np.searchsorted(owner, who)
        group = np.repeat(np.arange(len(who)), np.diff(np.append(starts, len(owner))))  # position in who
        keep = np.arange(len(owner)) - starts[group] < want[group]
        out_owner.append(owner[keep])
        out_item.append(item[keep])
        left[active] = want - np.bincount(group[keep], minlength=len(who))
        active = left > 0
        if active.any():  # rare: a few owners drew too many repeats; their picks are now taken
            taken = np.sort(np.concatenate([taken, owner[keep] * np.int64(n_items) + item[keep]]))
    if not out_owner:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(out_owner), np.concatenate(out_item)


def generate_synthetic_fast(config: DataConfig) -> InteractionData:
    """The story of `generate_synthetic` (see the module docstring), vectorised: items and users
    drawn as arrays, each user's items as weighted draws without replacement grouped by
    preferred-genre set. The item catalogue depends only on the seed and `synthetic_items`
    (its own random stream), so runs over several user counts share item texts."""
    item_rng, user_rng, pick_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config.synthetic_seed).spawn(3)
    )
    genre_names = list(SYNTHETIC_GENRE_NAMES[: config.synthetic_genres])
    n_items, n_users = config.synthetic_items, config.synthetic_users
    item_table, member, weights = _fast_items(item_rng, n_items, genre_names)
    user_table, prefs = _fast_users(user_rng, n_users, genre_names)
    user, item, rating, times = _fast_interactions(pick_rng, config, member, prefs, weights)
    core = index_interactions(user + 1, item + 1, rating, times, min_rating=config.min_rating, source="synthetic")
    return assemble_synthetic(core, user_table, item_table)


def _fast_items(
    rng: np.random.Generator, n_items: int, genre_names: list[str]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(item table indexed by raw id, (n_items, g) bool genre matrix, Zipf-like popularity
    weights (n_items,)), all from the items' own stream `rng`."""
    g = len(genre_names)
    counts = rng.choice([1, 2, 3], size=n_items, p=[0.5, 0.35, 0.15]).clip(max=g)
    order, member = _first_k(rng, n_items, g, counts)
    item_table = pd.DataFrame(
        {
            "title": _fast_titles(rng, order, counts, genre_names),
            "year": pd.array(rng.integers(1960, 2024, size=n_items), dtype="Int64"),
            "genres": _names(member, genre_names),
        },
        index=[str(i + 1) for i in range(n_items)],
    )
    ranks = rng.permutation(n_items)
    weights = np.exp(-ZIPF_EXPONENT * np.log1p(ranks).astype(np.float64))
    return item_table, member, weights


def _fast_users(rng: np.random.Generator, n_users: int, genre_names: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """(user table indexed by raw id, (n_users, g) bool preferred-genre matrix), all from the
    users' own stream `rng`."""
    g = len(genre_names)
    n_prefs = rng.integers(1, 3, size=n_users)
    u_order, prefs = _first_k(rng, n_users, g, n_prefs)
    primary = u_order[:, 0]
    age_mean = np.array([GENRE_AGE[name] for name in genre_names], dtype=np.float64)
    ages = np.clip(np.round(rng.normal(age_mean[primary], 8)), 16, 80).astype(np.int64)
    genders = np.where(rng.random(n_users) < 0.5, "female", "male")
    from_genre = rng.random(n_users) < OCCUPATION_FROM_GENRE
    pools = [GENRE_OCCUPATIONS[name] for name in genre_names]
    u = rng.random(n_users)
    occupations = [
        pools[p][int(x * len(pools[p]))] if f else OCCUPATIONS[int(x * len(OCCUPATIONS))]
        for p, f, x in zip(primary.tolist(), from_genre.tolist(), u.tolist())
    ]
    user_table = pd.DataFrame(
        {
            "age": pd.array(ages, dtype="Int64"),
            "gender": genders.tolist(),
            "occupation": occupations,
            # Ground truth, not in the user text; the primary genre first, as generate_synthetic.
            "preferred_genres": [
                [genre_names[x] for x in row[:k]] for row, k in zip(u_order.tolist(), n_prefs.tolist())
            ],
        },
        index=[str(x + 1) for x in range(n_users)],
    )
    return user_table, prefs


def _fast_interactions(
    rng: np.random.Generator, config: DataConfig, member: np.ndarray, prefs: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(user, item, rating, timestamp) arrays (0-based user and item positions), each user's
    items in random order, from the picks' own stream `rng`."""
    n_users, n_items = len(prefs), len(member)
    mean = config.synthetic_interactions_per_user
    floor = min(5, mean)
    n_per_user = (floor - 1 + rng.geometric(1.0 / (mean - floor + 1), size=n_users)).clip(max=n_items // 2)
    bit = np.int64(1) << np.arange(member.shape[1], dtype=np.int64)
    item_code, user_code = member.astype(np.int64) @ bit, prefs.astype(np.int64) @ bit
    n_pref = rng.binomial(n_per_user, PREFERRED_SHARE)
    pref_owner, pref_item = _preferred_picks(rng, item_code, user_code, n_pref, weights)
    rest_owner, rest_item = _distinct_draws(
        rng,
        np.cumsum(weights),
        np.arange(n_items),
        np.arange(n_users),
        n_per_user - n_pref,
        n_items,
        pref_owner * np.int64(n_items) + pref_item,
    )
    user = np.concatenate([pref_owner, rest_owner])
    item = np.concatenate([pref_item, rest_item])
    shuffle = np.lexsort((rng.random(len(user)), user))  # each user's items in random order
    user, item = user[shuffle], item[shuffle]
    good = (item_code[item] & user_code[user]) != 0
    rating = np.where(
        good,
        rng.choice([3, 4, 5], size=len(user), p=[0.15, 0.4, 0.45]),
        rng.choice([1, 2, 3, 4, 5], size=len(user), p=[0.2, 0.3, 0.3, 0.15, 0.05]),
    )
    return user, item, rating, _fast_times(rng, user, n_users)


def _preferred_picks(
    rng: np.random.Generator, item_code: np.ndarray, user_code: np.ndarray, n_pref: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(owner, item) pairs of each user's picks among the items of their preferred genres,
    drawn per preferred-genre set; `n_pref` is lowered in place where a set has fewer items."""
    n_items = len(item_code)
    owners, items = [], []
    for code in np.unique(user_code):  # at most g + g (g - 1) / 2 preferred-genre sets
        who = np.flatnonzero(user_code == code)
        pool = np.flatnonzero(item_code & code)
        need = np.minimum(n_pref[who], len(pool))
        n_pref[who] = need
        o, i = _distinct_draws(rng, np.cumsum(weights[pool]), pool, who, need, n_items, np.empty(0, np.int64))
        owners.append(o)
        items.append(i)
    return np.concatenate(owners), np.concatenate(items)


def _fast_times(rng: np.random.Generator, user: np.ndarray, n_users: int) -> np.ndarray:
    """Timestamps of interactions grouped by `user`: strictly increasing per user, about a day
    apart, from a random start in the year after 2000-01-01."""
    gaps = 1 + rng.exponential(86_400.0, size=len(user)).astype(np.int64)
    total = np.cumsum(gaps)
    starts = np.searchsorted(user, np.arange(n_users))
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0)
    offset = np.int64(946_684_800) + rng.integers(0, 365 * 86_400, size=n_users)  # from 2000-01-01
    return offset[user] + total - before[user]
