"""The Train page's CSV section: upload, column mapping, text templates, validation.

A file that is not CSV text (an image renamed .csv, UTF-16) is refused in one sentence as it
is uploaded; the column choices are detected anew for each new file. Nothing reaches the run
store before the files pass `rec_core`'s own loader and the chosen split's own rules: they
are checked from a temporary folder, and only then stored (content-addressed) in the runs
folder, where the run's config points at them. Error messages name the uploaded file, not
the temporary path, and the on-screen label of the column or field they are about.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import streamlit as st

from rec_app.ui.errors import error_text
from rec_app.train.csv_checks import CsvProblem, file_identity, read_header, split_feasibility
from rec_app.train.field_labels import labelled_message
from rec_app.i18n import t
from rec_app.train.launch import save_upload
from rec_core.errors import RecCoreError

__all__ = ["csv_section", "VALIDATED_KEY"]

VALIDATED_KEY = "csv_validated"
MAPPED_KEY = "csv_mapped_files"  # the file each table's column choices were made for
# Column choices of each table: dropped when another file is uploaded, so they are detected anew.
_MAPPING_KEYS = {
    "interactions": ("csv_user_col", "csv_item_col", "csv_rating_col", "csv_time_col"),
    "item": ("csv_item_id_col",),
    "user": ("csv_user_id_col",),
}
_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_NONE = "—"


def _guess(columns: list[str], names: tuple[str, ...], fallback: int | None) -> int | None:
    for i, c in enumerate(columns):
        if c.lower() in names:
            return i
    return fallback


def _column(
    label: str, columns: list[str], names: tuple[str, ...], key: str, optional: bool, fallback: int | None = 0
) -> str | None:
    options = ([_NONE] if optional else []) + columns
    if st.session_state.get(key) not in options:
        guess = _guess(columns, names, None if optional else fallback)
        index = (guess + 1 if optional else guess) if guess is not None else 0
        # Set through the session state API, not as the widget's default: a keyed selectbox keeps
        # its identity when its options change, and the browser would keep showing (and sending
        # back) the previous file's choice; a value set this way is pushed to the browser.
        st.session_state[key] = options[min(index, len(options) - 1)]
    choice = st.selectbox(label, options, key=key)
    return None if choice == _NONE else choice


def _columns(upload: Any, sep: str, table: str, lang: str) -> list[str] | None:
    """The header of an uploaded file, or None after saying in one sentence why there is none.

    A new file (or another separator) drops the column choices made for the previous one,
    so that they are detected again from this header."""
    data = upload.getvalue()
    mapped = st.session_state.setdefault(MAPPED_KEY, {})
    identity = file_identity(upload.name, data, sep)
    if mapped.get(table) != identity:
        for key in _MAPPING_KEYS[table]:
            st.session_state.pop(key, None)
        mapped[table] = identity
    try:
        columns = read_header(data, sep)
    except CsvProblem as problem:
        st.error(t(problem.key, lang, name=upload.name, **problem.params))
        return None
    if not columns:
        st.error(t("csv.empty", lang, name=upload.name))
        return None
    return columns


def _table_mapping(kind: str, upload: Any, sep: str, lang: str) -> dict[str, Any] | None:
    """Id column and template of an item or user table; None if the file is unusable."""
    columns = _columns(upload, sep, kind, lang)
    if columns is None:
        return None
    id_col = _column(
        t(f"csv.{kind}_id_col", lang),
        columns,
        (kind, f"{kind}_id", "id", f"{kind}id"),
        f"csv_{kind}_id_col",
        optional=False,
    )
    template = st.text_input(
        t(f"csv.{kind}_template", lang),
        key=f"csv_{kind}_template",
        placeholder="{title}. Genres: {genres}." if kind == "item" else "{age}-year-old {occupation}",
        help=t("csv.template_help", lang, columns=", ".join(f"{{{c}}}" for c in columns if c != id_col)),
    )
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


def _problem_text(exc: BaseException, paths: dict[str, str], names: dict[str, str], lang: str) -> str:
    """One message for a file or split problem: the user's file names, the field's label."""
    field = getattr(exc, "field", None)
    if not isinstance(exc, RecCoreError) or not isinstance(field, str):
        return _readable(error_text(exc, lang), paths, names)
    return labelled_message(field, _readable(str(exc), paths, names), lang)


def _feasibility(
    data: Any, split: str, lang: str, paths: dict[str, str] | None = None, names: dict[str, str] | None = None
) -> dict[str, Any]:
    """{"counts": Feasibility as a dict} or {"error": why the split cannot be made}."""
    try:
        return {"counts": asdict(split_feasibility(data, split))}
    except RecCoreError as exc:
        return {"error": _problem_text(exc, paths or {}, names or {}, lang)}


def _validate(
    files: dict[str, bytes], names: dict[str, str], mapping: dict[str, Any], split: str, runs_root: Path, lang: str
) -> dict[str, Any] | None:
    """Load the files with rec_core from a temporary folder and run the split's rules on them;
    on success store them for runs."""
    from rec_core.data import DataConfig, load_csv

    with tempfile.TemporaryDirectory(prefix="rec_core-upload-") as tmp:
        paths = {kind: str(Path(tmp) / f"{kind}.csv") for kind in files}
        for kind, content in files.items():
            Path(paths[kind]).write_bytes(content)
        try:
            config = DataConfig(
                name="csv",
                csv_interactions=paths["interactions"],
                csv_items=paths.get("items"),
                csv_users=paths.get("users"),
                download=False,
                **mapping,
            )
            data = load_csv(config)
        except Exception as exc:  # noqa: BLE001 - any unreadable file gets one message; the page stays usable
            st.error(t("csv.invalid", lang) + "\n\n" + _problem_text(exc, paths, names, lang))
            return None
        feasible = _feasibility(data, split, lang, paths, names)
    stored = {kind: str(save_upload(runs_root, f"{kind}.csv", files[kind])) for kind in files}
    final = DataConfig(
        name="csv",
        csv_interactions=stored["interactions"],
        csv_items=stored.get("items"),
        csv_users=stored.get("users"),
        download=False,
        **mapping,
    )
    return {
        "data": asdict(final),
        "notes": [_readable(n, paths, names) for n in data.notes],
        "size": [int(data.n_users), int(data.n_items), int(data.n_interactions)],
        "feasibility": {split: feasible},
    }


def _split_check(validated: dict[str, Any], split: str, lang: str) -> dict[str, Any]:
    """The split's rules on files validated under another split (loaded from the store)."""
    known = validated.setdefault("feasibility", {})
    if split not in known:
        from rec_core.data import DataConfig, load_csv

        try:
            known[split] = _feasibility(load_csv(DataConfig(**validated["data"])), split, lang)
        except Exception as exc:  # noqa: BLE001 - e.g. the stored upload was deleted meanwhile
            known[split] = {"error": error_text(exc, lang)}
    return dict(known[split])


def _show_feasibility(result: dict[str, Any], split: str, lang: str) -> bool:
    """Say what the split leaves to train and evaluate; False when it cannot be made."""
    name = t(f"split.{split}", lang)
    if "error" in result:
        st.error(t("csv.infeasible", lang, split=name) + "\n\n" + str(result["error"]))
        return False
    c = result["counts"]
    st.info(
        t(
            "csv.feasible",
            lang,
            split=name,
            test_users=c["test_users"],
            users=c["n_users"],
            train_items=c["train_items"],
            items=c["n_items"],
            valid_users=c["valid_users"],
        )
    )
    if not c["valid_users"]:
        st.warning(t("csv.no_valid", lang))
    return True


def csv_section(runs_root: Path, split: str, lang: str) -> dict[str, Any] | None:
    """Draw the CSV section; returns {"data": DataConfig dict, "size": [...], "notes": [...]}
    once the current files and mapping were validated and `split` can be made from them,
    else None."""
    st.caption(t("csv.help", lang))
    sep = st.selectbox(
        t("csv.sep", lang), list(_SEPARATORS), key="csv_sep", format_func=lambda s: t(f"csv.sep_{_SEPARATORS[s]}", lang)
    )
    c1, c2, c3 = st.columns(3)
    inter = c1.file_uploader(t("csv.interactions", lang), type=["csv", "tsv", "txt"], key="csv_inter_file")
    items = c2.file_uploader(t("csv.items", lang), type=["csv", "tsv", "txt"], key="csv_items_file")
    users = c3.file_uploader(t("csv.users", lang), type=["csv", "tsv", "txt"], key="csv_users_file")
    if inter is None:
        st.info(t("csv.need_interactions", lang))
        return None
    columns = _columns(inter, sep, "interactions", lang)
    if columns is None:
        return None
    m1, m2, m3, m4 = st.columns(4)
    with m1:
        user_col = _column(
            t("csv.user_col", lang),
            columns,
            ("user", "user_id", "userid", "uid"),
            "csv_user_col",
            optional=False,
            fallback=0,
        )
    with m2:
        item_col = _column(
            t("csv.item_col", lang),
            columns,
            ("item", "item_id", "itemid", "movie", "iid"),
            "csv_item_col",
            optional=False,
            fallback=min(1, len(columns) - 1),
        )
    with m3:
        rating_col = _column(
            t("csv.rating_col", lang), columns, ("rating", "score", "stars"), "csv_rating_col", optional=True
        )
    with m4:
        time_col = _column(
            t("csv.time_col", lang), columns, ("time", "timestamp", "ts", "date"), "csv_time_col", optional=True
        )
    mapping: dict[str, Any] = {
        "csv_user_col": user_col,
        "csv_item_col": item_col,
        "csv_rating_col": rating_col,
        "csv_time_col": time_col,
        "csv_sep": sep,
    }
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
        checked = _validate(files, names, mapping, split, runs_root, lang)
        st.session_state[VALIDATED_KEY] = {**checked, "fingerprint": fingerprint} if checked else None
    validated = st.session_state.get(VALIDATED_KEY)
    if not validated or validated.get("fingerprint") != fingerprint:
        st.info(t("csv.validate_first", lang))
        return None
    n_users, n_items, n_inter = validated["size"]
    st.success(t("csv.valid", lang, users=n_users, items=n_items, interactions=n_inter))
    for note in validated["notes"]:
        st.warning(note)
    if not _show_feasibility(_split_check(validated, split, lang), split, lang):
        return None
    return validated
