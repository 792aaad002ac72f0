"""The story both synthetic generators tell (`synthetic`, `synthetic_fast`): its odds, its
vocabularies (genre-typical title words, occupations and the genres they lean towards, the
mean age of each genre's fans) and the assembly of the generated interactions, tables and
texts into `InteractionData`.
"""

from __future__ import annotations

import pandas as pd

from rec_core.data.indexing import IndexedInteractions, assemble
from rec_core.data.interactions import InteractionData
from rec_core.data.movielens import ITEM_TEMPLATE, ML100K_USER_TEMPLATE
from rec_core.data.text_template import render_text_table

__all__ = [
    "ADJECTIVES",
    "GENRE_AGE",
    "GENRE_OCCUPATIONS",
    "GENRE_WORDS",
    "NEUTRAL_WORDS",
    "OCCUPATIONS",
    "OCCUPATION_FROM_GENRE",
    "PREFERRED_SHARE",
    "TITLE_GENRE_WORD",
    "ZIPF_EXPONENT",
    "assemble_synthetic",
]

PREFERRED_SHARE = 0.8  # share of a user's interactions drawn from their preferred genres
TITLE_GENRE_WORD = 0.85  # chance a title word comes from one of the item's genres
ZIPF_EXPONENT = 0.8  # popularity of the item with popularity rank r is (r + 1) ** -0.8

GENRE_WORDS: dict[str, tuple[str, ...]] = {
    "Action": ("Fury", "Strike", "Bullet", "Chase", "Vengeance", "Warrior", "Blast", "Mission", "Fist", "Thunder"),
    "Comedy": ("Wedding", "Party", "Roommates", "Oops", "Vacation", "Crazy", "Pranks", "Buddies", "Goofy", "Holiday"),
    "Drama": ("Silence", "Letters", "Memory", "River", "Winter", "Promise", "Daughter", "Grief", "Home", "Journey"),
    "Horror": ("Blood", "Haunting", "Curse", "Shadow", "Scream", "Crypt", "Demon", "Nightmare", "Grave", "Possessed"),
    "Romance": (
        "Love",
        "Heart",
        "Kiss",
        "Paris",
        "Forever",
        "Darling",
        "Moonlight",
        "Valentine",
        "Embrace",
        "Sweetheart",
    ),
    "Sci-Fi": ("Star", "Galaxy", "Robot", "Planet", "Orbit", "Android", "Quantum", "Nebula", "Cyborg", "Starship"),
    "Documentary": (
        "Truth",
        "Inside",
        "Life",
        "Portrait",
        "Chronicle",
        "Voices",
        "Report",
        "Nature",
        "History",
        "Witnesses",
    ),
    "Animation": ("Bunny", "Dragon", "Toys", "Kingdom", "Magic", "Puppy", "Fairy", "Penguin", "Rainbow", "Balloon"),
    "Thriller": (
        "Conspiracy",
        "Witness",
        "Hostage",
        "Target",
        "Deadline",
        "Suspect",
        "Trap",
        "Ransom",
        "Alibi",
        "Pursuit",
    ),
    "Fantasy": ("Sword", "Wizard", "Realm", "Quest", "Sorcerer", "Elf", "Throne", "Amulet", "Prophecy", "Enchanted"),
    "Western": ("Frontier", "Outlaw", "Saloon", "Sheriff", "Canyon", "Gunslinger", "Ranch", "Mustang", "Dust", "Rider"),
    "Musical": ("Song", "Dance", "Melody", "Rhythm", "Stage", "Broadway", "Harmony", "Chorus", "Ballad", "Tango"),
}
NEUTRAL_WORDS = ("Night", "City", "Secret", "Day", "Road", "Time", "World", "Game", "Summer", "Edge")
ADJECTIVES = ("The Last", "The Lost", "Dark", "Little", "Big", "Golden", "Silent", "Final", "Wild", "Hidden")

OCCUPATIONS: tuple[str, ...] = (
    "student",
    "engineer",
    "artist",
    "teacher",
    "writer",
    "programmer",
    "scientist",
    "doctor",
    "lawyer",
    "salesman",
    "retired",
    "technician",
    "musician",
    "librarian",
    "farmer",
)
# Occupations that lean towards a genre: the correlation that lets user text carry signal.
GENRE_OCCUPATIONS: dict[str, tuple[str, ...]] = {
    "Action": ("technician", "student"),
    "Comedy": ("salesman", "student"),
    "Drama": ("teacher", "writer"),
    "Horror": ("student", "programmer"),
    "Romance": ("writer", "artist"),
    "Sci-Fi": ("engineer", "scientist", "programmer"),
    "Documentary": ("scientist", "librarian", "teacher"),
    "Animation": ("artist", "student"),
    "Thriller": ("lawyer", "doctor"),
    "Fantasy": ("programmer", "librarian"),
    "Western": ("farmer", "retired"),
    "Musical": ("musician", "artist"),
}
GENRE_AGE = {  # mean age of a genre's fans
    "Action": 28,
    "Comedy": 30,
    "Drama": 42,
    "Horror": 24,
    "Romance": 35,
    "Sci-Fi": 30,
    "Documentary": 50,
    "Animation": 22,
    "Thriller": 38,
    "Fantasy": 26,
    "Western": 58,
    "Musical": 45,
}
OCCUPATION_FROM_GENRE = 0.6  # chance the occupation is one of the primary genre's


def assemble_synthetic(
    core: IndexedInteractions, user_table: pd.DataFrame, item_table: pd.DataFrame
) -> InteractionData:
    """The dataset of the indexed interactions `core`, with the fields and texts of the users and
    items it kept (both generators)."""
    user_fields = user_table.loc[list(core.user_ids)].reset_index(drop=True)
    item_fields = item_table.loc[list(core.item_ids)].reset_index(drop=True)
    return assemble(
        "synthetic",
        core,
        user_fields=user_fields,
        item_fields=item_fields,
        user_text=render_text_table(ML100K_USER_TEMPLATE, user_fields, config_field="user_template"),
        item_text=render_text_table(ITEM_TEMPLATE, item_fields, config_field="item_template"),
    )
