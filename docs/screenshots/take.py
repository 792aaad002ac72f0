"""Take the README's screenshots of the six pages (docs/screenshots/<page>.png).

    export REC_CORE_DATA=/work/shared/data
    python docs/screenshots/take.py                 # trains the tiny runs if missing, then shoots
    python docs/screenshots/take.py --only attention embeddings

What it does, in order:

1. Trains four tiny runs on the synthetic dataset into `--runs` (default /tmp/shots/runs), unless
   they are already there: MF (5 epochs) and the Enhanced model with attention (MiniLM, 3 epochs),
   seeds 0 and 1 each, through `python -m rec_core train`.
2. Starts `streamlit run app.py` of this checkout (headless, 127.0.0.1, `--port`) with
   REC_CORE_RUNS=`--runs` and REC_CORE_CACHE=`--cache`; REC_CORE_DATA is taken from the
   environment (default /work/shared/data).
3. Opens each page in Debian's headless Chromium (/usr/bin/chromium, driven by Playwright) in a
   light colour scheme, English, 1280 px wide (the height per page in PAGES), waits until
   Streamlit's script run is over, and saves the viewport (not the full page) as PNG.

The server is stopped at the end. Nothing in the repository is written but the PNG files.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTH = 1280
SLOW_MS = 300_000  # the first page imports torch; the first projection compiles UMAP (small shared CPUs)

# run id -> the train flags after `python -m rec_core train`
RUNS = {
    f"{model}-seed{seed}": ["--dataset", "synthetic", "--seed", str(seed), *flags]
    for seed in (0, 1)
    for model, flags in (
        ("mf", ["--model", "mf", "--epochs", "5"]),
        ("enhanced", ["--model", "enhanced", "--backbone", "minilm", "--use-attention", "true", "--epochs", "3"]),
    )
}
RUN_QUERY = "run=enhanced-seed0&run=mf-seed0"
# file name -> (URL path, text or CSS selector that only the finished page shows, viewport height:
# tall enough to show the page's main figure or table, short enough to stay well under 300 KB)
PAGES = {
    "home": ("/", "text=Runs", 1250),
    "train": ("/Train", "text=Estimate", 1100),
    "compare": ("/Compare?" + "&".join(f"run={r}" for r in RUNS), ".js-plotly-plot", 1300),
    "attention": ("/Attention?run=enhanced-seed0", ".js-plotly-plot .hm", 1350),
    "embeddings": ("/Embeddings?run=enhanced-seed0", "text=UMAP with ", 1250),
    "error-analysis": ("/Error_analysis?" + RUN_QUERY, "text=Top-10 of both runs", 1250),
}
# text a page shows while it is still loading something in the background: wait until it is gone
PENDING = "text=Checking which backbones"


def train_missing(runs: Path, env: dict[str, str]) -> None:
    """Train each tiny run that `runs` does not hold finished."""
    for run_id, flags in RUNS.items():
        status = runs / run_id / "status.json"
        if status.is_file() and '"done"' in status.read_text(encoding="utf-8"):
            continue
        cmd = [sys.executable, "-m", "rec_core", "train", *flags, "--runs-dir", str(runs), "--run-id", run_id]
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, cwd=REPO, env=env, check=True)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def settle(page: Any) -> None:
    """Wait until Streamlit's script run is over (no running indicator) and the page has painted
    (as tests/e2e/browser.py does). `page`: a playwright Page."""
    page.wait_for_timeout(1500)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=SLOW_MS)
    page.wait_for_timeout(1500)


def shoot(url: str, names: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900}, color_scheme="light", locale="en-GB")
            page.set_default_timeout(SLOW_MS)
            for name in names:
                path, ready, height = PAGES[name]
                page.set_viewport_size({"width": WIDTH, "height": height})
                sep = "&" if "?" in path else "?"
                page.goto(f"{url}{path}{sep}lang=en")
                page.locator(ready).first.wait_for()
                page.locator(PENDING).first.wait_for(state="detached")
                settle(page)
                if page.locator("[data-testid='stException']").count():
                    raise SystemExit(f"{name}: the page shows an exception")
                target = OUT / f"{name}.png"
                page.screenshot(path=str(target), full_page=False)
                print(f"{target.relative_to(REPO)}: {target.stat().st_size // 1024} KB", flush=True)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, default=Path("/tmp/shots/runs"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/shots/cache"))
    parser.add_argument("--port", type=int, default=8531)
    parser.add_argument("--only", nargs="+", choices=list(PAGES), default=list(PAGES))
    args = parser.parse_args()

    env = {
        **os.environ,
        "REC_CORE_DATA": os.environ.get("REC_CORE_DATA", "/work/shared/data"),
        "REC_CORE_RUNS": str(args.runs.resolve()),
        "REC_CORE_CACHE": str(args.cache.resolve()),
    }
    args.runs.mkdir(parents=True, exist_ok=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    train_missing(args.runs, env)

    url = f"http://127.0.0.1:{args.port}"
    log = args.runs.parent / "streamlit.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(args.port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 180
            while not healthy(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the app did not start; see {log}")
                time.sleep(0.5)
            shoot(url, args.only)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
