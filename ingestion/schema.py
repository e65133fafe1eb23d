"""The canonical tables Touchline writes, defined once.

Polars writers cast to these schemas, the dbt sources YAML is generated from them
(`touchline codegen`), and the tests and expectations read their enumerations from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml

MAPPINGS_FILE = Path(__file__).parent / "mappings" / "journey.yaml"

UTC_DATETIME = pl.Datetime("us", "UTC")
SOURCE_FAMILIES = ("ads", "email", "crm", "survey")
SCORE_SCALES = {"nps_0_10": (0, 10), "csat_1_5": (1, 5)}


@cache
def journey_mappings() -> dict:
    """The classification data (stages, types, channels, needs, rules) from journey.yaml."""
    return yaml.safe_load(MAPPINGS_FILE.read_text(encoding="utf-8"))


def stages() -> list[str]:
    return list(journey_mappings()["stages"])


def touchpoint_types() -> list[str]:
    return list(journey_mappings()["touchpoint_types"])


def channels() -> list[str]:
    return list(journey_mappings()["channels"])


def needs() -> list[str]:
    return list(journey_mappings()["needs"])


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    description: str
    nullable: bool = True
    accepted: tuple[str, ...] | None = None

    @property
    def sql_type(self) -> str:
        return _SQL_TYPES[type(self.dtype)]


_SQL_TYPES = {
    pl.String: "varchar",
    pl.Datetime: "timestamp with time zone",
    pl.Date: "date",
    pl.Int64: "bigint",
    pl.Float64: "double",
    pl.Boolean: "boolean",
}


def _lineage() -> list[Column]:
    return [
        Column("source_file", pl.String(), "Landing-zone path of the export the row came from, relative to the landing root.", nullable=False),
        Column("source_row", pl.Int64(), "1-based data record number in that file (header excluded).", nullable=False),
        Column("ingested_at", UTC_DATETIME, "When the row was normalized (UTC).", nullable=False),
        Column("batch_id", pl.String(), "Identifier of the ingestion run that wrote the row.", nullable=False),
    ]


def touchpoint_columns() -> list[Column]:
    """One row per interaction of one person (DESIGN.md, 'The touchpoint fact table')."""
    return [
        Column("touchpoint_id", pl.String(), "Salted SHA-256 of source system and the vendor's record key: re-ingesting a file never duplicates. (The raw key is not kept: it can hold an email.)", nullable=False),
        Column("person_key", pl.String(), "Pseudonymous person: salted SHA-256 of the trimmed, lower-cased email (else of the anonymous or contact id); fct_touchpoints holds the resolved key (identity_map).", nullable=False),
        Column("occurred_at", UTC_DATETIME, "When the interaction happened, in UTC (converted from the contract's source time zone).", nullable=False),
        Column("source_family", pl.String(), "Family of the export: ads, email, crm or survey.", nullable=False, accepted=SOURCE_FAMILIES),
        Column("source_system", pl.String(), "Vendor export format (the contract name), e.g. ad_clicks, mailchimp_activity.", nullable=False),
        Column("channel", pl.String(), "Channel the interaction came through.", nullable=False, accepted=tuple(channels())),
        Column("touchpoint_type", pl.String(), "Kind of interaction (ingestion/mappings/journey.yaml).", nullable=False, accepted=tuple(touchpoint_types())),
        Column("journey_stage", pl.String(), "Journey stage the interaction belongs to.", nullable=False, accepted=tuple(stages())),
        Column("need", pl.String(), "The customer's need behind the interaction, where it can be derived.", accepted=tuple(needs())),
        Column("campaign_id", pl.String(), "Vendor campaign id."),
        Column("campaign_name", pl.String(), "Vendor campaign name."),
        Column("utm_source", pl.String(), "utm_source of the landing URL."),
        Column("utm_medium", pl.String(), "utm_medium of the landing URL."),
        Column("utm_campaign", pl.String(), "utm_campaign of the landing URL."),
        Column("utm_content", pl.String(), "utm_content of the landing URL."),
        Column("utm_term", pl.String(), "utm_term of the landing URL."),
        Column("click_id", pl.String(), "Ad platform click id (gclid, fbclid)."),
        Column("landing_page", pl.String(), "Landing page or clicked URL (without query string)."),
        Column("revenue", pl.Float64(), "Purchase amount in `currency` (purchases only)."),
        Column("currency", pl.String(), "ISO 4217 currency of `revenue`."),
        Column("score", pl.Float64(), "Survey score (surveys only)."),
        Column("score_scale", pl.String(), "Scale of `score`.", accepted=tuple(SCORE_SCALES)),
        Column("referrer_person_key", pl.String(), "Person who referred this person (referral events)."),
        *_lineage(),
    ]


def ad_spend_columns() -> list[Column]:
    """Campaign x day performance from ad platform reports."""
    return [
        Column("spend_id", pl.String(), "Deterministic hash of source system, campaign and day.", nullable=False),
        Column("spend_date", pl.Date(), "Reporting day, in the ad account's time zone.", nullable=False),
        Column("source_system", pl.String(), "Vendor export format (contract name).", nullable=False),
        Column("channel", pl.String(), "Channel of the campaign.", nullable=False, accepted=tuple(channels())),
        Column("campaign_id", pl.String(), "Vendor campaign id.", nullable=False),
        Column("campaign_name", pl.String(), "Vendor campaign name."),
        Column("impressions", pl.Int64(), "Impressions reported by the platform.", nullable=False),
        Column("clicks", pl.Int64(), "Clicks reported by the platform.", nullable=False),
        Column("spend", pl.Float64(), "Cost in `currency`.", nullable=False),
        Column("currency", pl.String(), "ISO 4217 currency of `spend`.", nullable=False),
        Column("source_record_key", pl.String(), "The vendor's own record key.", nullable=False),
        *_lineage(),
    ]


def quarantine_columns() -> list[Column]:
    """Rows that could not be normalized, kept whole with the reason."""
    return [
        Column("source_system", pl.String(), "Contract that was applied.", nullable=False),
        Column("source_file", pl.String(), "Landing-zone path of the export.", nullable=False),
        Column("source_row", pl.Int64(), "1-based data record number (0 when the whole file was rejected).", nullable=False),
        Column("source_line", pl.Int64(), "1-based physical line in the file where the record starts.", nullable=False),
        Column("reason", pl.String(), "What is wrong, naming the column and the offending value.", nullable=False),
        Column("raw_record", pl.String(), "The record as read, as a JSON object of vendor column -> text.", nullable=False),
        Column("ingested_at", UTC_DATETIME, "When the row was quarantined (UTC).", nullable=False),
        Column("batch_id", pl.String(), "Identifier of the ingestion run.", nullable=False),
    ]


def load_log_columns() -> list[Column]:
    """One row per landed file an ingestion run read (new or changed: ingestion/state.py): the reconciliation of what was read."""
    return [
        Column("batch_id", pl.String(), "Identifier of the ingestion run.", nullable=False),
        Column("source_system", pl.String(), "Contract that was applied.", nullable=False),
        Column("source_file", pl.String(), "Landing-zone path of the export.", nullable=False),
        Column("landed_day", pl.Date(), "Day folder the file was delivered in.", nullable=False),
        Column("file_sha256", pl.String(), "Checksum of the file's bytes.", nullable=False),
        Column("rows_read", pl.Int64(), "Data records read (header and blank lines excluded).", nullable=False),
        Column("rows_loaded", pl.Int64(), "Records written to touchpoints or ad_spend.", nullable=False),
        Column("rows_quarantined", pl.Int64(), "Records written to quarantine with a reason.", nullable=False),
        Column("duplicates_dropped", pl.Int64(), "Exact duplicate records dropped (identical to an earlier record of the file).", nullable=False),
        Column("file_rejected", pl.Boolean(), "The file could not be read at all (one quarantine entry with row 0 stands for it).", nullable=False),
        Column("ingested_at", UTC_DATETIME, "When the file was normalized (UTC).", nullable=False),
    ]


def identity_links_columns() -> list[Column]:
    """Identifiers and referral codes seen on the same record (ingestion/identity.py)."""
    return [
        Column("person_key", pl.String(), "The record's own key (email, else anonymous id, else contact id).", nullable=False),
        Column("person_key_kind", pl.String(), "Namespace of person_key.", nullable=False, accepted=("email", "anon", "contact")),
        Column("linked_key", pl.String(), "Another identifier's key on the same record.", nullable=False),
        Column("linked_kind", pl.String(), "Namespace of linked_key: an identifier, or a referral code the person owns / was referred with.",
               nullable=False, accepted=("email", "anon", "contact", "click", "referral_code", "referred_by")),
        Column("source_system", pl.String(), "Contract of the record.", nullable=False),
        Column("source_file", pl.String(), "Landing-zone path of the export.", nullable=False),
        Column("source_row", pl.Int64(), "1-based data record number.", nullable=False),
    ]


def identity_map_columns() -> list[Column]:
    """Resolved identities: every key that belongs to a larger person maps to its person_key."""
    return [
        Column("alias_key", pl.String(), "A key that is not the person's chosen key.", nullable=False),
        Column("person_key", pl.String(), "The person's key: smallest email key of the linked keys, else smallest key.", nullable=False),
    ]


TABLES = {
    "touchpoints": touchpoint_columns,
    "ad_spend": ad_spend_columns,
    "quarantine": quarantine_columns,
    "load_log": load_log_columns,
    "identity_links": identity_links_columns,
    "identity_map": identity_map_columns,
}

TABLE_DESCRIPTIONS = {
    "touchpoints": "Normalized touchpoints written by ingestion/ (one parquet per landed export file).",
    "ad_spend": "Campaign x day spend written by ingestion/ from ad platform reports.",
    "quarantine": "Rows ingestion could not normalize, with the reason.",
    "load_log": "Per file read by an ingestion run (unchanged files are skipped): rows read = loaded + quarantined + exact duplicates.",
    "identity_links": "Identifiers seen together on one record (email, anonymous id, contact id, click id), as keys.",
    "identity_map": "Resolved identities: alias key -> person key, from the connected identity links.",
}


@cache
def polars_schema(table: str) -> pl.Schema:
    return pl.Schema({c.name: c.dtype for c in TABLES[table]()})


def empty_frame(table: str) -> pl.DataFrame:
    """A new empty frame in the table's schema (a copy of one built once: building costs 0.1-0.3 ms)."""
    return _empty_frame(table).clear()


@cache
def _empty_frame(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=polars_schema(table))
