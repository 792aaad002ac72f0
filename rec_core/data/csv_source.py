"""Your own data: an interactions CSV plus optional item and user tables with text columns.

Files must be UTF-8 (a BOM is fine). There is deliberately no latin-1 fallback: guessing an
encoding silently garbles accents in the texts a model reads, so a non-UTF-8 file is an error
that says where the first bad byte is and how to convert the file.

Blank lines are ignored; empty cells are missing values (dropped from texts); every other
cell is kept as text, so ids keep their spelling ("007"). Column names are stripped of
surrounding spaces. Every problem raises DataError naming the config field, the file and the
column; `validate_csv` runs the same checks and returns the warnings, writing nothing.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from rec_core.data.config import DataConfig
from rec_core.data.indexing import assemble, index_interactions
from rec_core.data.interactions import InteractionData, TextTable
from rec_core.data.text_template import TextTemplate, render_text_table
from rec_core.errors import ConfigError, DataError

__all__ = ["load_csv", "validate_csv", "read_csv_table"]

_LINE_COL = "__line__"  # file line of each row, kept while validating


def read_csv_table(path: str, sep: str, config_field: str) -> pd.DataFrame:
    """All cells as str (empty -> NA) plus a `__line__` column; DataError naming `config_field`."""
    file = Path(path)
    if not file.is_file():
        raise DataError(config_field, f"{path}: file not found")
    data = file.read_bytes()
    if not data.strip():
        raise DataError(config_field, f"{path} is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            config_field,
            f"{path} is not UTF-8: byte 0x{data[exc.start]:02x} on line {line} cannot be decoded. "
            "Re-save it as UTF-8 (for a latin-1 file: iconv -f latin1 -t utf-8 in.csv > out.csv)",
        ) from None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(config_field, f"{path} could not be parsed as {sep!r}-separated CSV: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    # Rows come one per line after the header (quoted newlines would shift this; rare in ids).
    frame[_LINE_COL] = np.arange(2, len(frame) + 2)
    frame = frame[frame.drop(columns=_LINE_COL).notna().any(axis=1)]
    if frame.empty:
        raise DataError(config_field, f"{path} has a header but no rows")
    return frame


def _require_column(frame: pd.DataFrame, column: str, path: str, config_field: str) -> None:
    if column not in frame.columns:
        present = [c for c in frame.columns if c != _LINE_COL]
        raise DataError(config_field, f"column {column!r} is not in {path}; its columns are: {', '.join(present)}")


def _ids(frame: pd.DataFrame, column: str, path: str, config_field: str) -> np.ndarray:
    values = frame[column].str.strip()
    empty = values.isna() | (values == "")
    if empty.any():
        line = int(frame[_LINE_COL][empty].iloc[0])
        raise DataError(config_field, f"{path} line {line}: column {column!r} is empty ({int(empty.sum())} rows)")
    return values.to_numpy(dtype=object)


def _numbers(frame: pd.DataFrame, column: str, path: str, config_field: str) -> np.ndarray:
    raw = frame[column].str.strip()
    numbers = pd.to_numeric(raw, errors="coerce")
    bad = numbers.isna() | ~np.isfinite(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        line, value = int(frame[_LINE_COL].iloc[first]), raw.iloc[first]
        hint = " (timestamps must be numbers, e.g. Unix seconds)" if config_field == "csv_time_col" else ""
        raise DataError(
            config_field,
            f"{path} line {line}: column {column!r} holds {value!r}, not a number; {int(bad.sum())} such rows{hint}",
        )
    return numbers.to_numpy(dtype=np.float64)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns whose every present value is a number become numeric (Int64 when integral)."""
    out = frame.copy()
    for col in out.columns:
        present = out[col].dropna()
        if present.empty:
            continue
        numbers = pd.to_numeric(present.str.strip(), errors="coerce")
        if numbers.isna().any():
            continue
        values = pd.to_numeric(out[col].str.strip(), errors="coerce")
        is_int = bool(np.all(np.mod(numbers.to_numpy(dtype=np.float64), 1) == 0))
        out[col] = values.astype("Int64") if is_int else values.astype("Float64")
    return out


def _entity_table(
    path: str | None,
    id_col: str,
    template_text: str | None,
    ids: np.ndarray,
    config: DataConfig,
    kind: str,
    notes: list[str],
) -> tuple[pd.DataFrame, TextTable]:
    """(fields aligned to `ids`, texts) for items or users; ids without a row get their id as text."""
    path_field, id_field, template_field = f"csv_{kind}s", f"csv_{kind}_id_col", f"csv_{kind}_template"
    id_texts = [(str(i), (("id", 0, len(str(i))),)) for i in ids]
    if path is None:
        return pd.DataFrame(index=range(len(ids))), TextTable(
            tuple(t for t, _ in id_texts), tuple(s for _, s in id_texts)
        )
    frame = read_csv_table(path, config.csv_sep, path_field)
    _require_column(frame, id_col, path, id_field)
    table_ids = _ids(frame, id_col, path, id_field)
    frame = frame.drop(columns=[_LINE_COL]).assign(**{id_col: table_ids})
    duplicated = frame[id_col].duplicated(keep="first")
    if duplicated.any():
        notes.append(f"{path}: {int(duplicated.sum())} rows repeat an id; the first row of each id is used")
        frame = frame[~duplicated]
    frame = frame.set_index(id_col, drop=False)
    if template_text is None:
        template = TextTemplate.labelled([c for c in frame.columns if c != id_col])
    else:
        template = TextTemplate.parse(template_text, config_field=template_field)
    template.check_columns(frame.columns, config_field=template_field)

    present = pd.Index(ids).isin(frame.index)
    unused = len(frame) - int(present.sum())
    if unused:
        notes.append(f"{path}: {unused} {kind}s have no interactions and are ignored")
    if not present.all():
        missing = [str(i) for i in ids[~present]]
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        notes.append(f"{len(missing)} interacted {kind}s are not in {path}; their text is just their id ({shown})")
    aligned = frame.reindex(pd.Index(ids, dtype=object))
    rendered = render_text_table(template, aligned, config_field=template_field)
    texts = list(rendered.texts)
    spans = list(rendered.spans)
    for k in np.flatnonzero(~present):
        texts[k], spans[k] = id_texts[k]
    blank = [k for k in np.flatnonzero(present) if not texts[k]]
    if blank:
        notes.append(f"{len(blank)} {kind}s have only empty cells in {path}; their text is just their id")
        for k in blank:
            texts[k], spans[k] = id_texts[k]
    fields = _typed(aligned.drop(columns=[id_col]).reset_index(drop=True))
    return fields, TextTable(tuple(texts), tuple(spans))


def load_csv(config: DataConfig) -> InteractionData:
    """`InteractionData` from the CSV files `config.csv_*` names (see the module docstring)."""
    if config.name != "csv" or config.csv_interactions is None:
        raise ConfigError("name", "load_csv needs name='csv' and csv_interactions set")
    path = config.csv_interactions
    frame = read_csv_table(path, config.csv_sep, "csv_interactions")
    for column, field in (
        (config.csv_user_col, "csv_user_col"),
        (config.csv_item_col, "csv_item_col"),
        (config.csv_rating_col, "csv_rating_col"),
        (config.csv_time_col, "csv_time_col"),
    ):
        if column is not None:
            _require_column(frame, column, path, field)
    users = _ids(frame, config.csv_user_col, path, "csv_user_col")
    items = _ids(frame, config.csv_item_col, path, "csv_item_col")
    ratings = None if config.csv_rating_col is None else _numbers(frame, config.csv_rating_col, path, "csv_rating_col")
    times = None
    if config.csv_time_col is not None:
        times = np.floor(_numbers(frame, config.csv_time_col, path, "csv_time_col")).astype(np.int64)
    core = index_interactions(users, items, ratings, times, min_rating=config.min_rating, source=path)

    notes: list[str] = []
    item_fields, item_text = _entity_table(
        config.csv_items, config.csv_item_id_col, config.csv_item_template, core.item_ids, config, "item", notes
    )
    user_fields, user_text = _entity_table(
        config.csv_users, config.csv_user_id_col, config.csv_user_template, core.user_ids, config, "user", notes
    )
    return assemble(
        "csv",
        core,
        user_fields=user_fields,
        item_fields=item_fields,
        user_text=user_text,
        item_text=item_text,
        notes=tuple(notes),
    )


def validate_csv(config: DataConfig) -> list[str]:
    """Warnings about the CSV files of `config` (empty: clean); raises DataError/ConfigError if unusable.

    Runs every check `load_csv` runs and writes nothing, so the app can vet an upload first.
    """
    return list(load_csv(config).notes)
