"""Files of one contract normalized together (normalize.normalize_sources, as ingestion batches
them) give each file what it gets alone: the same rows, quarantine, links and counts, in order."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingestion.contracts import load_contracts
from ingestion.normalize import FileResult, Lineage, normalize_source, normalize_sources
from tests.ingestion.test_malformed_corpus import CASES, mc, mc_file
from touchline.demo.generator import generate

CONTRACTS = load_contracts()
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def assert_same(batched: FileResult, alone: FileResult) -> None:
    assert batched.stats() == alone.stats()
    assert batched.rows.equals(alone.rows)
    assert batched.quarantine.equals(alone.quarantine)
    assert batched.links.equals(alone.links)
    assert batched.rows.schema == alone.rows.schema and batched.links.schema == alone.links.schema


def batch_equals_alone(contract: str, files: list[tuple[str, bytes]]) -> list[FileResult]:
    sources = [((lambda data=data: data), Lineage(name, "b", NOW, "salt")) for name, data in files]
    batched = normalize_sources(CONTRACTS[contract], sources)
    assert len(batched) == len(files)
    for (read, lineage), result in zip(sources, batched, strict=True):
        assert_same(result, normalize_source(CONTRACTS[contract], read, lineage))
    return batched


@pytest.mark.parametrize("contract", sorted({c[1] for c in CASES}))
def test_the_malformed_corpus_as_one_batch(contract):
    cases = [(f"{contract}/2026-10-01/{c[0]}.csv", c[2]) for c in CASES if c[1] == contract]
    batch_equals_alone(contract, cases)


def test_a_record_key_or_a_row_repeated_in_another_file_is_neither_a_conflict_nor_a_duplicate():
    one = mc_file(mc(), mc(action="click"))
    other = mc_file(mc(action="click", title="Other title"), mc())  # row 1 has the key of `one`'s row 2, row 2 is `one`'s row 1
    results = batch_equals_alone("mailchimp_activity", [("mailchimp_activity/2026-10-01/a.csv", one),
                                                        ("mailchimp_activity/2026-10-02/a.csv", other)])
    assert [(r.rows_loaded, r.rows_quarantined, r.duplicates_dropped) for r in results] == [(2, 0, 0), (2, 0, 0)]


def test_an_unreadable_file_in_a_batch_is_rejected_alone():
    def fail() -> bytes:
        raise OSError("gone")

    sources = [(lambda: mc_file(mc()), Lineage("mailchimp_activity/2026-10-01/a.csv", "b", NOW, "salt")),
               (fail, Lineage("mailchimp_activity/2026-10-02/a.csv", "b", NOW, "salt")),
               (lambda: mc_file(mc(action="click")), Lineage("mailchimp_activity/2026-10-03/a.csv", "b", NOW, "salt"))]
    results = normalize_sources(CONTRACTS["mailchimp_activity"], sources)
    assert [r.stats()["file_rejected"] for r in results] == [False, True, False]
    assert [r.rows_loaded for r in results] == [1, 0, 1]


def test_every_demo_source_as_batches(tmp_path: Path):
    landing = tmp_path / "landing"
    generate(landing, people=300, days=3, seed=5, end=date(2026, 10, 31))
    by_source: dict[str, list[tuple[str, bytes]]] = {}
    for path in sorted(landing.glob("*/*/*")):
        by_source.setdefault(path.parts[-3], []).append((path.relative_to(landing).as_posix(), path.read_bytes()))
    assert {"surveymonkey_support", "klaviyo_events", "google_ads_campaign_day"} <= set(by_source)  # wide, JSON lines, ad spend
    quarantined = 0
    for contract, files in by_source.items():
        quarantined += sum(r.rows_quarantined for r in batch_equals_alone(contract, files))
    assert quarantined > 0
