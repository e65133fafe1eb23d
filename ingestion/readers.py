"""Read one vendor export into text columns, keeping every record's position.

Values stay text here: typing happens in normalize.py, where a value that does not parse is
quarantined with its reason instead of turning into a null. Records that do not even have the
header's shape (too few or too many fields, broken JSON) come back as rejects.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingestion.contracts import FileSpec

ROW = "__row"  # 1-based data record number
LINE = "__line"  # 1-based physical line where the record starts
FILE = "__file"  # the file's index among files normalized together (normalize.normalize_sources)


@dataclass
class Reject:
    row: int
    line: int
    reason: str
    raw: str


@dataclass
class RawFile:
    columns: list[str]
    frame: pl.DataFrame  # vendor columns as String, plus ROW and LINE
    rejects: list[Reject] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.frame.height + len(self.rejects)


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (encoding, missing header)."""


MAX_FIELD_CHARS = 100_000  # a longer value is not an export field but a broken quote or a blob
csv.field_size_limit(2**31 - 1)  # read it whole, then quarantine it with a reason

_BINARY = {
    b"PK\x03\x04": "a ZIP container (an .xlsx workbook saved under a .csv name?)",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
}
_ENCODING_HINTS = {
    b"\xff\xfe": "UTF-16 (little endian); set file.encoding: utf-16",
    b"\xfe\xff": "UTF-16 (big endian); set file.encoding: utf-16",
}


def read_export(path: Path, spec: FileSpec) -> RawFile:
    return parse_export(path.read_bytes(), spec)


FAST_MIN_CHARS = 50_000  # below this the csv module is faster than Polars' fixed cost (measured)


def parse_export(data: bytes, spec: FileSpec, *, fast: bool | None = None) -> RawFile:
    """CSV goes through Polars where that provably gives the csv module's result (read_csv_fast) and
    the file has at least FAST_MIN_CHARS characters; `fast=True` tries Polars whatever the size,
    `fast=False` reads with the csv module only (the reference the fast path is tested against)."""
    if not data or data.isspace():  # as `not data.strip()`, without copying the file
        raise UnreadableFile("empty file (0 bytes or only whitespace): the export produced nothing")
    for signature, what in _BINARY.items():
        if data.startswith(signature):
            raise UnreadableFile(f"not a text export: it looks like {what}")
    try:
        text = data.decode(spec.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        hint = next((f"; it looks like {what}" for sig, what in _ENCODING_HINTS.items() if data.startswith(sig)), "")
        if isinstance(exc, LookupError):
            raise UnreadableFile(f"unknown encoding {spec.encoding!r} in the contract") from None
        line = data[: exc.start].count(b"\n") + 1
        raise UnreadableFile(f"not valid {spec.encoding} at byte {exc.start} (line {line}){hint}; "
                             "set file.encoding in the contract if the vendor uses another encoding") from None
    if spec.format == "jsonl":
        return _read_jsonl(text, spec)
    return _read_csv(text, spec, fast=len(text) >= FAST_MIN_CHARS if fast is None else fast)


def _record_problem(record: list[str], header: list[str]) -> str | None:
    width = len(header)
    if len(record) != width:
        kind = "few" if len(record) < width else "many"
        hint = ""
        if kind == "few" and record and "\n" in record[-1]:
            hint = f" (an unclosed quote swallowed {record[-1].count(chr(10))} line(s) after it)"
        return f"malformed record: {len(record)} fields, header has {width} (too {kind} fields){hint}"
    for name, value in zip(header, record, strict=True):
        if len(value) > MAX_FIELD_CHARS:
            return f"column '{name}': value of {len(value):,} characters (limit {MAX_FIELD_CHARS:,})"
        if "\x00" in value:
            return f"column '{name}': contains a NUL byte (binary data in a text export?)"
    return None


def _read_csv(text: str, spec: FileSpec, *, fast: bool = True) -> RawFile:
    if fast:
        raw = read_csv_fast(text, spec)
        if raw is not None:
            return raw
    return _read_csv_python(text, spec)


def _csv_header(lines: Iterator[str], spec: FileSpec) -> tuple[object, list[str]]:
    """The header record (after `skip_lines` lines, before `skip_records_after_header` records) of
    the file's physical lines, line breaks kept (as io.StringIO(text, newline="") yields them).
    The returned reader stands on the first data record; `skip_lines + reader.line_num` lines are
    consumed."""
    for _ in range(spec.skip_lines):
        next(lines, None)
    reader = csv.reader(lines, delimiter=spec.delimiter, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFile(f"no header line (after skipping {spec.skip_lines} lines)") from None
    header = [h.strip() for h in header]
    for _ in range(spec.skip_records_after_header):  # e.g. SurveyMonkey's second header row
        next(reader, None)
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise UnreadableFile(f"header repeats column(s) {dupes}")
    return reader, header


def _lf_lines(text: str) -> Iterator[str]:
    """The text's "\n"-terminated lines, one at a time (no copy of the whole text): the lines
    io.StringIO(text, newline="") yields for a text without a lone CR."""
    start = 0
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        yield text[start:end]
        start = end


def _reject(row: int, line: int, record: list[str], header: list[str], problem: str) -> Reject:
    raw = dict(zip(header, record, strict=False))
    if len(record) > len(header):
        raw["__extra_fields"] = record[len(header):]
    return Reject(row, line, problem, json.dumps(raw))


def _frame(header: list[str], values: list[list[str]], rows: list[int], lines: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {**{h: pl.Series(h, v, dtype=pl.String) for h, v in zip(header, values, strict=True)},
         ROW: pl.Series(ROW, rows, dtype=pl.Int64), LINE: pl.Series(LINE, lines, dtype=pl.Int64)}
    )


def _read_csv_python(text: str, spec: FileSpec) -> RawFile:
    """The reference reader: Python's csv module, record by record (any input)."""
    reader, header = _csv_header(iter(io.StringIO(text, newline="")), spec)
    line_offset = spec.skip_lines
    width = len(header)
    values: list[list[str]] = [[] for _ in header]
    rows: list[int] = []
    lines: list[int] = []
    rejects: list[Reject] = []
    row = 0
    start_line = line_offset + reader.line_num + 1
    for record in reader:
        end_line = line_offset + reader.line_num
        if not record:  # a blank line is not a record
            start_line = end_line + 1
            continue
        row += 1
        problem = _record_problem(record, header)
        if problem:
            rejects.append(_reject(row, start_line, record, header, problem))
        else:
            for col, value in zip(values, record, strict=True):
                col.append(value)
            rows.append(row)
            lines.append(start_line)
        start_line = end_line + 1
    return RawFile(header, _frame(header, values, rows, lines), rejects)


# --- the fast path ----------------------------------------------------------------------------
#
# Polars' CSV reader is used only where it provably yields what the csv module yields:
#  * no lone CR (the csv module ends a line at CR, Polars does not), so physical lines are the
#    "\n"-separated parts, a CR before "\n" being part of the line break;
#  * every data line is well-formed CSV on its own: each field is either unquoted without a quote
#    character or quoted from its first to its last character with inner quotes doubled. Then no
#    record spans two lines, so record i of the data part is its i-th non-blank line, and both
#    readers agree on the values (RFC 4180, which is all Polars promises);
#  * blank lines are skipped, as the csv module's empty records are.
# A line that is not a plain record of the header's width (too few or too many fields, a NUL byte,
# a line longer than MAX_FIELD_CHARS, a BOM that Polars would strip) is parsed alone by the csv
# module and judged by the same _record_problem as the reference reader: same record, same reason.
# Anything else (a quoted line break, a stray quote, a lone CR) returns None: the whole file then
# goes through _read_csv_python.

_QUOTED = r'"(?:[^"]|"")*"'


def read_csv_fast(text: str, spec: FileSpec) -> RawFile | None:
    """The file as _read_csv_python reads it, through Polars; None where that is not guaranteed."""
    delim = spec.delimiter
    has_cr = "\r" in text
    if len(delim.encode()) != 1 or delim in '"\r\n' or (has_cr and text.count("\r") != text.count("\r\n")):
        return None
    reader, header = _csv_header(_lf_lines(text), spec)  # no lone CR (checked above)
    if ROW in header or LINE in header:
        return None
    consumed = spec.skip_lines + reader.line_num  # physical lines before the first data line
    width = len(header)
    esc = f"\\x{{{ord(delim):X}}}"
    field_re = f'(?:{_QUOTED}|[^"{esc}]*)'
    line = pl.col("l")
    quoted = line.str.contains('"', literal=True)
    fields = line.str.count_matches(delim, literal=True) + 1
    checks = []
    if '"' in text:
        checks.append((quoted & ~line.str.contains(f"^{field_re}(?:{esc}{field_re})*$")).any().alias("bad_quote"))
        fields = pl.when(quoted).then(line.str.replace_all(_QUOTED, "")).otherwise(line).str.count_matches(delim, literal=True) + 1
    odd = (fields != width) | (line.str.len_chars() > MAX_FIELD_CHARS) | line.str.contains("\ufeff", literal=True)
    if "\x00" in text:
        odd = odd | line.str.contains("\x00", literal=True)
    plan = pl.LazyFrame({"l": [text]}).select(line.str.split("\n")).explode("l").slice(consumed).with_row_index("i")
    if has_cr:
        plan = plan.with_columns(line.str.strip_suffix("\r"))
    lines = plan.filter(line != "").select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW),
        (pl.col("i").cast(pl.Int64) + consumed + 1).alias(LINE),
        line,
        odd.alias("odd"),
        *checks,
    ).collect()
    if checks and lines.height and lines.item(0, "bad_quote"):
        return None  # a quote the simple grammar does not explain: a quoted line break, a stray quote
    parts = max(text.count("\n") + 1 - consumed, 0)  # "\n"-separated parts of the data part
    plain = lines.filter(~pl.col("odd"))
    rejects: list[Reject] = []
    extra: list[tuple[int, int, list[str]]] = []
    for row, lineno, text_line in lines.filter(pl.col("odd")).select(ROW, LINE, "l").iter_rows():
        record = next(csv.reader([text_line], delimiter=delim, strict=False))
        problem = _record_problem(record, header)
        if problem:
            rejects.append(_reject(row, lineno, record, header, problem))
        else:
            extra.append((row, lineno, record))
    names = [f"c{i}" for i in range(width)]
    if plain.height:
        blank = parts - lines.height - text.endswith("\n")  # blank lines in the data part, but a final line break
        if not has_cr and not blank and plain.height == lines.height:  # the data part as it is
            start = 0
            for _ in range(consumed):
                start = text.index("\n", start) + 1
            body = text[start:].encode()
        else:
            body = plain.get_column("l").str.join("\n").item().encode()
        values = pl.read_csv(body, has_header=False, schema=dict.fromkeys(names, pl.String), separator=delim,
                             quote_char='"', empty_string_is_null=False, truncate_ragged_lines=False)
        if values.height != plain.height or values.null_count().sum_horizontal().item():
            return None  # not what the checks above promise: trust the reference reader
    else:
        values = pl.DataFrame(schema=dict.fromkeys(names, pl.String))
    frame = pl.concat([values, plain.select(ROW, LINE)], how="horizontal")
    if extra:
        more = pl.DataFrame([[*r, row, lineno] for row, lineno, r in extra], schema=[*names, ROW, LINE], orient="row",
                            schema_overrides={ROW: pl.Int64, LINE: pl.Int64})
        frame = pl.concat([frame, more]).sort(ROW)
    frame.columns = [*header, ROW, LINE]
    return RawFile(header, frame, rejects)


def _read_jsonl(text: str, spec: FileSpec) -> RawFile:
    records: list[dict[str, str | None]] = []
    rows: list[int] = []
    lines: list[int] = []
    rejects: list[Reject] = []
    row = 0
    for lineno, line in enumerate(text.split("\n"), start=1):  # JSON strings may hold U+2028 etc.
        line = line.removesuffix("\r")
        if lineno <= spec.skip_lines or not line.strip():
            continue
        row += 1
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
        except ValueError as exc:
            rejects.append(Reject(row, lineno, f"malformed JSON: {exc}", json.dumps({"__line": line})))
            continue
        records.append({k: _flat_text(v) for k, v in _flatten(obj).items()})
        rows.append(row)
        lines.append(lineno)
    columns = list(dict.fromkeys(k for r in records for k in r))
    frame = pl.DataFrame(
        {**{c: pl.Series(c, [r.get(c) for r in records], dtype=pl.String) for c in columns},
         ROW: pl.Series(ROW, rows, dtype=pl.Int64), LINE: pl.Series(LINE, lines, dtype=pl.Int64)}
    )
    return RawFile(columns, frame, rejects)


def _flatten(obj: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _flat_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)
