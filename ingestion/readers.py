"""Read one vendor export into text columns, keeping every record's position.

Values stay text here: typing happens in normalize.py, where a value that does not parse is
quarantined with its reason instead of turning into a null. Records that do not even have the
header's shape (too few or too many fields, broken JSON) come back as rejects.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingestion.contracts import FileSpec

ROW = "__row"  # 1-based data record number
LINE = "__line"  # 1-based physical line where the record starts


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


def parse_export(data: bytes, spec: FileSpec) -> RawFile:
    if not data.strip():
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
    return _read_csv(text, spec)


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


def _read_csv(text: str, spec: FileSpec) -> RawFile:
    stream = io.StringIO(text, newline="")
    for _ in range(spec.skip_lines):
        stream.readline()
    reader = csv.reader(stream, delimiter=spec.delimiter, strict=False)
    line_offset = spec.skip_lines
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
            raw = dict(zip(header, record, strict=False))
            if len(record) > width:
                raw["__extra_fields"] = record[width:]
            rejects.append(Reject(row, start_line, problem, json.dumps(raw)))
        else:
            for col, value in zip(values, record, strict=True):
                col.append(value)
            rows.append(row)
            lines.append(start_line)
        start_line = end_line + 1
    frame = pl.DataFrame(
        {**{h: pl.Series(h, v, dtype=pl.String) for h, v in zip(header, values, strict=True)},
         ROW: pl.Series(ROW, rows, dtype=pl.Int64), LINE: pl.Series(LINE, lines, dtype=pl.Int64)}
    )
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
