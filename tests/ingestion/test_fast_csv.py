"""The fast CSV path (Polars) against the reference reader (the csv module): whenever the fast path
is taken its output is identical, records, row and line numbers, rejects and reasons; whenever it
cannot be proven identical (a quoted line break, a stray quote, a lone CR) it is not taken."""

import csv
import functools
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import ingestion.normalize as normalize
from ingestion.contracts import FileSpec, load_contracts
from ingestion.readers import RawFile, UnreadableFile, parse_export, read_csv_fast
from tests.ingestion.test_malformed_corpus import CASES, NOW

CONTRACTS = load_contracts()
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(data: bytes, spec: FileSpec, *, fast: bool) -> RawFile | str:
    try:
        return parse_export(data, spec, fast=fast)
    except UnreadableFile as exc:
        return f"unreadable: {exc}"


def assert_same(fast: RawFile | str, slow: RawFile | str) -> None:
    if isinstance(slow, str) or isinstance(fast, str):
        assert fast == slow
        return
    assert fast.columns == slow.columns
    assert fast.frame.schema == slow.frame.schema
    assert fast.frame.equals(slow.frame), (fast.frame, slow.frame)
    assert fast.rejects == slow.rejects


def fast_taken(data: bytes, spec: FileSpec) -> bool:
    try:
        return read_csv_fast(data.decode(spec.encoding), spec) is not None
    except (UnreadableFile, UnicodeDecodeError):
        return False


# --- the malformed-input corpus through both paths ---------------------------------------------

NOT_TAKEN = {"quoted-newline-in-field", "unclosed-quote"}  # the fast path must decline these


@pytest.mark.parametrize(("case_id", "contract", "content"), [c[:3] for c in CASES], ids=[c[0] for c in CASES])
def test_corpus_reads_identically(case_id, contract, content):
    spec = CONTRACTS[contract].file
    assert_same(outcome(content, spec, fast=True), outcome(content, spec, fast=False))
    if case_id in NOT_TAKEN:
        assert not fast_taken(content, spec)
    elif not isinstance(outcome(content, spec, fast=False), str):  # not a file rejected whole
        assert fast_taken(content, spec), case_id  # ragged rows, NUL, huge field, CRLF, BOM: taken


@pytest.mark.parametrize(("contract", "content"), [c[1:3] for c in CASES], ids=[c[0] for c in CASES])
def test_corpus_normalizes_identically(tmp_path, monkeypatch, contract, content):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    lineage = normalize.Lineage(f"{contract}/2026-10-01/export.csv", "b", NOW, "salt")
    monkeypatch.setattr(normalize, "parse_export", functools.partial(parse_export, fast=True))  # tiny files too
    fast = normalize.normalize_file(CONTRACTS[contract], path, lineage)
    monkeypatch.setattr(normalize, "parse_export", functools.partial(parse_export, fast=False))
    slow = normalize.normalize_file(CONTRACTS[contract], path, lineage)
    for name in ("rows", "quarantine", "links"):
        assert getattr(fast, name).equals(getattr(slow, name)), name
    assert fast.stats() == slow.stats()


# --- exact cases -------------------------------------------------------------------------------

HEADER = b"a,b,c\n"


@pytest.mark.parametrize(("body", "taken"), [
    (b"1,2,3\n4,5,6\n", True),
    (b"1,2,3\r\n4,5,6\r\n", True),
    (b"1,2,3\n4,5,6", True),  # no final line break
    (b"1,2,3\n\n\n4,5,6\n\n", True),  # blank lines: not records, but they count as lines
    (b"1,2,3\r\n\r\n4,5,6\r\n", True),
    (b" \n1,2,3\n", True),  # a line of one space is a (ragged) record, not a blank line
    (b'1,"x,""y""",3\n"",,""\n', True),
    (b"1,2\n4,5,6,7\n8,9,10\n", True),  # too few, too many fields
    (b"1,\x002,3\n4,5,6\n", True),  # NUL byte
    (b"\xef\xbb\xbf1,2,3\n", True),  # a BOM inside the data, which Polars would drop
    (b"1,2," + b"x" * 100_001 + b"\n", True),  # a huge field
    (b"1,2,," + b"x" * 100_001 + b"\n", True),  # a huge line that is a ragged record
    (b'1,"2\n2",3\n4,5,6\n', False),  # a quoted line break
    (b'1,"2,3\n4,5,6\n', False),  # an unclosed quote
    (b'1,2"x,3\n', False),  # a quote inside an unquoted field
    (b'1,"2"x,3\n', False),  # text after a closing quote
    (b'1, "2",3\n', False),  # a space before an opening quote
    (b"1,2,3\r4,5,6\n", False),  # a lone CR ends a line for the csv module only
])
def test_fast_path_taken_exactly_when_provable(body, taken):
    spec = FileSpec()
    assert fast_taken(HEADER + body, spec) is taken
    assert_same(outcome(HEADER + body, spec, fast=True), outcome(HEADER + body, spec, fast=False))


def test_line_numbers_count_skipped_lines_and_multiline_header():
    data = b'Report\nfrom 2026-10-01\n"a\nA",b\nsecond,header\n1,2\n\n3,4\n'
    spec = FileSpec(skip_lines=2, skip_records_after_header=1)
    raw = parse_export(data, spec)
    assert fast_taken(data, spec)
    assert raw.frame.rows() == [("1", "2", 1, 6), ("3", "4", 2, 8)]
    assert_same(raw, outcome(data, spec, fast=False))


def test_latin1_and_other_delimiters():
    data = "Nom;Ville\nRené;Orléans\n\"a;b\";c\n".encode("latin-1")
    spec = FileSpec(delimiter=";", encoding="latin-1")
    assert fast_taken(data, spec)
    assert parse_export(data, spec).frame.drop("__row", "__line").rows() == [("René", "Orléans"), ("a;b", "c")]
    assert_same(outcome(data, spec, fast=True), outcome(data, spec, fast=False))


def test_demo_exports_take_the_fast_path(tmp_path):
    from touchline.demo.generator import generate

    generate(tmp_path, people=400, days=3, seed=7, end=date(2026, 10, 31))
    files = [(CONTRACTS[p.parts[-3]].file, p.read_bytes()) for p in sorted(tmp_path.glob("*/*/*"))
             if CONTRACTS[p.parts[-3]].file.format == "csv"]
    assert files
    for spec, data in files:
        assert fast_taken(data, spec)
        assert_same(outcome(data, spec, fast=True), outcome(data, spec, fast=False))


# --- properties --------------------------------------------------------------------------------

DELIMS = [",", ";", "\t", "|"]
# pieces of text that make CSV readers disagree: quotes, delimiters, line breaks of every kind,
# NUL, BOM, spaces, non-ASCII
piece = st.sampled_from(["a", "b", "1", " ", "é", "😀", ",", ";", "\t", "|", '"', '""', "\n", "\r\n", "\r", "\x00", "\ufeff", ""])
specs = st.builds(FileSpec, delimiter=st.sampled_from(DELIMS), skip_lines=st.integers(0, 2),
                  skip_records_after_header=st.integers(0, 1),
                  encoding=st.sampled_from(["utf-8-sig", "utf-8", "latin-1"]))


def encode(text: str, spec: FileSpec) -> bytes:
    return text.encode(spec.encoding, errors="replace") if spec.encoding == "latin-1" else text.encode(spec.encoding)


@SETTINGS
@given(spec=specs, chunks=st.lists(st.lists(piece, max_size=12).map("".join), max_size=15))
def test_arbitrary_text_fast_equals_slow(spec, chunks):
    d = spec.delimiter
    data = encode(f"h1{d}h2{d}h3\n" + "\n".join(chunks), spec)
    if spec.skip_lines:
        data = b"title\n" * spec.skip_lines + data
    taken = fast_taken(data, spec)
    event(f"fast path taken: {taken}")
    assert_same(outcome(data, spec, fast=True), outcome(data, spec, fast=False))


field = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12) | st.sampled_from(
    ["", '"', '""', "a,b", "a;b", "a\tb", "a|b", " x ", "\x00", "\ufeff", "x" * 10])


@SETTINGS
@given(spec=specs, width=st.integers(1, 4), data=st.data(), eol=st.sampled_from(["\n", "\r\n"]),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]), final_eol=st.booleans())
def test_well_formed_exports_take_the_fast_path(spec, width, data, eol, quoting, final_eol):
    """Exports without a line break inside a value (ragged rows and blank lines included) are read by
    Polars, with exactly the reference reader's output."""
    header = [f"h{i}" for i in range(width)]
    records = data.draw(st.lists(st.one_of(
        st.lists(field, min_size=width, max_size=width),
        st.lists(field, min_size=1, max_size=width + 2),  # ragged
        st.just([]),  # a blank line
    ), max_size=12))
    buf = io.StringIO(newline="")
    buf.write("skipped line" + eol * spec.skip_lines if spec.skip_lines else "")
    writer = csv.writer(buf, delimiter=spec.delimiter, lineterminator=eol, quoting=quoting)
    writer.writerow(header)
    for record in records:
        writer.writerow(record) if record else buf.write(eol)
    text = buf.getvalue()
    if not final_eol:
        text = text.removesuffix(eol)
    raw = encode(text, spec)
    assume(raw.decode(spec.encoding).strip())
    slow = outcome(raw, spec, fast=False)
    assume(not isinstance(slow, str))  # e.g. a skipped record eats a line with an empty header
    assert fast_taken(raw, spec)
    assert_same(outcome(raw, spec, fast=True), slow)
