"""GPU benchmark, prepared for a machine with a CUDA GPU (none was lent to these sessions).

    REC_CORE_DATA=../shared/data python bench/gpu.py            # on a GPU machine: bench/results/gpu.json
    python bench/gpu.py --smoke --out /tmp/gpu.json             # tiny sizes on any device (tests)

Measures, on ML-100K (synthetic data with --smoke):
1. encoding the item texts with a GPT-2-size backbone (the real `gpt2` when it is in the local
   Hugging Face cache, else the same architecture with random weights: speed does not depend
   on the weights), in fp32 and under bf16 autocast;
2. one dynamic-mode epoch with LoRA on the top 2 blocks (scheme 2), fp32 and bf16;
3. the multi-process path: `torchrun --nproc_per_node 2` training MF for 3 epochs (nccl, one
   GPU per process) when the machine has two GPUs; otherwise it says so.
Every figure comes with the device name, versions and settings in the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from rec_core.data import DataConfig, load_dataset
from rec_core.models.enhanced import EnhancedConfig, GPT2RecommenderEnhanced
from rec_core.runs import environment_info
from rec_core.split import SplitConfig, make_split
from rec_core.text import TextEncoder, TextEncoderConfig
from rec_core.train import TrainConfig, Trainer

HERE = Path(__file__).resolve().parent


def _backbone(folder: Path, smoke: bool) -> tuple[str, str]:
    """(backbone name or directory, description): the real gpt2 if cached, else GPT-2 small's
    architecture with random weights saved to `folder` (tiny with --smoke)."""
    if not smoke:
        try:
            TextEncoder(TextEncoderConfig("gpt2", max_length=8))
            return "gpt2", "gpt2 (pretrained, from the local cache)"
        except Exception as exc:  # noqa: BLE001 - any failure means: not available here
            print(f"gpt2 not available ({type(exc).__name__}); using random weights of the same size")
    from transformers import GPT2Config, GPT2Model

    from rec_core.text.backbones import _tiny_tokenizer

    tokenizer = _tiny_tokenizer()
    eos = int(tokenizer.eos_token_id)
    size = dict(n_embd=64, n_layer=2, n_head=2) if smoke else dict(n_embd=768, n_layer=12, n_head=12)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=256, bos_token_id=eos, eos_token_id=eos, pad_token_id=eos, **size
    )
    torch.manual_seed(0)
    GPT2Model(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder), f"GPT-2 architecture {size}, random weights"


def _time(fn: Any, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, any device: checks the script runs")
    ap.add_argument("--out", help="JSON path (default bench/results/gpu.json)")
    args = ap.parse_args()
    cuda = torch.cuda.is_available()
    if not cuda and not args.smoke:
        raise SystemExit("no CUDA device: this benchmark measures the GPU path (use --smoke to check the script)")
    device = torch.device("cuda" if cuda else "cpu")
    data_cfg = (
        DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90)
        if args.smoke
        else DataConfig(name="ml-100k")
    )
    data = load_dataset(data_cfg)
    split = make_split(data, SplitConfig(kind="ratio", seed=0))
    out: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "smoke": args.smoke,
        "dataset": data_cfg.name,
        "n_items": data.n_items,
        "n_users": data.n_users,
    }
    with tempfile.TemporaryDirectory() as tmp:
        backbone, described = _backbone(Path(tmp) / "backbone", args.smoke)
        out["backbone"] = described
        texts = list(data.item_text.texts)
        for precision in ("fp32", "bf16"):
            enc = TextEncoder(TextEncoderConfig(backbone, max_length=64, precision=precision))
            enc.to(device)
            enc.encode(texts[:64])  # warm-up (kernels, allocator)
            seconds = _time(lambda e=enc: e.encode(texts), device)
            out[f"encode_items_{precision}"] = {"seconds": seconds, "texts_per_s": len(texts) / seconds}
        for precision in ("fp32", "bf16"):
            cfg = EnhancedConfig.from_preset(
                "scheme2", backbone=backbone, dynamic_layers=2, precision=precision, max_length=64
            )
            os.environ["REC_CORE_CACHE"] = str(Path(tmp) / f"cache-{precision}")
            torch.manual_seed(0)
            model = GPT2RecommenderEnhanced(data.n_users, data.n_items, cfg, dataset=data)
            trainer = Trainer(model, data, split, TrainConfig(epochs=0, batch_size=2048, device=device.type))
            trainer.fit(0)  # moves the model, prepares seen ids
            seconds = _time(lambda m=model, t=trainer: t._train_epoch(m), device)
            out[f"dynamic_lora_top2_epoch_{precision}"] = {
                "seconds": seconds,
                "steps": -(-len(split.train) // 2048),
                "peak_gpu_memory_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
            }
    if cuda and torch.cuda.device_count() >= 2:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--standalone",
                "--nproc_per_node",
                "2",
                "-m",
                "rec_core",
                "train",
                "--dataset",
                data_cfg.name,
                "--model",
                "mf",
                "--epochs",
                "3",
                "--runs-dir",
                tmp,
                "--quiet",
            ]
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
            out["two_processes_mf_3_epochs"] = {
                "seconds": time.perf_counter() - t,
                "returncode": proc.returncode,
                "stderr_tail": proc.stderr[-2000:],
            }
    else:
        out["two_processes_mf_3_epochs"] = "not measured: needs two CUDA devices (one per process with nccl)"
    out["environment"] = environment_info(device.type)
    path = Path(args.out) if args.out else HERE / "results" / "gpu.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
