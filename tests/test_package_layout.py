"""The library stays lean and apart from the app.

`import rec_core` and the command line's parser load no deep-learning, plotting or app package
(each checked in a fresh interpreter, from a folder outside the checkout, so the installed
package is what runs); the library's modules never import the app's packages, and the
plotting / projection packages only inside the functions that use them.
"""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Never loaded by `import rec_core`, `--help` or building the parser.
HEAVY = {"torch", "transformers", "peft", "plotly", "kaleido", "streamlit", "umap"}
# Never loaded by the library, whatever part of it is imported.
APP_ONLY = {"streamlit", "plotly", "kaleido", "umap", "rec_app", "app_support"}
# Imported by rec_core only inside a function (a projection, an export), never at module level.
LAZY_ONLY = {"plotly", "kaleido", "umap"}


def _imported(args: list[str], cwd: Path) -> tuple[set[str], str]:
    """Top-level packages a fresh `python -X importtime ARGS` imported, and its stdout."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = set()
    for line in proc.stderr.splitlines():
        # import time: <self us> | <cumulative us> | <indented module name>
        parts = line.removeprefix("import time:").split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[0].strip().isdigit():
            names.add(parts[2].strip().split(".")[0])
    assert "rec_core" in names, "the import-time report listed no rec_core module"
    return names, proc.stdout


def test_import_rec_core_loads_no_heavy_package(tmp_path: Path) -> None:
    names, _ = _imported(["-c", "import rec_core"], tmp_path)
    assert not names & HEAVY, sorted(names & HEAVY)


def test_cli_help_and_parser_load_no_heavy_package(tmp_path: Path) -> None:
    names, out = _imported(["-m", "rec_core", "--help"], tmp_path)
    assert not names & HEAVY, sorted(names & HEAVY)
    assert out.startswith("usage: python -m rec_core") and "compare" in out
    parse = (
        "from rec_core.cli import build_parser; p = build_parser(); "
        "[p.parse_args(a) for a in (['runs'], ['datasets'], ['execute', 'r1'], ['compare', 'a', 'b'])]"
    )
    names, _ = _imported(["-c", parse], tmp_path)
    assert not names & HEAVY, sorted(names & HEAVY)


def test_train_flags_are_added_when_train_is_parsed(capsys: pytest.CaptureFixture[str]) -> None:
    from rec_core.cli import build_parser

    args = build_parser().parse_args(["train", "--model", "mf", "--embed-dim", "8"])
    assert args.cfg__model__name == "mf" and args.cfg__model__embed_dim == "8"
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["train", "--help"])
    assert exited.value.code == 0
    assert "--embed-dim" in capsys.readouterr().out


def test_library_modules_load_no_app_package(tmp_path: Path) -> None:
    modules = [
        "rec_core",
        "rec_core.models",
        "rec_core.evaluate",
        "rec_core.analysis",
        "rec_core.experiment",
        "rec_core.text",
        "rec_core.runs",
        "rec_core.train",
        "rec_core.data",
        "rec_core.cli",
    ]
    names, _ = _imported(["-c", f"import {', '.join(modules)}"], tmp_path)
    assert not names & APP_ONLY, sorted(names & APP_ONLY)


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(top-level package, at module level) for every import statement of a module."""
    found = []
    function_nodes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((a.name.split(".")[0], not in_function) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module.split(".")[0], not in_function))
        for child in ast.iter_child_nodes(node):
            visit(child, in_function or isinstance(node, function_nodes))

    visit(tree, False)
    return found


def test_rec_core_source_never_imports_the_app() -> None:
    files = sorted((REPO / "rec_core").rglob("*.py"))
    assert len(files) > 40
    for path in files:
        for package, module_level in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            where = path.relative_to(REPO)
            assert package not in {"rec_app", "app_support", "streamlit"}, f"{where} imports {package}"
            assert not (module_level and package in LAZY_ONLY), f"{where} imports {package} at module level"


def test_console_script_is_the_cli() -> None:
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="rec-core")
    assert script.value == "rec_core.cli:entry_point"
    # Where pip put it for this interpreter (a PATH shim may not exist yet, e.g. under pyenv).
    exe = Path(sysconfig.get_path("scripts")) / "rec-core"
    assert exe.is_file(), f"{exe} missing: install the project (pip install -r requirements-dev.txt)"
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: rec-core"), proc.stderr[-2000:]


# The one atomic-write implementation is rec_core/runs/atomic.py (temporary file beside the
# target, fsync, os.replace, fsync of the folder); the text feature cache writes through it too.


def test_whole_file_writes_go_through_one_atomic_implementation() -> None:
    found = set()
    for folder in ("rec_core", "rec_app", "app_support", "pages"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "replace"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "os"
                ):
                    found.add(path.relative_to(REPO).as_posix())
    assert found == {"rec_core/runs/atomic.py"}, "use rec_core.runs.atomic.atomic_path"


def test_readme_starts_with_two_commands_then_the_folders_they_use() -> None:
    # issue 23 minor: the first commands did not say where data, runs and the text cache live.
    import re

    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.match(r"(```bash\n[^\n`]+\n```\n\n){2}", text)
    assert blocks is not None, text[:200]
    note = text[blocks.end() :].split("\n\n", 1)[0]
    for name in ("REC_CORE_DATA", "REC_CORE_RUNS", "REC_CORE_CACHE"):
        assert f"{name}=/" in note, name  # an absolute example path
    assert "../" not in text[: blocks.end() + len(note)]


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces -> '-'."""
    import re

    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_readme_is_short_with_a_table_of_contents_whose_links_resolve() -> None:
    # issue 24 item 6: at most 250 lines, a table of contents, the layout near the top, a
    # screenshot per page; every relative link (docs, bench/README.md, screenshots) and every
    # in-page anchor points at something that exists.
    import re

    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, len(lines)
    text = "\n".join(lines)
    headings = [line.lstrip("#").strip() for line in lines if re.match(r"#{1,4} ", line)]
    assert "Contents" in headings and "Layout" in headings
    assert headings.index("Layout") < headings.index("Headline results")
    anchors = {_anchor(h) for h in headings}
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith("#"):
            if target[1:] not in anchors:
                broken.append(target)
        elif not target.startswith(("http://", "https://")) and not (REPO / target.split("#")[0]).exists():
            broken.append(target)
    assert not broken, broken
    for page in ("home", "train", "compare", "attention", "embeddings", "error-analysis"):
        assert f"](docs/screenshots/{page}.png)" in text, page


# -- issue 24: a house a newcomer can read -----------------------------------------------------------
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80


def _product_modules() -> list[Path]:
    """Every Python module of the product: the library, the app package, the pages, app.py."""
    files = [*REPO.glob("rec_core/**/*.py"), *REPO.glob("rec_app/**/*.py"), *REPO.glob("pages/*.py"), REPO / "app.py"]
    return sorted(f for f in files if "__pycache__" not in f.parts)


def test_no_module_over_450_lines_and_no_function_over_80() -> None:
    long_modules, long_functions = [], []
    for path in _product_modules():
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(REPO).as_posix()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long_modules.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert len(_product_modules()) > 100  # the globs found the product
    assert not long_modules, long_modules
    assert not long_functions, long_functions
