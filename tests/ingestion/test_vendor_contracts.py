"""One small realistic export per vendor contract, with the canonical rows it must produce."""

import json
from datetime import UTC, date, datetime

from ingestion.contracts import load_contracts
from ingestion.identity import key
from ingestion.normalize import Lineage, normalize_file
from tests.helpers import SALT, person_key, write_export

import polars as pl

CONTRACTS = load_contracts()
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def run(tmp_path, contract, path):
    return normalize_file(CONTRACTS[contract], path, Lineage(path.relative_to(tmp_path).as_posix(), "b", NOW, SALT))


def key_of(kind, value, system=None):
    return pl.select(key(kind, pl.lit(value), SALT, system)).item()


def test_meta_ads_report_currency_from_contract_and_empty_clicks(tmp_path):
    rows = [["2026-10-01", "2026-10-01", "Flash Sale Carousel", "1202", "805", "8", "4.13"],
            ["2026-10-01", "2026-10-01", "Brand Video", "1203", "300", "", "0.90"]]
    out = run(tmp_path, "meta_ads_campaign_day", write_export(tmp_path, "meta_ads_campaign_day", "2026-10-01", rows)).rows
    assert out.select("spend_date", "campaign_id", "impressions", "clicks", "spend", "currency", "channel").rows() == [
        (date(2026, 10, 1), "1202", 805, 8, 4.13, "EUR", "paid_social"),
        (date(2026, 10, 1), "1203", 300, 0, 0.90, "EUR", "paid_social"),  # "Link clicks" empty = no clicks
    ]


def test_hubspot_contact_links_email_contact_and_captured_click(tmp_path):
    rows = [["101", "Ann", "Lee", "Ann@Example.com", "lead", "Paid Social", "facebook", "2026-10-01 08:00", "REFA", "", "", "IwAR1"]]
    result = run(tmp_path, "hubspot_contacts", write_export(tmp_path, "hubspot_contacts", "2026-10-01", rows))
    row = result.rows.row(0, named=True)
    assert (row["touchpoint_type"], row["channel"], row["journey_stage"], row["campaign_name"]) == ("lead_created", "paid_social", "consideration", "facebook")
    assert row["occurred_at"] == datetime(2026, 10, 1, 12, tzinfo=UTC)
    assert row["person_key"] == person_key("ann@example.com")
    assert sorted(result.links.select("linked_kind", "linked_key").rows()) == [
        ("click", key_of("click", "IwAR1")), ("contact", key_of("contact", "101", "hubspot")),
        ("referral_code", key_of("referral", "REFA"))]


def test_zendesk_ticket_is_support(tmp_path):
    rows = [["9001", "bob@example.com", "Where is my order?", "Chat", "solved", "2026-10-02T08:30:00Z"]]
    row = run(tmp_path, "zendesk_tickets", write_export(tmp_path, "zendesk_tickets", "2026-10-02", rows)).rows.row(0, named=True)
    assert (row["touchpoint_type"], row["channel"], row["need"], row["occurred_at"]) == (
        "support_ticket", "support", "support", datetime(2026, 10, 2, 8, 30, tzinfo=UTC))


def test_referral_events_types_and_referrer(tmp_path):
    rows = [["sh-1", "share", "2026-10-01 09:00:00", "ann@example.com", "", "REFA", "Give 15, Get 10", "", ""],
            ["fr-1", "friend_signup", "2026-10-02 09:00:00", "dan@example.com", "Ann@example.com", "REFA", "Give 15, Get 10", "", ""],
            ["re-1", "reward_issued", "2026-10-05 09:00:00", "ann@example.com", "", "REFA", "Give 15, Get 10", "10.00", "USD"]]
    out = run(tmp_path, "referral_events", write_export(tmp_path, "referral_events", "2026-10-01", rows)).rows
    assert out.select("touchpoint_type", "journey_stage", "channel", "need").rows() == [
        ("referral_invite", "advocacy", "referral", "belonging"),
        ("referral_signup", "awareness", "referral", "belonging"),
        ("referral_reward", "advocacy", "referral", "belonging"),
    ]
    assert out["referrer_person_key"].to_list() == [None, person_key("ann@example.com"), None]
    assert out["person_key"][1] == person_key("dan@example.com")


def test_typeform_answer_by_contact_id_only(tmp_path):
    rows = [["c1", "", "CSAT", "5", "Perfect", "Delivery", "101", "2026-10-03 10:00:00"]]
    result = run(tmp_path, "typeform_responses", write_export(tmp_path, "typeform_responses", "2026-10-03", rows))
    assert result.rows["person_key"].to_list() == [key_of("contact", "101", "hubspot")]
    assert result.rows.select("score", "score_scale", "campaign_name").row(0) == (5.0, "csat_1_5", "Delivery")


def test_klaviyo_jsonl_events(tmp_path):
    path = tmp_path / "klaviyo_events" / "2026-10-01" / "events.jsonl"
    path.parent.mkdir(parents=True)
    events = [
        {"id": "e1", "metric": "Received Email", "datetime": "2026-10-01T10:00:00+00:00",
         "profile": {"email": "Ann@Example.com"}, "event_properties": {"Campaign Name": "Abandoned Cart Reminder", "$flow": "F1"}},
        {"id": "e2", "metric": "Clicked Email", "datetime": "2026-10-01T06:30:00-04:00",
         "profile": {"email": "ann@example.com"},
         "event_properties": {"Campaign Name": "Abandoned Cart Reminder", "$flow": "F1",
                              "URL": "https://shop.example.com/cart?utm_source=klaviyo&utm_medium=email&utm_campaign=cart"}},
    ]
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n{not json\n")
    result = run(tmp_path, "klaviyo_events", path)
    assert result.rows.select("touchpoint_type", "campaign_id", "need", "occurred_at").rows() == [
        ("email_sent", "F1", "deal_seeking", datetime(2026, 10, 1, 10, tzinfo=UTC)),
        ("email_click", "F1", "deal_seeking", datetime(2026, 10, 1, 10, 30, tzinfo=UTC)),
    ]
    assert result.rows["utm_campaign"].to_list() == [None, "cart"]
    assert result.quarantine.select("source_line", "reason").rows() == [(3, "malformed JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")]


def test_a_new_vendor_is_a_yaml_file_in_an_extra_folder(tmp_path):
    """The README's example: a Pipedrive export read through a contract in a temp folder."""
    from ingestion.run import ingest

    contracts_dir = tmp_path / "contracts"
    contracts_dir.mkdir()
    (contracts_dir / "pipedrive_leads.yaml").write_text("""
name: pipedrive_leads
family: crm
vendor: Pipedrive
description: Pipedrive leads export.
file: {glob: "*.csv", format: csv, delimiter: ";"}
timezone: Europe/Berlin
record_key: [Lead ID]
fields:
  email:           {column: Email}
  occurred_at:     {column: Lead created, format: "%d.%m.%Y %H:%M"}
  touchpoint_type: {value: lead_created}
  channel:
    column: Source
    map: {Web forms: direct, Ads: paid_search, Referral: referral}
    default: other
""")
    landing = tmp_path / "landing" / "pipedrive_leads" / "2026-10-01"
    landing.mkdir(parents=True)
    (landing / "leads.csv").write_text("Lead ID;Email;Lead created;Source\nL1;eve@example.com;01.10.2026 14:00;Ads\nL2;fay@example.com;01.10.2026 15:00;\n")
    from pathlib import Path

    contracts = load_contracts(Path("ingestion/contracts"), contracts_dir)
    report = ingest(tmp_path / "landing", tmp_path / "lake", contracts, salt=SALT)
    assert report.by_source()["pipedrive_leads"] == {"files": 1, "files_skipped": 0, "rows_read": 2, "rows_loaded": 2, "rows_quarantined": 0, "duplicates_dropped": 0}
    rows = pl.read_parquet(tmp_path / "lake" / "touchpoints" / "pipedrive_leads" / "2026-10-01" / "leads.csv.parquet")
    assert rows.select("occurred_at", "channel").rows() == [
        (datetime(2026, 10, 1, 12, tzinfo=UTC), "paid_search"),  # 14:00 in Berlin (CEST) is 12:00 UTC
        (datetime(2026, 10, 1, 13, tzinfo=UTC), "other"),
    ]


CSAT = "How satisfied were you with the help you received?"
NPS = "How likely is it that you would recommend us to a friend or colleague?"


def surveymonkey_export(tmp_path, responses: str):
    """A SurveyMonkey export (its two header rows) with the given response lines."""
    path = tmp_path / "surveymonkey_support" / "2026-10-01" / "export.csv"
    path.parent.mkdir(parents=True)
    path.write_text(f"Respondent ID,Collector ID,Start Date,End Date,Email Address,{CSAT},{NPS},Anything else?\n"
                    ",,,,,Response,Response,Open-Ended Response\n" + responses)
    return path


def test_surveymonkey_wide_export_one_touchpoint_per_answer(tmp_path):
    path = surveymonkey_export(tmp_path,
        '114,9,10/01/2026 01:40:00 PM,10/01/2026 01:45:12 PM,ann@example.com,4,10,Great\n'
        '115,9,10/01/2026 02:00:00 PM,10/01/2026 02:01:00 PM,bob@example.com,,7,\n'
        '116,9,10/01/2026 03:00:00 PM,10/01/2026 03:01:00 PM,cy@example.com,,,\n'
        '117,9,10/01/2026 04:00:00 PM,10/01/2026 04:01:00 PM,dee@example.com,five,9,\n')
    result = run(tmp_path, "surveymonkey_support", path)
    # the unit is one answer: 2 + 1 + 1 (no answer: one touchpoint without score) + 2 = 6 read
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.duplicates_dropped) == (6, 5, 1, 0)
    rows = result.rows.sort(["source_row", "score_scale"], nulls_last=True)
    assert rows.select("source_row", "score", "score_scale", "campaign_name", "need").rows() == [
        (1, 4.0, "csat_1_5", "Support", "support"), (1, 10.0, "nps_0_10", "Overall", "support"),
        (2, 7.0, "nps_0_10", "Overall", "support"),
        (3, None, None, None, "support"),
        (4, 9.0, "nps_0_10", "Overall", "support"),
    ]
    assert rows["occurred_at"][0] == datetime(2026, 10, 1, 20, 45, 12, tzinfo=UTC)  # 1:45 PM in Los Angeles (PDT)
    assert rows["touchpoint_id"].n_unique() == 5
    q = result.quarantine.row(0, named=True)
    assert (q["source_row"], q["source_line"]) == (4, 6)
    assert q["reason"] == f"column '{CSAT}': 'five' is not a number"


def test_ad_click_campaign_id_from_utm_id_or_google_auto_tagging(tmp_path):
    rows = [["e1", "2026-10-01T08:00:00.000Z", "v1", "", "https://shop.example/sale?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&utm_id=20311002&gclid=G1", ""],
            ["e2", "2026-10-01T09:00:00.000Z", "v2", "", "https://shop.example/?gad_source=1&gad_campaignid=20311001&gclid=G2", ""],
            ["e3", "2026-10-01T10:00:00.000Z", "v3", "", "https://shop.example/?utm_source=facebook&utm_medium=paid_social", ""]]
    out = run(tmp_path, "ad_clicks", write_export(tmp_path, "ad_clicks", "2026-10-01", rows)).rows
    assert out.select("campaign_id", "utm_campaign", "click_id", "landing_page").rows() == [
        ("20311002", "spring_sale", "G1", "https://shop.example/sale"),
        ("20311001", None, "G2", "https://shop.example/"),
        (None, None, None, "https://shop.example/"),
    ]


def test_surveymonkey_bad_response_is_quarantined_once_per_answer(tmp_path):
    """A bad date spoils every answer of the response: each answer is a quarantine row (the unit
    of this export), same source row, told apart by the question in the raw record (the key the
    warehouse's quarantine uniqueness test uses)."""
    path = surveymonkey_export(tmp_path,
        '118,9,10/01/2026 04:00:00 PM,yesterday,eve@example.com,5,9,\n')
    result = run(tmp_path, "surveymonkey_support", path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 0, 2)
    q = result.quarantine
    assert q["source_row"].to_list() == [1, 1] and q["source_line"].to_list() == [3, 3]
    assert q.select("source_file", "source_row", "raw_record").n_unique() == 2
