"""Our SQLite cursor (comptoir.db.sqlite3): Django's placeholder conversion, done once per statement text."""

from __future__ import annotations

import sqlite3

from comptoir.db.sqlite3 import base


def _cursor() -> base.SQLiteCursorWrapper:
    return sqlite3.connect(":memory:").cursor(factory=base.SQLiteCursorWrapper)


def test_a_statement_converted_once_runs_as_django_would_run_it() -> None:
    # given a statement with a positional parameter and a literal percent sign
    cursor = _cursor()
    sql = "SELECT %s + 1, '100%%' /* test_a_statement_converted_once */"
    base._qmark.cache_clear()

    # when it runs twice with different values
    first = cursor.execute(sql, (1,)).fetchone()
    second = cursor.execute(sql, (41,)).fetchone()

    # then each run got its own value and the literal, and the text was converted once
    assert (first, second) == ((2, "100%"), (42, "100%"))
    info = base._qmark.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_named_parameters_and_very_long_statements_are_converted_each_time() -> None:
    # given Django's pyformat style, and a statement longer than the cached texts
    cursor = _cursor()
    base._qmark.cache_clear()
    long_sql = "SELECT %s" + " " * base._CACHED_CHARS

    # when they run
    named = cursor.execute("SELECT %(a)s * 2", {"a": 21}).fetchone()
    long_row = cursor.execute(long_sql, (7,)).fetchone()

    # then they run as Django's cursor runs them, and nothing was kept
    assert (named, long_row) == ((42,), (7,))
    assert base._qmark.cache_info().currsize == 0
