"""The dbt files that restate the schema and mappings must match their sources of truth."""

from touchline import codegen


def test_generated_dbt_files_are_up_to_date():
    stale = [str(path) for path, text in codegen.generated_files().items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    assert not stale, f"run `touchline codegen` (make codegen): stale {stale}"


def test_fct_touchpoints_contract_lists_every_schema_column():
    from ingestion.schema import touchpoint_columns

    text = codegen.fct_touchpoints_yaml()
    for col in touchpoint_columns():
        assert f"- name: {col.name}\n" in text
