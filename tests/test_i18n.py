"""The app's strings: one table format, both languages, every key the source uses defined, and
a strict mode (on in the tests, tests/conftest.py) that raises on a missing key or a bad format."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from rec_app import i18n
from rec_app.i18n import analysis as i18n_analysis
from rec_app.i18n import report as i18n_report
from rec_app.i18n import LANGS, STRICT_ENV, STRINGS, MissingString, StringFormatError, t

REPO = Path(__file__).resolve().parents[1]
SOURCES = [
    REPO / "app.py",
    *sorted((REPO / "pages").glob("*.py")),
    *sorted((REPO / "rec_app").rglob("*.py")),
]
# i18n.STRINGS is the merged table: i18n.py's own strings plus the two others.
TABLES = {"i18n": i18n.STRINGS, "i18n_analysis": i18n_analysis.STRINGS, "i18n_report": i18n_report.STRINGS}
# What a key looks like: a namespace a table uses, a dot, a name. File names share the shape
# ("model.safetensors", "results.json"): their extensions are not key names.
_KEY = re.compile(r"^[a-z][a-z0-9_]*\.[A-Za-z0-9_.@ -]+$")
_NOT_KEYS = {
    "json",
    "jsonl",
    "parquet",
    "safetensors",
    "py",
    "csv",
    "txt",
    "toml",
    "html",
    "png",
    "svg",
    "zip",
    "md",
    "log",
    "lock",
    "tmp",
    "pending",
}


def _is_t_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == "t")
        or (isinstance(node.func, ast.Attribute) and node.func.attr == "t")
    )


def _keys_used() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(keys, prefixes) the source files use, each with where: a string given to t(), or a
    string constant shaped like a key (key tables such as {"train": "nav.train"}); prefixes
    are the fixed start of keys built at run time (t(f"state.{x}"), "an.pick_" + side)."""
    namespaces = {key.split(".")[0] for key in STRINGS}
    keys: dict[str, list[str]] = {}
    prefixes: dict[str, list[str]] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"
            if _is_t_call(node) and node.args:  # type: ignore[attr-defined]  # an ast.Call here
                first = node.args[0]  # type: ignore[attr-defined]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    keys.setdefault(first.value, []).append(where)
                elif isinstance(first, ast.JoinedStr) and first.values and isinstance(first.values[0], ast.Constant):
                    prefixes.setdefault(str(first.values[0].value), []).append(where)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _KEY.match(node.value):
                namespace, last = node.value.split(".")[0], node.value.rsplit(".", 1)[1]
                if namespace not in namespaces or last in _NOT_KEYS:
                    continue
                if node.value.endswith((".", "_")):  # the start of a key built at run time
                    prefixes.setdefault(node.value, []).append(where)
                else:
                    keys.setdefault(node.value, []).append(where)
    return keys, prefixes


def test_the_scan_sees_the_app() -> None:
    keys, prefixes = _keys_used()
    assert len(keys) > 300 and {"nav.train", "home.title", "an.run", "report.heading"} <= set(keys)
    assert {"state.", "an.pick_"} <= set(prefixes)
    assert {path.name for path in SOURCES} >= {
        "app.py",
        "1_Train.py",
        "5_Error_analysis.py",
        "train_form.py",
        "live.py",
    }


def test_every_key_the_source_uses_exists_in_both_languages() -> None:
    keys, prefixes = _keys_used()
    missing = {key: where for key, where in keys.items() if key not in STRINGS}
    assert not missing, f"keys used but defined in no table: {missing}"
    unmatched = {p: where for p, where in prefixes.items() if not any(k.startswith(p) for k in STRINGS)}
    assert not unmatched, f"keys built from these starts match no string: {unmatched}"


def test_one_table_format_and_both_languages_say_the_same() -> None:
    assert LANGS == ("en", "zh")
    for name, table in TABLES.items():
        for key, pair in table.items():
            assert isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(s, str) for s in pair), (name, key)
            assert all(s.strip() for s in pair), f"{name}: {key} is empty in a language"
            fields = [set(re.findall(r"(?<!\{)\{(\w*)[^{}]*\}", s)) for s in pair]
            assert fields[0] == fields[1], f"{name}: {key}: placeholders differ between languages {fields}"
    for name in ("i18n_analysis", "i18n_report"):  # merged into STRINGS, none shadowed
        assert all(STRINGS[key] is pair for key, pair in TABLES[name].items()), name


def test_strict_mode_raises_on_a_missing_key_or_a_format_error(monkeypatch: pytest.MonkeyPatch) -> None:
    assert i18n.strict()  # the tests run strict (tests/conftest.py)
    with pytest.raises(MissingString, match="no.such.key"):
        t("no.such.key", "zh")
    assert t("no.such.key", "en", default="x") == "x"  # an explicit default is not a miss
    with pytest.raises(StringFormatError, match="live.epoch"):
        t("live.epoch", "en", k=2)  # {n} not given
    with pytest.raises(StringFormatError, match="live.epoch"):
        t("live.epoch", "zh")
    assert t("live.epoch", "zh", k=2, n=5) == "第 2 / 5 轮"
    monkeypatch.setenv(STRICT_ENV, "0")  # what the app does: show the problem, keep the page
    assert t("no.such.key", "zh") == "[no.such.key]"
    assert t("live.epoch", "en", k=2) == "epoch {k} of {n}"


def test_chinese_segment_titles_have_no_stray_space() -> None:
    # issue 23 minor: "按物品流行度分组的 测试集 NDCG@10".
    from rec_app.i18n import part_metric_label

    metric = part_metric_label("ndcg@10", "test", "zh")
    assert t("fig.segments_item", "zh", metric=metric) == "按物品流行度分组的测试集 NDCG@10"
    assert t("fig.segments_user", "zh", metric=metric) == "按用户活跃度分组的测试集 NDCG@10"
