"""Bulk API 2.0: ``/jobs/ingest`` (CSV upload, then per-row results) and ``/jobs/query``.

Jobs complete synchronously when their data is complete (ingest: ``UploadComplete``; query: at
creation); ``GET`` reports ``InProgress`` for a configurable number of polls first. Rows go
through the same write path as every other API, as the job's user. Job state lives in the org
(picklable); every Bulk call is an ordinary API call for the daily budget, and each upload
also counts against ``DailyBulkApiBatches`` (one batch per 10,000 rows).
"""

from __future__ import annotations

import base64
import csv
import io
import math
from typing import TYPE_CHECKING, Any

from ...core.http import Request, Response
from ..dml import Ctx
from ..errors import SfError
from ..query import OrgResolver
from ..soql import CountAll, SubQuery, compile_query, parse
from .collections import duplicate_external_id, external_id_key, repeated_external_ids

if TYPE_CHECKING:
    from ..app import SalesforceApp

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
INGEST_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
QUERY_OPERATIONS = ("query", "queryAll")
ROWS_PER_BATCH = 10_000
CHUNK_ROWS = 200  # rows Salesforce writes in one transaction within a batch
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_RECORDS = 50_000
NULL_MARKER = "#N/A"
COMPOUND_TYPES = ("address", "location")


def register(app: SalesforceApp) -> None:
    h = Bulk2(app)
    app.api("POST", "jobs/ingest", h.create_ingest)
    app.api("GET", "jobs/ingest", h.list_jobs("ingest"))
    app.api("GET", "jobs/ingest/{job_id}", h.get_job("ingest"))
    app.api("PATCH", "jobs/ingest/{job_id}", h.set_state("ingest"))
    app.api("DELETE", "jobs/ingest/{job_id}", h.delete_job("ingest"))
    app.api("PUT", "jobs/ingest/{job_id}/batches", h.upload)
    app.api("GET", "jobs/ingest/{job_id}/successfulResults", h.results("successful"))
    app.api("GET", "jobs/ingest/{job_id}/failedResults", h.results("failed"))
    app.api("GET", "jobs/ingest/{job_id}/unprocessedrecords", h.results("unprocessed"))
    app.api("GET", "jobs/ingest/{job_id}/unprocessedRecords", h.results("unprocessed"))
    app.api("POST", "jobs/query", h.create_query)
    app.api("GET", "jobs/query", h.list_jobs("query"))
    app.api("GET", "jobs/query/{job_id}", h.get_job("query"))
    app.api("PATCH", "jobs/query/{job_id}", h.set_state("query"))
    app.api("DELETE", "jobs/query/{job_id}", h.delete_job("query"))
    app.api("GET", "jobs/query/{job_id}/results", h.query_results)


def _error(code: str, message: str, status: int = 400) -> Response:
    return SfError(code, message, None, status).response()


def _csv_text(rows: list[list[str]], delimiter: str, line_ending: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_ending, quoting=csv.QUOTE_ALL)
    writer.writerows(rows)
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.endswith("+0000") and "T" in value:
        return value[:-5] + "Z"  # Bulk CSV renders datetimes in UTC with a Z
    return str(value)


class Bulk2:
    def __init__(self, app: SalesforceApp) -> None:
        self.app = app

    # --- common --------------------------------------------------------------------------
    def _job(self, request: Request, job_type: str) -> dict[str, Any]:
        job = self.app.org.bulk_jobs.get(request.params["job_id"])
        if job is None or job["info"]["jobType"] != job_type:
            raise _not_found()
        return job

    def _new_job(
        self, request: Request, job_type: str, body: dict[str, Any], obj_name: str
    ) -> dict[str, Any]:
        now = self.app.now_stamp()
        job_id = self.app.org.store.new_id("750")
        delimiter = body.get("columnDelimiter") or "COMMA"
        line_ending = body.get("lineEnding") or "LF"
        if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
            raise SfError(
                "INVALIDJOB", "InvalidJob : invalid columnDelimiter or lineEnding", None
            ).api_error()
        info = {
            "id": job_id,
            "operation": body.get("operation"),
            "object": obj_name,
            "createdById": request.sf_user,
            "createdDate": now,
            "systemModstamp": now,
            "state": "Open",
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(request.params["version"]),
            "jobType": job_type,
            "lineEnding": line_ending,
            "columnDelimiter": delimiter,
        }
        job = {"info": info, "polls_left": self.app.org.bulk_settings.get("in_progress_polls", 0)}
        self.app.org.bulk_jobs[job_id] = job
        return job

    @staticmethod
    def _pretends_running(job: dict[str, Any]) -> bool:
        """A finished job shown as still running for a few polls (``configure_bulk``)."""
        return job["info"]["state"] == "JobComplete" and job.get("polls_left", 0) > 0

    def _public(self, job: dict[str, Any], *, full: bool) -> dict[str, Any]:
        info = dict(job["info"])
        if self._pretends_running(job):
            info["state"] = "InProgress"
        if full:
            if info["jobType"] == "ingest":
                info.update(
                    numberRecordsProcessed=job.get("processed", 0),
                    numberRecordsFailed=len(job.get("failed", [])),
                    retries=0,
                    totalProcessingTime=0,
                    apiActiveProcessingTime=0,
                    apexProcessingTime=0,
                )
            else:
                info.update(
                    numberRecordsProcessed=len(job.get("ids", [])), retries=0, totalProcessingTime=0
                )
            if info["state"] == "Failed":
                info["errorMessage"] = job.get("error", "")
        if info["jobType"] == "ingest" and info["state"] == "Open":
            info["contentUrl"] = (
                f"services/data/v{info['apiVersion']:.1f}/jobs/ingest/{info['id']}/batches"
            )
        return info

    def list_jobs(self, job_type: str):
        def handler(request: Request) -> Response:
            records = [
                self._public(job, full=False)
                for job in self.app.org.bulk_jobs.values()
                if job["info"]["jobType"] == job_type
            ]
            return Response.json(200, {"done": True, "records": records, "nextRecordsUrl": None})

        return handler

    def get_job(self, job_type: str):
        def handler(request: Request) -> Response:
            job = self._job(request, job_type)
            public = self._public(job, full=True)
            if self._pretends_running(job):
                job["polls_left"] -= 1
            return Response.json(200, public)

        return handler

    def set_state(self, job_type: str):
        def handler(request: Request) -> Response:
            job = self._job(request, job_type)
            body = request.json() or {}
            wanted = body.get("state")
            state = "InProgress" if self._pretends_running(job) else job["info"]["state"]
            if wanted == "Aborted":
                if state in ("JobComplete", "Failed", "Aborted"):
                    return _error("INVALIDJOBSTATE", f"Job is already {state}")
                job["info"]["state"] = "Aborted"
                job["polls_left"] = 0
            elif wanted == "UploadComplete" and job_type == "ingest":
                if state != "Open":
                    return _error("INVALIDJOBSTATE", f"Job state is {state}, not Open")
                job["info"]["state"] = "UploadComplete"
                self._process_ingest(request, job)
            else:
                return _error("INVALIDJOBSTATE", f"Cannot change the state to {wanted}")
            job["info"]["systemModstamp"] = self.app.now_stamp()
            return Response.json(200, self._public(job, full=False))

        return handler

    def delete_job(self, job_type: str):
        def handler(request: Request) -> Response:
            job = self._job(request, job_type)
            if job["info"]["state"] in ("Open", "UploadComplete", "InProgress"):
                return _error("INVALIDJOBSTATE", "Abort the job before deleting it")
            del self.app.org.bulk_jobs[job["info"]["id"]]
            return Response.empty(204)

        return handler

    # --- ingest --------------------------------------------------------------------------
    def create_ingest(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return _error("INVALIDJOB", "InvalidJob : a JSON body is required")
        operation = body.get("operation")
        if operation not in INGEST_OPERATIONS:
            return _error("INVALIDJOB", f"InvalidJob : invalid operation: {operation}")
        obj = self.app.schema.get(str(body.get("object") or ""))
        if obj is None:
            return _error("INVALIDJOB", f"InvalidJob : Unable to find object: {body.get('object')}")
        if body.get("contentType", "CSV") != "CSV":
            return _error("INVALIDJOB", "InvalidJob : contentType must be CSV")
        ext = body.get("externalIdFieldName")
        if operation == "upsert":
            if not ext:
                return _error("INVALIDJOB", "InvalidJob : External ID was blank for " + obj.name)
            try:
                ext = self.app.writer.external_id_field(obj, ext, self.app.ctx(request)).name
            except SfError:
                return _error("INVALIDJOB", f"InvalidJob : Field name not found : {ext}")
        job = self._new_job(request, "ingest", body, obj.name)
        if ext:
            job["info"]["externalIdFieldName"] = ext
        job["data"] = []
        return Response.json(200, self._public(job, full=False))

    def upload(self, request: Request) -> Response:
        job = self._job(request, "ingest")
        if job["info"]["state"] != "Open":
            return _error("INVALIDJOBSTATE", "Job is not open for uploads", 409)
        if len(request.body) > MAX_UPLOAD_BYTES:
            return _error("INVALIDBATCH", "InvalidBatch : the upload is larger than 100 MB")
        text = request.body.decode("utf-8-sig")
        job["data"].append(text)
        rows = max(1, text.count("\n") - 1)
        at = self.app.clock.now().timestamp()
        self.app.org.bulk_batches.extend([at] * math.ceil(rows / ROWS_PER_BATCH))
        return Response.empty(201)

    def _process_ingest(self, request: Request, job: dict[str, Any]) -> None:
        info = job["info"]
        delimiter = DELIMITERS[info["columnDelimiter"]]
        header: list[str] | None = None
        rows: list[list[str]] = []
        for chunk in job.pop("data", []):
            reader = csv.reader(io.StringIO(chunk, newline=""), delimiter=delimiter)
            chunk_rows = [row for row in reader if row]
            if not chunk_rows:
                continue
            if header is None:
                header = chunk_rows[0]
            rows.extend(chunk_rows[1:])
        job["header"] = header or []
        job["successful"], job["failed"], job["unprocessed"] = [], [], []
        failure = self.app.org.bulk_settings.pop("fail_next_job", None)
        if failure:
            return self._fail(job, failure, rows)
        if header is None:
            return self._fail(job, "InvalidBatch : Empty CSV data", rows)
        obj = self.app.schema.objects[info["object"]]
        visible = self.app.visible_fields(obj, request.sf_user)
        for column in header:
            base = column.split(".")[0].lower()
            if base not in visible and base not in obj.relationships:
                return self._fail(job, f"InvalidBatch : Field name not found : {column}", rows)
        operation = info["operation"]
        if operation in ("delete", "hardDelete") and [h.lower() for h in header] != ["id"]:
            return self._fail(job, "InvalidBatch : The 'delete' batch must contain only 'Id'", rows)
        ctx = Ctx(
            user_id=request.sf_user, collection=True, version=request.params.get("version", "59.0")
        )
        writer = self.app.writer
        bodies = [_row_body(header, row) for row in rows]
        repeated: list[set[str]] = []
        if operation == "upsert":
            # Salesforce writes a job's rows 200 at a time; rows of one chunk that share an
            # external id all fail (rows in different chunks are an insert, then an update).
            ext_field = obj.fields[info["externalIdFieldName"]]
            repeated = [
                repeated_external_ids(bodies[i : i + CHUNK_ROWS], ext_field)
                for i in range(0, len(bodies), CHUNK_ROWS)
            ]
        for index, (row, body) in enumerate(zip(rows, bodies, strict=True)):
            record_id = next((v for k, v in body.items() if k.lower() == "id"), None)
            try:
                if operation == "insert":
                    created, record_id = True, writer.create(obj, body, ctx)
                elif operation == "update":
                    body = {k: v for k, v in body.items() if k.lower() != "id"}
                    if not record_id:
                        raise SfError("MISSING_ARGUMENT", "Id not specified in an update call", [])
                    created, record_id = False, writer.update(obj, record_id, body, ctx)
                elif operation == "upsert":
                    ext = info["externalIdFieldName"]
                    value = next((v for k, v in body.items() if k.lower() == ext.lower()), None)
                    if value and external_id_key(ext_field, value) in repeated[index // CHUNK_ROWS]:
                        raise duplicate_external_id(ext_field, value)
                    record_id, created = writer.upsert(obj, ext, value, body, ctx)
                else:
                    created, record_id = False, writer.delete(obj, record_id or "", ctx)
                    if operation == "hardDelete":
                        self._purge(obj.name, record_id)
                job["successful"].append([record_id, "true" if created else "false", *row])
            except SfError as error:
                fields = ",".join(error.fields or [])
                message = f"{error.code}:{error.message}:{fields} --"
                job["failed"].append([record_id or "", message, *row])
        job["processed"] = len(rows)
        info["state"] = "JobComplete"

    def _purge(self, obj_name: str, record_id: str) -> None:
        store = self.app.org.store
        for other_obj, table in store.tables.items():
            for child_id in [i for i, r in table.items() if r.get("_cascade_of") == record_id]:
                store.remove(other_obj, child_id)
        store.remove(obj_name, record_id)

    def _fail(self, job: dict[str, Any], message: str, rows: list[list[str]]) -> None:
        job["info"]["state"] = "Failed"
        job["error"] = message
        job["unprocessed"] = rows
        job["processed"] = 0

    def results(self, kind: str):
        def handler(request: Request) -> Response:
            job = self._job(request, "ingest")
            info = job["info"]
            header = job.get("header", [])
            if kind == "successful":
                rows = [["sf__Id", "sf__Created", *header], *job.get("successful", [])]
            elif kind == "failed":
                rows = [["sf__Id", "sf__Error", *header], *job.get("failed", [])]
            else:
                pending = job.get("unprocessed", [])
                rows = [header, *pending] if header else []
            text = _csv_text(
                rows, DELIMITERS[info["columnDelimiter"]], LINE_ENDINGS[info["lineEnding"]]
            )
            return Response.text(200, text, "text/csv")

        return handler

    # --- query ---------------------------------------------------------------------------
    def create_query(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return _error("INVALIDJOB", "InvalidJob : a JSON body is required")
        operation = body.get("operation")
        if operation not in QUERY_OPERATIONS:
            return _error("INVALIDJOB", f"InvalidJob : invalid operation: {operation}")
        soql = body.get("query")
        if not soql:
            return _error("INVALIDJOB", "InvalidJob : a query is required")
        query_all = operation == "queryAll"
        try:
            parsed = parse(soql)
            if any(isinstance(item, SubQuery | CountAll) for item in parsed.select):
                return _error(
                    "FEATURENOTENABLED",
                    "Bulk API 2.0 queries do not support COUNT() or nested queries",
                )
            if parsed.offset is not None:
                # Bulk API 2.0 refuses OFFSET (its results page with Sforce-Locator instead).
                return _error("API_ERROR", "OFFSET is not supported in Bulk Query")
            compiled = compile_query(soql, OrgResolver(self.app, request.sf_user, query_all))
        except SfError as error:
            return error.response()
        except Exception as error:  # a parse error: report it like the REST query would
            return _error("MALFORMED_QUERY", str(error))
        if any(f.field.type in COMPOUND_TYPES for f in compiled.fields):
            # Bulk queries read addresses and geolocations by their parts only.
            return _error("API_ERROR", "Selecting compound data not supported in Bulk Query")
        job = self._new_job(request, "query", body, compiled.obj.name)
        job["info"]["query"] = soql
        job["ids"] = [r["Id"] for r in self.app.queries.scan(compiled, query_all=query_all)]
        job["columns"] = [".".join(f.out_path) for f in compiled.fields]
        failure = self.app.org.bulk_settings.pop("fail_next_job", None)
        if failure:
            self._fail(job, failure, [])
        else:
            job["info"]["state"] = "JobComplete"
        self.app.org.bulk_query_jobs.append(self.app.clock.now().timestamp())
        public = self._public(job, full=False)
        public["state"] = "UploadComplete"  # what Salesforce answers at creation
        return Response.json(200, public)

    def query_results(self, request: Request) -> Response:
        job = self._job(request, "query")
        info = job["info"]
        if info["state"] != "JobComplete" or job.get("polls_left", 0) > 0:
            return _error("INVALIDJOBSTATE", "The job is not complete yet")
        try:
            max_records = int(request.arg("maxRecords") or DEFAULT_MAX_RECORDS)
        except ValueError:
            return _error("INVALIDREQUEST", "maxRecords must be a number")
        locator = request.arg("locator") or ""
        offset = _decode_locator(locator) if locator and locator != "null" else 0
        if offset is None:
            return _error("INVALIDLOCATOR", f"Invalid locator: {locator}")
        ids = job["ids"][offset : offset + max(1, max_records)]
        query_all = info["operation"] == "queryAll"
        compiled = compile_query(info["query"], OrgResolver(self.app, request.sf_user, query_all))
        obj_name = compiled.obj.name
        table = self.app.org.store.table(obj_name)
        rows: list[list[str]] = [job["columns"]]
        getters = [f.getter for f in compiled.fields]
        for record_id in ids:
            rec = table.get(record_id)
            if rec is None:
                continue
            rows.append([_cell(get(rec)) for get in getters])
        end = offset + len(ids)
        next_locator = _encode_locator(end) if end < len(job["ids"]) else "null"
        text = _csv_text(
            rows, DELIMITERS[info["columnDelimiter"]], LINE_ENDINGS[info["lineEnding"]]
        )
        response = Response.text(200, text, "text/csv")
        response.headers["Sforce-NumberOfRecords"] = str(len(rows) - 1)
        response.headers["Sforce-Locator"] = next_locator
        return response


def _row_body(header: list[str], row: list[str]) -> dict[str, Any]:
    """A CSV row as a write body: empty cells are left out, ``#N/A`` sets null, and
    ``Account.HubSpot_Id__c`` columns become references by external id."""
    body: dict[str, Any] = {}
    for column, value in zip(header, row, strict=False):
        if value == "":
            continue
        stored = None if value == NULL_MARKER else value
        if "." in column:
            rel, field = column.split(".", 1)
            body.setdefault(rel, {})[field] = stored
        else:
            body[column] = stored
    return body


def _encode_locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _decode_locator(locator: str) -> int | None:
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4)).decode()
        return int(text)
    except (ValueError, UnicodeDecodeError):
        return None


def _not_found() -> Exception:
    return SfError("NOT_FOUND", "The requested resource does not exist", None, 404).api_error()
