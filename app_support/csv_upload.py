"""The Train page's CSV section: upload, column mapping, text templates, validation.

Nothing reaches the run store before the files pass `rec_core`'s own loader: they are
checked from a temporary folder, and only then stored (content-addressed) in the runs
folder, where the run's config points at them. Error messages name the uploaded file, not
the temporary path.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import streamlit as st

from rec_core.errors import RecCoreError
from rec_app.i18n import t
from rec_app.launch import save_upload

__all__ = ["csv_section", "read_header", "VALIDATED_KEY"]

VALIDATED_KEY = "csv_validated"
_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_NONE = "—"


def read_header(data: bytes, sep: str) -> list[str]:
    """Column names of a CSV's first line ([] for an empty file). Undecodable bytes are
    replaced here: the full validation reports the encoding problem with its line number."""
    text = data[:65536].decode("utf-8-sig", errors="replace")
    first = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    return [c.strip() for c in first if c.strip()]


def _guess(columns: list[str], names: tuple[str, ...], fallback: int | None) -> int | None:
    for i, c in enumerate(columns):
        if c.lower() in names:
            return i
    return fallback


def _column(label: str, columns: list[str], names: tuple[str, ...], key: str, optional: bool,
            fallback: int | None = 0) -> str | None:
    options = ([_NONE] if optional else []) + columns
    guess = _guess(columns, names, None if optional else fallback)
    index = (guess + 1 if optional else guess) if guess is not None else 0
    choice = st.selectbox(label, options, index=min(index, len(options) - 1), key=key)
    return None if choice == _NONE else choice


def _table_mapping(kind: str, upload: Any, sep: str, lang: str) -> dict[str, Any] | None:
    """Id column and template of an item or user table; None if the file is unusable."""
    columns = read_header(upload.getvalue(), sep)
    if not columns:
        st.error(t("csv.empty", lang, name=upload.name))
        return None
    id_col = _column(t(f"csv.{kind}_id_col", lang), columns, (kind, f"{kind}_id", "id", f"{kind}id"),
                     f"csv_{kind}_id_col", optional=False)
    template = st.text_input(
        t(f"csv.{kind}_template", lang), key=f"csv_{kind}_template",
        placeholder="{title}. Genres: {genres}." if kind == "item" else "{age}-year-old {occupation}",
        help=t("csv.template_help", lang, columns=", ".join(f"{{{c}}}" for c in columns if c != id_col)))
    return {f"csv_{kind}_id_col": id_col, f"csv_{kind}_template": template.strip() or None}


def _fingerprint(files: dict[str, bytes], mapping: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(mapping, sort_keys=True, default=str).encode())
    for name in sorted(files):
        digest.update(name.encode() + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def _readable(message: str, paths: dict[str, str], names: dict[str, str]) -> str:
    """`message` naming the user's files instead of our temporary copies."""
    for kind, path in paths.items():
        message = message.replace(path, names[kind])
    return message


def _validate(files: dict[str, bytes], names: dict[str, str], mapping: dict[str, Any],
              runs_root: Path, lang: str) -> dict[str, Any] | None:
    """Load the files with rec_core from a temporary folder; on success store them for runs."""
    from rec_core.data import DataConfig, load_csv

    with tempfile.TemporaryDirectory(prefix="rec_core-upload-") as tmp:
        paths = {kind: str(Path(tmp) / f"{kind}.csv") for kind in files}
        for kind, content in files.items():
            Path(paths[kind]).write_bytes(content)
        try:
            config = DataConfig(name="csv", csv_interactions=paths["interactions"], csv_items=paths.get("items"),
                                csv_users=paths.get("users"), download=False, **mapping)
            data = load_csv(config)
        except (RecCoreError, ValueError) as exc:
            st.error(t("csv.invalid", lang) + "\n\n" + _readable(str(exc), paths, names))
            return None
    stored = {kind: str(save_upload(runs_root, f"{kind}.csv", files[kind])) for kind in files}
    final = DataConfig(name="csv", csv_interactions=stored["interactions"], csv_items=stored.get("items"),
                       csv_users=stored.get("users"), download=False, **mapping)
    return {"data": asdict(final), "notes": [_readable(n, paths, names) for n in data.notes],
            "size": [int(data.n_users), int(data.n_items), int(data.n_interactions)]}


def csv_section(runs_root: Path, lang: str) -> dict[str, Any] | None:
    """Draw the CSV section; returns {"data": DataConfig dict, "size": [...], "notes": [...]}
    once the current files and mapping were validated, else None."""
    st.caption(t("csv.help", lang))
    sep = st.selectbox(t("csv.sep", lang), list(_SEPARATORS), key="csv_sep",
                       format_func=lambda s: t(f"csv.sep_{_SEPARATORS[s]}", lang))
    c1, c2, c3 = st.columns(3)
    inter = c1.file_uploader(t("csv.interactions", lang), type=["csv", "tsv", "txt"], key="csv_inter_file")
    items = c2.file_uploader(t("csv.items", lang), type=["csv", "tsv", "txt"], key="csv_items_file")
    users = c3.file_uploader(t("csv.users", lang), type=["csv", "tsv", "txt"], key="csv_users_file")
    if inter is None:
        st.info(t("csv.need_interactions", lang))
        return None
    columns = read_header(inter.getvalue(), sep)
    if not columns:
        st.error(t("csv.empty", lang, name=inter.name))
        return None
    m1, m2, m3, m4 = st.columns(4)
    with m1:
        user_col = _column(t("csv.user_col", lang), columns, ("user", "user_id", "userid", "uid"), "csv_user_col",
                           optional=False, fallback=0)
    with m2:
        item_col = _column(t("csv.item_col", lang), columns, ("item", "item_id", "itemid", "movie", "iid"),
                           "csv_item_col", optional=False, fallback=min(1, len(columns) - 1))
    with m3:
        rating_col = _column(t("csv.rating_col", lang), columns, ("rating", "score", "stars"), "csv_rating_col",
                             optional=True)
    with m4:
        time_col = _column(t("csv.time_col", lang), columns, ("time", "timestamp", "ts", "date"), "csv_time_col",
                           optional=True)
    mapping: dict[str, Any] = {"csv_user_col": user_col, "csv_item_col": item_col, "csv_rating_col": rating_col,
                               "csv_time_col": time_col, "csv_sep": sep}
    files, names = {"interactions": inter.getvalue()}, {"interactions": inter.name}
    for kind, upload in (("item", items), ("user", users)):
        if upload is None:
            continue
        table = _table_mapping(kind, upload, sep, lang)
        if table is None:
            return None
        mapping.update(table)
        files[f"{kind}s"], names[f"{kind}s"] = upload.getvalue(), upload.name
    if user_col == item_col:
        st.error(t("csv.same_columns", lang))
        return None
    fingerprint = _fingerprint(files, mapping)
    if st.button(t("csv.validate", lang), key="csv_validate"):
        checked = _validate(files, names, mapping, runs_root, lang)
        st.session_state[VALIDATED_KEY] = {**checked, "fingerprint": fingerprint} if checked else None
    validated = st.session_state.get(VALIDATED_KEY)
    if not validated or validated.get("fingerprint") != fingerprint:
        st.info(t("csv.validate_first", lang))
        return None
    n_users, n_items, n_inter = validated["size"]
    st.success(t("csv.valid", lang, users=n_users, items=n_items, interactions=n_inter))
    for note in validated["notes"]:
        st.warning(note)
    return validated
