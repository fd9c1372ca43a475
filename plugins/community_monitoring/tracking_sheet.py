"""The tracking sheet: UserVoice suggestions announced or planned for releases (SPEC §5).

One row per (suggestion, fix version) in an ``.xlsx`` workbook that people also edit by hand.
The pipeline owns the columns in ``OWNED_COLUMNS``; everything else in the file (extra columns,
rows with other keys, formatting, other worksheets) is left as it was. Updates are upserts made
under an exclusive lock and written to a temporary file that replaces the sheet atomically, so a
crash never leaves a half-written sheet and two concurrent writers never lose each other's rows.
"""

from __future__ import annotations

import fcntl
import glob
import os
import re
import secrets
import time as clock
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from community_monitoring.records import SheetRow
from community_monitoring.versions import release_key

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

OWNED_COLUMNS: tuple[str, ...] = (
    "suggestion_id",
    "title",
    "url",
    "nominator",
    "edition",
    "jira_key",
    "jira_status",
    "uservoice_status",
    "fix_version",
    "release_date",
    "thanked_at",
    "status_update_id",
    "updated_at",
    # Added after the first sheets were written: an older sheet gets it appended on its next upsert.
    "slipped_to",
)
KEY_COLUMNS: tuple[str, str] = ("suggestion_id", "fix_version")
SHEET_NAME = "Tracking"
SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".xlsx"})

# Excel refuses longer cells when it opens the file, so an oversized value would make the
# whole sheet unreadable for the people who use it.
_MAX_CELL_CHARS = 32767
# Control characters are not allowed in XML 1.0; openpyxl raises on them at assignment.
_ILLEGAL_CHARS_RE = re.compile(r"[\000-\010\013\014\016-\037]")


class TrackingSheetError(ValueError):
    """The file at the configured path cannot be used as a tracking sheet."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"tracking sheet {self.path}: {problem}")


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int
    unchanged: int
    path: str


def sheet_key(suggestion_id: str, fix_version: str) -> tuple[str, str]:
    """A row's key: ``v11.2``, ``11.2`` and ``11.2.0`` are the same release, so the same row."""
    return (suggestion_id.strip(), release_key(fix_version))


def read_sheet(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Every non-blank data row with every headed column, as text.

    Our columns are returned under their canonical names (and as ``""`` when the sheet lacks
    them); hand-added columns under their header text. A missing file reads as no rows, the same
    way ``upsert_rows`` treats it.
    """
    target = _checked_path(path)
    if not target.exists():
        return []
    workbook = _load_workbook(target)
    sheet = _tracking_worksheet(workbook, target)
    layout = _read_layout(sheet, target)
    rows: list[dict[str, str]] = []
    for values in _data_rows(sheet, layout):
        row = dict.fromkeys(OWNED_COLUMNS, "")
        for column, name in layout.headers.items():
            row[name] = values.get(column, "")
        rows.append(row)
    return rows


def upsert_rows(
    path: str | os.PathLike[str],
    rows: Iterable[SheetRow],
    *,
    now: datetime | None = None,
) -> UpsertResult:
    """Insert new (suggestion, version) rows and fill in our columns of existing ones.

    Existing rows keep their positions and new ones are appended in arrival order. A non-empty
    incoming value overwrites our cell; an empty one never clears it, so a DAG that does not know
    a column cannot erase what another DAG wrote. ``updated_at`` moves only when a value changed,
    and the file is not rewritten at all when nothing changed.
    """
    chosen = list(rows)
    _merge_incoming(chosen)  # a row without a key is refused before the sheet is touched
    return update_rows(path, lambda _existing: chosen, now=now)


SheetPlan = Callable[[list[SheetRow]], Iterable[SheetRow]]


def update_rows(
    path: str | os.PathLike[str],
    plan: SheetPlan,
    *,
    now: datetime | None = None,
) -> UpsertResult:
    """Upsert the rows ``plan`` decides from the rows the sheet holds now, as ``upsert_rows`` does.

    The sheet is read and written under one lock, so what ``plan`` decided from cannot change
    before its rows are written. ``plan`` gets our columns of every row with a suggestion id.
    """
    target = _checked_path(path)
    stamp = _stamp(now)

    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        _remove_stale_temp_files(target)
        created = not target.exists()
        workbook, sheet = _new_workbook() if created else _open_tracking(target)
        layout = _read_layout(sheet, target)
        header_changed = _ensure_owned_columns(sheet, layout, target)
        index = _index_rows(sheet, layout, target)
        incoming = _merge_incoming(plan(_existing_rows(sheet, layout)))
        counts = _write_rows(sheet, layout, index, incoming, stamp)

        if header_changed or counts.inserted or counts.updated:
            _grow_ranges(sheet, last_row=max(layout.last_row, 1), last_column=sheet.max_column)
        if created or header_changed or counts.inserted or counts.updated:
            _save_atomically(workbook, target)
    return UpsertResult(
        inserted=counts.inserted, updated=counts.updated, unchanged=counts.unchanged, path=str(target)
    )


@dataclass
class _Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def _write_rows(
    sheet: Worksheet,
    layout: _Layout,
    index: dict[tuple[str, str], int],
    incoming: dict[tuple[str, str], SheetRow],
    stamp: str,
) -> _Counts:
    """Write each incoming row into its existing row or a new one at the end; grows ``layout``."""
    counts = _Counts()
    for key, row in incoming.items():
        values = _incoming_values(row)
        row_stamp = _sanitise(row.updated_at) or stamp
        existing = index.get(key)
        if existing is None:
            layout.last_row += 1
            index[key] = layout.last_row
            _fill_new_row(sheet, layout, layout.last_row, values, row_stamp)
            counts.inserted += 1
        elif _update_row(sheet, layout, existing, values, row_stamp):
            counts.updated += 1
        else:
            counts.unchanged += 1
    return counts


def _fill_new_row(
    sheet: Worksheet, layout: _Layout, row_number: int, values: dict[str, str], stamp: str
) -> None:
    for name, value in values.items():
        if value:
            _write_text(sheet.cell(row=row_number, column=layout.owned[name]), value)
    _write_text(sheet.cell(row=row_number, column=layout.owned["updated_at"]), stamp)


def _update_row(
    sheet: Worksheet, layout: _Layout, row_number: int, values: dict[str, str], stamp: str
) -> bool:
    """Overwrite our cells that differ from a non-empty incoming value; whether any did."""
    changed = False
    for name, value in values.items():
        if name in KEY_COLUMNS or not value:
            # The sheet's spelling of the key stays, or v11.1/11.1 would flip-flop.
            continue
        cell = sheet.cell(row=row_number, column=layout.owned[name])
        if _cell_text(cell.value) != value:
            _write_text(cell, value)
            changed = True
    if changed:
        _write_text(sheet.cell(row=row_number, column=layout.owned["updated_at"]), stamp)
    return changed


# --- layout -----------------------------------------------------------------------------------


@dataclass
class _Layout:
    headers: dict[int, str]  # 1-based column -> canonical owned name or the hand-written header
    owned: dict[str, int]  # owned column name -> 1-based column
    last_row: int  # last row holding any value (1 when only the header exists, 0 when empty)
    last_column: int  # last column holding any value in any row


def _read_layout(sheet: Worksheet, path: Path) -> _Layout:
    last_row = 0
    last_column = 0
    header_cells: tuple[Any, ...] = ()
    for row_number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if row_number == 1:
            header_cells = values
        used = [index for index, value in enumerate(values, start=1) if _cell_text(value) != ""]
        if used:
            last_row = row_number
            last_column = max(last_column, used[-1])

    owned_by_folded = {name.casefold(): name for name in OWNED_COLUMNS}
    headers: dict[int, str] = {}
    owned: dict[str, int] = {}
    seen: dict[str, int] = {}
    for column, value in enumerate(header_cells, start=1):
        text = _cell_text(value).strip()
        if not text:
            continue
        folded = text.casefold()
        if folded in seen:
            raise TrackingSheetError(
                path,
                f"duplicate header {text!r} in columns {_column_letter(seen[folded])} "
                f"and {_column_letter(column)}",
            )
        seen[folded] = column
        canonical = owned_by_folded.get(folded)
        if canonical is not None:
            owned[canonical] = column
        headers[column] = canonical or text

    if not headers and last_row > 1:
        raise TrackingSheetError(path, "row 1 has no headers but the sheet has data below it")
    return _Layout(headers=headers, owned=owned, last_row=last_row, last_column=last_column)


def _ensure_owned_columns(sheet: Worksheet, layout: _Layout, path: Path) -> bool:
    """Append the owned columns the sheet lacks; a fresh sheet gets the whole header."""
    missing = [name for name in OWNED_COLUMNS if name not in layout.owned]
    if not missing:
        return False
    missing_keys = [name for name in KEY_COLUMNS if name in missing]
    if missing_keys and layout.last_row > 1:
        # Without both key columns existing rows cannot be matched, and every upsert would
        # append duplicates of them.
        raise TrackingSheetError(path, f"missing key columns {', '.join(missing_keys)}")
    from openpyxl.styles import Font

    fresh = not layout.headers
    # After the last used column, so an unheaded column someone typed into is not overwritten.
    column = layout.last_column
    for name in missing:
        column += 1
        cell = sheet.cell(row=1, column=column)
        _write_text(cell, name)
        cell.font = Font(bold=True)
        layout.owned[name] = column
        layout.headers[column] = name
    layout.last_column = column
    layout.last_row = max(layout.last_row, 1)
    if fresh:
        sheet.freeze_panes = "A2"
    return True


def _data_rows(sheet: Worksheet, layout: _Layout) -> Iterator[dict[int, str]]:
    if layout.last_row < 2:
        return
    for values in sheet.iter_rows(min_row=2, max_row=layout.last_row, values_only=True):
        texts = {column: _cell_text(value) for column, value in enumerate(values, start=1)}
        if any(texts.get(column) for column in layout.headers):
            yield texts


def _existing_rows(sheet: Worksheet, layout: _Layout) -> list[SheetRow]:
    """Our columns of every row with a suggestion id, as records (rows of hand notes are left out)."""
    rows = []
    for values in _data_rows(sheet, layout):
        row = {name: values.get(column, "") for name, column in layout.owned.items()}
        if row["suggestion_id"].strip():
            rows.append(SheetRow(**row))
    return rows


def _index_rows(sheet: Worksheet, layout: _Layout, path: Path) -> dict[tuple[str, str], int]:
    id_column = layout.owned["suggestion_id"]
    version_column = layout.owned["fix_version"]
    index: dict[tuple[str, str], int] = {}
    if layout.last_row < 2:
        return index
    for row_number, values in enumerate(
        sheet.iter_rows(min_row=2, max_row=layout.last_row, values_only=True), start=2
    ):
        texts = dict(enumerate((_cell_text(value) for value in values), start=1))
        suggestion_id = texts.get(id_column, "").strip()
        if not suggestion_id:
            # A row someone added for their own notes; it is not ours to match or change.
            continue
        key = sheet_key(suggestion_id, texts.get(version_column, ""))
        if key in index:
            raise TrackingSheetError(
                path,
                f"rows {index[key]} and {row_number} both hold suggestion {key[0]} "
                f"version {key[1] or '(none)'}; remove one",
            )
        index[key] = row_number
    return index


def _grow_ranges(sheet: Worksheet, *, last_row: int, last_column: int) -> None:
    """Extend Excel tables and the autofilter anchored on the header to cover the rows we added.

    Without this, rows appended below a "Format as Table" range fall outside it and vanish from
    the hand user's filters and sorting.
    """
    from openpyxl.utils import get_column_letter, range_boundaries
    from openpyxl.worksheet.table import TableColumn

    for table in sheet.tables.values():
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        if min_row != 1:
            continue
        new_max_col = max_col
        if max_col + 1 <= last_column and table.tableColumns:
            # Only our appended header columns directly right of the table join it.
            next_id = max(column.id for column in table.tableColumns) + 1
            for column in range(max_col + 1, last_column + 1):
                name = _cell_text(sheet.cell(row=1, column=column).value)
                if not name:
                    break
                table.tableColumns.append(TableColumn(id=next_id, name=name))
                next_id += 1
                new_max_col = column
        ref = f"{get_column_letter(min_col)}1:{get_column_letter(new_max_col)}{max(max_row, last_row)}"
        table.ref = ref
        if table.autoFilter is not None:
            table.autoFilter.ref = ref

    if sheet.auto_filter.ref:
        min_col, min_row, max_col, max_row = range_boundaries(sheet.auto_filter.ref)
        if min_row == 1:
            sheet.auto_filter.ref = (
                f"{get_column_letter(min_col)}1:{get_column_letter(max(max_col, last_column))}"
                f"{max(max_row, last_row)}"
            )


# --- values -----------------------------------------------------------------------------------


def _merge_incoming(rows: Iterable[SheetRow]) -> dict[tuple[str, str], SheetRow]:
    """One row per key, in first-arrival order; later non-empty values win."""
    merged: dict[tuple[str, str], SheetRow] = {}
    for row in rows:
        key = row.key
        if not key[0] or not key[1]:
            raise ValueError(f"a tracking-sheet row needs a suggestion_id and a fix_version: {row!r}")
        previous = merged.get(key)
        if previous is None:
            merged[key] = row
            continue
        combined = asdict(previous)
        combined.update({name: value for name, value in asdict(row).items() if value.strip()})
        # The first spelling of the key is the one written for a new row.
        combined["suggestion_id"] = previous.suggestion_id
        combined["fix_version"] = previous.fix_version
        merged[key] = SheetRow(**combined)
    return merged


def _incoming_values(row: SheetRow) -> dict[str, str]:
    values = {name: _sanitise(value) for name, value in asdict(row).items()}
    values.pop("updated_at")
    return values


def _sanitise(value: str) -> str:
    """The text exactly as it will be stored, so comparing it with the cell finds real changes."""
    return _ILLEGAL_CHARS_RE.sub("", str(value)).strip()[:_MAX_CELL_CHARS]


def _cell_text(value: object) -> str:
    """A cell as text: ids typed into Excel come back as numbers, 43871022 not 43871022.0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        # Excel has only datetimes; a date typed by hand comes back at midnight.
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _write_text(cell: Any, text: str) -> None:
    cell.value = text
    # openpyxl turns a string starting with "=" into a formula; a title is never one.
    cell.data_type = "s"


def _stamp(now: datetime | None) -> str:
    moment = now or datetime.now(UTC)
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")


def _column_letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


# --- files ------------------------------------------------------------------------------------


def _checked_path(path: str | os.PathLike[str]) -> Path:
    # Resolved so that a symlinked sheet is updated in place rather than replaced by a file.
    target = Path(os.path.realpath(os.fspath(path)))
    if target.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise TrackingSheetError(path, f"unsupported format {target.suffix or '(no suffix)'}; use .xlsx")
    return target


def _new_workbook() -> tuple[Workbook, Worksheet]:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new Workbook always has one worksheet
    sheet.title = SHEET_NAME
    return workbook, sheet


def _load_workbook(path: Path) -> Workbook:
    import openpyxl

    try:
        return openpyxl.load_workbook(path)
    except OSError:
        raise
    except Exception as exc:
        # zipfile, XML and openpyxl all have their own errors for a file that is not an xlsx.
        raise TrackingSheetError(
            path, f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})"
        ) from exc


def _open_tracking(path: Path) -> tuple[Workbook, Worksheet]:
    workbook = _load_workbook(path)
    return workbook, _tracking_worksheet(workbook, path)


def _tracking_worksheet(workbook: Workbook, path: Path) -> Worksheet:
    if SHEET_NAME in workbook.sheetnames:
        sheet = workbook[SHEET_NAME]
    elif len(workbook.worksheets) == 1:
        # Someone renamed the only sheet; it is still the tracking sheet.
        sheet = workbook.worksheets[0]
    else:
        raise TrackingSheetError(
            path, f"no worksheet named {SHEET_NAME!r} among {', '.join(map(repr, workbook.sheetnames))}"
        )
    from openpyxl.worksheet.worksheet import Worksheet

    if not isinstance(sheet, Worksheet):
        raise TrackingSheetError(path, f"{sheet.title!r} is not a worksheet")
    return sheet


# How long an update waits for another writer's lock on the sheet: a write takes seconds, so a lock
# held this long belongs to a writer that hung (a stuck process, a lock on a network share never
# released). Blocking on it kept every later update waiting until Airflow's execution timeout
# killed the task, with an error that said nothing of the lock.
LOCK_WAIT_SECONDS = 120.0
LOCK_POLL_SECONDS = 0.1


def _wait_for_lock(descriptor: int, target: Path, lock_path: Path) -> None:
    """Take the exclusive lock, or raise TrackingSheetError naming the lock file after
    ``LOCK_WAIT_SECONDS`` (nothing is written: the next run or a retry tries again)."""
    deadline = clock.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if clock.monotonic() >= deadline:
                raise TrackingSheetError(
                    target,
                    f"another writer has held its lock {lock_path.name} for more than "
                    f"{LOCK_WAIT_SECONDS:g}s; nothing was written (a hung process? see who holds "
                    f"{lock_path})",
                ) from None
            clock.sleep(LOCK_POLL_SECONDS)


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    """Hold an exclusive flock on a sidecar file for a whole read-modify-write.

    The sidecar, not the sheet, carries the lock because the sheet's inode changes on every
    atomic replace. It is never deleted: removing a lock file others may hold is itself a race.
    """
    lock_path = target.with_name(f"{target.name}.lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        _wait_for_lock(descriptor, target, lock_path)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _temp_prefix(target: Path) -> str:
    return f".{target.name}."


def _remove_stale_temp_files(target: Path) -> None:
    # Only called under the lock, so any temporary file left is from a writer that was killed.
    pattern = os.path.join(glob.escape(str(target.parent)), glob.escape(_temp_prefix(target)) + "*.tmp")
    for leftover in glob.glob(pattern):
        with suppress(FileNotFoundError):
            os.unlink(leftover)


def _save_atomically(workbook: Workbook, target: Path) -> None:
    temp = target.with_name(f"{_temp_prefix(target)}{secrets.token_hex(6)}.tmp")
    # Created through os.open so a new sheet gets the umask's mode, not mkstemp's 0600.
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        if target.exists():
            os.chmod(temp, target.stat().st_mode & 0o7777)
        workbook.save(temp)
        with open(temp, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; some filesystems cannot fsync a directory, which is fine.
    with suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
