"""One sync cycle of one object pair: the lock, the run record, and what failures mean.

A cycle never spends past the allocation: when the budget says no, the run ends *paused* and
the integration shows it; the next cycle resumes by itself once the rolling window frees up.
Integration-level failures (credentials, API access) suspend syncing with the reason and what
to do, until someone fixes them. A Salesforce object the integration user may not use at all
stops only its pair, with an *Object permission* error that ends by itself once access is
given (checked every 20 minutes, one call); an object only a part of the pair reads (the contact
sync's lifecycle stages and campaigns property) stops only that part.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import socket
import uuid
from datetime import timedelta
from pathlib import Path

from django.db.models import Q
from django.utils import timezone

from ..budget import (
    ALLOCATION_USED,
    HUBSPOT_DAILY_LIMIT,
    ORG_LIMIT,
    budget_remaining,
    current_run,
)
from ..error_types import OBJECT_KEY
from ..errors import (
    ApiLimitExceeded,
    AuthExpired,
    BadRequest,
    BudgetExhausted,
    ConnectorError,
    PermissionDenied,
    RateLimited,
    RemoteError,
    TransientError,
)
from ..models import ApiCall, Integration, ObjectSync, SchemaCache, SyncError, SyncRun, System
from ..notifications import suspension_notify
from ..object_settings import PairRemoved
from ..selectors import object_check_asked, pair_object_refusals
from ..services import (
    SALESFORCE_OBJECTS,
    integration_set_state,
    object_sync_get_or_create,
    object_syncs_start,
    pair_object_access_back,
    pair_object_refused,
    schema_refresh,
)
from .changes import ChangeProbe
from .context import CycleContext
from .registry import is_pair, pair_class, pair_order, pair_streams

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # renewed at every committed batch
RETRY_CEILING = 0.75  # automatic retries stop past 75% of the allocation (spec §3.3)

# What a run says (its ``message``) and why a cycle suspended the integration (its
# ``state_reason``), in English as they are stored: the dashboard shows them in the reader's
# language (``integration_admin.labels.ENGINE_MESSAGE_LABELS``), the parts in braces filled in.
SYNC_OFF = "Sync is off for the whole integration: turn it back on on the Connection page."
OBJECT_SYNC_OFF = "Sync is off for this object."
INTERRUPTED = (
    "Interrupted: the worker stopped before the cycle finished; this cycle picked up where it "
    "left off."
)
STOPPED_UNEXPECTEDLY = "The cycle stopped unexpectedly."
TAKEN_OVER = (
    "Stopped: another worker took over after this cycle stalled for longer than its lease; "
    "that worker's cycle goes on from where this one stopped."
)
STOPPED_BY = "The cycle stopped unexpectedly: {error}"
NOT_SYNCING = "Integration {state}: {reason}"  # suspended or disconnected, and why
TEMPORARY_FAILURE = "Temporary failure, retried on the next cycle: {error}"
FIELDS_GONE = (
    "Salesforce no longer shows {fields} to the integration user (deleted, or hidden by "
    "field-level security): its fields were read again and the mappings of missing fields are "
    "left out. Restore the field or the user's access to it, then Refresh properties and "
    "fields on the object's tab; or remove the mapping."
)
# Salesforce's answer to a query naming a field it doesn't have (or hides from the user).
NO_SUCH_COLUMN = re.compile(r"No such column '([^']+)' on entity '([^']+)'")
FRESH_DESCRIBE = timedelta(minutes=5)  # a describe read since needn't be read again
# The pair's Salesforce object, which the integration user may not use at all (no Read:
# Salesforce doesn't know the type for it; or a request refused for the whole object).
OBJECT_NOT_ACCESSIBLE = (
    "Not syncing: the Salesforce integration user has no access to {objects} (see Object "
    "permission on Sync health). Checked again every 20 minutes, or at once on Resync."
)
# The run of a pair that goes on without its part that reads an object the user may not use
# (``optional_parts``: the contact sync's lifecycle stages and campaigns property).
PART_NOT_ACCESSIBLE = (
    "Synced, but not what needs {objects}: the Salesforce integration user has no access to "
    "it (see Object permission on Sync health). Checked again every 20 minutes, or at once on "
    "Resync."
)
NOT_SUPPORTED = re.compile(r"sObject type '(\w+)' is not supported")
ENTITY_REFUSED = re.compile(r"entity type cannot be \w+: (\w+)")
CREDENTIALS_REJECTED = "{system}: the credentials were rejected. Reconnect on the Connection tab."
ACCESS_DENIED = (
    "{system}: access denied ({code}). Give the integration user API access and the object "
    "permissions, then reconnect."
)
# HubSpot refuses an app a scope it wasn't granted (MISSING_SCOPES): no user or object
# permission of Salesforce's can mend that.
HUBSPOT_ACCESS_DENIED = (
    "HubSpot: access denied ({code}). The HubSpot app the integration connects with lacks a "
    "scope it needs: add the scope to the app in HubSpot (for a private app: its Scopes tab), "
    "then reconnect on the Connection tab with the new token, or clear the suspension if the "
    "token didn't change."
)


class SyncAlreadyRunning(Exception):
    pass


class LeaseLost(Exception):
    """The cycle's lease expired while it stalled and another worker took the pair over: the
    cycle stops at its next commit, which doesn't land, and writes no later batch, so two
    cycles of a pair don't go on side by side."""


@functools.cache
def _process_space() -> str:
    """Which pid space this process lives in: the boot (``/proc/sys/kernel/random/boot_id``)
    and the pid namespace (inode of ``/proc/self/ns/pid``), hashed to 12 characters. Containers
    often share a hostname (and a host its boot); only a holder with the same space names a
    pid we can check. Empty when neither can be read (then no lease is taken over early)."""
    parts = []
    with contextlib.suppress(OSError):
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip())
    with contextlib.suppress(OSError):
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    if len(parts) < 2:
        return ""
    return hashlib.sha1(":".join(parts).encode(), usedforsecurity=False).hexdigest()[:12]


def lock_holder_new() -> str:
    """host:pid:space:random (at most 64 characters), so a lease whose worker died in this
    same pid space (same boot, same pid namespace) can be taken over at once."""
    host = socket.gethostname()[:32]
    return f"{host}:{os.getpid()}:{_process_space() or '-'}:{uuid.uuid4().hex[:8]}"


def _holder_is_dead(holder: str) -> bool:
    parts = holder.split(":")
    if len(parts) != 4:
        return False  # an older holder without its pid space: only its lease expiry can tell
    host, pid, space, _ = parts
    here = _process_space()
    if host != socket.gethostname()[:32] or not here or space != here or not pid.isdigit():
        return False  # another machine's or container's worker: only its expiry can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def lock_acquire(row: ObjectSync, holder: str) -> bool:
    now = timezone.now()
    free = Q(lock_expires_at__isnull=True) | Q(lock_expires_at__lt=now) | Q(lock_holder=holder)
    taken = ObjectSync.objects.filter(pk=row.pk).filter(free)
    if taken.update(lock_holder=holder, lock_expires_at=now + LEASE):
        return True
    current = ObjectSync.objects.filter(pk=row.pk).values_list("lock_holder", flat=True).first()
    if current and _holder_is_dead(current):
        log.warning("taking over %s from a worker that died (%s)", row.object, current)
        return bool(
            ObjectSync.objects.filter(pk=row.pk, lock_holder=current).update(
                lock_holder=holder, lock_expires_at=now + LEASE
            )
        )
    return False


def lock_renew(row: ObjectSync, holder: str) -> bool:
    """Called as a cycle commits its batches: a long cycle keeps its lease. False when the
    lease is no longer ``holder``'s (it expired and another worker took it over)."""
    return bool(
        ObjectSync.objects.filter(pk=row.pk, lock_holder=holder).update(
            lock_expires_at=timezone.now() + LEASE
        )
    )


def lock_keep(row: ObjectSync, holder: str) -> None:
    """A cycle's heartbeat, run inside each commit's transaction: raises ``LeaseLost`` when
    another worker holds the pair now, so the stale cycle's batch isn't committed. (On
    PostgreSQL the renewal also keeps the lease row locked until the commit ends: a
    takeover waits for it, then finds the lease renewed.)"""
    if not lock_renew(row, holder):
        raise LeaseLost(f"{row.object}: the lease went to another worker")


def lock_release(row: ObjectSync, holder: str) -> None:
    ObjectSync.objects.filter(pk=row.pk, lock_holder=holder).update(
        lock_holder="", lock_expires_at=None
    )


def enabled_pairs(integration: Integration) -> list[str]:
    """The pairs switched on, in dependency order (accounts before people, people before
    what hangs off them, custom objects last)."""
    rows = ObjectSync.objects.filter(integration=integration, enabled=True)
    names = [row.object for row in rows if is_pair(row.object)]
    return sorted(names, key=lambda name: (pair_order(name), name))


def sync_cycles_run(
    *, integration: Integration, object_names: list[str] | None = None, trigger: str = "schedule"
) -> list[SyncRun]:
    """One cycle of each pair in ``object_names`` (default: every pair switched on), in
    dependency order, sharing one Salesforce change probe: an idle cycle over every pair costs
    one Salesforce call. A pair another worker holds is skipped (its own cycle covers it)."""
    if object_names is None:
        object_syncs_start(integration=integration)  # connected before contacts had a row
    names = object_names if object_names is not None else enabled_pairs(integration)
    names = sorted(dict.fromkeys(names), key=lambda name: (pair_order(name), name))
    options = dict(
        ObjectSync.objects.filter(integration=integration, object__in=names).values_list(
            "object", "options"
        )
    )
    held: dict[str, set[str]] = {}  # pair -> the objects it can't use (see _object_check)
    for name, sobject in SyncError.objects.filter(
        integration=integration,
        object__in=names,
        error_type="object_permission",
        record_key__startswith=OBJECT_KEY,
        resolved_at__isnull=True,
    ).values_list("object", "salesforce_type"):
        held.setdefault(name, set()).add(sobject)
    probe = ChangeProbe(
        [s for name in names for s in _probed_streams(name, options.get(name), held.get(name))],
        pairs=names,
        vouch=trigger != "manual",  # Sync now: an edit of seconds ago is read now
    )
    runs = []
    for name in names:
        try:
            runs.append(
                sync_cycle_run(
                    integration=integration, object_name=name, trigger=trigger, probe=probe
                )
            )
        except SyncAlreadyRunning:
            log.info("%s is already syncing; skipped in this cycle", name)
        except PairRemoved:
            log.info("%s was removed; skipped in this cycle", name)
        except Exception:
            # A defect in one pair mustn't stop the pairs after it: its run is marked failed
            # with the reason (see sync_cycle_run), and the next ones go on.
            log.exception("%s cycle failed unexpectedly; the other pairs go on", name)
            failed = (
                SyncRun.objects.filter(integration=integration, object=name).order_by("-id").first()
            )  # the run that just stopped
            if failed is not None:
                runs.append(failed)
    probe.writes_noted(integration)
    return runs


def sync_cycle_run(
    *,
    integration: Integration,
    object_name: str = "contacts",
    trigger: str = "schedule",
    probe: ChangeProbe | None = None,
) -> SyncRun:
    """Run one cycle now, in this process. Raises ``SyncAlreadyRunning`` if another worker
    holds the pair, and ``PairRemoved`` for a custom pair removed since the cycle was queued.
    ``probe`` is the change probe shared by a cycle over several pairs."""
    row = object_sync_get_or_create(integration=integration, object_name=object_name)
    holder = lock_holder_new()
    if not lock_acquire(row, holder):
        raise SyncAlreadyRunning(f"{object_name} is already syncing")
    # Runs still marked running belong to cycles that died (we hold the lease now).
    SyncRun.objects.filter(
        integration=integration, object=object_name, status=SyncRun.Status.RUNNING
    ).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        message=INTERRUPTED,
    )
    run = SyncRun.objects.create(integration=integration, object=object_name, trigger=trigger)
    calls_of = current_run.set(run.pk)  # the ledger rows of this thread's calls name the run
    try:
        _run(integration, object_name, run, trigger, row, holder, probe)
    except Exception as error:
        run.message = STOPPED_BY.format(error=error)[:500]
        raise
    finally:
        current_run.reset(calls_of)
        lock_release(row, holder)
        _finish(run)
    return run


def _run(
    integration: Integration,
    object_name: str,
    run: SyncRun,
    trigger: str,
    row: ObjectSync,
    holder: str,
    probe: ChangeProbe | None = None,
) -> None:
    integration.refresh_from_db()
    row.refresh_from_db()
    if not row.enabled:
        run.status, run.message = SyncRun.Status.SUCCEEDED, OBJECT_SYNC_OFF
        return
    if integration.state in (Integration.State.SUSPENDED, Integration.State.DISCONNECTED):
        run.status = SyncRun.Status.FAILED
        run.message = NOT_SYNCING.format(state=integration.state, reason=integration.state_reason)
        return
    if not integration.sync_enabled:
        # Asked for by hand (``manage.py sync_now``) while an admin has sync off: nothing is
        # read or written and the cursors stay, so turning sync on reads what changed meanwhile.
        run.status, run.message = SyncRun.Status.FAILED, SYNC_OFF
        return
    remaining = budget_remaining(integration=integration, system=System.SALESFORCE)
    if remaining is not None and remaining <= 0:
        # The run says why in the pause's own words, which the dashboard translates; the
        # counts show on the API call use panel.
        run.status, run.message = SyncRun.Status.PAUSED, ALLOCATION_USED
        _pause(integration, ALLOCATION_USED)
        return
    allocation = integration.salesforce_api_allocation
    try:
        retry_allowed = (
            trigger == "resync"
            or remaining is None
            or (allocation - remaining) < RETRY_CEILING * allocation
        )

        def context() -> CycleContext:
            # Building it may read both schemas (the first cycle): inside the try, so a
            # failure there ends the run like any other.
            ctx = CycleContext.build(integration=integration, object_name=object_name, run=run)
            ctx.heartbeat = lambda: lock_keep(row, holder)
            ctx.probe, ctx.retry_allowed = probe, retry_allowed
            if probe is not None:
                ctx.salesforce.on_write = probe.written_to
                ctx.salesforce.ride_along = functools.partial(probe.ride_after_write, ctx)
            ctx.counts.update(run.counts or {})  # a second try goes on counting
            run.counts = ctx.counts  # live counts, saved at the end
            return ctx

        held = _object_check(integration, object_name, retry_allowed)
        optional = _optional_objects(object_name)
        if not set(held) <= optional:
            run.status = SyncRun.Status.FAILED
            run.message = OBJECT_NOT_ACCESSIBLE.format(objects=", ".join(held))
            return
        parts_held = set(held)  # the pair syncs on without the part that reads them

        def pair_run(ctx: CycleContext) -> None:
            ctx.objects_held = frozenset(parts_held)
            try:
                pair_class(object_name)(ctx).run()
            except (BadRequest, PermissionDenied) as error:
                refused = _unusable_objects(integration, object_name, error)
                if not refused or not refused.keys() <= optional - parts_held:
                    raise
                # Found now: the Object permission error, and the pair again without that
                # part (what it committed stays; it reads on from there).
                for sobject, refusal in refused.items():
                    _object_refused(integration, object_name, sobject, refusal)
                parts_held.update(refused)
                pair_run(context())

        ctx = context()
        try:
            pair_run(ctx)
        except BadRequest as error:
            gone = _fields_gone(ctx, error)
            if not gone:
                raise
            # Read the fields again and try once more: the mappings of fields no longer
            # there are left out (mapped_field), as the mapping table then warns.
            schema_refresh(integration=integration, object_name=object_name)
            ctx = context()
            if any(field in ctx.salesforce_fields.get(sobject, {}) for sobject, field in gone):
                raise  # still described: something else is wrong with the query
            log.warning("%s: Salesforce fields gone: %s", object_name, gone)
            run.message = FIELDS_GONE.format(fields=", ".join(f"{o}.{f}" for o, f in gone))
            pair_run(ctx)
        run.status = SyncRun.Status.SUCCEEDED
        if parts_held and not run.message:
            run.message = PART_NOT_ACCESSIBLE.format(objects=", ".join(sorted(parts_held)))
        # Still paused now (not disconnected or suspended meanwhile): the pause is over.
        if Integration.objects.filter(pk=integration.pk, state=Integration.State.PAUSED).exists():
            integration_set_state(
                integration=integration, state=Integration.State.CONNECTED, reason=""
            )
    except LeaseLost as error:
        # Not a failure of the sync: the worker that took over carries on (and marked this
        # run interrupted when it started); this one only says why it stopped.
        log.warning("%s cycle stopped: %s", object_name, error)
        run.status, run.message = SyncRun.Status.FAILED, TAKEN_OVER
    except BudgetExhausted:
        run.status, run.message = SyncRun.Status.PAUSED, ALLOCATION_USED
        _pause(integration, ALLOCATION_USED)
    except ApiLimitExceeded as error:
        # Their own words for a daily limit vary; which system said it is what matters (the
        # advice differs: Salesforce frees calls as they age, HubSpot's reset at midnight).
        reason = ORG_LIMIT if error.system == System.SALESFORCE else HUBSPOT_DAILY_LIMIT
        run.status, run.message = SyncRun.Status.PAUSED, reason
        _pause(integration, reason)
    except AuthExpired as error:
        run.status, run.message = SyncRun.Status.FAILED, str(error)
        _suspend(integration, CREDENTIALS_REJECTED.format(system=error.system))
    except PermissionDenied as error:
        run.status, run.message = SyncRun.Status.FAILED, str(error)
        code = error.code or error.status
        if _pair_held_by(integration, object_name, run, error):
            pass  # that object's pair only, not the whole integration
        elif error.system == System.HUBSPOT:
            _suspend(integration, HUBSPOT_ACCESS_DENIED.format(code=code))
        elif _object_refusal(error):
            # Refused for an object no check found unusable (see _unusable_objects): this
            # run fails, as any refusal of the pair's; the next cycle tries again.
            log.warning("%s cycle failed: %s", object_name, error)
        else:
            _suspend(integration, ACCESS_DENIED.format(system=error.system, code=code))
    except (TransientError, RateLimited) as error:
        run.status = SyncRun.Status.FAILED
        run.message = TEMPORARY_FAILURE.format(error=error)
    except ConnectorError as error:
        run.status, run.message = SyncRun.Status.FAILED, str(error)
        if not _pair_held_by(integration, object_name, run, error):
            log.warning("%s cycle failed: %s", object_name, error)


def _object_check(integration: Integration, object_name: str, retry_allowed: bool) -> list[str]:
    """The Salesforce objects that hold the pair back (its open *Object permission* errors
    of a whole object), once checked: when due (every 20 minutes, not past the retry ceiling)
    or asked for (Resync), one ``SELECT Id … LIMIT 1`` each. An object the user may use again
    ends its error and no longer holds the pair; the pair then runs this very cycle."""
    refusals = pair_object_refusals(integration=integration, object_name=object_name)
    asked = object_check_asked(integration=integration, object_name=object_name)
    if not refusals:
        if asked:  # a Resync of an error that has ended meanwhile
            pair_object_access_back(integration=integration, object_name=object_name, sobjects=[])
        return []
    now = timezone.now()
    due = retry_allowed and all(e.next_retry_at and e.next_retry_at <= now for e in refusals)
    if not (due or asked):
        return [e.salesforce_type for e in refusals]
    errors = {error.salesforce_type: error for error in refusals}
    refused = _objects_refused(integration, list(errors))
    for sobject, refusal in refused.items():
        direction = errors[sobject].direction  # the way it was first refused
        _object_refused(integration, object_name, sobject, refusal, direction=direction)
    usable = [sobject for sobject in errors if sobject not in refused]
    pair_object_access_back(integration=integration, object_name=object_name, sobjects=usable)
    return list(refused)


def _objects_refused(integration: Integration, sobjects: list[str]) -> dict[str, RemoteError]:
    """Of these Salesforce objects, those the integration user may not use, with Salesforce's
    refusal: one ``SELECT Id … LIMIT 1`` each. The one check of a held object's access, so an
    object is held only while this finds it refused (see ``_unusable_objects``)."""
    from ..connectors.salesforce import SalesforceConnector

    salesforce = SalesforceConnector(integration=integration)
    refused: dict[str, RemoteError] = {}
    for sobject in sobjects:
        try:
            salesforce.query(f"SELECT Id FROM {sobject} LIMIT 1")  # noqa: S608 (a describe's name)
        except (BadRequest, PermissionDenied) as error:
            if _unusable_object(error, queried=sobject) is None:
                raise
            refused[sobject] = error
    return refused


def _optional_objects(object_name: str) -> frozenset[str]:
    """The Salesforce objects only a part of the pair reads (its ``optional_parts``: the
    contact sync's lifecycle stages from opportunities, its campaigns property from campaign
    members): without access to one of them the pair syncs on without that part."""
    parts = getattr(pair_class(object_name), "optional_parts", ())
    return frozenset().union(*parts)


def _probed_streams(
    object_name: str, options: dict | None, held: set[str] | None
) -> tuple[str, ...]:
    """The streams of the pair the cycle's change probe looks at: none of a pair held back
    by an object it can't use, and none of the parts its held optional objects stop."""
    streams = pair_streams(object_name, options)
    if not held:
        return streams
    if not held <= _optional_objects(object_name):
        return ()
    parts = getattr(pair_class(object_name), "optional_parts", ())
    stopped = frozenset().union(*(part for part in parts if part & held))
    return tuple(s for s in streams if s.split(":")[1] not in stopped)


def _unusable_object(error: ConnectorError, *, queried: str | None = None) -> str | None:
    """The Salesforce object ``error`` says the integration user may not use at all, or None:
    a query of a type Salesforce doesn't know for the user (no Read, as for an object that
    doesn't exist), or a request refused for the whole object (a 403, not a record's
    sharing). Salesforce names the object, or it is ``queried``: the one object the refused
    request read (a check's). A pair's refusal naming none: ``_unusable_objects``."""
    message = error.message or ""
    unknown_type = isinstance(error, BadRequest) and error.code == "INVALID_TYPE"
    if error.system == System.SALESFORCE and unknown_type:
        named = NOT_SUPPORTED.search(message)
        return named[1] if named else None
    if _object_refusal(error):
        named = ENTITY_REFUSED.search(message) or NOT_SUPPORTED.search(message)
        return named[1] if named else queried
    return None


def _object_refusal(error: ConnectorError) -> bool:
    """A Salesforce 403 about access (``INSUFFICIENT_ACCESS…``), not the connection's."""
    return (
        error.system == System.SALESFORCE
        and isinstance(error, PermissionDenied)
        and error.code.startswith("INSUFFICIENT_ACCESS")
    )


def _unusable_objects(
    integration: Integration, object_name: str, error: ConnectorError
) -> dict[str, RemoteError]:
    """The Salesforce objects the pair reads that ``error`` shows the user may not use, each
    with its refusal. A 403 naming no object may be about any of them (a part's campaign
    members or opportunities as much as the pair's leads): each one not held yet is checked as
    its hold would be (``_objects_refused``), so a hold is never pinned on an object the next
    check finds usable, to be released and held again every cycle. Found once per error (the
    checks cost a call each)."""
    if not hasattr(error, "unusable_objects"):
        named = _unusable_object(error)
        if named:
            error.unusable_objects = {named: error}
        elif _object_refusal(error):
            refusals = pair_object_refusals(integration=integration, object_name=object_name)
            held = {e.salesforce_type for e in refusals}  # not read now: not this refusal's
            read = [s for s in _read_objects(integration, object_name) if s not in held]
            error.unusable_objects = _objects_refused(integration, read)
        else:
            error.unusable_objects = {}
    return error.unusable_objects


def _read_objects(integration: Integration, object_name: str) -> list[str]:
    """The Salesforce objects the pair reads: its own, and those of its change streams with
    the rest of their part (the campaigns of campaign members)."""
    row = ObjectSync.objects.filter(integration=integration, object=object_name).first()
    options = (row.options if row else None) or {}
    custom = options.get("salesforce_object")
    read = [custom] if custom else list(SALESFORCE_OBJECTS.get(object_name, ()))
    read += [stream.split(":")[1] for stream in pair_streams(object_name, options)]
    for part in getattr(pair_class(object_name), "optional_parts", ()):
        if part & set(read):
            read += sorted(part)
    return list(dict.fromkeys(read))


def _refusal_words(message: str) -> str:
    """Salesforce's refusal as it said it, without the query a SOQL error repeats first (a
    long query would push the words that matter past what the error panel shows)."""
    named = NOT_SUPPORTED.search(message or "")
    return message[named.start() :] if named else message


def _pair_held_by(
    integration: Integration, object_name: str, run: SyncRun, error: ConnectorError
) -> bool:
    """When ``error`` says the integration user may not use a Salesforce object at all: the
    pair's *Object permission* error for it, the run saying so. False otherwise."""
    refused = _unusable_objects(integration, object_name, error)
    if not refused:
        return False
    for sobject, refusal in refused.items():
        _object_refused(integration, object_name, sobject, refusal)
    run.message = OBJECT_NOT_ACCESSIBLE.format(objects=", ".join(refused))
    return True


def _object_refused(
    integration: Integration,
    object_name: str,
    sobject: str,
    error: RemoteError,
    *,
    direction: str | None = None,
) -> None:
    """The pair's *Object permission* error for ``sobject``, as ``error`` refused it (in
    ``direction``, or the way of the refused request: a query's, to HubSpot)."""
    log.warning("%s: the integration user can't use %s: %s", object_name, sobject, error)
    pair_object_refused(
        integration=integration,
        object_name=object_name,
        sobject=sobject,
        code=error.code,
        message=_refusal_words(error.message),
        direction=direction
        or (
            SyncError.Direction.TO_HUBSPOT
            if isinstance(error, BadRequest)
            else SyncError.Direction.TO_SALESFORCE
        ),
    )


def _fields_gone(ctx: CycleContext, error: BadRequest) -> list[tuple[str, str]]:
    """(object, field) a Salesforce query was refused for that the pair's cached describe
    still lists, read over five minutes ago: deleted since it was read, or hidden from the
    integration user. A fresher describe that lists it wouldn't say otherwise when read again
    (the refusal has another cause), and another pair's object isn't this pair's to read."""
    if error.system != System.SALESFORCE or error.code != "INVALID_FIELD":
        return []
    custom = getattr(ctx.settings, "salesforce_object", None)
    own = {custom} if custom else set(SALESFORCE_OBJECTS.get(ctx.object_name, ()))
    gone = [
        (sobject, field)
        for field, sobject in NO_SUCH_COLUMN.findall(error.message or "")
        if sobject in own and field in ctx.salesforce_fields.get(sobject, {})
    ]
    fresh = SchemaCache.objects.filter(
        integration=ctx.integration,
        system=System.SALESFORCE,
        object__in={sobject for sobject, _ in gone},
        fetched_at__gte=timezone.now() - FRESH_DESCRIBE,
    ).exists()
    return [] if fresh else gone


def _pause(integration: Integration, reason: str) -> None:
    if integration.state != Integration.State.PAUSED or integration.state_reason != reason:
        integration_set_state(
            integration=integration, state=Integration.State.PAUSED, reason=reason
        )


def _suspend(integration: Integration, reason: str) -> None:
    integration_set_state(integration=integration, state=Integration.State.SUSPENDED, reason=reason)
    # ``integration`` as this cycle read it, before: says whether this is a new suspension.
    suspension_notify(integration=integration)


def _finish(run: SyncRun) -> None:
    run.finished_at = timezone.now()
    if run.status == SyncRun.Status.RUNNING:
        run.status = SyncRun.Status.FAILED
        run.message = run.message or STOPPED_UNEXPECTEDLY
    calls = ApiCall.objects.filter(run=run)
    run.salesforce_calls = calls.filter(system=System.SALESFORCE).count()
    run.hubspot_calls = calls.filter(system=System.HUBSPOT).count()
    run.counts = dict(run.counts or {})
    run.error_count = run.counts.get("failed", 0)
    run.save()
