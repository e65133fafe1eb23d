"""Great Expectations on DuckDB through duckdb-engine, with the one fix it needs.

Out of the box every expectation on a DuckDB SQL datasource fails with `MetricResolutionError:
list index out of range`: GX reads the query result after the connection went back to the pool,
and DuckDB cursors do not survive that (GX issues #10738 and #11579). Buffering the result before
the connection is released fixes it. tests/expectations/test_gx_duckdb.py fails as soon as the
workaround is no longer needed, so it can be dropped then.
"""

from __future__ import annotations

_PATCHED = False


def buffered_execute_query(self, query):
    with self.get_connection() as connection:
        result = self._execute_query_with_recovery(connection, query)
        return result.freeze()()  # fetch everything while the connection is still ours


def apply_result_buffering() -> None:
    global _PATCHED
    if _PATCHED:
        return
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    SqlAlchemyExecutionEngine.execute_query = buffered_execute_query
    _PATCHED = True
