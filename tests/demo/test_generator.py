import hashlib
from datetime import date
from pathlib import Path

from ingestion.contracts import load_contracts
from ingestion.run import ingest
from touchline.demo import generator
from touchline.demo.generator import _csv_line, _render, generate
from touchline.demo.vendors import FILE_NAMES


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = generate(tmp_path / "a", people=120, days=20, seed=3, end=date(2026, 10, 31))
    generate(tmp_path / "b", people=120, days=20, seed=3, end=date(2026, 10, 31))
    generate(tmp_path / "c", people=120, days=20, seed=4, end=date(2026, 10, 31))
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")
    assert a.people >= 120  # invited friends come on top


def test_same_bytes_whatever_the_number_of_workers(tmp_path, monkeypatch):
    monkeypatch.setattr(generator, "CHUNK_PEOPLE", 50)  # 6 chunks: more than the workers have in flight
    monkeypatch.setattr(generator, "FLUSH_BYTES", 20_000)  # several appends per file
    one = generate(tmp_path / "one", people=300, days=20, seed=3, end=date(2026, 10, 31), workers=1)
    two = generate(tmp_path / "two", people=300, days=20, seed=3, end=date(2026, 10, 31), workers=2)
    assert tree_digest(tmp_path / "one") == tree_digest(tmp_path / "two")
    assert (one.people, one.rows, one.files, one.duplicates, one.malformed) == (two.people, two.rows, two.files, two.duplicates, two.malformed)


def test_csv_lines_are_what_csv_writer_writes():
    import csv
    import io

    rows = [["a", "b"], ["Give 15, Get 10", "x"], ['say "hi"', ""], ["line\nbreak", "r\r"], [""], ["", ""], ["x"],
            [" spaced@example.com ", "Müller", "—", "12,5O"], ["", "", "Response"]]
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerows(rows)
    assert "".join(map(_csv_line, rows)) == expected.getvalue()
    assert _render("ad_clicks", rows) == expected.getvalue().encode()
    plain = [["a", "b"], [" c@example.com ", "Müller", ""]]  # rendered as a whole, without per-row quoting checks
    assert _render("ad_clicks", plain) == "".join(map(_csv_line, plain)).encode() == b"a,b\n c@example.com ,M\xc3\xbcller,\n"
    assert _render("ad_clicks", []) == b""


def test_layout_every_vendor_and_untidiness_that_ingestion_accounts_for(tmp_path):
    out = tmp_path / "landing"
    summary = generate(out, people=400, days=30, seed=1, end=date(2026, 10, 31))
    assert {p.name for p in out.iterdir()} == set(FILE_NAMES) == set(load_contracts())
    for path in (p for p in out.rglob("*") if p.is_file()):
        source, day, _ = path.relative_to(out).parts
        assert date(2026, 10, 2) <= date.fromisoformat(day) <= date(2026, 10, 31)
    assert summary.duplicates >= len(FILE_NAMES) - 2 and summary.malformed >= 1 and summary.redelivered

    contracts = load_contracts()
    report = ingest(out, tmp_path / "lake", contracts, salt="s")
    totals = report.totals()
    assert report.strays == []
    assert totals["files_rejected"] == 0
    assert totals["rows_read"] == totals["rows_loaded"] + totals["rows_quarantined"] + totals["duplicates_dropped"]
    # record-per-row exports: every written row is read, every duplicate dropped, every broken row quarantined
    # (a wide survey export counts answers, not records: see its contract)
    files = [f for f in report.files if contracts[f["source_system"]].unpivot is None]
    wide = [s for s, c in contracts.items() if c.unpivot is not None]
    assert sum(f["rows_read"] for f in files) == sum(n for s, n in summary.rows.items() if s not in wide)
    assert sum(f["duplicates_dropped"] for f in files) == summary.duplicates - summary.duplicates_by_source.get("surveymonkey_support", 0)
    assert sum(f["rows_quarantined"] for f in files) == summary.malformed - summary.malformed_by_source.get("surveymonkey_support", 0)


def test_journeys_differ_by_channel(tmp_path):
    """Referral and direct arrivals convert better than paid social (the marts must show it)."""
    import polars as pl

    out = tmp_path / "landing"
    generate(out, people=3000, days=60, seed=5, end=date(2026, 10, 31))
    contacts = pl.read_csv(list(out.glob("hubspot_contacts/*/*.csv")), infer_schema=False, truncate_ragged_lines=True)
    by_source = contacts.group_by("Original Source").agg((pl.col("Lifecycle Stage").is_in(["customer", "evangelist"])).mean().alias("rate"))
    rate = dict(by_source.iter_rows())
    assert rate["Direct Traffic"] > rate["Paid Social"]
    assert rate["Referrals"] > rate["Paid Social"]
