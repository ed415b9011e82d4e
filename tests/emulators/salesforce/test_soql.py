"""SOQL parser and evaluator unit tests, with property-based checks against a Python oracle."""

# ruff: noqa: S608 - the f-strings here build SOQL for an in-memory emulator, not SQL

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simple_salesforce.format import format_soql

from emulators.salesforce.app import SalesforceApp
from emulators.salesforce.errors import SfError
from emulators.salesforce.soql import (
    BoolOp,
    CountAll,
    FieldRef,
    InList,
    Not,
    SemiJoin,
    SoqlError,
    SubQuery,
    date_literal_range,
    like_regex,
    parse,
    tokenize,
)


@pytest.fixture(scope="module")
def org():
    return SalesforceApp()


def compile_and_run(app: SalesforceApp, soql: str, query_all: bool = False) -> list[dict]:
    compiled = app.queries.compile(soql, app.org.ui_user_id, query_all)
    return app.queries.scan(compiled, query_all=query_all)


# --- tokenizer and parser ------------------------------------------------------------------


def test_tokens_of_the_typical_sync_query():
    kinds = [
        t.kind
        for t in tokenize(
            "SELECT Id FROM Lead WHERE SystemModstamp > 2024-01-01T00:00:00Z LIMIT 2000"
        )
    ]
    assert kinds == [
        "ident",
        "ident",
        "ident",
        "ident",
        "ident",
        "ident",
        "op",
        "datetime",
        "ident",
        "number",
        "eof",
    ]


@pytest.mark.parametrize(
    "literal",
    [
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00+00:00",
        "2024-01-01T02:00:00+02:00",
        "2023-12-31T19:00:00-05:00",
        "2024-01-01T00:00:00.000+0000",
        "2024-01-01T05:30:00+0530",
    ],
)
def test_datetime_literals_in_every_offset_form(literal):
    cond = parse(f"SELECT Id FROM Lead WHERE CreatedDate >= {literal}").where
    assert cond.value.kind == "datetime"
    assert cond.value.value.astimezone(UTC) == datetime(2024, 1, 1, tzinfo=UTC)


def test_parse_tree():
    query = parse(
        "select Id, Account.Name, COUNT() from Contact c where (Email like '%@x.com' or "
        "Email = null) and not LastName in ('a', 'b') and Id not in (select ContactId from "
        "OpportunityContactRole) order by LastName desc nulls last, Id limit 5 offset 2"
    )
    assert query.sobject == "Contact" and query.alias == "c"
    assert isinstance(query.select[0], FieldRef) and query.select[1].path == ["Account", "Name"]
    assert isinstance(query.select[2], CountAll)
    where = query.where
    assert isinstance(where, BoolOp) and where.op == "and" and len(where.items) == 3
    assert isinstance(where.items[0], BoolOp) and where.items[0].op == "or"
    assert isinstance(where.items[1], Not) and isinstance(where.items[1].item, InList)
    assert isinstance(where.items[2], SemiJoin) and where.items[2].negated
    assert [(o.field.path, o.descending, o.nulls_first) for o in query.order] == [
        (["LastName"], True, False),
        (["Id"], False, None),
    ]
    assert (query.limit, query.offset) == (5, 2)


def test_child_subquery_parses():
    query = parse("SELECT Id, (SELECT Id FROM Contacts WHERE LastName != null) FROM Account")
    assert isinstance(query.select[1], SubQuery)
    assert query.select[1].query.sobject == "Contacts"


@pytest.mark.parametrize(
    "text",
    [
        "SELECT FROM Lead",
        "SELECT Id Lead",
        "SELECT Id FROM",
        "SELECT Id FROM Lead WHERE Id",
        "SELECT Id FROM Lead WHERE Id = ",
        "SELECT Id FROM Lead LIMIT x",
        "SELECT Id FROM Lead )",
        "SELECT Id FROM Lead WHERE (Name = 'a'",
        "SELECT Id FROM Lead WHERE Name = 'unterminated",
        "SELECT Id FROM Lead ORDER Id",
        "SELECT Id FROM Lead WHERE a = 1 OR b = 2 AND c = 3",
        "SELECT Id FROM Lead GROUP BY Id",
    ],
)
def test_malformed(text):
    with pytest.raises(SoqlError):
        parse(text)


def test_escapes_in_strings():
    cond = parse(r"SELECT Id FROM Lead WHERE Name = 'O\'Brien \\ \n\t done'").where
    assert cond.value.value == "O'Brien \\ \n\t done"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_strings_quoted_by_simple_salesforce_parse_back(value):
    soql = format_soql("SELECT Id FROM Lead WHERE Name = {}", value)
    literal = parse(soql).where.value.value
    # The parser keeps LIKE's \% and \_ escapes; a value that holds them comes back as is.
    assert literal == value or literal.replace("\\%", "%").replace("\\_", "_") == value


def test_like_patterns():
    assert like_regex("a%").match("ABC")
    assert not like_regex("a_").match("abc")
    assert like_regex("100\\%").match("100%") and not like_regex("100\\%").match("1000")
    assert like_regex("%.com").match("x.com") and not like_regex("%.com").match("xxcom")


def test_date_literal_ranges():
    today = date(2024, 5, 15)  # a Wednesday
    assert date_literal_range("TODAY", None, today) == (date(2024, 5, 15), date(2024, 5, 16))
    assert date_literal_range("LAST_N_DAYS", 7, today) == (date(2024, 5, 8), date(2024, 5, 16))
    assert date_literal_range("THIS_WEEK", None, today) == (date(2024, 5, 12), date(2024, 5, 19))
    assert date_literal_range("LAST_MONTH", None, today) == (date(2024, 4, 1), date(2024, 5, 1))
    assert date_literal_range("THIS_QUARTER", None, today) == (date(2024, 4, 1), date(2024, 7, 1))
    assert date_literal_range("N_DAYS_AGO", 3, today) == (date(2024, 5, 12), date(2024, 5, 13))


# --- compiling against the schema ----------------------------------------------------------


def test_unknown_names_are_reported_with_real_codes(org):
    with pytest.raises(SfError) as caught:
        compile_and_run(org, "SELECT Id FROM Nope__c")
    assert caught.value.code == "INVALID_TYPE"
    with pytest.raises(SfError) as caught:
        compile_and_run(org, "SELECT Id FROM Lead WHERE Nope__c = 1")
    assert caught.value.code == "INVALID_FIELD"


def test_object_name_and_alias_prefixes_are_allowed(org):
    compile_and_run(org, "SELECT Contact.Id, c.LastName FROM Contact c WHERE c.Email = null")


# --- property: WHERE clauses evaluate like a Python oracle -------------------------------

NAMES = ["alpha", "Beta", "gamma", "ALPHA", "de_ta", "e%x", None]
AMOUNTS = [None, 0.0, 10.0, 99.5, 250.0, -3.0]
DATES = [None, "2024-01-01", "2024-02-29", "2025-06-30"]

records_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "Name": st.sampled_from(NAMES),
            "Amount": st.sampled_from(AMOUNTS),
            "CloseDate": st.sampled_from(DATES),
            "IsPrivate": st.booleans(),
        }
    ),
    max_size=12,
)

FIELD_VALUES = {
    "Name": [v for v in NAMES if v is not None] + ["zzz"],
    "Amount": [v for v in AMOUNTS if v is not None] + [5.0],
    "CloseDate": [v for v in DATES if v is not None] + ["2024-06-01"],
    "IsPrivate": [True, False],
}


def soql_value(field, value):
    if value is None:
        return "null"
    if field == "Name":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if field == "IsPrivate":
        return "true" if value else "false"
    if field == "Amount":
        return repr(value)
    return value  # dates are unquoted literals


def leaf_strategy():
    field = st.sampled_from(sorted(FIELD_VALUES))
    return field.flatmap(
        lambda f: st.one_of(
            st.tuples(
                st.just("cmp"),
                st.just(f),
                st.sampled_from(
                    ["=", "!="] if f == "IsPrivate" else ["=", "!=", "<", "<=", ">", ">="]
                ),
                st.sampled_from([*FIELD_VALUES[f], None]),
            ),
            st.tuples(
                st.just("in"),
                st.just(f),
                st.booleans(),
                st.lists(st.sampled_from(FIELD_VALUES[f]), min_size=1, max_size=3),
            ),
            *(
                [
                    st.tuples(
                        st.just("like"),
                        st.just(f),
                        st.sampled_from(["a%", "%A", "_eta", "%\\_%", "%\\%%", "%", "g_mma"]),
                    )
                ]
                if f == "Name"
                else []
            ),
        )
    )


tree_strategy = st.recursive(
    leaf_strategy(),
    lambda children: st.one_of(
        st.tuples(st.just("not"), children),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=3)),
    ),
    max_leaves=6,
)


def render(node) -> str:
    kind = node[0]
    if kind == "cmp":
        _, field, op, value = node
        return f"{field} {op} {soql_value(field, value)}"
    if kind == "in":
        _, field, negated, values = node
        items = ", ".join(soql_value(field, v) for v in values)
        return f"{field} {'NOT IN' if negated else 'IN'} ({items})"
    if kind == "like":
        _, field, pattern = node
        return f"{field} LIKE '{pattern}'"
    if kind == "not":
        return f"NOT ({render(node[1])})"
    return "(" + f" {kind.upper()} ".join(render(child) for child in node[1]) + ")"


def norm(field, value):
    return value.lower() if field == "Name" and value is not None else value


def oracle(node, rec) -> bool:
    """SOQL semantics in plain Python: nulls fail ordering, != keeps nulls, text ignores case."""
    kind = node[0]
    if kind == "cmp":
        _, field, op, value = node
        actual = norm(field, rec[field])
        value = norm(field, value)
        if op == "=":
            return actual == value
        if op == "!=":
            return actual != value
        if actual is None or value is None:
            return False
        return {
            "<": actual < value,
            "<=": actual <= value,
            ">": actual > value,
            ">=": actual >= value,
        }[op]
    if kind == "in":
        _, field, negated, values = node
        inside = norm(field, rec[field]) in {norm(field, v) for v in values}
        return not inside if negated else inside
    if kind == "like":
        _, field, pattern = node
        if rec[field] is None:
            return False
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern[i] == "\\":
                regex += re.escape(pattern[i + 1])
                i += 2
                continue
            regex += {"%": ".*", "_": "."}.get(pattern[i], re.escape(pattern[i]))
            i += 1
        return re.fullmatch(regex, rec[field], re.IGNORECASE | re.DOTALL) is not None
    if kind == "not":
        return not oracle(node[1], rec)
    results = [oracle(child, rec) for child in node[1]]
    return all(results) if kind == "and" else any(results)


def load(app: SalesforceApp, records: list[dict]) -> list[str]:
    table = app.org.store.table("Opportunity")
    table.clear()
    ids = []
    for i, fields in enumerate(records):
        record_id = app.org.store.new_id("006")
        rec = {"Id": record_id, "IsDeleted": False, "StageName": "Prospecting", "_n": i}
        rec.update({k: v for k, v in fields.items() if v is not None})
        table[record_id] = rec
        ids.append(record_id)
    return ids


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=records_strategy, tree=tree_strategy)
def test_where_matches_the_oracle(org, records, tree):
    ids = load(org, records)
    soql = f"SELECT Id FROM Opportunity WHERE {render(tree)}"
    got = {r["Id"] for r in compile_and_run(org, soql)}
    expected = {ids[i] for i, rec in enumerate(records) if oracle(tree, rec)}
    assert got == expected, soql


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=records_strategy,
    keys=st.lists(
        st.tuples(
            st.sampled_from(["Name", "Amount", "CloseDate"]),
            st.booleans(),
            st.sampled_from([None, True, False]),
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda k: k[0],
    ),
    limit=st.one_of(st.none(), st.integers(0, 15)),
    offset=st.integers(0, 5),
)
def test_order_by_matches_the_oracle(org, records, keys, limit, offset):
    ids = load(org, records)
    parts = []
    for field, desc, nulls_first in keys:
        text = f"{field} {'DESC' if desc else 'ASC'}"
        if nulls_first is not None:
            text += " NULLS FIRST" if nulls_first else " NULLS LAST"
        parts.append(text)
    soql = f"SELECT Id FROM Opportunity ORDER BY {', '.join(parts)}, Id"
    if limit is not None:
        soql += f" LIMIT {limit}"
    soql += f" OFFSET {offset}"
    got = [r["Id"] for r in compile_and_run(org, soql)]

    rows = list(range(len(records)))
    rows.sort(key=lambda i: ids[i])
    for field, desc, nulls_first in reversed(keys):
        first = nulls_first if nulls_first is not None else not desc
        present = [i for i in rows if records[i][field] is not None]
        missing = [i for i in rows if records[i][field] is None]
        present.sort(key=lambda i: norm(field, records[i][field]), reverse=desc)
        rows = missing + present if first else present + missing
    expected = [ids[i] for i in rows][offset:]
    if limit is not None:
        expected = expected[:limit]
    assert got == expected, soql
