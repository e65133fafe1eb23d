"""A GX session's DuckDB is capped (expectations/validate.py: MEMORY_LIMIT): the lake's copy and
GX's own connections, over a copied lake or over an existing warehouse file."""

import duckdb
import sqlalchemy as sa

from expectations import validate


def _memory_limit(session) -> str:
    with session._source.get_engine().connect() as connection:
        return connection.execute(sa.text("select current_setting('memory_limit')")).scalar()


def test_the_session_caps_duckdb_memory_on_a_copy_and_on_a_warehouse(tmp_path):
    expected = duckdb.connect(config={"memory_limit": validate.MEMORY_LIMIT}).execute("select current_setting('memory_limit')").fetchone()[0]
    assert expected != duckdb.connect().execute("select current_setting('memory_limit')").fetchone()[0]  # not DuckDB's default

    spec = validate.SuiteSpec("t", list, "t", relation="select * from range(3) as r(x)")
    with validate.session(tables=[spec]) as s:
        assert _memory_limit(s) == expected
        assert s.validate(spec).rows == 3

    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table t as select * from range(5) as r(x)")
    with validate.session(warehouse) as s:
        assert _memory_limit(s) == expected
        assert s.validate(validate.SuiteSpec("t", list, "t")).rows == 5
