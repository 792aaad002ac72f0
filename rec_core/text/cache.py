"""`FeatureCache`: encoded texts on disk as safetensors, keyed by everything that shapes them.

The key is the sha256 of the encoder's identity (backbone name, config, weights, tokenizer;
a content hash once the weights were changed), `max_length`, the resolved pooling, what was
kept (token states, the input of the top k layers), the storage dtype and the exact texts.
Change any of them and the cache misses; nothing is keyed by a model name alone.

Files are written to a temporary name and renamed (atomic), so a reader never sees half a
file. Each entry carries the SHA-256 of its tensor bytes, verified on every read: an entry
whose bytes changed (zeros or NaN written into it, a bad disk) is deleted and re-encoded.
Features with NaN or inf are never stored (and never returned: the encoder is named instead). Token states are stored as float16 by default: half the disk and load time, at a
relative rounding error of about 5e-4; `store_dtype="float32"` keeps them exact. Pooled
vectors are always float32. Loaded features are float32 again, unless `mapped=True` asks
for them as they are stored.

`mapped=True` (what the text models use) returns token states memory-mapped from the file in
their stored dtype (float16 by default): nothing is read until rows are used, and nothing is
copied into this process's memory, so a catalogue's states never need to fit in RAM twice (a
reader casts the rows it uses, a block at a time). On a miss it encodes a block of texts at a
time into the file (same batches, so the same values as one `encode` call) and maps the result.
The file format is unchanged (safetensors), so entries written before are mapped the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Literal

import torch
from filelock import FileLock, Timeout
from safetensors.torch import save_file
from torch import Tensor

from rec_core.runs.atomic import atomic_path
from rec_core.runs.store import STALE_TMP_S
from rec_core.errors import ConfigError, RecCoreError
from rec_core.text import encoder as encoder_module
from rec_core.text.encoder import EncodedTexts, EncodeProgress, TextEncoder
from rec_core.text.mapped import RowWriter, file_sha256, map_tensors, patch_metadata

__all__ = ["FeatureCache", "TextFeaturesNotFinite", "default_cache_root", "sweep_cache_tmp"]

FORMAT_VERSION = 1  # bump when the file layout changes: old entries then miss
_FLOAT16_MAX = 65504.0
_BLOCK_BYTES = 128 << 20  # float32 token states encoded per block on a mapped miss
log = logging.getLogger(__name__)


def default_cache_root() -> Path:
    """`$REC_CORE_CACHE/features` if that variable is set, else the user cache dir."""
    env = os.environ.get("REC_CORE_CACHE")
    if env:
        return Path(env).expanduser() / "features"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("rec_core")) / "features"


_SWEPT: set[str] = set()  # cache roots swept by this process (once per process, as run stores)


def _lock_of(tmp: Path | str) -> Path:
    """The lock file beside a writer's temporary file: `.NAME.tmp` -> `.NAME.tmp.lock`."""
    return Path(f"{tmp}.lock")


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Hold the lock beside `path` while it is filled: `sweep_cache_tmp` leaves a locked file
    alone, however long an encoding pass takes (the lock goes with the process if it is
    killed). The lock file goes when the writer is done."""
    lock = _lock_of(path)
    try:
        with FileLock(lock):
            yield
    finally:
        lock.unlink(missing_ok=True)  # the name is unique to this writer: no one waits on it


def sweep_cache_tmp(root: Path, max_age_s: float = STALE_TMP_S) -> int:
    """Remove the temporary files (`.*.tmp`) of cache writers that were killed (SIGKILL, a full
    disk), and their lock files: older than `max_age_s` and locked by no live writer. Returns
    how many temporary files went."""
    removed, now = 0, time.time()
    try:
        entries = [e for e in os.scandir(root) if e.name.startswith(".") and e.name.endswith((".tmp", ".tmp.lock"))]
    except OSError:
        return 0
    for entry in entries:
        try:
            if not entry.is_file(follow_symlinks=False) or now - entry.stat().st_mtime <= max_age_s:
                continue
        except OSError:
            continue
        is_lock = entry.name.endswith(".lock")
        tmp = Path(entry.path[: -len(".lock")] if is_lock else entry.path)
        if is_lock and tmp.exists():
            continue  # swept with its temporary file
        lock = _lock_of(tmp)
        try:
            with FileLock(lock, timeout=0):  # Timeout: a writer still fills it
                if not is_lock:
                    tmp.unlink()
                    removed += 1
            lock.unlink(missing_ok=True)
        except (Timeout, OSError):
            pass
    return removed


def _float(x: Tensor | None) -> Tensor | None:
    return None if x is None else x.float()


def _tensors_sha256(tensors: dict[str, Tensor]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of `tensors`, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        if t.numel():
            digest.update(t.reshape(-1).view(torch.uint8).numpy().data)  # no copy of the bytes
    return digest.hexdigest()


def _finite(t: Tensor, block: int = 1 << 22) -> bool:
    """Whether `t` holds no NaN or inf, checked about `block` values at a time (no full-size
    mask: `t` may be a memory-mapped catalogue of token states)."""
    rows = max(1, block // max(1, t[0].numel())) if t.dim() else 1
    return all(bool(torch.isfinite(t[a : a + rows]).all()) for a in range(0, max(1, len(t)), rows))


def _non_finite(tensors: dict[str, Tensor]) -> list[str]:
    """Names of the floating-point tensors holding NaN or inf."""
    return [name for name, t in sorted(tensors.items()) if t.is_floating_point() and t.numel() and not _finite(t)]


def _texts_sha256(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little"))  # length prefix: no ambiguous joins
        digest.update(data)
    return digest.hexdigest()


def _offset(progress: EncodeProgress | None, start: int, total: int) -> EncodeProgress:
    """A block's progress as progress over all `total` texts (the block starts at `start`)."""

    def report(done: int, _block: int) -> None:
        if progress is not None and (done or not start):  # one 0 call, before the first block
            progress(start + done, total)

    return report


class _Float16Overflow(Exception):
    """A token state does not fit float16: the entry is written again as float32."""


class TextFeaturesNotFinite(RecCoreError):
    """The encoder produced NaN or inf features; they are neither stored nor used."""

    def __init__(self, key: str, names: list[str]) -> None:
        self.names = names
        super().__init__(
            f"text features: the encoder produced NaN or inf values (in {', '.join(names)}); "
            "nothing was cached. The backbone's weights or its float precision are broken for "
            "these texts: try another backbone or float32"
        )


class FeatureCache:
    """Encoded texts under `root`, one `<key>.safetensors` file per (encoder, texts, options)."""

    def __init__(
        self, root: Path | str | None = None, *, store_dtype: Literal["float16", "float32"] = "float16"
    ) -> None:
        if store_dtype not in ("float16", "float32"):
            raise ConfigError("store_dtype", f"must be float16 or float32, got {store_dtype!r}")
        self.root = Path(root) if root is not None else default_cache_root()
        self.store_dtype = store_dtype

    def key(
        self,
        encoder: TextEncoder,
        texts: Sequence[str],
        *,
        keep_states: bool = True,
        keep_layer_input: int | None = None,
    ) -> str:
        """sha256 hex naming the features `encoder.encode(texts, ...)` would return."""
        material = {
            "format": FORMAT_VERSION,
            "backbone": encoder.backbone.name,
            "identity": encoder.identity,
            "max_length": encoder.config.max_length,
            "pooling": encoder.pooling,
            "keep_states": bool(keep_states),
            "keep_layer_input": keep_layer_input,
            "store_dtype": self.store_dtype,
            "n_texts": len(texts),
            "texts": _texts_sha256(texts),
        }
        if encoder.precision != "fp32":  # bf16 features differ; fp32 keys stay as they were
            material["precision"] = encoder.precision
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def path_for(self, key: str) -> Path:
        return self.root / f"{key}.safetensors"

    def get(self, key: str, *, mapped: bool = False) -> EncodedTexts | None:
        """Features stored under `key`, or None if absent or unreadable (then re-encoded).

        `mapped=True`: `states` and `layer_states` are read-only memory maps of the file in the
        stored dtype (float16 unless stored as float32); cast the rows you use. Otherwise every
        tensor is in memory and float32, as `EncodedTexts` documents.
        """
        return self._load(key, mapped=mapped, verify=True)

    def _load(self, key: str, *, mapped: bool, verify: bool) -> EncodedTexts | None:
        path = self.path_for(key)
        if not path.is_file():
            return None
        try:
            meta, tensors = map_tensors(path)  # memory-mapped: nothing read yet
            if meta.get("key") != key or meta.get("format") != str(FORMAT_VERSION):
                log.warning("feature cache: ignoring %s written for another key or format", path)
                return None
            if verify:
                # Entries written before checksums existed have none: those are checked for NaN / inf
                # only. A checksummed entry was finite when written (non-finite ones never are).
                if meta.get("sha256"):
                    damaged = (
                        "its tensor bytes differ from their checksum" if file_sha256(path) != meta["sha256"] else None
                    )
                else:
                    bad = _non_finite(tensors)
                    damaged = f"NaN or inf in {', '.join(bad)}" if bad else None
                if damaged:
                    log.warning(
                        "feature cache: %s is damaged (%s); deleting it, the texts are encoded again", path, damaged
                    )
                    path.unlink(missing_ok=True)
                    return None
        except (OSError, ValueError, KeyError, TypeError) as err:  # a torn or foreign file
            log.warning("feature cache: ignoring unreadable %s (%s)", path, err)
            return None
        top = meta.get("top_layers", "")

        def big(x: Tensor | None) -> Tensor | None:
            if x is None or mapped:
                return x
            return x.float() if x.dtype != torch.float32 else x.clone()

        # The small tensors are copied out of the map: only token states stay file-backed.
        return EncodedTexts(
            pooled=tensors["pooled"].float().clone(),
            mask=tensors["mask"].bool().clone(),
            input_ids=tensors["input_ids"].long(),
            states=big(tensors.get("states")),
            layer_states=big(tensors.get("layer_states")),
            top_layers=int(top) if top else None,
        )

    def put(self, key: str, encoded: EncodedTexts) -> Path:
        """Write `encoded` under `key` atomically; returns the file path."""
        return self._write(key, self._stored(encoded))

    def get_or_encode(
        self,
        encoder: TextEncoder,
        texts: Sequence[str],
        *,
        keep_states: bool = True,
        keep_layer_input: int | None = None,
        mapped: bool = False,
        progress: EncodeProgress | None = None,
    ) -> tuple[EncodedTexts, bool]:
        """(features, hit): loads them when cached, else encodes and stores them.

        On a miss it returns what a later hit will load (float16-rounded states), so a run
        gives the same result whether its features came from the cache or not. `mapped=True`:
        token states come back memory-mapped in the stored dtype (see `get`), and a miss
        encodes a block of texts at a time straight into the file, never holding all states.
        `progress(done, total)` hears how many texts are encoded (nothing on a hit; see `encode`).
        """
        key = self.key(encoder, texts, keep_states=keep_states, keep_layer_input=keep_layer_input)
        cached = self.get(key, mapped=mapped)
        if cached is not None:
            return cached, True
        if str(self.root) not in _SWEPT:  # before writing: a killed writer's leftovers go
            _SWEPT.add(str(self.root))
            sweep_cache_tmp(self.root)
        if mapped and len(texts):
            self._encode_to_file(
                key, encoder, texts, keep_states=keep_states, keep_layer_input=keep_layer_input, progress=progress
            )
            written = self._load(key, mapped=True, verify=False)
            if written is None:  # pragma: no cover - the file was just written
                raise RecCoreError(f"feature cache: {self.path_for(key)} could not be read back")
            return written, False
        stored = self._stored(
            encoder.encode(texts, keep_states=keep_states, keep_layer_input=keep_layer_input, progress=progress)
        )
        self._write(key, stored)
        return replace(stored, states=_float(stored.states), layer_states=_float(stored.layer_states)), False

    def _encode_to_file(
        self,
        key: str,
        encoder: TextEncoder,
        texts: Sequence[str],
        *,
        keep_states: bool,
        keep_layer_input: int | None,
        progress: EncodeProgress | None = None,
    ) -> None:
        """Encode `texts` a block at a time into the file for `key` (atomically, checksummed).

        Blocks follow the order `encode` itself uses (longest first) and are whole multiples
        of its batch size, so every text runs in the same batch as in one `encode` call and
        gets the same values. Token states are stored as float16 unless some value would
        overflow it; then the texts are encoded again into float32 (as `_stored` decides).
        """
        lengths = [len(ids) for ids in encoder._token_ids(texts, details=False)["input_ids"]]
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        n, width, h = len(texts), encoder.config.max_length, encoder.hidden_size
        batch = encoder.config.batch_size
        block = max(batch, _BLOCK_BYTES // max(1, width * h * 4) // batch * batch)
        names = [
            name for name, kept in (("states", keep_states), ("layer_states", keep_layer_input is not None)) if kept
        ]
        wide = self.store_dtype == "float32"
        report = progress if progress is not None else encoder_module._PROGRESS.get()
        self.root.mkdir(parents=True, exist_ok=True)
        while True:
            dtype = torch.float32 if wide else torch.float16
            specs = {
                "pooled": (torch.float32, (n, h)),
                "mask": (torch.bool, (n, width)),
                "input_ids": (torch.int32, (n, width)),
                **{name: (dtype, (n, width, h)) for name in names},
            }
            meta = {
                "format": str(FORMAT_VERSION),
                "key": key,
                "n": str(n),
                "top_layers": "" if keep_layer_input is None else str(keep_layer_input),
                "sha256": "0" * 64,
            }
            try:
                with atomic_path(self.path_for(key)) as tmp, _writing(tmp):
                    with RowWriter.create(tmp, specs, meta) as writer:
                        for start in range(0, n, block):
                            rows = torch.as_tensor(order[start : start + block], dtype=torch.long)
                            enc = encoder.encode(
                                [texts[i] for i in rows.tolist()],
                                keep_states=keep_states,
                                keep_layer_input=keep_layer_input,
                                progress=_offset(report, start, n),
                            )
                            values = {
                                "pooled": enc.pooled,
                                "mask": enc.mask,
                                "input_ids": enc.input_ids,
                                "states": enc.states,
                                "layer_states": enc.layer_states,
                            }
                            bad = _non_finite({k: v for k, v in values.items() if v is not None})
                            if bad:
                                raise TextFeaturesNotFinite(key, bad)
                            for name in names:
                                x = values[name]
                                if not wide and x is not None and x.numel() and float(x.abs().max()) >= _FLOAT16_MAX:
                                    raise _Float16Overflow
                            for name in specs:
                                value = values[name]
                                assert value is not None  # specs name only what was kept
                                writer.write(name, rows, value)
                    # The placeholder becomes the checksum of what was written (same length).
                    patch_metadata(tmp, sha256=file_sha256(tmp))
                return
            except _Float16Overflow:
                wide = True

    def _stored(self, encoded: EncodedTexts) -> EncodedTexts:
        """`encoded` with token states in the storage dtype (float16 unless it would overflow:
        some LLM residual streams exceed float16's 65504)."""

        def cast(x: Tensor | None) -> Tensor | None:
            if x is None:
                return None
            if self.store_dtype == "float16" and (x.numel() == 0 or float(x.abs().max()) < _FLOAT16_MAX):
                return x.to(torch.float16)
            return x.float()

        return replace(encoded, states=cast(encoded.states), layer_states=cast(encoded.layer_states))

    def _write(self, key: str, stored: EncodedTexts) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        tensors: dict[str, Tensor] = {
            "pooled": stored.pooled.float().contiguous(),
            "mask": stored.mask.contiguous(),
            "input_ids": stored.input_ids.to(torch.int32).contiguous(),  # vocab ids < 2**31
        }
        for name in ("states", "layer_states"):
            value = getattr(stored, name)
            if value is not None:
                tensors[name] = value.contiguous()
        bad = _non_finite(tensors)
        if bad:
            raise TextFeaturesNotFinite(key, bad)
        meta = {
            "format": str(FORMAT_VERSION),
            "key": key,
            "n": str(len(stored)),
            "top_layers": "" if stored.top_layers is None else str(stored.top_layers),
            "sha256": _tensors_sha256(tensors),
        }
        path = self.path_for(key)
        # The project's one atomic write (fsync, rename beside the target, temporary removed on
        # failure), shared with the run store.
        with atomic_path(path) as tmp:
            save_file(tensors, tmp, metadata=meta)
        return path

    def clear(self) -> int:
        """Delete every cached file under `root`; returns how many were removed."""
        removed = 0
        if self.root.is_dir():
            for path in self.root.glob("*.safetensors"):
                path.unlink(missing_ok=True)
                removed += 1
        return removed
