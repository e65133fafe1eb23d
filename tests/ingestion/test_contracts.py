from pathlib import Path

import pytest

from ingestion.contracts import ContractError, load_contract, load_contracts

GOOD = """
name: {name}
family: crm
vendor: Acme CRM
description: Acme leads export.
timezone: Europe/Berlin
record_key: [Lead Id]
fields:
  email: {{column: E-Mail}}
  occurred_at: {{column: Created, format: "%d.%m.%Y %H:%M"}}
  touchpoint_type: {{value: lead_created}}
  channel: {{value: direct}}
"""


def write(tmp_path: Path, text: str, name: str = "acme_leads") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_every_builtin_contract_loads():
    contracts = load_contracts()
    assert {"google_ads_campaign_day", "meta_ads_campaign_day", "ad_clicks", "mailchimp_activity", "hubspot_contacts",
            "shopify_orders", "zendesk_tickets", "referral_events", "typeform_responses"} <= set(contracts)
    assert {c.family for c in contracts.values()} == {"ads", "email", "crm", "survey"}


def test_extra_folder_adds_a_vendor_without_code(tmp_path):
    write(tmp_path, GOOD.format(name="acme_leads"))
    contracts = load_contracts(Path("ingestion/contracts"), tmp_path)
    assert contracts["acme_leads"].vendor_columns() == ["E-Mail", "Created", "Lead Id"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("  email: {column: E-Mail}", "  e_mail: {column: E-Mail}"), "fields.e_mail: unknown canonical field 'e_mail'"),
        (('format: "%d.%m.%Y %H:%M"', 'format: "%d.%m.%Q"'), "fields.occurred_at: format '%d.%m.%Q'"),
        (('format: "%d.%m.%Y %H:%M"', 'format: "%d.%m %H:%M"'), "has no year directive"),
        (("record_key: [Lead Id]", "record_key: []"), "record_key"),
        (("timezone: Europe/Berlin", "timezone: Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (("{value: lead_created}", "{value: lead_made}"), "fields.touchpoint_type: 'lead_made' not in accepted values"),
        (("  occurred_at:", "  occurred_at_typo:"), "unknown canonical field 'occurred_at_typo'"),
    ],
)
def test_mistakes_are_rejected_naming_file_and_field(tmp_path, change, message):
    path = write(tmp_path, GOOD.format(name="acme_leads").replace(*change))
    with pytest.raises(ContractError) as err:
        load_contract(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_missing_required_field_is_named(tmp_path):
    text = GOOD.format(name="acme_leads").replace('  occurred_at: {column: Created, format: "%d.%m.%Y %H:%M"}\n', "")
    with pytest.raises(ContractError, match="required canonical field 'occurred_at' is not mapped"):
        load_contract(write(tmp_path, text))


def test_name_must_match_file(tmp_path):
    with pytest.raises(ContractError, match="must equal the file name 'other'"):
        load_contract(write(tmp_path, GOOD.format(name="acme_leads"), name="other"))


def test_unknown_top_level_key_is_rejected(tmp_path):
    with pytest.raises(ContractError, match="timezon"):
        load_contract(write(tmp_path, GOOD.format(name="acme_leads") + "timezon: UTC\n"))
