"""SOQL: a tokenizer, a recursive-descent parser and a compiler to Python closures.

Covers the subset a sync engine uses (crm-apis §2.4): field lists with relationship paths,
``COUNT()``, ``FIELDS(...)``, child subqueries, WHERE with AND/OR/NOT/parentheses,
comparison operators, LIKE, [NOT] IN lists and semi-joins, date/datetime literals and date
keywords (TODAY, LAST_N_DAYS:n...), ORDER BY with NULLS FIRST/LAST, LIMIT and OFFSET.

Parsing is independent of any org; :func:`compile_query` binds a parsed query to the schema
through a :class:`Resolver` and returns closures that filter, sort and render records. The WHERE
clause is compiled once per query, so scanning 100k records costs one closure call each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from .errors import INVALID_FIELD_HINT, SfError, invalid_type
from .ids import normalize
from .schema import FieldDef, ObjectDef
from .values import format_datetime, parse_datetime

MAX_OFFSET = 2000
MAX_SEMI_JOINS = 2  # IN / NOT IN sub-selects per WHERE clause
# Stamped on every record by every write, so sorting on them needs no null handling (fast path).
ALWAYS_SET = frozenset(
    {"Id", "SystemModstamp", "CreatedDate", "LastModifiedDate", "CreatedById", "LastModifiedById"}
)

# --- tokens --------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<number>[+-]?(?:\d+\.\d*|\.\d+|\d+)(?![\w.]))
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),:])
    """,
    re.VERBOSE,
)

_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "%": "\\%",
    "_": "\\_",
}

KEYWORDS = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "LIKE",
        "IN",
        "INCLUDES",
        "EXCLUDES",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "LIMIT",
        "OFFSET",
        "NULL",
        "TRUE",
        "FALSE",
        "WITH",
        "FOR",
        "GROUP",
        "HAVING",
        "USING",
        "SCOPE",
        "TYPEOF",
        "UPDATE",
        "VIEW",
        "REFERENCE",
        "ALL",
        "ROWS",
    }
)

DATE_KEYWORDS = frozenset(
    {
        "TODAY",
        "YESTERDAY",
        "TOMORROW",
        "LAST_WEEK",
        "THIS_WEEK",
        "NEXT_WEEK",
        "LAST_MONTH",
        "THIS_MONTH",
        "NEXT_MONTH",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
        "THIS_QUARTER",
        "LAST_QUARTER",
        "NEXT_QUARTER",
        "THIS_YEAR",
        "LAST_YEAR",
        "NEXT_YEAR",
    }
)
DATE_N_KEYWORDS = frozenset(
    {
        "LAST_N_DAYS",
        "NEXT_N_DAYS",
        "N_DAYS_AGO",
        "LAST_N_WEEKS",
        "NEXT_N_WEEKS",
        "LAST_N_MONTHS",
        "NEXT_N_MONTHS",
        "LAST_N_QUARTERS",
        "NEXT_N_QUARTERS",
        "LAST_N_YEARS",
        "NEXT_N_YEARS",
        "N_WEEKS_AGO",
        "N_MONTHS_AGO",
        "N_YEARS_AGO",
    }
)


@dataclass(frozen=True)
class Token:
    kind: str  # ident, string, number, date, datetime, op, punct, eof
    text: str
    pos: int
    value: Any = None

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""


class SoqlError(Exception):
    """A parse error, turned into MALFORMED_QUERY with the query excerpt by the caller."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def _unescape(body: str, pos: int) -> str:
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1] if i + 1 < len(body) else ""
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6] or ""):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt not in _ESCAPES:
                raise SoqlError("Invalid string literal: bad escape", pos)
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def tokenize(text: str) -> list[Token]:
    tokens = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if not m:
            raise SoqlError(f"unexpected token: '{text[pos]}'", pos)
        kind = m.lastgroup
        raw = m.group()
        if kind == "string":
            # \% and \_ stay escaped so LIKE can tell literal wildcards from real ones
            tokens.append(Token("string", raw, pos, _unescape(raw[1:-1], pos)))
        elif kind == "number":
            value: Any = float(raw) if ("." in raw) else int(raw)
            tokens.append(Token("number", raw, pos, value))
        elif kind == "datetime":
            tokens.append(Token("datetime", raw, pos, parse_datetime(raw)))
        elif kind != "ws":
            tokens.append(Token(kind or "?", raw, pos))
        pos = m.end()
    tokens.append(Token("eof", "", n))
    return tokens


# --- AST -----------------------------------------------------------------------------------


@dataclass
class FieldRef:
    path: list[str]
    pos: int


@dataclass
class Literal:
    kind: str  # string, number, boolean, null, date, datetime, date_literal
    value: Any
    pos: int
    n: int | None = None  # LAST_N_DAYS:n


@dataclass
class Comparison:
    field: FieldRef
    op: str  # = != < <= > >= like includes excludes
    value: Literal | list[Literal]


@dataclass
class InList:
    field: FieldRef
    values: list[Literal]
    negated: bool


@dataclass
class SemiJoin:
    field: FieldRef
    query: Query
    negated: bool


@dataclass
class BoolOp:
    op: str  # and / or
    items: list[Any]


@dataclass
class Not:
    item: Any


@dataclass
class OrderItem:
    field: FieldRef
    descending: bool = False
    nulls_first: bool | None = None


@dataclass
class CountAll:
    pos: int


@dataclass
class FieldsFn:
    kind: str  # ALL, STANDARD, CUSTOM
    pos: int


@dataclass
class SubQuery:
    query: Query
    pos: int


@dataclass
class Query:
    select: list[Any]
    sobject: str
    sobject_pos: int
    alias: str | None = None
    where: Any = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    text: str = ""


# --- parser --------------------------------------------------------------------------------


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, *words: str) -> bool:
        return self.tok.kind == "ident" and self.tok.upper in words

    def at_punct(self, ch: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == ch

    def unexpected(self) -> SoqlError:
        tok = self.tok
        if tok.kind == "eof":
            return SoqlError("unexpected token: <EOF>", tok.pos)
        return SoqlError(f"unexpected token: '{tok.text}'", tok.pos)

    def expect_word(self, word: str) -> Token:
        if not self.at(word):
            raise self.unexpected()
        return self.advance()

    def expect_punct(self, ch: str) -> Token:
        if not self.at_punct(ch):
            raise self.unexpected()
        return self.advance()

    def parse(self) -> Query:
        query = self.query()
        if self.tok.kind != "eof":
            raise self.unexpected()
        query.text = self.text
        return query

    def query(self) -> Query:
        self.expect_word("SELECT")
        select = [self.select_item()]
        while self.at_punct(","):
            self.advance()
            select.append(self.select_item())
        self.expect_word("FROM")
        obj_tok = self.tok
        if obj_tok.kind != "ident" or obj_tok.upper in KEYWORDS or "." in obj_tok.text:
            raise self.unexpected()
        self.advance()
        query = Query(select=select, sobject=obj_tok.text, sobject_pos=obj_tok.pos)
        if self.tok.kind == "ident" and self.tok.upper not in KEYWORDS:
            query.alias = self.advance().text
        if self.at("USING"):
            self.advance()
            self.expect_word("SCOPE")
            if self.tok.kind != "ident":
                raise self.unexpected()
            self.advance()
        if self.at("WHERE"):
            self.advance()
            query.where = self.condition()
        if self.at("WITH"):  # WITH SECURITY_ENFORCED / USER_MODE: accepted, no effect here
            self.advance()
            if self.tok.kind != "ident":
                raise self.unexpected()
            self.advance()
        if self.at("GROUP", "HAVING"):
            raise self.unexpected()
        if self.at("ORDER"):
            self.advance()
            self.expect_word("BY")
            query.order.append(self.order_item())
            while self.at_punct(","):
                self.advance()
                query.order.append(self.order_item())
        if self.at("LIMIT"):
            self.advance()
            query.limit = self.integer()
        if self.at("OFFSET"):
            self.advance()
            query.offset = self.integer()
        if self.at("FOR"):
            self.advance()
            if not self.at("VIEW", "REFERENCE", "UPDATE"):
                raise self.unexpected()
            self.advance()
        return query

    def integer(self) -> int:
        tok = self.tok
        if tok.kind != "number" or not isinstance(tok.value, int) or tok.value < 0:
            raise self.unexpected()
        self.advance()
        return tok.value

    def select_item(self) -> Any:
        tok = self.tok
        if self.at_punct("("):
            self.advance()
            sub = self.query()
            self.expect_punct(")")
            return SubQuery(sub, tok.pos)
        if tok.kind != "ident":
            raise self.unexpected()
        if tok.upper == "COUNT" and self.tokens[self.i + 1].text == "(":
            self.advance()
            self.expect_punct("(")
            if not self.at_punct(")"):
                raise SoqlError("Only COUNT() is supported by this emulator", self.tok.pos)
            self.expect_punct(")")
            return CountAll(tok.pos)
        if tok.upper == "FIELDS" and self.tokens[self.i + 1].text == "(":
            self.advance()
            self.expect_punct("(")
            if not self.at("ALL", "STANDARD", "CUSTOM"):
                raise self.unexpected()
            kind = self.advance().upper
            self.expect_punct(")")
            return FieldsFn(kind, tok.pos)
        if tok.upper in KEYWORDS:
            raise self.unexpected()
        self.advance()
        return FieldRef(tok.text.split("."), tok.pos)

    def field_ref(self) -> FieldRef:
        tok = self.tok
        if tok.kind != "ident" or tok.upper in KEYWORDS:
            raise self.unexpected()
        self.advance()
        return FieldRef(tok.text.split("."), tok.pos)

    def order_item(self) -> OrderItem:
        item = OrderItem(self.field_ref())
        if self.at("ASC", "DESC"):
            item.descending = self.advance().upper == "DESC"
        if self.at("NULLS"):
            self.advance()
            if not self.at("FIRST", "LAST"):
                raise self.unexpected()
            item.nulls_first = self.advance().upper == "FIRST"
        return item

    # SOQL does not allow AND and OR to be mixed at one level without parentheses.
    def condition(self) -> Any:
        first = self.unary()
        if not self.at("AND", "OR"):
            return first
        op = self.tok.upper
        items = [first]
        while self.at("AND", "OR"):
            if self.tok.upper != op:
                raise self.unexpected()
            self.advance()
            items.append(self.unary())
        return BoolOp(op.lower(), items)

    def unary(self) -> Any:
        if self.at("NOT"):
            self.advance()
            return Not(self.unary())
        if self.at_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.simple()

    def simple(self) -> Any:
        ref = self.field_ref()
        if self.at("NOT"):
            self.advance()
            if not self.at("IN"):
                raise self.unexpected()
            self.advance()
            return self.in_tail(ref, negated=True)
        if self.at("IN"):
            self.advance()
            return self.in_tail(ref, negated=False)
        if self.at("LIKE"):
            self.advance()
            value = self.literal()
            return Comparison(ref, "like", value)
        if self.at("INCLUDES", "EXCLUDES"):
            op = self.advance().upper.lower()
            self.expect_punct("(")
            values = [self.literal()]
            while self.at_punct(","):
                self.advance()
                values.append(self.literal())
            self.expect_punct(")")
            return Comparison(ref, op, values)
        if self.tok.kind != "op":
            raise self.unexpected()
        op = self.advance().text
        if op == "<>":
            op = "!="
        return Comparison(ref, op, self.literal())

    def in_tail(self, ref: FieldRef, negated: bool) -> Any:
        self.expect_punct("(")
        if self.at("SELECT"):
            sub = self.query()
            self.expect_punct(")")
            return SemiJoin(ref, sub, negated)
        values = [self.literal()]
        while self.at_punct(","):
            self.advance()
            values.append(self.literal())
        self.expect_punct(")")
        return InList(ref, values, negated)

    def literal(self) -> Literal:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            return Literal("string", tok.value, tok.pos)
        if tok.kind == "number":
            self.advance()
            return Literal("number", tok.value, tok.pos)
        if tok.kind == "date":
            self.advance()
            try:
                return Literal("date", date.fromisoformat(tok.text), tok.pos)
            except ValueError:
                raise SoqlError(
                    f"line 1:{tok.pos} no viable alternative at character '{tok.text}'", tok.pos
                ) from None
        if tok.kind == "datetime":
            self.advance()
            if tok.value is None:
                raise SoqlError(f"unexpected token: '{tok.text}'", tok.pos)
            return Literal("datetime", tok.value, tok.pos)
        if tok.kind == "ident":
            word = tok.upper
            if word == "NULL":
                self.advance()
                return Literal("null", None, tok.pos)
            if word in ("TRUE", "FALSE"):
                self.advance()
                return Literal("boolean", word == "TRUE", tok.pos)
            if word in DATE_KEYWORDS:
                self.advance()
                return Literal("date_literal", word, tok.pos)
            if word in DATE_N_KEYWORDS:
                self.advance()
                self.expect_punct(":")
                n = self.integer()
                return Literal("date_literal", word, tok.pos, n)
        raise self.unexpected()


def parse(text: str) -> Query:
    return Parser(text).parse()


# --- compiling against a schema ------------------------------------------------------------


class Resolver(Protocol):
    def object(self, name: str) -> ObjectDef | None: ...

    def fields(self, obj: ObjectDef) -> dict[str, FieldDef]:
        """Lower-case name -> field, only the fields this user may see."""

    def record(self, record_id: str) -> tuple[ObjectDef, dict[str, Any]] | None: ...

    def children(self, obj: ObjectDef, field: str, parent_id: str) -> list[dict[str, Any]]: ...

    def child_relationship(self, parent: ObjectDef, name: str) -> tuple[ObjectDef, str] | None: ...

    def today(self) -> date: ...

    def semi_join_values(self, query: CompiledQuery) -> set[Any]: ...


def excerpt_error(code: str, text: str, pos: int, message: str) -> SfError:
    """Salesforce quotes the query line with a caret under the error position."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    row = text.count("\n", 0, pos) + 1
    col = pos - line_start + 1
    return SfError(
        code, f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{message}", None
    )


Getter = Callable[[dict[str, Any]], Any]


@dataclass
class ResolvedField:
    field: FieldDef  # the final field
    refs: list[FieldDef]  # reference fields walked through
    objects: list[ObjectDef]  # object of each step (base first)
    getter: Getter
    out_path: list[str]  # canonical relationship names then the field name


@dataclass
class CompiledQuery:
    obj: ObjectDef
    count_only: bool
    predicate: Callable[[dict[str, Any]], bool] | None
    sort_key: Callable[[dict[str, Any]], Any] | None
    sort_passes: list[tuple[Callable[[dict[str, Any]], Any], bool]]
    limit: int | None
    offset: int
    plan: list[tuple]
    fields: list[ResolvedField]
    text: str

    def sort(self, rows: list[dict[str, Any]]) -> None:
        if self.sort_key is not None:
            rows.sort(key=self.sort_key, reverse=self.sort_passes[0][1])
        else:
            for key, reverse in reversed(self.sort_passes):
                rows.sort(key=key, reverse=reverse)


class Compiler:
    def __init__(self, resolver: Resolver, query: Query, text: str | None = None) -> None:
        self.r = resolver
        self.q = query
        self.text = text if text is not None else query.text

    def error(self, code: str, pos: int, message: str) -> SfError:
        return excerpt_error(code, self.text, pos, message)

    def compile(self) -> CompiledQuery:
        q = self.q
        obj = self.r.object(q.sobject)
        if obj is None:
            raise excerpt_error(
                "INVALID_TYPE", self.text, q.sobject_pos, invalid_type(q.sobject).message
            )
        self.obj = obj
        self.visible = self.r.fields(obj)
        if q.offset is not None and q.offset > MAX_OFFSET:
            raise SfError(
                "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}", None
            )
        count_only = any(isinstance(item, CountAll) for item in q.select)
        if count_only and len(q.select) > 1:
            raise self.error(
                "MALFORMED_QUERY",
                q.select[1].pos if hasattr(q.select[1], "pos") else 0,
                "COUNT() must be the only element in the SELECT list.",
            )
        plan: list[tuple] = []
        fields: list[ResolvedField] = []
        if not count_only:
            self._plan(plan, fields)
        if q.where is not None:
            self._check_semi_joins(q.where)
        predicate = self.condition(q.where) if q.where is not None else None
        sort_key, passes = self.order(q.order)
        return CompiledQuery(
            obj=obj,
            count_only=count_only,
            predicate=predicate,
            sort_key=sort_key,
            sort_passes=passes,
            limit=q.limit,
            offset=q.offset or 0,
            plan=plan,
            fields=fields,
            text=self.text,
        )

    # --- field paths ---------------------------------------------------------------------
    def resolve(self, ref: FieldRef) -> ResolvedField:
        parts = list(ref.path)
        if len(parts) > 1 and (
            parts[0].lower() == self.obj.name.lower()
            or (self.q.alias and parts[0].lower() == self.q.alias.lower())
        ):
            parts = parts[1:]
        obj = self.obj
        visible = self.visible
        refs: list[FieldDef] = []
        objects = [obj]
        out_path = []
        for part in parts[:-1]:
            ref_field = obj.relationships.get(part.lower())
            if ref_field is None or ref_field.lower not in visible:
                raise self.error(
                    "INVALID_FIELD",
                    ref.pos,
                    f"Didn't understand relationship '{part}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' after "
                    "the custom relationship name. Please reference your WSDL or the describe "
                    "call for the appropriate names.",
                )
            target = self._target(ref_field, parts[len(refs) + 1])
            refs.append(ref_field)
            out_path.append(ref_field.relationship_name or part)
            obj = target
            objects.append(obj)
            visible = self.r.fields(obj)
            if len(refs) > 5:
                raise self.error(
                    "MALFORMED_QUERY",
                    ref.pos,
                    "SOQL statements cannot query more than 5 levels of relationships",
                )
        name = parts[-1]
        f = visible.get(name.lower())
        if f is None:
            raise self.error(
                "INVALID_FIELD",
                ref.pos,
                f"No such column '{name}' on entity '{obj.name}'. {INVALID_FIELD_HINT}",
            )
        out_path.append(f.name)
        return ResolvedField(f, refs, objects, self._getter(refs, f.name), out_path)

    def _target(self, ref_field: FieldDef, next_part: str) -> ObjectDef:
        """The object a (possibly polymorphic) reference leads to; the first that has the field."""
        candidates = [o for o in (self.r.object(n) for n in ref_field.reference_to) if o]
        if not candidates:
            raise self.error(
                "INVALID_FIELD",
                0,
                f"Didn't understand relationship '{ref_field.relationship_name}'",
            )
        for cand in candidates:
            if next_part.lower() in self.r.fields(cand) or cand.relationships.get(
                next_part.lower()
            ):
                return cand
        return candidates[0]

    def _getter(self, refs: list[FieldDef], name: str) -> Getter:
        if not refs:

            def get(rec: dict[str, Any], _n: str = name) -> Any:
                return rec.get(_n)

            return get
        lookup = self.r.record
        chain = [f.name for f in refs]

        def walk(rec: dict[str, Any]) -> Any:
            cur: dict[str, Any] | None = rec
            for ref_name in chain:
                target_id = cur.get(ref_name)  # type: ignore[union-attr]
                if target_id is None:
                    return None
                found = lookup(target_id)
                if found is None:
                    return None
                cur = found[1]
            return cur.get(name)  # type: ignore[union-attr]

        return walk

    # --- select list ---------------------------------------------------------------------
    def _plan(self, plan: list[tuple], fields: list[ResolvedField]) -> None:
        selected: set[str] = set()

        def once(resolved: ResolvedField) -> None:
            # Salesforce refuses a field selected twice, whatever the casing or whether one
            # of the two came from FIELDS(...).
            key = ".".join(resolved.out_path).lower()
            if key in selected:
                raise SfError(
                    "INVALID_FIELD",
                    f"duplicate field selected: {'.'.join(resolved.out_path)}",
                    None,
                )
            selected.add(key)

        for item in self.q.select:
            if isinstance(item, FieldRef):
                resolved = self.resolve(item)
                once(resolved)
                fields.append(resolved)
                _plan_add(plan, resolved.refs, resolved.out_path, resolved.field.name)
            elif isinstance(item, FieldsFn):
                if item.kind in ("ALL", "CUSTOM") and (self.q.limit is None or self.q.limit > 200):
                    raise self.error(
                        "MALFORMED_QUERY",
                        item.pos,
                        "The SOQL FIELDS function must have a LIMIT of at most 200",
                    )
                for f in self.visible.values():
                    if item.kind == "ALL" or (item.kind == "CUSTOM") == f.custom:
                        rf = ResolvedField(f, [], [self.obj], self._getter([], f.name), [f.name])
                        once(rf)
                        fields.append(rf)
                        _plan_add(plan, [], [f.name], f.name)
            elif isinstance(item, SubQuery):
                plan.append(self._child(item))
            else:  # pragma: no cover - COUNT() handled by the caller
                raise self.error("MALFORMED_QUERY", getattr(item, "pos", 0), "unexpected token")

    def _child(self, item: SubQuery) -> tuple:
        sub = item.query
        rel = self.r.child_relationship(self.obj, sub.sobject)
        if rel is None:
            raise self.error(
                "INVALID_TYPE",
                sub.sobject_pos,
                f"Didn't understand relationship '{sub.sobject}' in FROM part of query call. "
                "If you are attempting to use a custom relationship, be sure to append the '__r' "
                "after the custom relationship name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
            )
        child_obj, fk = rel
        rel_name = next(
            r["relationshipName"]
            for r in self.obj.child_relationships
            if r["relationshipName"] and r["relationshipName"].lower() == sub.sobject.lower()
        )
        child_query = Query(
            select=sub.select,
            sobject=child_obj.name,
            sobject_pos=sub.sobject_pos,
            alias=sub.alias,
            where=sub.where,
            order=sub.order,
            limit=sub.limit,
            offset=sub.offset,
            text=self.text,
        )
        compiled = Compiler(self.r, child_query, self.text).compile()
        return ("child", rel_name, child_obj, fk, compiled)

    # --- WHERE ---------------------------------------------------------------------------
    def _usable(self, ref: FieldRef, verb: str) -> ResolvedField:
        """A field in WHERE (``filtered``) or ORDER BY (``sorted``): long text areas and
        compound fields can be selected but not filtered or sorted on."""
        rf = self.resolve(ref)
        f = rf.field
        if not f.filterable:
            raise self.error(
                "INVALID_FIELD", ref.pos, f"field '{f.name}' can not be {verb} in a query call"
            )
        return rf

    def condition(self, node: Any) -> Callable[[dict[str, Any]], bool]:
        if isinstance(node, BoolOp):
            parts = [self.condition(item) for item in node.items]
            if node.op == "and":
                if len(parts) == 2:
                    a, b = parts
                    return lambda r: a(r) and b(r)
                return lambda r: all(p(r) for p in parts)
            if len(parts) == 2:
                a, b = parts
                return lambda r: a(r) or b(r)
            return lambda r: any(p(r) for p in parts)
        if isinstance(node, Not):
            inner = self.condition(node.item)
            return lambda r: not inner(r)
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, InList):
            return self.in_list(node)
        if isinstance(node, SemiJoin):
            return self.semi_join(node)
        raise self.error("MALFORMED_QUERY", 0, "unexpected condition")  # pragma: no cover

    def _operand(self, f: FieldDef, lit: Literal) -> Any:
        """Check a literal against the field type and convert it to the stored form."""
        kind = lit.kind
        if kind == "null":
            return None
        t = f.type
        if f.is_id:
            if kind != "string":
                raise self._type_error(f, lit, "id")
            if lit.value == "":
                return None
            norm = normalize(lit.value)
            if norm is None:
                raise self.error(
                    "INVALID_QUERY_FILTER_OPERATOR", lit.pos, f"invalid ID field: {lit.value}"
                )
            return norm
        if f.is_text:
            if kind != "string":
                raise self._type_error(f, lit, "string")
            return lit.value.replace("\\%", "%").replace("\\_", "_")
        if t == "boolean":
            if kind != "boolean":
                raise self._type_error(f, lit, "boolean")
            return lit.value
        if f.is_number:
            if kind != "number":
                raise self._type_error(f, lit, "double" if t != "int" else "int")
            return lit.value
        if t == "date":
            if kind == "date":
                return lit.value.isoformat()
            if kind == "date_literal":
                return self._date_range(lit, datetime_field=False)
            raise self._type_error(f, lit, "date")
        if t == "datetime":
            if kind == "datetime":
                return format_datetime(lit.value)
            if kind == "date_literal":
                return self._date_range(lit, datetime_field=True)
            raise self._type_error(f, lit, "dateTime")
        if kind == "string":
            return lit.value
        raise self._type_error(f, lit, t)

    def _type_error(self, f: FieldDef, lit: Literal, expected: str) -> SfError:
        quoted = (
            "should be enclosed in quotes"
            if expected in ("string", "id")
            else "should not be enclosed in quotes"
        )
        return self.error(
            "INVALID_FIELD",
            lit.pos,
            f"value of filter criterion for field '{f.name}' must be of type {expected} and "
            f"{quoted}",
        )

    def _date_range(self, lit: Literal, datetime_field: bool) -> tuple[str, str]:
        start, end = date_literal_range(lit.value, lit.n, self.r.today())
        if datetime_field:
            return (
                f"{start.isoformat()}T00:00:00.000+0000",
                f"{end.isoformat()}T00:00:00.000+0000",
            )
        return (start.isoformat(), end.isoformat())

    def comparison(self, node: Comparison) -> Callable[[dict[str, Any]], bool]:
        rf = self._usable(node.field, "filtered")
        f, get, op = rf.field, rf.getter, node.op
        if op in ("includes", "excludes"):
            wanted = [
                set(v.lower() for v in _split_multi(self._operand(f, lit) or ""))
                for lit in node.value
            ]  # type: ignore[union-attr]

            def has(r: dict[str, Any]) -> bool:
                v = get(r)
                have = set(x.lower() for x in _split_multi(v)) if v else set()
                return any(w <= have for w in wanted)

            return has if op == "includes" else (lambda r: not has(r))
        lit = node.value
        assert isinstance(lit, Literal)
        if op == "like":
            if lit.kind != "string":
                raise self._type_error(f, lit, "string")
            regex = like_regex(lit.value)
            match = regex.match

            def like(r: dict[str, Any]) -> bool:
                v = get(r)
                return v is not None and match(v if isinstance(v, str) else str(v)) is not None

            return like
        value = self._operand(f, lit)
        if isinstance(value, tuple):  # a date keyword is a [start, end) range
            return _range_predicate(get, op, value)
        if value is None:
            if op == "=":
                return lambda r: get(r) is None
            if op == "!=":
                return lambda r: get(r) is not None
            return lambda r: False
        fold = f.is_text
        if fold:
            value = value.lower()
        return _compare(get, op, value, fold)

    def in_list(self, node: InList) -> Callable[[dict[str, Any]], bool]:
        rf = self._usable(node.field, "filtered")
        f, get = rf.field, rf.getter
        values = [self._operand(f, lit) for lit in node.values]
        if any(isinstance(v, tuple) for v in values):
            raise self.error(
                "MALFORMED_QUERY", node.field.pos, "date literals are not allowed in IN"
            )
        has_null = any(v is None for v in values)
        fold = f.is_text
        wanted = frozenset((v.lower() if fold else v) for v in values if v is not None)
        negated = node.negated

        def member(r: dict[str, Any]) -> bool:
            v = get(r)
            if v is None:
                return has_null
            return (v.lower() if fold else v) in wanted

        if negated:
            return lambda r: not member(r)
        return member

    def _check_semi_joins(self, where: Any) -> None:
        """Salesforce's semi-join rules: at most two, only in the top-level AND chain of the
        WHERE clause (not under OR or NOT, nor deeper), and none inside another."""
        found: list[SemiJoin] = []

        def walk(node: Any, place: str) -> None:  # place: root, top (AND chain), or, nested
            if isinstance(node, BoolOp):
                if node.op == "and":
                    inner = "top" if place in ("root", "top") else "nested"
                else:
                    inner = "or" if place == "root" else "nested"
                for item in node.items:
                    walk(item, inner)
            elif isinstance(node, Not):
                walk(node.item, "nested")
            elif isinstance(node, SemiJoin):
                if place == "or":
                    raise self.error(
                        "MALFORMED_QUERY",
                        node.field.pos,
                        "Semi join sub-selects are not allowed with the 'OR' operator",
                    )
                if place == "nested":
                    raise self.error(
                        "MALFORMED_QUERY",
                        node.field.pos,
                        "Semi join sub-selects are only allowed at the top level WHERE "
                        "expressions and not in nested WHERE expressions.",
                    )
                found.append(node)
                if len(found) > MAX_SEMI_JOINS:
                    raise self.error(
                        "MALFORMED_QUERY",
                        node.field.pos,
                        f"Maximum {MAX_SEMI_JOINS} semi join sub-selects are allowed",
                    )
                if node.query.where is not None and _has_semi_join(node.query.where):
                    raise self.error(
                        "MALFORMED_QUERY",
                        node.query.sobject_pos,
                        "Nesting of semi join sub-selects is not supported",
                    )

        walk(where, "root")

    def semi_join(self, node: SemiJoin) -> Callable[[dict[str, Any]], bool]:
        rf = self.resolve(node.field)
        if not rf.field.is_id:
            raise self.error(
                "MALFORMED_QUERY",
                node.field.pos,
                "semi join sub-selects are only supported on Id or reference fields",
            )
        sub = node.query
        if len(sub.select) != 1 or not isinstance(sub.select[0], FieldRef):
            raise self.error(
                "MALFORMED_QUERY",
                sub.sobject_pos,
                "The selected field in a semi join must be a single Id field",
            )
        sub.text = self.text
        compiled = Compiler(self.r, sub, self.text).compile()
        if compiled.obj.name == self.obj.name:
            raise self.error(
                "MALFORMED_QUERY",
                sub.sobject_pos,
                "The inner and outer selects should not be on the same object type",
            )
        selected = compiled.fields[0].field
        if not selected.is_id:
            raise self.error(
                "MALFORMED_QUERY",
                sub.select[0].pos,
                f"semi join sub selects can only query id fields, cannot use: '{selected.name}'",
            )
        values = self.r.semi_join_values(compiled)
        get = rf.getter
        if node.negated:
            return lambda r: get(r) not in values
        return lambda r: (v := get(r)) is not None and v in values

    # --- ORDER BY ------------------------------------------------------------------------
    def order(self, items: list[OrderItem]) -> tuple[Any, list[tuple[Any, bool]]]:
        if not items:
            return None, []
        passes = []
        for item in items:
            rf = self._usable(item.field, "sorted")
            nulls_first = item.nulls_first if item.nulls_first is not None else not item.descending
            passes.append((_sort_key(rf, nulls_first, item.descending), item.descending))
        directions = {desc for _, desc in passes}
        if len(directions) == 1:
            keys = [k for k, _ in passes]
            if len(keys) == 1:
                return keys[0], passes
            if len(keys) == 2:
                k1, k2 = keys
                return (lambda r: (k1(r), k2(r))), passes
            return (lambda r: tuple(k(r) for k in keys)), passes
        return None, passes


def _has_semi_join(node: Any) -> bool:
    if isinstance(node, BoolOp):
        return any(_has_semi_join(item) for item in node.items)
    if isinstance(node, Not):
        return _has_semi_join(node.item)
    return isinstance(node, SemiJoin)


def _split_multi(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def _plan_add(plan: list[tuple], refs: list[FieldDef], out_path: list[str], name: str) -> None:
    """Merge a field path into the render plan (``Account.Name`` and ``Account.Id`` share one)."""
    if not refs:
        if ("field", name) not in plan:
            plan.append(("field", name))
        return
    rel_name = out_path[0]
    for entry in plan:
        if entry[0] == "rel" and entry[1] == rel_name:
            _plan_add(entry[3], refs[1:], out_path[1:], name)
            return
    sub: list[tuple] = []
    plan.append(("rel", rel_name, refs[0].name, sub))
    _plan_add(sub, refs[1:], out_path[1:], name)


def _sort_key(rf: ResolvedField, nulls_first: bool, descending: bool) -> Callable[[dict], Any]:
    get = rf.getter
    fold = rf.field.is_text
    never_null = rf.field.name in ALWAYS_SET and not rf.refs
    if never_null:
        if fold:
            return lambda r: (get(r) or "").lower()
        return get
    # With reverse=True the sort is flipped, so "nulls first" means the largest key then.
    null_key = (0,) if nulls_first != descending else (2,)
    if fold:

        def key(r: dict[str, Any]) -> Any:
            v = get(r)
            return null_key if v is None else (1, v.lower())
    else:

        def key(r: dict[str, Any]) -> Any:
            v = get(r)
            return null_key if v is None else (1, v)

    return key


def _compare(get: Getter, op: str, value: Any, fold: bool) -> Callable[[dict[str, Any]], bool]:
    if fold:
        if op == "=":
            return lambda r: (v := get(r)) is not None and v.lower() == value
        if op == "!=":
            return lambda r: (v := get(r)) is None or v.lower() != value
        if op == "<":
            return lambda r: (v := get(r)) is not None and v.lower() < value
        if op == "<=":
            return lambda r: (v := get(r)) is not None and v.lower() <= value
        if op == ">":
            return lambda r: (v := get(r)) is not None and v.lower() > value
        return lambda r: (v := get(r)) is not None and v.lower() >= value
    if op == "=":
        return lambda r: get(r) == value
    if op == "!=":
        return lambda r: get(r) != value
    if op == "<":
        return lambda r: (v := get(r)) is not None and v < value
    if op == "<=":
        return lambda r: (v := get(r)) is not None and v <= value
    if op == ">":
        return lambda r: (v := get(r)) is not None and v > value
    return lambda r: (v := get(r)) is not None and v >= value


def _range_predicate(get: Getter, op: str, bounds: tuple[str, str]) -> Callable[[dict], bool]:
    start, end = bounds
    if op == "=":
        return lambda r: (v := get(r)) is not None and start <= v < end
    if op == "!=":
        return lambda r: (v := get(r)) is None or not (start <= v < end)
    if op == "<":
        return lambda r: (v := get(r)) is not None and v < start
    if op == "<=":
        return lambda r: (v := get(r)) is not None and v < end
    if op == ">":
        return lambda r: (v := get(r)) is not None and v >= end
    return lambda r: (v := get(r)) is not None and v >= start


def like_regex(pattern: str) -> re.Pattern[str]:
    """``%`` and ``_`` are wildcards; ``\\%`` and ``\\_`` are literal; case-insensitive."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "%_":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE | re.DOTALL)


# --- date keywords -------------------------------------------------------------------------


def _month_start(d: date, delta_months: int = 0) -> date:
    index = d.year * 12 + (d.month - 1) + delta_months
    return date(index // 12, index % 12 + 1, 1)


def _quarter_start(d: date, delta: int = 0) -> date:
    first = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return _month_start(first, 3 * delta)


def date_literal_range(word: str, n: int | None, today: date) -> tuple[date, date]:
    """[start, end) in days for a SOQL date keyword (week starts on Sunday, org time is UTC)."""
    day = timedelta(days=1)
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)
    n = n or 0
    ranges = {
        "TODAY": lambda: (today, today + day),
        "YESTERDAY": lambda: (today - day, today),
        "TOMORROW": lambda: (today + day, today + 2 * day),
        "THIS_WEEK": lambda: (week_start, week_start + 7 * day),
        "LAST_WEEK": lambda: (week_start - 7 * day, week_start),
        "NEXT_WEEK": lambda: (week_start + 7 * day, week_start + 14 * day),
        "THIS_MONTH": lambda: (_month_start(today), _month_start(today, 1)),
        "LAST_MONTH": lambda: (_month_start(today, -1), _month_start(today)),
        "NEXT_MONTH": lambda: (_month_start(today, 1), _month_start(today, 2)),
        "LAST_90_DAYS": lambda: (today - 90 * day, today + day),
        "NEXT_90_DAYS": lambda: (today + day, today + 91 * day),
        "THIS_QUARTER": lambda: (_quarter_start(today), _quarter_start(today, 1)),
        "LAST_QUARTER": lambda: (_quarter_start(today, -1), _quarter_start(today)),
        "NEXT_QUARTER": lambda: (_quarter_start(today, 1), _quarter_start(today, 2)),
        "THIS_YEAR": lambda: (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "LAST_YEAR": lambda: (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "NEXT_YEAR": lambda: (date(today.year + 1, 1, 1), date(today.year + 2, 1, 1)),
        "LAST_N_DAYS": lambda: (today - n * day, today + day),
        "NEXT_N_DAYS": lambda: (today + day, today + (n + 1) * day),
        "N_DAYS_AGO": lambda: (today - n * day, today - (n - 1) * day),
        "LAST_N_WEEKS": lambda: (week_start - 7 * n * day, week_start),
        "NEXT_N_WEEKS": lambda: (week_start + 7 * day, week_start + 7 * (n + 1) * day),
        "N_WEEKS_AGO": lambda: (week_start - 7 * n * day, week_start - 7 * (n - 1) * day),
        "LAST_N_MONTHS": lambda: (_month_start(today, -n), _month_start(today)),
        "NEXT_N_MONTHS": lambda: (_month_start(today, 1), _month_start(today, n + 1)),
        "N_MONTHS_AGO": lambda: (_month_start(today, -n), _month_start(today, -n + 1)),
        "LAST_N_QUARTERS": lambda: (_quarter_start(today, -n), _quarter_start(today)),
        "NEXT_N_QUARTERS": lambda: (_quarter_start(today, 1), _quarter_start(today, n + 1)),
        "LAST_N_YEARS": lambda: (date(today.year - n, 1, 1), date(today.year, 1, 1)),
        "NEXT_N_YEARS": lambda: (date(today.year + 1, 1, 1), date(today.year + n + 1, 1, 1)),
        "N_YEARS_AGO": lambda: (date(today.year - n, 1, 1), date(today.year - n + 1, 1, 1)),
    }
    return ranges[word]()


def malformed(text: str, error: SoqlError) -> SfError:
    return excerpt_error("MALFORMED_QUERY", text, error.pos, error.message)


def compile_query(text: str, resolver: Resolver) -> CompiledQuery:
    try:
        query = parse(text)
    except SoqlError as error:
        raise malformed(text, error) from None
    return Compiler(resolver, query, text).compile()
