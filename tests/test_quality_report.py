"""The ingestion quality report (touchline/quality_report.py) on a landing zone with one of each
kind of loss, ingested for real."""

import json

from ingestion.contracts import load_contracts
from ingestion.run import ingest
from tests.helpers import SALT, write_export
from touchline import quality_report

OPEN = ["Weekly Newsletter", "c2", "open"]


def untidy_landing(root):
    """Mailchimp: 3 good rows, 2 unreadable timestamps, a line cut short, an exact duplicate; a
    Shopify total holding an email (a shifted column); an Excel workbook saved as .csv; a stray."""
    write_export(root, "mailchimp_activity", "2026-10-01", [
        ["a@example.com", "A", "A", *OPEN, "2026-10-01 10:00:00", ""],
        ["b@example.com", "B", "B", *OPEN, "2026-10-01 11:00:00", ""],
        ["b@example.com", "B", "B", *OPEN, "2026-10-01 11:00:00", ""],  # exact duplicate
        ["c@example.com", "C", "C", *OPEN, "yesterday", ""],
        ["d@example.com", "D", "D", *OPEN, "2026-02-30 10:00:00", ""],
        ["e@example.com", "E"],  # cut short
    ])
    write_export(root, "mailchimp_activity", "2026-10-02", [["f@example.com", "F", "F", *OPEN, "soon", ""]])
    write_export(root, "shopify_orders", "2026-10-02", [
        ["#1", "a@example.com", "paid", "2026-10-02 10:00:00 -0400", "USD", "90.00", "0.00", "10.00", "100.00", "", "web"],
        ["#2", "b@example.com", "paid", "2026-10-02 10:00:00 -0400", "USD", "90.00", "0.00", "10.00", "b@example.com", "", "web"]])
    workbook = root / "typeform_responses" / "2026-10-02" / "responses.csv"
    workbook.parent.mkdir(parents=True)
    workbook.write_bytes(b"PK\x03\x04\x14\x00\x06\x00binary")
    (root / "notes.txt").write_text("not an export")


def test_report_counts_by_source_file_and_reason_with_examples(tmp_path):
    untidy_landing(tmp_path / "landing")
    lake = tmp_path / "lake"
    ingest(tmp_path / "landing", lake, load_contracts(), salt=SALT, batch_id="night-1").write(lake)
    report = quality_report.build(lake)

    assert report["batch_id"] == "night-1"
    # mailchimp 6 + 1 records, shopify 2; the workbook is one rejected file (no records)
    assert report["totals"] == {"files": 4, "files_rejected": 1, "rows_read": 9, "rows_loaded": 3,
                                "rows_quarantined": 5, "duplicates_dropped": 1, "files_skipped": 0, "files_missing": 0,
                                "files_removed": 0, "strays": 1}
    sources = {s["source"]: s for s in report["by_source"]}
    assert {k: sources["mailchimp_activity"][k] for k in ("files", "landing_days", "rows_read", "rows_loaded",
                                                          "rows_quarantined", "duplicates_dropped")} == {
        "files": 2, "landing_days": 2, "rows_read": 7, "rows_loaded": 2, "rows_quarantined": 4, "duplicates_dropped": 1}
    assert sources["typeform_responses"]["files_rejected"] == 1

    reasons = {(r["source"], r["reason"]): r for r in report["quarantine_by_reason"]}
    timestamp = reasons[("mailchimp_activity",
                         "column 'Timestamp': <value> is not a datetime in format '%Y-%m-%d %H:%M:%S' (America/New_York)")]
    assert (timestamp["rows"], timestamp["files"]) == (3, 2)  # one kind of problem, three values, two files
    assert [(e["file"], e["line"]) for e in timestamp["examples"]] == [
        ("mailchimp_activity/2026-10-01/export.csv", 5), ("mailchimp_activity/2026-10-01/export.csv", 6),
        ("mailchimp_activity/2026-10-02/export.csv", 2)]
    assert "'yesterday'" in timestamp["examples"][0]["reason"]
    assert ("mailchimp_activity", "malformed record: N fields, header has N (too few fields)") in reasons
    [rejected] = [r for (source, _), r in reasons.items() if source == "typeform_responses"]
    assert "xlsx" in rejected["reason"] and rejected["examples"][0]["line"] == 0

    files = report["files_with_losses"]
    assert files[0]["file"] == "typeform_responses/2026-10-02/responses.csv" and files[0]["file_rejected"]  # rejected first
    assert [f["file"] for f in files[1:]] == ["mailchimp_activity/2026-10-01/export.csv", "mailchimp_activity/2026-10-02/export.csv",
                                              "shopify_orders/2026-10-02/export.csv"]
    assert report["strays"] == [{"relative": "notes.txt", "reason": "file at the landing root; exports go in <source>/<YYYY-MM-DD>/"}]

    written = quality_report.write(report, tmp_path / "docs")
    assert {p.name for p in (tmp_path / "docs").iterdir()} == {"night-1.json", "night-1.md", "latest.json", "latest.md"}
    assert json.loads(written["json"].read_text()) == json.loads(json.dumps(report, default=str))
    markdown = written["md"].read_text()
    assert "9 rows read = 3 loaded + 5 quarantined + 1 exact duplicates. 1 files rejected whole; 1 stray paths." in markdown
    assert "| mailchimp_activity | 2 | 0 | 2 (2026-10-01 to 2026-10-02) | 7 | 2 | 4 | 1 |" in markdown
    assert "`notes.txt`" in markdown
    # the shifted Shopify column put an email in a reason: masked in both files, like every other address
    shopify = [r for (source, _), r in reasons.items() if source == "shopify_orders"]
    assert shopify and "<email>" in shopify[0]["examples"][0]["reason"]
    for text in (markdown, written["json"].read_text()):
        assert "@example.com" not in text


def test_a_later_run_reports_its_own_batch(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    untidy_landing(landing)
    ingest(landing, lake, load_contracts(), salt=SALT, batch_id="night-1").write(lake)
    (landing / "notes.txt").unlink()
    write_export(landing, "mailchimp_activity", "2026-10-02", [["f@example.com", "F", "F", *OPEN, "2026-10-02 10:00:00", ""]])  # fixed
    ingest(landing, lake, load_contracts(), salt=SALT, batch_id="night-2").write(lake)
    report = quality_report.build(lake)
    assert report["batch_id"] == "night-2" and report["strays"] == []
    # night-2 read only the re-delivered file (its one row now loads); the other three were skipped as unchanged
    assert (report["totals"]["files"], report["totals"]["files_skipped"], report["totals"]["rows_quarantined"]) == (1, 3, 0)
    assert [(s["source"], s["files"], s["rows_loaded"]) for s in report["by_source"]] == [("mailchimp_activity", 1, 1)]
    assert "mailchimp_activity/2026-10-02/export.csv" not in [f["file"] for f in report["files_with_losses"]]
