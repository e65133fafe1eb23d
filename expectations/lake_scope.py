"""What the lake's suites read on a night: the whole lake table, or only the lake files whose version
(source_file, batch_id) the published warehouse has not read (its ledger `incremental.inc_lake_files`).

Every lake expectation (expectations/suites.py: touchpoints_suite, ad_spend_suite, family_suite)
holds per row or per lake file: value rules and row queries look at one row; the compound
uniqueness on (source_file, touchpoint_id) / (source_file, spend_id) compares rows of one
source_file, and all the rows of a source_file are in one lake file (`<table>/<source_file>.parquet`,
ingestion/storage.py); the column-set rule fails when a file brings a column the schema does not
have (the table's typed `_empty.parquet` is always read, so the expected columns are there). So a
file that passed once passes again, and validating the unpublished files decides what validating
the whole lake would, as long as the suites are the same: orchestration/checks.py validates the
whole lake again when they change (suite_fingerprints).

Unpublished rather than ingested tonight: a file ingested on a night that then failed (nothing
published) is still unpublished the next night, so it is validated again and keeps failing.
Which file holds which version is read from the lake itself (its two columns, as the dbt ledger
is built from them: dbt_project/models/incremental/inc_lake_file_versions.sql), not taken from the
ingestion state, which a run that died after writing outputs leaves behind the lake."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from expectations.validate import SuiteSpec
from ingestion import storage

LAKE_TABLES = ("touchpoints", "ad_spend")  # the lake tables the suites read


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class LakeScope:
    """The part of one lake table the suites validate. `whole_reason` says why the whole table is
    read (None: only `files`, the parquet files of versions not yet published, of `lake_files`
    files with rows in the table)."""

    lake: Path
    table: str
    whole_reason: str | None
    files: tuple[str, ...] = ()
    lake_files: int = 0

    @property
    def whole(self) -> bool:
        return self.whole_reason is not None

    @property
    def relation(self) -> str:
        """The SQL the suites' table is made from."""
        if self.whole:
            return f"select * from read_parquet({_sql_string(storage.table_glob(self.lake, self.table))}, union_by_name = true)"
        empty = self.lake / self.table / "_empty.parquet"  # the typed columns, also when no file is new
        paths = [*([empty.as_posix()] if empty.exists() else []), *self.files]
        if not paths:
            return f"select * from read_parquet({_sql_string(storage.table_glob(self.lake, self.table))}, union_by_name = true) limit 0"
        return f"select * from read_parquet([{', '.join(_sql_string(p) for p in paths)}], union_by_name = true)"

    def describe(self) -> str:
        if self.whole:
            return f"the whole lake table {self.table} ({self.whole_reason})"
        if not self.files:
            return f"nothing new, all {self.lake_files:,} {self.table} lake files are in the published warehouse"
        return f"the {len(self.files):,} of {self.lake_files:,} {self.table} lake files not yet in the published warehouse"

    def metadata(self) -> dict:
        return {"whole_lake": self.whole, "scope": self.describe(), "lake_table": self.table,
                **({} if self.whole else {"lake_files_validated": len(self.files), "lake_files": self.lake_files,
                                          "files_validated": sorted(self.files)[:50]})}


def unpublished(lake: Path, table: str, published: set[tuple[str, str]]) -> LakeScope:
    """The lake files of `table` holding a (source_file, batch_id) not in `published`."""
    import duckdb

    with duckdb.connect() as con:
        versions = con.execute(
            f"select filename, source_file, batch_id from read_parquet({_sql_string(storage.table_glob(lake, table))}, "
            "filename = true, union_by_name = true) group by all").fetchall()
    files = {filename for filename, _, _ in versions}
    new = {filename for filename, source_file, batch_id in versions if (source_file, batch_id) not in published}
    return LakeScope(lake, table, None, tuple(sorted(new)), len(files))


FINGERPRINT_NOW = datetime(2000, 1, 1, tzinfo=UTC)  # the suites' "now" (no future timestamps) is not part of their rules


def suite_fingerprints(specs: Iterable[SuiteSpec]) -> dict[str, str]:
    """Per suite, a digest of its expectations' configurations (build the specs with
    now=FINGERPRINT_NOW): a new rule, a changed bound, or a value set that changed with the
    contracts changes it."""
    out = {}
    for spec in specs:
        configs = [e.configuration.to_json_dict() for e in spec.build()]
        for config in configs:
            config.pop("id", None)
        out[spec.name] = hashlib.sha256(json.dumps(configs, sort_keys=True, default=str).encode()).hexdigest()
    return out


VALIDATED_FILE = Path("_state") / "gx_lake_suites.json"  # beside the ingestion state: derived, safe to delete


def validated_fingerprints(lake: Path) -> dict[str, str]:
    """The suites (by fingerprint) the whole lake last passed: a lake file published since passed
    them too (it was validated before publishing), so only unpublished files need them again."""
    path = lake / VALIDATED_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def record_validated(lake: Path, fingerprints: dict[str, str]) -> None:
    path = lake / VALIDATED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(validated_fingerprints(lake) | fingerprints, indent=1, sort_keys=True))
    tmp.replace(path)
