import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from ingestion.contracts import load_contracts
from ingestion.normalize import Lineage, normalize_file
from tests.helpers import SALT, person_key, write_export

CONTRACTS = load_contracts()
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def run(contract: str, path: Path, root: Path):
    return normalize_file(CONTRACTS[contract], path, Lineage(path.relative_to(root).as_posix(), "batch-1", NOW, SALT))


MAILCHIMP = [
    [" Jane.Doe@Example.COM ", "Jane", "Doe", "Black Friday Deals", "c1", "click", "2026-10-01 09:00:00",
     "https://shop.example.com/sale?utm_source=mailchimp&utm_medium=email&utm_campaign=bf&fbclid=XYZ"],
    ["jane.doe@example.com", "Jane", "Doe", "Black Friday Deals", "c1", "open", "2026-10-01 08:59:00", ""],
    ["jane.doe@example.com", "Jane", "Doe", "Black Friday Deals", "c1", "open", "2026-10-01 08:59:00", ""],  # exact duplicate
    ["bob@example.com", "Bob", "Roe", "Weekly Newsletter", "c2", "opened", "2026-10-01 10:00:00", ""],  # unknown code
    ["bob@example.com", "Bob", "Roe", "Weekly Newsletter", "c2", "open", "2026-13-01 10:00:00", ""],  # bad date
    ["", "Nobody", "X", "Weekly Newsletter", "c2", "open", "2026-10-01 10:00:00", ""],  # no identity
    ["bob@example.com", "Bob", "Roe", "Weekly Newsletter", "c2", "sent", "2026-12-01 10:00:00", ""],  # future
    ["carol@example.com", "Carol"],  # cut mid-line
    ["not-an-email", "Dan", "Poe", "Weekly Newsletter", "c2", "open", "2026-10-01 10:00:00", ""],
]


def test_mailchimp_rows_are_typed_classified_and_accounted_for(tmp_path):
    path = write_export(tmp_path, "mailchimp_activity", "2026-10-01", MAILCHIMP)
    result = run("mailchimp_activity", path, tmp_path)

    assert {k: v for k, v in result.stats().items() if k != "file_sha256"} == {
        "source_system": "mailchimp_activity", "source_file": "mailchimp_activity/2026-10-01/export.csv",
        "rows_read": 9, "rows_loaded": 2, "rows_quarantined": 6, "duplicates_dropped": 1, "file_rejected": False,
    }
    rows = result.rows.sort("occurred_at")
    # 08:59 and 09:00 in New York (EDT, UTC-4) are 12:59 and 13:00 UTC
    assert rows["occurred_at"].to_list() == [datetime(2026, 10, 1, 12, 59, tzinfo=UTC), datetime(2026, 10, 1, 13, 0, tzinfo=UTC)]
    # mixed case and spaces do not make a second person
    assert rows["person_key"].to_list() == [person_key("jane.doe@example.com")] * 2
    assert rows["touchpoint_type"].to_list() == ["email_open", "email_click"]
    assert rows["channel"].to_list() == ["email", "email"]
    assert rows["journey_stage"].to_list() == ["consideration", "consideration"]
    click = rows.row(1, named=True)
    assert (click["utm_source"], click["utm_medium"], click["utm_campaign"], click["click_id"]) == ("mailchimp", "email", "bf", "XYZ")
    assert click["landing_page"] == "https://shop.example.com/sale"
    assert click["need"] == "deal_seeking"  # "Black Friday Deals"
    assert click["source_row"] == 1 and click["batch_id"] == "batch-1"
    assert "jane" not in json.dumps(result.rows.to_dicts(), default=str).lower()  # no raw email leaves ingestion


def test_quarantine_names_line_column_and_value(tmp_path):
    path = write_export(tmp_path, "mailchimp_activity", "2026-10-01", MAILCHIMP)
    q = run("mailchimp_activity", path, tmp_path).quarantine.sort("source_line")
    reasons = dict(zip(q["source_line"].to_list(), q["reason"].to_list(), strict=True))
    assert set(reasons) == {5, 6, 7, 8, 9, 10}
    assert reasons[5].startswith("column 'Action': 'opened' is an unknown code")
    assert reasons[6].startswith("column 'Timestamp': '2026-13-01 10:00:00' is not a datetime in format '%Y-%m-%d %H:%M:%S'")
    assert "no identity: ['Email Address'] empty" in reasons[7]
    assert "is in the future" in reasons[8]
    assert reasons[9] == "malformed record: 2 fields, header has 8 (too few fields)"
    assert reasons[10] == "column 'Email Address': 'not-an-email' is not an email address"
    assert json.loads(q.filter(pl.col("source_line") == 5)["raw_record"][0])["Action"] == "opened"


def test_checksum_is_of_the_bytes_read_even_for_a_rejected_file(tmp_path):
    import hashlib

    good = write_export(tmp_path, "mailchimp_activity", "2026-10-01", MAILCHIMP)
    empty = tmp_path / "mailchimp_activity" / "2026-10-02" / "export.csv"
    empty.parent.mkdir(parents=True)
    empty.write_bytes(b"")
    for path in (good, empty):
        stats = run("mailchimp_activity", path, tmp_path).stats()
        assert stats["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert run("mailchimp_activity", empty, tmp_path).stats()["file_rejected"] is True


def test_identical_file_gives_identical_ids(tmp_path):
    a = write_export(tmp_path, "mailchimp_activity", "2026-10-01", MAILCHIMP)
    b = write_export(tmp_path, "mailchimp_activity", "2026-10-01", MAILCHIMP, name="export (1).csv")
    ids_a = run("mailchimp_activity", a, tmp_path).rows["touchpoint_id"].sort().to_list()
    ids_b = run("mailchimp_activity", b, tmp_path).rows["touchpoint_id"].sort().to_list()
    assert ids_a == ids_b and len(set(ids_a)) == 2


def test_shopify_offsets_amounts_and_conflicting_keys(tmp_path):
    rows = [
        ["#1001", "ann@example.com", "paid", "2026-10-01 23:30:00 -0400", "USD", "90.00", "0.00", "10.00", "100.00", "", "web"],
        ["#1002", "ann@example.com", "paid", "2026-10-02 10:00:00 +0200", "EUR", "40.00", "0.00", "0.00", "N/A", "", "pos"],
        ["#1001", "ann@example.com", "paid", "2026-10-01 23:30:00 -0400", "USD", "90.00", "0.00", "10.00", "999.00", "", "web"],
    ]
    path = write_export(tmp_path, "shopify_orders", "2026-10-01", rows)
    result = run("shopify_orders", path, tmp_path)
    assert result.rows_loaded == 1
    row = result.rows.row(0, named=True)
    assert row["occurred_at"] == datetime(2026, 10, 2, 3, 30, tzinfo=UTC)
    assert (row["revenue"], row["currency"], row["channel"], row["touchpoint_type"], row["journey_stage"]) == (100.0, "USD", "direct", "purchase", "purchase")
    reasons = sorted(result.quarantine["reason"].to_list())
    assert reasons == ["column 'Total': 'N/A' is not a number",
                       "record key '#1001' repeats row 1 of this file with different values"]


def test_click_log_channel_from_utm_and_anonymous_identity(tmp_path):
    rows = [
        ["e1", "2026-10-01T10:00:00.250Z", "v1", "", "https://shop.example.com/sale?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&gclid=G1", ""],
        ["e2", "2026-10-01T11:00:00.000Z", "v2", "Ann@Example.com", "https://shop.example.com/?utm_source=facebook&utm_medium=paid_social&fbclid=F1", ""],
        ["e3", "2026-10-01T12:00:00.000Z", "v3", "", "https://shop.example.com/blog", ""],
    ]
    path = write_export(tmp_path, "ad_clicks", "2026-10-01", rows)
    out = run("ad_clicks", path, tmp_path).rows.sort("occurred_at")
    assert out["channel"].to_list() == ["paid_search", "paid_social", "other"]
    assert out["click_id"].to_list() == ["G1", "F1", None]
    assert out["person_key"][1] == person_key("ann@example.com")
    assert out["person_key"][0] not in (out["person_key"][1], out["person_key"][2])
    assert out["occurred_at"][0] == datetime(2026, 10, 1, 10, 0, 0, 250000, tzinfo=UTC)


def test_google_ads_report_with_preamble_and_thousands(tmp_path):
    rows = [["2026-10-01", "111", "Brand Search", "USD", "12,345", "1,234", "1,050.25"]]
    path = write_export(tmp_path, "google_ads_campaign_day", "2026-10-01", rows,
                        preamble="Campaign performance report\nOctober 1, 2026 - October 1, 2026\n")
    out = run("google_ads_campaign_day", path, tmp_path).rows
    assert out.select("impressions", "clicks", "spend", "channel").row(0) == (12345, 1234, 1050.25, "paid_search")


def test_missing_column_quarantines_every_row_with_the_reason(tmp_path):
    header = ["Email", "Survey", "Score", "Comment", "Submit Date (UTC)"]  # no "#" record key column
    path = write_export(tmp_path, "typeform_responses", "2026-10-01", [["a@b.co", "NPS", "9", "", "2026-10-01 10:00:00"]] * 2, header=header)
    result = run("typeform_responses", path, tmp_path)
    assert result.rows_loaded == 0 and result.rows_quarantined == 2 and result.duplicates_dropped == 0
    assert result.rows_read == 2 and result.quarantine.height == 2
    assert "file lacks column(s) ['#']" in result.quarantine["reason"][0]


def test_unreadable_file_is_one_quarantine_entry(tmp_path):
    path = tmp_path / "zendesk_tickets" / "2026-10-01" / "tickets.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"Id,Requester email\n1,\xff\xfe\n")
    result = run("zendesk_tickets", path, tmp_path)
    assert result.stats()["file_rejected"] is True
    assert result.quarantine["reason"][0].startswith("file unreadable: not valid utf-8-sig at byte 21 (line 2)")


@pytest.mark.parametrize(("survey", "scale"), [("NPS", "nps_0_10"), ("csat", "csat_1_5")])
def test_survey_scale_from_code_values(tmp_path, survey, scale):
    path = write_export(tmp_path, "typeform_responses", "2026-10-01", [["r1", "a@b.co", survey, "4", "", "Delivery", "", "2026-10-01 10:00:00"]])
    row = run("typeform_responses", path, tmp_path).rows.row(0, named=True)
    assert (row["score"], row["score_scale"], row["journey_stage"]) == (4.0, scale, "retention")
