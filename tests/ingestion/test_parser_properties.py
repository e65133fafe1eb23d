"""Property-based tests: whatever text a vendor sends, the reader and normalizer never raise and
every record is accounted for; well-formed CSV round-trips exactly."""

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.contracts import FileSpec, load_contracts
from ingestion.normalize import Lineage, normalize_file
from ingestion.readers import LINE, ROW, parse_export, read_export
from touchline.demo.vendors import HEADERS

CONTRACT = load_contracts()["mailchimp_activity"]
HEADER = HEADERS["mailchimp_activity"]
NOW = datetime(2026, 11, 1, tzinfo=UTC)

field = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=30)
record = st.lists(field, min_size=len(HEADER), max_size=len(HEADER)).filter(lambda r: any(v.strip() for v in r) or len(r) > 1)
any_line = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write_csv(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)  # RFC 4180: CRLF, fields with CR or LF quoted
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8"))


@SETTINGS
@given(rows=st.lists(record, max_size=12))
def test_well_formed_csv_round_trips(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("rt") / "f.csv"
    write_csv(path, rows)
    raw = read_export(path, FileSpec())
    assert [list(r) for r in raw.frame.drop(ROW, LINE).rows()] == rows
    assert raw.rejects == []
    fast = parse_export(path.read_bytes(), FileSpec(), fast=True)  # through Polars, however small
    reference = parse_export(path.read_bytes(), FileSpec(), fast=False)  # the csv module alone
    assert fast.frame.equals(reference.frame) and fast.frame.schema == reference.frame.schema
    assert raw.frame.equals(reference.frame)


@SETTINGS
@given(rows=st.lists(record, max_size=12))
def test_normalizer_accounts_for_every_row(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("acc") / "f.csv"
    write_csv(path, rows)
    result = normalize_file(CONTRACT, path, Lineage("mailchimp_activity/2026-10-01/f.csv", "b", NOW, "s"))
    assert result.rows_read == len(rows)
    assert result.rows_loaded + result.rows_quarantined + result.duplicates_dropped == len(rows)
    assert result.quarantine["reason"].null_count() == 0


@SETTINGS
@given(lines=st.lists(any_line, max_size=12))
def test_arbitrary_text_never_raises(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("txt") / "f.csv"
    path.write_text(",".join(HEADER) + "\n" + "\n".join(lines), encoding="utf-8")
    result = normalize_file(CONTRACT, path, Lineage("mailchimp_activity/2026-10-01/f.csv", "b", NOW, "s"))
    assert result.rows_loaded + result.rows_quarantined + result.duplicates_dropped == result.rows_read


@SETTINGS
@given(lines=st.lists(any_line, max_size=12))
def test_jsonl_reader_never_raises(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("jl") / "f.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    if not "".join(lines).strip():
        return  # an empty file is rejected as a whole (tested in the corpus)
    raw = read_export(path, FileSpec(format="jsonl"))
    records = [part for part in "\n".join(lines).split("\n") if part.removesuffix("\r").strip()]
    assert raw.rows_read == len(records)
    assert raw.frame.height + len(raw.rejects) == len(records)
