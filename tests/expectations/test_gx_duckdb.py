"""The duckdb-engine workaround (expectations/gx_duckdb.py) is needed, and it works."""

import duckdb

from expectations import gx_duckdb


def validate_not_null(tmp_path):
    import great_expectations as gx
    import great_expectations.expectations as gxe

    database = tmp_path / "t.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create table t as select * from (values (1), (2)) as v(x)")
    context = gx.get_context(mode="ephemeral")
    batch_def = (context.data_sources.add_sql("s", connection_string=f"duckdb:///{database}")
                 .add_table_asset("t", table_name="t").add_batch_definition_whole_table("b"))
    suite = context.suites.add(gx.ExpectationSuite(name="s", expectations=[gxe.ExpectColumnValuesToNotBeNull(column="x")]))
    return batch_def.get_batch().validate(suite)


def test_workaround_is_still_needed(tmp_path):
    """Runs in a fresh interpreter so GX is unpatched: if this starts to pass, drop gx_duckdb."""
    import subprocess
    import sys

    code = (
        "import sys, pathlib; sys.path.insert(0, '.');"
        "from tests.expectations.test_gx_duckdb import validate_not_null;"
        f"r = validate_not_null(pathlib.Path({str(tmp_path)!r}));"
        "print('SUCCESS' if r.success else 'FAILED', r.results[0].exception_info)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("FAILED"), f"GX on DuckDB works without the workaround now: remove expectations/gx_duckdb.py ({out})"
    assert "list index out of range" in out


def test_with_the_workaround_expectations_evaluate(tmp_path):
    gx_duckdb.apply_result_buffering()
    result = validate_not_null(tmp_path)
    assert result.success and result.results[0].result["unexpected_count"] == 0
