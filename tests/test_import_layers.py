"""The import graph, read from the modules' own import statements (ast, nothing is imported):
no circle among rec_core's modules, and imports only go down the layers
pages/app.py -> Streamlit glue (rec_app.ui, app_support) -> the app's logic (the rest of
rec_app, which never imports streamlit) -> rec_core.

Every import counts, function-level (lazy) ones included; imports under `if TYPE_CHECKING:`
are ignored (they never run). `from pkg import name` imports the module `pkg.name` when there
is one, else `pkg`; a package's `__init__` is the module named by the package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rec_core", "rec_app", "app_support")
APP = ("rec_app", "app_support", "pages", "app")


def _modules() -> dict[str, Path]:
    """Module name -> file, for the product's own modules."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    for path in sorted((ROOT / "pages").glob("*.py")):
        out[f"pages.{path.stem}"] = path
    if (ROOT / "app.py").is_file():
        out["app"] = ROOT / "app.py"
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under `node`, skipping `if TYPE_CHECKING:` bodies (not their else)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for sub in child.orelse:
                yield from _import_nodes_of(sub)
            continue
        yield from _import_nodes_of(child)


def _import_nodes_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _import_nodes(node)


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Names `name` imports: own modules resolved to the module imported, others as written."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = name.split(".") if is_package else name.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for alias in node.names:
            sub = f"{target}.{alias.name}"
            out.add(sub if sub in modules else target)
    return out


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(own-module edges, every imported name) per module."""
    modules = _modules()
    edges: dict[str, set[str]] = {}
    names: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported = _imports(name, path, modules)
        names[name] = imported
        edges[name] = {m for m in imported if m in modules and m != name}
    return edges, names


def _cycles(edges: dict[str, set[str]], nodes: set[str]) -> list[list[str]]:
    """One concrete cycle per strongly connected component of the graph restricted to `nodes`
    (Tarjan), each as a list of modules whose last one imports the first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ()) & nodes):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return [_cycle_in(edges, set(c)) for c in components]


def _cycle_in(edges: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first back to it)."""
    start = min(component)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges[v] & component):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return path[::-1]
                if w not in parents:
                    parents[w] = v
                    nxt.append(w)
        frontier = nxt
    return sorted(component)  # unreachable for a strongly connected component


def _show(cycles: list[list[str]]) -> str:
    return "\n".join(" -> ".join([*c, c[0]]) for c in cycles)


def _top(module: str) -> str:
    return module.split(".")[0]


def test_graph_sees_the_product() -> None:
    edges, _ = _graph()
    assert "rec_core.configs" in edges and "rec_core.cli" in edges
    assert "rec_core.configs.run" in edges["rec_core.configs"]  # __init__ -> its submodules
    assert "rec_core.experiment" in edges["rec_core.cli"]  # function-level imports count


def test_rec_core_has_no_import_cycle() -> None:
    edges, _ = _graph()
    cycles = _cycles(edges, {m for m in edges if _top(m) == "rec_core"})
    assert not cycles, "import cycles in rec_core:\n" + _show(cycles)


def test_configs_import_nothing_above_them() -> None:
    """The config layer is the bottom: it imports only itself and rec_core.errors at module
    level; its two lazy imports (a CSV template's syntax, a non-built-in backbone's check)
    are the only ones that reach up."""
    edges, _ = _graph()
    lazy_allowed = {"rec_core.data.text_template", "rec_core.text.layout"}
    for module, targets in edges.items():
        if module.startswith("rec_core.configs"):
            above = {t for t in targets if not t.startswith("rec_core.configs") and t != "rec_core.errors"}
            assert above <= lazy_allowed, f"{module} imports {sorted(above - lazy_allowed)}"


def _layer(module: str) -> int:
    """0 rec_core, 1 the app's logic (rec_app but rec_app.ui), 2 the Streamlit glue (rec_app.ui,
    app_support, streamlit itself), 3 pages and app.py; -1 for other third-party modules."""
    top = _top(module)
    if top == "rec_core":
        return 0
    if module == "rec_app.ui" or module.startswith("rec_app.ui.") or top in ("app_support", "streamlit"):
        return 2
    if top == "rec_app":
        return 1
    if top in ("pages", "app"):
        return 3
    return -1


def _upward_imports(layers: set[int]) -> list[str]:
    _, names = _graph()
    return [
        f"{module} imports {target}"
        for module, imported in sorted(names.items())
        if _layer(module) in layers
        for target in sorted(imported)
        if _layer(target) > _layer(module)
    ]


def test_rec_core_imports_nothing_of_the_app() -> None:
    """rec_core never imports rec_app, app_support, pages, app.py or streamlit."""
    wrong = _upward_imports({0})
    assert not wrong, "rec_core imports a higher layer:\n" + "\n".join(wrong)


def test_app_layers_only_import_down() -> None:
    """pages/app.py -> the Streamlit glue (rec_app.ui, app_support) -> the app's logic (the
    rest of rec_app, never streamlit) -> rec_core."""
    wrong = _upward_imports({1, 2})
    assert not wrong, "app-side imports from a lower layer to a higher one:\n" + "\n".join(wrong)


def test_app_has_no_import_cycle() -> None:
    edges, _ = _graph()
    cycles = _cycles(edges, {m for m in edges if _top(m) in APP})
    assert not cycles, "import cycles in rec_app, app_support, pages and app.py:\n" + _show(cycles)
