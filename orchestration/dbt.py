"""The dbt project as Dagster assets (dagster-dbt); dbt tests become asset checks."""

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from touchline import settings
from touchline.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")

GROUPS = {"staging": "warehouse", "intermediate": "warehouse", "marts": "marts"}

class TouchlineDbtTranslator(DagsterDbtTranslator):
    """Groups by layer folder; everything else as dagster-dbt does it."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "mappings"
        folder = dbt_resource_props.get("fqn", ["", ""])[1]
        return GROUPS.get(folder, "warehouse")

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:analytics-engineering"]

def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE))

def prepare_manifest(force: bool = False) -> None:
    """`dbt parse` so the manifest matches the models (dagster-dbt loads assets from it)."""
    if force or not dbt_project.manifest_path.exists():
        dbt_resource().cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()

settings.load().export()  # profiles.yml and the sources read the paths from the environment
prepare_manifest()

@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=TouchlineDbtTranslator())
def touchline_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()
