"""The tokenizer of the built-in `tiny-gpt2` backbone (rec_core/text/backbones.py).

A byte-level BPE, like GPT-2's, trained in-process on a fixed corpus, so that the tokenizer
(and so tiny-gpt2's identity and the feature-cache keys built from it) is the same on every
machine without a download.
"""

from __future__ import annotations

from transformers import PreTrainedTokenizerFast

__all__ = ["tiny_tokenizer"]

# A fixed corpus so that the tiny byte-level BPE (and so tiny-gpt2's identity) is the same on
# every machine: MovieLens-like template words, genres, occupations and digits.
_TINY_CORPUS = (
    "Toy Story (1995). Genres: Animation, Children's, Comedy.",
    "GoldenEye (1995). Genres: Action, Adventure, Thriller.",
    "Four Rooms (1995). Genres: Thriller. Get Shorty (1995). Genres: Action, Comedy, Drama.",
    "Star Wars (1977). Genres: Action, Adventure, Romance, Sci-Fi, War.",
    "The Godfather (1972). Genres: Crime, Drama. Casablanca (1942). Genres: Film-Noir.",
    "Fargo (1996). Genres: Crime, Drama, Thriller. Scream (1996). Genres: Horror.",
    "Genres: Documentary, Fantasy, Musical, Mystery, Western, unknown.",
    "Age: 24. Gender: M. Occupation: technician. Age: 53. Gender: F. Occupation: other.",
    "Occupation: writer, executive, administrator, student, lawyer, educator, scientist.",
    "Occupation: entertainment, programmer, librarian, homemaker, artist, engineer.",
    "Occupation: marketing, none, healthcare, retired, salesman, doctor.",
    "a funny cartoon for children. animated comedy for kids. a brutal war documentary.",
    "the a an of and in on for with to from by love story man woman night day life world",
    "0 1 2 3 4 5 6 7 8 9 10 18 25 35 45 50 56 1919 1930 1950 1960 1970 1980 1990 1998 2000",
)


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """Byte-level BPE (like GPT-2's) trained in-process on `_TINY_CORPUS`: deterministic."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        min_frequency=1,
        show_progress=False,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(list(_TINY_CORPUS) * 4, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        padding_side="right",
        model_max_length=256,
    )
