"""Landing-zone exports as external assets: one per vendor contract, the roots of the lineage."""

from __future__ import annotations

import dagster as dg

from ingestion.contracts import Contract


def landing_key(contract: Contract) -> dg.AssetKey:
    return dg.AssetKey(["landing", contract.name])


def landing_specs(contracts: dict[str, Contract], partitions: dg.PartitionsDefinition) -> list[dg.AssetSpec]:
    """A partition is a landing day: `<landing>/<source>/<YYYY-MM-DD>/`."""
    return [
        dg.AssetSpec(
            key=landing_key(c),
            description=f"{c.vendor} exports ({c.family}): {c.description.strip()}",
            group_name="sources",
            owners=["team:data-platform"],
            kinds={"csv" if c.file.format == "csv" else "json"},
            partitions_def=partitions,
            metadata={
                "contract": dg.MetadataValue.path(str(c.path)),
                "files": f"<landing>/{c.name}/<YYYY-MM-DD>/{c.file.glob}",
                "time_zone": c.timezone,
                "target_table": c.target,
            },
        )
        for c in contracts.values()
    ]
