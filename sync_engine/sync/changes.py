"""Reading what changed on each side since a cursor, cheaply.

Salesforce: one SOQL ``queryAll`` per object on ``SystemModstamp`` (so deletions and merges
show), several objects' queries in one ``composite`` call, later pages through
``nextRecordsUrl``. HubSpot: the search API on the modified date, windowed so that no window
asks past the 10,000-result cap.

Stamps are coarse (Salesforce keeps whole seconds) and commits land late, so every read starts
a little before the cursor (``OVERLAP``) and the cursor remembers which (id, stamp) pairs inside
that window it already handled.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

from dateutil import parser as date_parser
from django.db import transaction

from ..connectors.ahead import CallAhead
from ..connectors.salesforce.connector import salesforce_error
from ..errors import ApiLimitExceeded, RateLimited, RemoteError, TransientError
from ..models import Integration, SyncCursor

OVERLAP = timedelta(minutes=2)
SEARCH_PAGE = 200
COMPOSITE_QUERIES = 5  # query subrequests Salesforce accepts in one composite request
T = TypeVar("T")


def parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    text = str(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:  # the standard parser reads both CRMs' ISO stamps, far faster than dateutil
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = date_parser.isoparse(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def http_date(value: str | None) -> datetime | None:
    """A response's ``Date`` header: the server's clock, which stamps its records."""
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def soql_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")
_QUOTE_ASCII = {c: (chr(c) if chr(c) in _SAFE else f"%{c:02X}") for c in range(128)}


def url_quote(text: str) -> str:
    """``urllib.parse.quote(text)``, at C speed for ASCII text: a query of 300 ids or emails
    is long, and ``quote`` handles it byte by byte in Python."""
    return text.translate(_QUOTE_ASCII) if text.isascii() else quote(text)


def soql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# --- cursors --------------------------------------------------------------------------------
class Version:
    """One read of one record. Two edits within one second share a stamp but not a digest.

    The digest is taken only when asked: a cursor needs it for the versions inside its
    overlap and for records it has seen before, not for every record of a backfill."""

    __slots__ = ("id", "stamp", "_content", "_digest")

    def __init__(self, record_id: str, stamp: datetime | None, content: Any) -> None:
        self.id, self.stamp, self._content, self._digest = record_id, stamp, content, None

    @classmethod
    def of(cls, record_id: str, stamp: datetime | None, content: Any) -> Version:
        return cls(record_id, stamp, content)

    @property
    def digest(self) -> str:
        if self._digest is None:
            # ``repr`` of a read's plain values (text, numbers, None, nested dicts) is as
            # stable as JSON and takes half the time. Should a key order ever differ between
            # two reads of one version, the record is merely handled again, and found unchanged.
            text = repr(self._content).encode()
            self._digest = hashlib.sha1(text, usedforsecurity=False).hexdigest()[:16]
            self._content = None  # the digest is all a cursor keeps of it
        return self._digest

    @property
    def key(self) -> str:
        return f"{self.stamp.isoformat() if self.stamp else ''}|{self.digest}"


@dataclass
class Cursor:
    """A change stream's position plus the versions already handled inside the overlap."""

    row: SyncCursor
    # How far this cycle's read reaches when the change probe answered it (see cap_checks).
    cap: datetime | None = None
    # The ``latestDateCovered`` of this cycle's change probe, sent before this stream's read:
    # kept as ``probed_until`` once the read is complete (``mark_checked``).
    probed: datetime | None = None

    @classmethod
    def load(cls, integration: Integration, stream: str) -> Cursor:
        row, _ = SyncCursor.objects.get_or_create(integration=integration, stream=stream)
        return cls(row)

    @property
    def since(self) -> datetime | None:
        anchors = [t for t in (self.row.position, self.row.checked_at) if t is not None]
        return max(anchors) - OVERLAP if anchors else None

    @property
    def probe_from(self) -> datetime | None:
        """Where a change probe (getUpdated, getDeleted) must start to report every change
        this stream hasn't read: where its query starts, or later, at the ``latestDateCovered``
        of the probe before its last complete read (see ``SyncCursor.probed_until``). A burst
        of our own writes then leaves the probe's window a minute after it was read back,
        not only once the query's overlap has passed."""
        since = self.since
        probed = self.row.probed_until
        return max(since, probed) if since is not None and probed is not None else since

    def cap_checks(self, until: datetime) -> None:
        """This cycle's read of the stream reaches only ``until`` (a probe answered it), so
        later ``mark_checked`` calls in the cycle must not claim more."""
        self.cap = until

    def mark_checked(self, server_time: datetime | None) -> None:
        """A read that began at ``server_time`` went through every page: the next one needn't
        start earlier than the overlap before it, however long ago the last change was."""
        if server_time is not None and self.cap is not None:
            server_time = min(server_time, self.cap)
        row, changed = self.row, []
        if server_time is not None and not (row.checked_at and server_time <= row.checked_at):
            row.checked_at = server_time
            changed.append("checked_at")
        if self.probed is not None and (row.probed_until is None or self.probed > row.probed_until):
            row.probed_until = self.probed
            changed.append("probed_until")
        if changed:
            row.save(update_fields=[*changed, "updated_at"])

    def seen(self, version: Version) -> bool:
        if version.stamp is None:
            return False
        key = self.row.seen.get(version.id)
        return key is not None and key == version.key

    def advance(self, handled: list[Version]) -> None:
        """Move past the ``handled`` versions. Call inside the transaction that stores their
        effects, so a crash never moves the cursor past unsaved work."""
        stamps = [v.stamp for v in handled if v.stamp is not None]
        if not stamps:
            return
        position = max([*stamps, *([self.row.position] if self.row.position else [])])
        window_start = max(position, self.row.checked_at or position) - OVERLAP
        # Keys start with the stamp's ISO form (UTC), which sorts like the time itself.
        start = window_start.astimezone(UTC).isoformat()
        seen = {k: v for k, v in self.row.seen.items() if v >= start}
        for version in handled:
            if version.stamp is not None and version.stamp >= window_start:
                seen[version.id] = version.key
        if position == self.row.position and seen == self.row.seen:
            return  # a re-read of handled versions: nothing to write (seen can be large)
        self.row.position = position
        self.row.seen = seen
        self.row.save(update_fields=["position", "seen", "updated_at"])


# --- retries of idempotent calls ------------------------------------------------------------
def with_retries(fn: Callable[[], T], *, attempts: int = 4, base_delay: float = 0.5) -> T:
    """Run an idempotent call again after transient failures and rate limits (honouring
    ``Retry-After``). Never wrap creates: a 5xx may come after the write applied."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except (TransientError, RateLimited) as error:
            if attempt == attempts or isinstance(error, ApiLimitExceeded):
                raise
            delay = getattr(error, "retry_after", None) or base_delay * 2 ** (attempt - 1)
            time.sleep(min(delay, 10.0))
    raise AssertionError("unreachable")


# --- Salesforce -----------------------------------------------------------------------------
@dataclass
class SoqlStream:
    sobject: str
    fields: list[str]
    cursor: Cursor
    where: str = ""

    def remember(self, *, include_deleted: bool) -> None:
        """Keep this query's shape on the cursor, for the next cycle's prefetch."""
        shape = {
            "sobject": self.sobject,
            "fields": self.fields,
            "where": self.where,
            "all": include_deleted,
        }
        row = self.cursor.row
        if row.query != shape:
            row.query = shape
            row.save(update_fields=["query", "updated_at"])

    @classmethod
    def remembered(cls, row: SyncCursor) -> SoqlStream | None:
        """The stream as its last query ran (see ``remember``), if it has run."""
        shape = row.query
        if not shape:
            return None
        return cls(shape["sobject"], shape["fields"], Cursor(row), shape["where"])

    def soql(self) -> str:
        conditions = [self.where] if self.where else []
        if self.cursor.since:
            conditions.append(f"SystemModstamp >= {soql_datetime(self.cursor.since)}")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return (
            f"SELECT {', '.join(self.fields)} FROM {self.sobject}{where} "  # noqa: S608
            "ORDER BY SystemModstamp, Id"
        )


# The contact sync's stream of campaigns, read for their names (contacts.CampaignMemberships).
CAMPAIGN_NAMES_STREAM = "salesforce:Campaign:names"
# Streams read only for their object's updates, which seldom come: their deletes show on
# another stream (a campaign's members go to the recycle bin with it), so the probe asks
# getUpdated alone for an object only they read, and a read whose queries overflow a
# composite call sends that getUpdated in their stead (``first_pages``).
UPDATES_ONLY = frozenset({CAMPAIGN_NAMES_STREAM})


def _gate_start(stream: SoqlStream) -> datetime | None:
    """Where getUpdated can speak for ``stream`` from (its minute), or None: never read, or
    read too long ago for getUpdated."""
    since = stream.cursor.since
    if since is None or since < datetime.now(UTC) - REPLICATION_WINDOW:
        return None
    return since.replace(second=0, microsecond=0)


def replication_subrequest(
    version: str, sobject: str, start: datetime, reference: str, *, kind: str = "updated"
) -> dict:
    """A composite subrequest of getUpdated (or, ``kind`` "deleted", getDeleted) of
    ``sobject`` since ``start``."""
    # Salesforce caps the answer at its own clock (latestDateCovered), so an end beyond ours
    # keeps a Salesforce clock that runs ahead of this machine's fully covered.
    end = soql_datetime(max(datetime.now(UTC), start) + timedelta(days=1))
    return {
        "method": "GET",
        "url": f"/services/data/v{version}/sobjects/{sobject}/{kind}/"
        f"?start={quote(soql_datetime(start))}&end={quote(end)}",
        "referenceId": reference,
    }


def first_pages(
    salesforce, streams: list[SoqlStream], *, include_deleted: bool, gate: bool = True
) -> list[tuple[dict | None, datetime | None]]:
    """Each stream's first page, five queries to a composite call, with the server time it
    was read. With ``gate``, a stream of ``UPDATES_ONLY`` whose query would cost a call more
    sends getUpdated of its object in the first call instead: when that lists nothing since
    the stream's cursor its page is None, with how far the answer reaches
    (``latestDateCovered``); else its query follows in a call of its own."""
    version = salesforce.connection.api_version
    count = len(streams)
    gated = [
        i
        for i, stream in enumerate(streams)
        if gate and stream.cursor.row.stream in UPDATES_ONLY and _gate_start(stream)
    ]
    queried = [i for i in range(count) if i not in gated]
    calls = -(-count // COMPOSITE_QUERIES)
    if gated and calls <= max(1, -(-len(queried) // COMPOSITE_QUERIES)):
        gated, queried = [], list(range(count))  # their queries fit in the calls anyway
    out: list[tuple[dict | None, datetime | None]] = [(EMPTY_PAGE, None)] * count
    changed: list[int] = []
    for start in range(0, max(len(queried), 1), COMPOSITE_QUERIES):
        chunk = queried[start : start + COMPOSITE_QUERIES]
        subrequests = [
            query_subrequest(version, streams[i].soql(), f"q{i}", include_deleted=include_deleted)
            for i in chunk
        ]
        if start == 0:
            subrequests += [
                replication_subrequest(
                    version, streams[i].sobject, _gate_start(streams[i]), f"u{i}"
                )
                for i in gated
            ]
        if not subrequests:
            break
        # A query answered with a 5xx inside a successful call is retried as a whole call is.
        answers = with_retries(
            lambda s=subrequests: [
                (sub["referenceId"], query_answer(sub) if sub["referenceId"][0] == "q" else sub)
                for sub in salesforce.composite(s)["compositeResponse"]
            ]
        )
        read_at = last_response_date(salesforce)
        for reference, answer in answers:
            i = int(reference[1:])
            if reference[0] == "q":
                out[i] = (answer, read_at)
                continue
            body = answer.get("body")
            ok = answer.get("httpStatusCode") == 200 and isinstance(body, dict)
            covered = parse_time(body.get("latestDateCovered")) if ok else None
            if covered is None or body.get("ids"):
                changed.append(i)
            else:
                out[i] = (None, covered)
    if changed:
        pages = composite_query(
            salesforce, [streams[i].soql() for i in changed], include_deleted=include_deleted
        )
        read_at = last_response_date(salesforce)
        for i, page in zip(changed, pages, strict=True):
            out[i] = (page, read_at)
    return out


def composite_query(salesforce, soqls: list[str], *, include_deleted: bool) -> list[dict]:
    """Run queries five to a composite call (Salesforce allows 25 subrequests, but at most five
    of them queries or collections); returns each query's first page."""
    version = salesforce.connection.api_version
    pages: list[dict] = []
    for start in range(0, len(soqls), COMPOSITE_QUERIES):
        chunk = soqls[start : start + COMPOSITE_QUERIES]
        subrequests = [
            query_subrequest(version, soql, f"q{start + i}", include_deleted=include_deleted)
            for i, soql in enumerate(chunk)
        ]
        # A query answered with a 5xx inside a successful call is retried as a whole call is.
        pages += with_retries(
            lambda s=subrequests: [
                query_answer(sub) for sub in salesforce.composite(s)["compositeResponse"]
            ]
        )
    return pages


def query_subrequest(version: str, soql: str, reference: str, *, include_deleted: bool) -> dict:
    resource = "queryAll" if include_deleted else "query"
    return {
        "method": "GET",
        "url": f"/services/data/v{version}/{resource}/?q={url_quote(soql)}",
        "referenceId": reference,
    }


def query_answer(sub: dict) -> dict:
    """A query subrequest's first page, or its failure raised as the typed error the same
    answer to a whole request would be (a 5xx or a lock timeout is retried, not fatal)."""
    body = sub.get("body")
    if sub.get("httpStatusCode") != 200:
        first = body[0] if isinstance(body, list) and body else {}
        raise salesforce_error(
            first.get("message", f"composite query failed: {body}"),
            status=int(sub.get("httpStatusCode") or 0),
            code=first.get("errorCode", ""),
            raw=body,
            operation="composite",
        )
    return body


EMPTY_PAGE = {"totalSize": 0, "done": True, "records": []}


def stream_first_pages(
    ctx, streams: list[SoqlStream], *, include_deleted: bool
) -> tuple[list[dict], datetime | None]:
    """The first page of each stream's change query, and the server time the earliest of them
    was read (the streams count as read from then on). The one entry point every pair uses,
    so a cycle over every pair can answer the streams its change probe found unchanged with
    an empty page, and the others with the pages it read up front (see :class:`ChangeProbe`)."""
    probe = getattr(ctx, "probe", None)
    if probe is not None:
        probe.ensure(ctx)
    pages: list[dict | None] = [None] * len(streams)
    read_times: list[datetime | None] = []
    for i, stream in enumerate(streams):
        # Every read below comes after the probe: once complete, its latestDateCovered holds.
        stream.cursor.probed = probe.covered.get(stream.sobject) if probe is not None else None
        # A getUpdated read with the streams' queries (``first_pages``) is the stream's own
        # read, not the probe's answer.
        gated = probe.vouched.get(stream.cursor.row.stream) if probe is not None else None
        covered = gated or (probe.unchanged_until(stream) if probe is not None else None)
        if covered is not None:
            stream.cursor.cap_checks(covered)
            stream.cursor.mark_checked(covered)
            if gated is None:
                ctx.counts["streams_unchanged"] += 1
            pages[i] = EMPTY_PAGE
            continue
        prefetched = probe.take(stream, include_deleted=include_deleted) if probe else None
        if prefetched is not None:
            pages[i], read_at = prefetched
            read_times.append(read_at)
    asked = [i for i, page in enumerate(pages) if page is None]
    if asked:
        answers = first_pages(
            ctx.salesforce, [streams[i] for i in asked], include_deleted=include_deleted
        )
        for i, (page, when) in zip(asked, answers, strict=True):
            streams[i].remember(include_deleted=include_deleted)
            if page is None:  # getUpdated showed nothing new (``first_pages``)
                streams[i].cursor.cap_checks(when)
                streams[i].cursor.mark_checked(when)
                pages[i] = EMPTY_PAGE
                continue
            pages[i] = page
            read_times.append(when)
    known = [t for t in read_times if t is not None]
    read_started = min(known) if known else last_response_date(ctx.salesforce)
    return pages, read_started  # type: ignore[return-value]


def last_response_date(salesforce) -> datetime | None:
    last = salesforce.session.last_response
    return http_date(last.headers.get("Date") if last is not None else None)


COMPANY_PROPERTY = "associatedcompanyid"  # a HubSpot contact's primary company


@dataclass
class ContactCompanies:
    """What the contact sync's HubSpot read saw of each contact's primary company, for the
    company sync after it in the cycle: its own search of the same contacts would read the
    same pages again (every cycle: it is the only change feed of contact–company edits).
    ``since`` is where the read began (None: every contact), ``read_started`` the server time
    of its first page; ``rows`` are (contact id, company id, modified) for every contact read."""

    since: datetime | None
    read_started: datetime | None
    rows: list[tuple[str, str, str]]

    def covers(self, since: datetime | None) -> bool:
        """Whether this read saw every change a read from ``since`` would."""
        return self.since is None or (since is not None and self.since <= since)


PROBE_SUBREQUESTS = 25  # a composite request's limit; getUpdated/getDeleted aren't queries
# The objects the last cycle over every pair wrote in Salesforce (``ChangeProbe.writes_noted``).
WRITTEN_STREAM = "probe:written"
REPLICATION_WINDOW = timedelta(days=29)  # getUpdated answers for the last 30 days only


class ChangeProbe:
    """One cheap look at every synced Salesforce object before a cycle over all pairs.

    ``getUpdated`` and ``getDeleted`` for each object go into one ``composite`` request (they
    aren't queries, so Salesforce's five-query limit doesn't apply; two per object, 25 per
    call). An object with nothing updated or deleted since its streams' cursors needs no query
    this cycle, so an idle cycle costs one Salesforce call however many pairs are on.
    (Cycles come a minute apart; a stream read less than a minute ago is queried, since the
    probe's whole minutes can't speak for the seconds since.)

    The answer has minute granularity: it covers changes up to ``latestDateCovered`` (the
    last whole minute), and streams it answers are marked read only that far, so a change in
    the current minute is read by the next cycle."""

    def __init__(
        self, streams: list[str], pairs: list[str] | None = None, *, vouch: bool = True
    ) -> None:
        self.streams = list(dict.fromkeys(streams))  # cursor names, "salesforce:<object>..."
        # False for a cycle someone asked for just now (Sync now): the probe's whole minutes
        # can't speak for an edit made seconds ago, so every stream is queried (its riders and
        # the prefetch still share composite calls).
        self.vouch = vouch
        self.ran = False
        self.starts: dict[str, datetime] = {}
        self.unchanged: dict[str, datetime] = {}  # sobject -> covered until
        # sobject -> the probe's latestDateCovered, changes or not: the streams read after it
        # keep it as where their next probe starts (``Cursor.probe_from``).
        self.covered: dict[str, datetime] = {}
        self.rows: dict[str, SyncCursor] = {}
        # stream -> (query, include_deleted, first page, server time it was read)
        self.prefetched: dict[str, tuple[str, bool, dict, datetime | None]] = {}
        self.owners = None  # the cycle's ``owners.OwnerDirectory``, shared by its pairs
        # Sent early with a pair's own queries aboard (see ``ensure``): the first pages are
        # read when the first pair asks for its streams, not with the probe.
        self.prefetch_due = False
        self.pairs = list(pairs or [])  # the cycle's pairs, in order
        # The HubSpot contacts the contact sync read this cycle, for the company sync.
        self.contact_companies: ContactCompanies | None = None
        # HubSpot inclusion lists' members as first read this cycle, None for a list gone
        # from HubSpot (``pair.list_members_once``).
        self.list_members: dict[str, set[str] | None] = {}
        # Each list's joins as read this cycle, by the state they were read from, None for a
        # list gone (``pair.list_joins_once``).
        self.list_joins: dict[str, dict[str, tuple[list[str], dict] | None]] = {}
        # Streams a getUpdated read with the others' queries showed unchanged, and how far that
        # reaches (``_query_every_stream``): a change since is read by the next cycle.
        self.vouched: dict[str, datetime] = {}
        # The Salesforce objects this cycle writes (``written_to``), and those the last wrote.
        self.written: set[str] = set()
        self.written_last: set[str] = set()
        # Streams whose first pages rode in a write's call (``ride_after_write``).
        self.rode: set[str] = set()

    def written_to(self, sobject: str | None) -> None:
        """A pair of the cycle sends a create, update or upsert of ``sobject`` (None: a delete).
        First pages that rode in an earlier write's call and weren't taken yet no longer show
        the object as it is: they are dropped, and read again when asked for."""
        for name in [n for n in self.rode if sobject is None or n.split(":")[1] == sobject]:
            self.rode.discard(name)
            self.prefetched.pop(name, None)
        if sobject is not None:
            self.written.add(sobject)

    def ride_after_write(
        self, ctx, room: int
    ) -> tuple[list[dict], Callable[[list[dict]], None] | None]:
        """Queries for a write's call to carry after it, in its ``room``: while the first
        pages are still due (the probe went early with the contact sync's reads aboard, and
        that pair reads its streams only after its writes), the cycle's first write takes
        them, so they cost no call of their own. Returns their subrequests and what keeps
        their answers; pages read so are dropped by a later write of their object."""
        if not self.prefetch_due or room <= 0:
            return [], None
        due = self._due_streams()[:room]
        if not due:
            return [], None
        version = ctx.salesforce.connection.api_version
        subrequests = [
            query_subrequest(version, stream.soql(), f"ride_{i}", include_deleted=deleted_too)
            for i, (stream, deleted_too) in enumerate(due)
        ]

        def answered(answers: list[dict]) -> None:
            read_at = last_response_date(ctx.salesforce)
            for (stream, deleted_too), sub in zip(due, answers, strict=False):
                if sub.get("httpStatusCode") != 200:
                    continue  # the pair's own query meets the error
                name = stream.cursor.row.stream
                self.prefetched[name] = (stream.soql(), deleted_too, query_answer(sub), read_at)
                self.rode.add(name)

        return subrequests, answered

    def writes_noted(self, integration: Integration) -> None:
        """At the cycle's end: the objects it wrote, for the next cycle's probe to read their
        streams first (our writes are newer than this cycle's probe: the next reports them).
        One row update, only when they differ from the last cycle's."""
        if self.written == self.written_last:
            return
        SyncCursor.objects.update_or_create(
            integration=integration,
            stream=WRITTEN_STREAM,
            defaults={"seen": dict.fromkeys(sorted(self.written), True)},
        )

    def ensure(
        self, ctx, *, carry: list[str] | None = None, not_yet: frozenset[str] = frozenset()
    ) -> list[dict] | None:
        """Send the probe, once a cycle. With ``carry``, queries (``queryAll``) of the first
        pair that it needs before it reads its streams, the ``not_yet`` ones (the contact sync
        reads the Salesforce side of its HubSpot changes, then writes Salesforce, then reads
        its streams): the probe goes now with them aboard and returns their first pages, so
        they cost no call of their own; the streams' first pages are then read when a pair
        first asks for them, and the probe's own call carries only other streams. None when
        the queries can't go aboard (no probe this cycle, or no room): the pair reads them."""
        if self.ran:
            if self.prefetch_due and carry is None:
                self.prefetch_due = False
                self._prefetch(ctx)
            return None
        early = carry is not None
        starts = self._starts(ctx.integration)
        if early:
            room = min(COMPOSITE_QUERIES, PROBE_SUBREQUESTS - self._probe_size(starts))
            queried = [name for name in self.streams if name not in UPDATES_ONLY]
            if len(queried) <= COMPOSITE_QUERIES or not starts or len(carry) > room:
                # No probe now (a cycle of few streams reads them in one call; nothing to
                # probe; no room aboard): the pair reads for itself, the probe goes later.
                return None
        self.ran, self.starts = True, starts
        if not early and (self._query_every_stream(ctx) or not self.starts):
            return None
        version = ctx.salesforce.connection.api_version
        updates_only = self._updates_only()
        carried = carry or []  # fits: checked above
        kinds, riders = self._riders_aboard(updates_only, len(carried), not_yet if early else None)
        subrequests = [
            replication_subrequest(version, sobject, start, f"{kind}_{sobject}", kind=kind)
            for sobject, start in self.starts.items()
            for kind in kinds[sobject]
        ]
        # After the probe's own subrequests: the streams they read are read after it, so the
        # probe's latestDateCovered holds for them (``Cursor.probed``).
        subrequests += [
            query_subrequest(version, soql, f"carry_{i}", include_deleted=True)
            for i, soql in enumerate(carried)
        ] + [
            query_subrequest(version, soql, f"page_{i}", include_deleted=deleted_too)
            for i, (_, soql, deleted_too) in enumerate(riders)
        ]
        answers: dict[str, dict] = {}
        carried_pages: list[dict] = [EMPTY_PAGE] * len(carried)
        try:
            for start in range(0, len(subrequests), PROBE_SUBREQUESTS):
                chunk = subrequests[start : start + PROBE_SUBREQUESTS]
                response = with_retries(lambda c=chunk: ctx.salesforce.composite(c))
                read_at = last_response_date(ctx.salesforce)
                for sub in response.get("compositeResponse", []):
                    if sub["referenceId"].startswith("carry_"):
                        carried_pages[int(sub["referenceId"][6:])] = query_answer(sub)
                    elif sub["referenceId"].startswith("page_"):
                        stream, soql, deleted_too = riders[int(sub["referenceId"][5:])]
                        if sub.get("httpStatusCode") == 200:
                            page = query_answer(sub)
                            self.prefetched[stream] = (soql, deleted_too, page, read_at)
                    elif sub.get("httpStatusCode") == 200 and isinstance(sub.get("body"), dict):
                        answers[sub["referenceId"]] = sub["body"]
        except RemoteError:  # transient failures and rate limits included
            self.prefetched.clear()
            return None  # no probe: every stream is queried, as without one
        for sobject in self.starts:
            updated, deleted = answers.get(f"updated_{sobject}"), answers.get(f"deleted_{sobject}")
            if "deleted" not in kinds[sobject] and updated:
                deleted = {"latestDateCovered": updated.get("latestDateCovered")}
            if not updated or not deleted:
                continue
            covered = [parse_time(updated.get("latestDateCovered"))]
            covered.append(parse_time(deleted.get("latestDateCovered")))
            if not all(covered):
                continue
            self.covered[sobject] = min(covered)  # type: ignore[type-var]
            # Deletes unasked (every stream rides, and reads them) vouch for nothing.
            vouchable = "deleted" in kinds[sobject] or sobject in updates_only
            nothing = not updated.get("ids") and not deleted.get("deletedRecords")
            if self.vouch and vouchable and nothing:
                self.unchanged[sobject] = min(covered)  # type: ignore[type-var]
        if early:
            self.prefetch_due = True
            return carried_pages
        self._prefetch(ctx)
        return None

    def _riders_aboard(
        self, updates_only: set[str], carried: int, not_yet: frozenset[str] | None
    ) -> tuple[dict[str, tuple[str, ...]], list[tuple[str, str, bool]]]:
        """What the probe's call asks of each object (getUpdated, getDeleted) and the streams
        whose first pages ride in it (``_likely_streams``), in the room its ``carried``
        queries and Salesforce's limits leave. When the subrequests leave room for fewer than
        the five queries a call takes, an object whose every stream rides is asked no
        getDeleted (its queries read the deletes themselves), to make room for one more."""
        kinds = {
            sobject: ("updated",) if sobject in updates_only else ("updated", "deleted")
            for sobject in self.starts
        }
        while True:
            size = sum(len(asked) for asked in kinds.values())
            room = min(COMPOSITE_QUERIES, PROBE_SUBREQUESTS - size) - carried
            riders = self._likely_streams(room, skip=not_yet or frozenset())
            if PROBE_SUBREQUESTS - size >= COMPOSITE_QUERIES:
                return kinds, riders
            riding = {name for name, _, _ in riders}
            whole = [
                sobject
                for sobject, asked in kinds.items()
                if "deleted" in asked and self._streams_of(sobject) <= riding
            ]
            if not whole:
                return kinds, riders
            for sobject in whole:
                kinds[sobject] = ("updated",)

    def _likely_streams(
        self, room: int, *, skip: frozenset[str] = frozenset()
    ) -> list[tuple[str, str, bool]]:
        """Up to ``room`` probed streams to read in the probe's own call: first those of the
        objects the last cycle wrote (the probe reports our writes, newer than the last read),
        then those whose latest change is the most recent (a stream that just changed tends to
        change again), as ``(stream, query, include_deleted)`` from the query each ran last
        time."""
        candidates = []
        for name in self.streams:
            if name in skip:
                continue
            row = self.rows.get(name)
            stream = SoqlStream.remembered(row) if row is not None else None
            if stream is None or stream.sobject not in self.starts:
                continue
            written = stream.sobject in self.written_last
            if written or row.position:
                likely = (written, row.position or datetime.min.replace(tzinfo=UTC))
                candidates.append((likely, name, stream, bool(row.query["all"])))
        candidates.sort(key=lambda c: c[0], reverse=True)
        return [(name, stream.soql(), deleted_too) for _, name, stream, deleted_too in candidates][
            : max(0, room)
        ]

    def _streams_of(self, sobject: str) -> set[str]:
        """The cycle's streams of ``sobject`` (cursor names, "salesforce:<object>...")."""
        return {name for name in self.streams if name.split(":")[1] == sobject}

    def _updates_only(self) -> set[str]:
        """The objects only ``UPDATES_ONLY`` streams read: getUpdated alone speaks for them."""
        objects = {name.split(":")[1] for name in self.streams}
        return {sobject for sobject in objects if self._streams_of(sobject) <= UPDATES_ONLY}

    def _probe_size(self, starts: dict[str, datetime]) -> int:
        """The subrequests probing ``starts`` takes: getUpdated and getDeleted per object."""
        updates_only = self._updates_only()
        return sum(1 if sobject in updates_only else 2 for sobject in starts)

    def _query_every_stream(self, ctx) -> bool:
        """A cycle of five streams or fewer (the contact sync, alone or with companies) needs
        no probe: the streams' own queries fit in the one composite call the probe would cost,
        and answer to the second rather than the minute (``UPDATES_ONLY`` streams beyond five,
        by a getUpdated in that call). True when they were read so."""
        rows = [self.rows.get(name) for name in self.streams]
        shapes = [row.query if row is not None else None for row in rows]
        queried = [name for name in self.streams if name not in UPDATES_ONLY]
        if not shapes or len(queried) > COMPOSITE_QUERIES or not all(shapes):
            return False
        if len({bool(shape["all"]) for shape in shapes}) != 1:
            return False
        streams = [SoqlStream.remembered(row) for row in rows]
        return self._read_up_front(ctx, streams, include_deleted=bool(shapes[0]["all"]), gate=True)

    def _prefetch(self, ctx) -> None:
        """The first pages of the streams the probe can't answer, five to a composite call
        (a cycle with changes in several pairs' objects would otherwise spend a call per
        pair), from the query each stream ran last time. A pair whose query has changed since
        (a new mapping, say) runs its own; see :meth:`take`."""
        wanted: dict[bool, list[SoqlStream]] = {True: [], False: []}
        for stream, include_deleted in self._due_streams():
            wanted[include_deleted].append(stream)
        for include_deleted, streams in wanted.items():
            if streams and not self._read_up_front(ctx, streams, include_deleted=include_deleted):
                return

    def _due_streams(self) -> list[tuple[SoqlStream, bool]]:
        """The probed streams it can't answer and nothing has read yet, in the cycle's order,
        each with the query it ran last time and whether that reads deletes."""
        due = []
        for name in self.streams:
            row = self.rows.get(name)
            stream = SoqlStream.remembered(row) if row is not None else None
            if stream is None or stream.sobject not in self.starts or name in self.prefetched:
                continue
            if self.unchanged_until(stream) is None:
                due.append((stream, bool(row.query["all"])))
        return due

    def _read_up_front(
        self, ctx, streams: list[SoqlStream], *, include_deleted: bool, gate: bool = False
    ) -> bool:
        """Read the streams' first pages, five to a composite call, for the pairs to take
        (with ``gate``, see ``first_pages``). False when Salesforce refused: the pairs then
        query their streams themselves."""
        soqls = [stream.soql() for stream in streams]
        try:
            pages = first_pages(ctx.salesforce, streams, include_deleted=include_deleted, gate=gate)
        except RemoteError:
            return False
        for stream, soql, (page, when) in zip(streams, soqls, pages, strict=True):
            name = stream.cursor.row.stream
            if page is None:
                self.vouched[name] = when  # type: ignore[assignment]
            else:
                self.prefetched[name] = (soql, include_deleted, page, when)
        return True

    def take(self, stream: SoqlStream, *, include_deleted: bool) -> tuple[dict, Any] | None:
        """The first page read up front for ``stream`` and when it was read, if it was read
        with the very query the pair would run now."""
        entry = self.prefetched.pop(stream.cursor.row.stream, None)
        if entry is None:
            return None
        soql, deleted_too, page, read_at = entry
        if soql != stream.soql() or deleted_too != include_deleted:
            return None
        return page, read_at

    def _starts(self, integration: Integration) -> dict[str, datetime]:
        """Where each object's probe window begins: the earliest read position (to the
        minute) of the cycle's streams of that object. Objects with a stream never read, or
        read too long ago for getUpdated, aren't probed: their streams are queried."""
        starts: dict[str, datetime] = {}
        unprobed: set[str] = set()
        oldest = datetime.now(UTC) - REPLICATION_WINDOW
        rows = self.rows = {
            row.stream: row
            for row in SyncCursor.objects.filter(
                integration=integration, stream__in=[*self.streams, WRITTEN_STREAM]
            )
        }
        written = rows.pop(WRITTEN_STREAM, None)
        self.written_last = set(written.seen or {}) if written is not None else set()
        for stream in self.streams:
            sobject = stream.split(":")[1]
            since = Cursor(rows[stream]).probe_from if stream in rows else None
            if since is None or since < oldest:
                unprobed.add(sobject)
                continue
            since = since.replace(second=0, microsecond=0)
            starts[sobject] = min(since, starts.get(sobject, since))
        return {k: v for k, v in starts.items() if k not in unprobed}

    def unchanged_until(self, stream: SoqlStream) -> datetime | None:
        """When the probe shows ``stream`` has nothing new: how far that answer reaches."""
        covered = self.unchanged.get(stream.sobject)
        since = stream.cursor.probe_from
        if covered is None or since is None or since < self.starts[stream.sobject]:
            return None
        checked = stream.cursor.row.checked_at
        if checked is not None and covered <= checked:
            # Read less than a minute ago: the probe's whole minutes say nothing about the
            # time since then, and only a query reads it now rather than a minute later.
            return None
        return covered


def salesforce_pages(salesforce, first_page: dict) -> Iterator[list[dict]]:
    """The records of a query page by page. The next page is sent for while the caller
    handles this one (see :mod:`sync_engine.connectors.ahead`)."""
    page = first_page
    ahead = None
    try:
        while True:
            url = None if page.get("done", True) else page.get("nextRecordsUrl")
            if url:
                ahead = CallAhead.send(
                    lambda u=url: salesforce.query_more(u),
                    integration=salesforce.integration,
                    system=salesforce.system,
                    operation="query.more",
                )
            yield page.get("records", [])
            if not url:
                return
            page = with_retries(first_then(ahead, lambda u=url: salesforce.query_more(u)))
            ahead = None
    finally:
        if ahead is not None:
            ahead.discard()


def first_then(ahead: CallAhead | None, read: Callable[[], T]) -> Callable[[], T]:
    """For ``with_retries``: the read sent ahead the first time, ``read()`` after that."""
    if ahead is None:
        return read
    pending = [ahead]

    def attempt() -> T:
        return pending.pop().result() if pending else read()

    return attempt


def ids_queries(
    sobject: str,
    fields: list[str],
    ids: list[str],
    *,
    key: str = "Id",
    where: str = "",
    size: int = 300,
) -> list[str]:
    """SOQL for the records whose ``key`` is one of ``ids`` (and that meet ``where``), ``size``
    values to a query (fewer for long values such as names, to keep the URL short)."""
    field_list = ", ".join(fields)
    condition = f"{where} AND " if where else ""
    return [
        f"SELECT {field_list} FROM {sobject} WHERE {condition}{key} IN "  # noqa: S608
        f"({', '.join(soql_string(i) for i in ids[start : start + size])})"
        for start in range(0, len(ids), size)
    ]


def all_records(salesforce, first_page: dict) -> Iterator[dict]:
    """Every record of a query, from its first page on."""
    for records in salesforce_pages(salesforce, first_page):
        yield from records


def salesforce_by_ids(
    salesforce,
    sobject: str,
    fields: list[str],
    ids: list[str],
    *,
    key: str = "Id",
    include_deleted: bool = False,
) -> list[dict]:
    """Records whose ``key`` (their id by default) is one of ``ids``, through SOQL, five
    queries of 300 ids per composite call (1,500 a call); with ``include_deleted``, records
    in the recycle bin come back with ``IsDeleted``."""
    if not ids:
        return []
    pages = composite_query(
        salesforce, ids_queries(sobject, fields, ids, key=key), include_deleted=include_deleted
    )
    return [record for page in pages for record in all_records(salesforce, page)]


# --- HubSpot --------------------------------------------------------------------------------
def hubspot_changes(
    hubspot,
    *,
    object_type: str,
    modified_property: str,
    since: datetime | None,
    properties: list[str],
    limit: int,
) -> Iterator[list[Any]]:
    """Search pages of records modified at or after ``since``, oldest first.

    Pages follow a key, (stamp, id) of the last record read, never an offset: the sync writes
    to records while it reads, which moves them to the end of the order, and an offset would
    then skip records it never saw. Every query also stays under the 10,000-result cap.

    Pages after the first stop at the second the first one was answered (its Date header):
    records the sync itself writes meanwhile are left to the next cycle, whose read starts at
    or before that second, instead of being read again now, page after page.

    The next page is asked for as soon as its key is known, and travels while the caller
    handles this one (:mod:`sync_engine.connectors.ahead`): it is sent before the caller's
    writes of this page, so at most it sees fewer of them, which the next cycle reads anyway."""

    def search(groups: list[dict]) -> Any:
        return hubspot.search(
            object_type=object_type,
            filter_groups=groups,
            sorts=[{"propertyName": modified_property, "direction": "ASCENDING"}],
            properties=properties,
            limit=SEARCH_PAGE,
        )

    stamp_ms = round(since.timestamp() * 1000) if since else None
    until_ms: int | None = None
    delivered = 0
    ahead = None
    groups = _search_groups(modified_property, stamp_ms, None, None)
    try:
        while delivered < limit:
            page = with_retries(first_then(ahead, lambda g=groups: search(g)))
            ahead = None
            results = list(page.results or [])
            if not results:
                return
            if until_ms is None:
                answered = http_date(hubspot.server_date)
                until_ms = round(answered.timestamp() * 1000) + 999 if answered else None
            delivered += len(results)
            more = bool(page.paging and page.paging.next) and delivered < limit
            if more:
                last = results[-1]
                # round, not int: a float product like 1764400000122.9999 must stay ...123
                stamp_ms = round(
                    parse_time(last.properties.get(modified_property)).timestamp() * 1000
                )
                groups = _search_groups(modified_property, stamp_ms, int(last.id), until_ms)
                ahead = CallAhead.send(
                    lambda g=groups: search(g),
                    integration=hubspot.integration,
                    system=hubspot.system,
                    operation=f"{object_type}.search",
                )
            yield results
            if not more:
                return
    finally:
        if ahead is not None:
            ahead.discard()


def _search_groups(
    modified_property: str, stamp_ms: int | None, last_id: int | None, until_ms: int | None
) -> list[dict]:
    """Filter groups for the records after the key (stamp, id), up to ``until_ms``."""
    if stamp_ms is None:
        groups = []
    elif last_id is None:
        groups = [{"filters": [_filter(modified_property, "GTE", stamp_ms)]}]
    else:  # after (stamp, id): a later stamp, or the same stamp and a higher id
        groups = [
            {"filters": [_filter(modified_property, "GT", stamp_ms)]},
            {
                "filters": [
                    _filter(modified_property, "EQ", stamp_ms),
                    _filter("hs_object_id", "GT", last_id),
                ]
            },
        ]
    if until_ms is not None:
        bound = _filter(modified_property, "LTE", until_ms)
        groups = [{"filters": [*g["filters"], bound]} for g in groups] or [{"filters": [bound]}]
    return groups


def _filter(name: str, operator: str, value: int) -> dict:
    return {"propertyName": name, "operator": operator, "value": str(value)}


# A cycle's message while the inclusion list chosen on the Contacts tab is gone from HubSpot
# (deleted there: its memberships answer 404). The dashboard knows it by this wording
# (``list_missing_id``) and tells it in the reader's language.
LIST_MISSING = (
    "The inclusion list chosen on the Contacts tab (HubSpot list {list_id}) no longer exists "
    "in HubSpot. Contacts are held as if outside the list until another list, or none, is "
    "chosen there."
)
_LIST_MISSING = re.compile(re.escape(LIST_MISSING).replace(r"\{list_id\}", r"([^)]+)"))


def list_missing_message(list_id: str) -> str:
    return LIST_MISSING.format(list_id=list_id)


def list_missing_id(message: str) -> str | None:
    """The id of the list a run found gone (its message is ``list_missing_message``)."""
    match = _LIST_MISSING.fullmatch(message or "")
    return match.group(1) if match else None


def hubspot_list_members(hubspot, list_id: str) -> set[str]:
    """The record ids in a HubSpot list (one call per 250 members; ``NotFound`` when HubSpot
    has no such list)."""
    members: set[str] = set()
    after = None
    while True:
        page = with_retries(lambda a=after: hubspot.list_memberships_page(list_id=list_id, after=a))
        members.update(str(m.record_id) for m in page.results or [])
        after = page.paging.next.after if page.paging and page.paging.next else None
        if not after:
            return members


LIST_PAGE = 250  # memberships per page: the most HubSpot serves


def _join_pages(hubspot, list_id: str, after: str | None) -> Iterator[tuple[str | None, list]]:
    """A list's memberships in the order they joined, from ``after``: each page (as
    ``(record id, join time)`` pairs) with the paging token that reads it again."""
    while True:
        page = with_retries(
            lambda a=after: hubspot.list_memberships_join_order_page(
                list_id=list_id, after=a, limit=LIST_PAGE
            )
        )
        joins = [(str(m.record_id), _utc_text(m.membership_timestamp)) for m in page.results or []]
        yield after, joins
        after = page.paging.next.after if page.paging and page.paging.next else None
        if not after:
            return


def _utc_text(value: Any) -> str:
    """A time as UTC ISO text with microseconds: such texts sort as the times do."""
    moment = parse_time(value)
    if moment is None:
        return ""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def hubspot_list_joins(hubspot, list_id: str, state: dict) -> tuple[list[str], dict]:
    """The records that joined a list since the read that returned ``state``, in the order
    they joined, and the state to keep for the next read.

    The state is the last page of memberships read (in join order, with the token that reads
    it again): an unchanged list costs one call, and whoever is on that page now or after it
    and wasn't on it then (or left and came back) joined since. A member leaving can move the
    page (a token may count positions): when none of its members is on it any more, the list
    is read from the start, and those who joined after the newest join known are the
    entrants. Without a state (a list just chosen) the list is read whole and nobody counts
    as an entrant: choosing a list starts no sync (spec §6.5)."""
    known: dict[str, str] | None = state.get("page")
    newest: str | None = state.get("newest")
    after = state.get("after") if known else None
    pages = _join_pages(hubspot, list_id, after)
    first = next(pages)
    moved = bool(after) and not any(record_id in known for record_id, _ in first[1])
    if moved:
        pages = _join_pages(hubspot, list_id, None)  # maybe past some who joined
        first = next(pages)
    entrants: list[str] = []
    last = first
    for token, joins in itertools.chain([first], pages):
        if known is not None:
            entrants += [
                record_id
                for record_id, joined in joins
                if (joined > newest if moved and newest else known.get(record_id) != joined)
            ]
        last = (token, joins)
    token, joins = last
    if joins:
        newest = max(joined for _, joined in joins)
    return entrants, {"list": list_id, "after": token, "page": dict(joins), "newest": newest}


def in_transaction(fn: Callable[[], T]) -> T:
    with transaction.atomic():
        return fn()
