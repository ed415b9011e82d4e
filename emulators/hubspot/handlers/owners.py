"""Owners v3 (``/crm/v3/owners/``) and pipelines v3 for deals and tickets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.http import Request, Response
from ..errors import not_found, validation_error
from ..state import Owner
from ..timeutil import iso
from .common import body_object, decode_cursor, encode_cursor, flag, int_arg, ok

if TYPE_CHECKING:
    from ..app import HubSpotApp


# A pipeline or stage deleted through the API stays in the registry marked "deleted" (and
# archived, so record validation refuses it), its id never given out again; no read shows it.
HIDDEN = ("createdAt", "updatedAt", "deleted")


def pipeline_json(pipeline: dict) -> dict:
    out = {k: v for k, v in pipeline.items() if k not in (*HIDDEN, "stages")}
    out["createdAt"] = iso(pipeline["createdAt"])
    out["updatedAt"] = iso(pipeline["updatedAt"])
    out["stages"] = [stage_json(s) for s in live_stages(pipeline)]
    return out


def live_stages(pipeline: dict) -> list[dict]:
    return [s for s in pipeline["stages"] if not s.get("deleted")]


def stage_json(stage: dict) -> dict:
    out = {k: v for k, v in stage.items() if k not in HIDDEN}
    out["createdAt"] = iso(stage["createdAt"])
    out["updatedAt"] = iso(stage["updatedAt"])
    out["writePermissions"] = "CRM_PERMISSIONS_ENFORCEMENT"
    return out


class OwnerHandlers:
    def __init__(self, app: HubSpotApp) -> None:
        self.app = app

    def register(self) -> None:
        add = self.app.route
        add("GET", "/crm/v3/owners", self.get_page)
        add("GET", "/crm/v3/owners/{ownerId}", self.get_by_id)
        add("GET", "/crm/v3/pipelines/{objectType}", self.pipelines)
        add("POST", "/crm/v3/pipelines/{objectType}", self.create_pipeline)
        add("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}", self.pipeline)
        add("DELETE", "/crm/v3/pipelines/{objectType}/{pipelineId}", self.delete_pipeline)
        add("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}/stages", self.stages)
        add("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}/stages/{stageId}", self.stage)
        add("POST", "/crm/v3/pipelines/{objectType}/{pipelineId}/stages", self.create_stage)
        stage = "/crm/v3/pipelines/{objectType}/{pipelineId}/stages/{stageId}"
        add("PATCH", stage, self.patch_stage)
        add("DELETE", stage, self.delete_stage)

    # --- owners -------------------------------------------------------------------------
    def get_page(self, request: Request) -> Response:
        limit = int_arg(request, "limit", 100, low=1, high=500)
        start = decode_cursor(request.arg("after"))
        archived = flag(request, "archived")
        email = (request.arg("email") or "").lower()
        owners = sorted(
            (
                o
                for o in self.app.state.owners.values()
                if o.archived == archived
                and (not email or o.email.lower() == email)
                and int(o.id) >= start
            ),
            key=lambda o: int(o.id),
        )
        out: dict[str, Any] = {"results": [o.public() for o in owners[:limit]]}
        if len(owners) > limit:
            out["paging"] = {"next": {"after": encode_cursor(int(owners[limit].id))}}
        return ok(out)

    def get_by_id(self, request: Request) -> Response:
        key = request.params["ownerId"]
        id_property = request.arg("idProperty") or "id"
        if id_property not in ("id", "userId"):
            raise validation_error("idProperty must be id or userId")
        archived = flag(request, "archived")
        owner: Owner | None = None
        for candidate in self.app.state.owners.values():
            value = candidate.id if id_property == "id" else str(candidate.user_id)
            if value == key and candidate.archived == archived:
                owner = candidate
        if owner is None:
            raise not_found(f"No owner found for {id_property} {key}", context={"id": [key]})
        return ok(owner.public())

    # --- pipelines ----------------------------------------------------------------------
    def _pipelines(self, request: Request) -> tuple[str, dict[str, dict]]:
        object_type = self.app.crm.object_type(request.params["objectType"])
        return object_type.id, self.app.state.registry.pipelines.setdefault(object_type.id, {})

    def _pipeline(self, request: Request) -> dict:
        _type_id, pipelines = self._pipelines(request)
        pipeline = pipelines.get(request.params["pipelineId"])
        if pipeline is None or pipeline.get("deleted"):
            raise not_found(f"Unable to find pipeline {request.params['pipelineId']}")
        return pipeline

    def pipelines(self, request: Request) -> Response:
        _type_id, pipelines = self._pipelines(request)
        ordered = sorted(pipelines.values(), key=lambda p: p["displayOrder"])
        return ok({"results": [pipeline_json(p) for p in ordered if not p["archived"]]})

    def pipeline(self, request: Request) -> Response:
        return ok(pipeline_json(self._pipeline(request)))

    def stages(self, request: Request) -> Response:
        return ok({"results": [stage_json(s) for s in live_stages(self._pipeline(request))]})

    def stage(self, request: Request) -> Response:
        for stage in live_stages(self._pipeline(request)):
            if stage["id"] == request.params["stageId"]:
                return ok(stage_json(stage))
        raise not_found(f"Unable to find stage {request.params['stageId']}")

    def create_pipeline(self, request: Request) -> Response:
        _type_id, pipelines = self._pipelines(request)
        body = body_object(request)
        if not body.get("label") or not isinstance(body.get("stages"), list):
            raise validation_error("label and stages are required")
        now = self.app.now_ms()
        number = len(pipelines) + 1
        # Sequential ids across all object types, like HubSpot's numeric pipeline ids.
        pipeline_id = str(1_000_000 + sum(map(len, self.app.state.registry.pipelines.values())))
        stages = []
        for i, stage in enumerate(body["stages"]):
            stages.append(
                {
                    "id": f"{pipeline_id}{i + 1}",
                    "label": stage.get("label", ""),
                    "displayOrder": int(stage.get("displayOrder", i)),
                    "archived": False,
                    "metadata": {k: str(v) for k, v in (stage.get("metadata") or {}).items()},
                    "createdAt": now,
                    "updatedAt": now,
                }
            )
        pipelines[pipeline_id] = {
            "id": pipeline_id,
            "label": body["label"],
            "displayOrder": int(body.get("displayOrder", number)),
            "archived": False,
            "stages": stages,
            "createdAt": now,
            "updatedAt": now,
        }
        return ok(pipeline_json(pipelines[pipeline_id]), 201)

    def delete_pipeline(self, request: Request) -> Response:
        """Records in it are left as they are."""
        pipeline = self._pipeline(request)
        pipeline["archived"] = pipeline["deleted"] = True
        pipeline["updatedAt"] = self.app.now_ms()
        return Response.empty(204)

    # --- pipeline stages (deal sync keeps its pipelines' stages in step) -------------------
    def create_stage(self, request: Request) -> Response:
        pipeline = self._pipeline(request)
        body = body_object(request)
        if not body.get("label"):
            raise validation_error("label is required")
        if any(s["label"] == body["label"] and not s["archived"] for s in pipeline["stages"]):
            raise validation_error(f"A stage with label {body['label']} already exists")
        now = self.app.now_ms()
        stage = {
            "id": f"{pipeline['id']}{len(pipeline['stages']) + 1}",
            "label": body["label"],
            "displayOrder": int(body.get("displayOrder", len(pipeline["stages"]))),
            "archived": False,
            "metadata": {k: str(v) for k, v in (body.get("metadata") or {}).items()},
            "createdAt": now,
            "updatedAt": now,
        }
        pipeline["stages"].append(stage)
        pipeline["updatedAt"] = now
        return ok(stage_json(stage), 201)

    def patch_stage(self, request: Request) -> Response:
        pipeline = self._pipeline(request)
        body = body_object(request)
        for stage in live_stages(pipeline):
            if stage["id"] == request.params["stageId"]:
                if "label" in body:
                    stage["label"] = str(body["label"])
                if "displayOrder" in body:
                    stage["displayOrder"] = int(body["displayOrder"])
                if "archived" in body:
                    stage["archived"] = bool(body["archived"])
                if "metadata" in body:
                    stage["metadata"] = {k: str(v) for k, v in (body["metadata"] or {}).items()}
                stage["updatedAt"] = pipeline["updatedAt"] = self.app.now_ms()
                return ok(stage_json(stage))
        raise not_found(f"Unable to find stage {request.params['stageId']}")

    def delete_stage(self, request: Request) -> Response:
        """Records in it are left as they are."""
        pipeline = self._pipeline(request)
        for stage in live_stages(pipeline):
            if stage["id"] == request.params["stageId"]:
                stage["archived"] = stage["deleted"] = True
                stage["updatedAt"] = pipeline["updatedAt"] = self.app.now_ms()
                return Response.empty(204)
        raise not_found(f"Unable to find stage {request.params['stageId']}")
