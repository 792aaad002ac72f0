"""Facts about where a run executes: library versions and device for results.json, and
host / process identity so the store can tell a live run from one whose process died."""

from __future__ import annotations

import os
import platform
import socket
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["code_fingerprint", "environment_info", "hostname", "owner_died", "pid_alive", "process_start_token"]

# The code that decides what a run trains: a change here can change any run's numbers, so two
# runs are only the same experiment when these files were the same (bench/ reuses runs on that).
_TRAINING_CODE = ("models", "text", "train", "split.py", "data")
_FINGERPRINT: str | None = None


def code_fingerprint() -> str:
    """A 16-hex-digit SHA-256 over the code of the modules that train a model (models, text,
    train, split, data), computed once per process. Evaluation is left out on purpose: its
    numbers are recomputed from a run's checkpoint whenever it changes. What is hashed is each
    module's syntax tree without docstrings: comments, docstrings and formatting do not change
    what a run computes, so they do not make its runs a different experiment."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        import hashlib

        root = Path(__file__).resolve().parent.parent
        digest = hashlib.sha256()
        for name in _TRAINING_CODE:
            path = root / name
            for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
                code = _code_of(file.read_text(encoding="utf-8"))
                digest.update(str(file.relative_to(root)).encode() + b"\0" + code.encode() + b"\0")
        _FINGERPRINT = digest.hexdigest()[:16]
    return _FINGERPRINT


def _code_of(source: str) -> str:
    """The syntax tree of `source` as text, docstrings removed (positions are not part of it)."""
    import ast

    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:]  # only dumped, never compiled: an empty body is fine
    return ast.dump(tree)


def _dist_version(name: str) -> str | None:
    """Installed version of distribution `name`, or None if it is not installed.

    Read from package metadata rather than by importing: importing transformers takes
    seconds and is not needed to know its version.
    """
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_count() -> int | None:
    """CPUs this process may run on (respects affinity / container limits where visible)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def environment_info(device: str) -> dict[str, Any]:
    """Return versions and hardware for a results file.

    Keys: python, platform, rec_core, torch, numpy, pandas, transformers, peft (None when not
    installed), device, cpu_count, torch_threads, cuda_version, cuda_device (the GPU name
    when `device` is a CUDA device and CUDA is available, else None). The hostname is left
    out on purpose: results files get committed and shared.
    """
    import torch  # lazy: the app imports rec_core.runs just to poll run folders

    import rec_core

    cuda_device: str | None = None
    if device.startswith("cuda") and torch.cuda.is_available():
        # index None means "the current device", which get_device_name accepts.
        cuda_device = torch.cuda.get_device_name(torch.device(device).index)
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "rec_core": rec_core.__version__,
        "code": code_fingerprint(),
        "torch": torch.__version__,
        "numpy": _dist_version("numpy"),
        "pandas": _dist_version("pandas"),
        "transformers": _dist_version("transformers"),
        "peft": _dist_version("peft"),
        "device": device,
        "cpu_count": _cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda_version": torch.version.cuda,
        "cuda_device": cuda_device,
    }


def hostname() -> str:
    """This machine's name; recorded beside a pid so liveness is only judged on its host."""
    return socket.gethostname()


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None without procfs / process.

    Read directly rather than through psutil: the start token recorded in every run's status
    is the raw start time in clock ticks, which psutil only gives converted to float seconds
    (a token compared across versions must stay exactly the same string)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or ')'.
    return raw[raw.rfind(")") + 2 :].split()


def process_start_token(pid: int) -> str | None:
    """A token identifying process `pid` across pid reuse: boot id + start time (Linux).

    Returns None where procfs is unavailable or the process does not exist.
    """
    fields = _proc_stat(pid)
    if fields is None or len(fields) < 20:
        return None
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        boot_id = ""
    return f"{boot_id}:{fields[19]}"  # field 22 of stat: start time in clock ticks


def pid_alive(pid: int, start_token: str | None = None) -> bool:
    """Whether process `pid` on this host is still running (a zombie counts as dead).

    If `start_token` (from `process_start_token` when the pid was recorded) is given and the
    pid now belongs to a different process, returns False. Off POSIX, returns True: we
    cannot check safely (os.kill with signal 0 would terminate the process on Windows).
    """
    if pid <= 0:
        return False
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    fields = _proc_stat(pid)
    if fields is None:
        return True  # no procfs (macOS): signal 0 succeeded, so it exists
    if fields[0] in ("Z", "X"):
        return False  # exited; only its parent has not reaped it yet
    if start_token is not None:
        current = process_start_token(pid)
        if current is not None and current != start_token:
            return False
    return True


def owner_died(status: dict[str, Any]) -> bool:
    """Whether a status says "running" but its recorded process on this host is gone.

    Only judged on the host that recorded the pid: elsewhere the number means nothing.
    """
    pid = status.get("pid")
    return (
        status.get("state") == "running"
        and isinstance(pid, int)
        and status.get("hostname") == hostname()
        and not pid_alive(pid, status.get("pid_started"))
    )
