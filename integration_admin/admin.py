"""The Django admin for what isn't the engine's: API tokens are listed (their short prefix),
never made or changed there (``manage.py api_token`` does, with an audit event); users can be
edited, and who gains or loses access (flags, groups, permissions, a password set for them) is
audit-logged; the periodic jobs are read-only (they
are declared in code)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from knox.admin import AuthTokenAdmin
from knox.models import AuthToken

from sync_engine.admin import ReadOnlyAdmin
from sync_engine.services import audit_event_record

admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(AuthTokenAdmin):
    list_display = ("token_key", "user", "created", "expiry")
    search_fields = ("token_key", "user__username")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- people and their roles: changed in the Django admin, written to the audit log ------------
User = get_user_model()
ROLE_FLAGS = ("is_active", "is_staff", "is_superuser")


def _roles(user) -> dict:
    """What decides a person's access: their flags and groups (empty for a new user)."""
    if user.pk is None:
        return {}
    stored = User.objects.filter(pk=user.pk).first()
    if stored is None:
        return {}
    return {
        **{flag: getattr(stored, flag) for flag in ROLE_FLAGS},
        "groups": sorted(stored.groups.values_list("name", flat=True)),
        "permissions": sorted(
            f"{app}.{codename}"
            for app, codename in stored.user_permissions.values_list(
                "content_type__app_label", "codename"
            )
        ),
    }


admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(UserAdmin):
    """Users as Django's admin edits them, with who gained or lost access in the audit log
    (the roles decide who may change settings)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        user = User.objects.filter(pk=object_id).first() if object_id else None
        before = _roles(user) if user else {}
        response = super().changeform_view(request, object_id, form_url, extra_context)
        saved = getattr(request, "_audited_user", None)
        if saved is not None:
            after = _roles(saved)
            changes = {
                key: {"from": before.get(key), "to": value}
                for key, value in after.items()
                if before.get(key) != value
            }
            if changes:
                audit_event_record(
                    action="user.roles_changed" if before else "user.created",
                    actor=request.user,
                    details={"username": saved.get_username(), "changes": changes},
                )
        return response

    def user_change_password(self, request, id, form_url=""):
        """Setting someone's password lets whoever set it sign in as them: logged."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = User.objects.filter(pk=id).first()
            audit_event_record(
                action="user.password_set",
                actor=request.user,
                details={"username": user.get_username() if user else str(id)},
            )
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        request._audited_user = obj

    def delete_model(self, request, obj):
        audit_event_record(
            action="user.deleted", actor=request.user, details={"username": obj.get_username()}
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            audit_event_record(
                action="user.deleted", actor=request.user, details={"username": user.get_username()}
            )
        super().delete_queryset(request, queryset)


# --- the periodic jobs: declared in sync_engine/schedules.py, shown read-only ----------------
class _ReadOnly(ReadOnlyAdmin):
    def get_actions(self, request):
        return {}  # no "run selected tasks", no bulk enable/disable


# Groups too: the roles are groups by name (made by a migration); renaming one changes access.
for _model in (
    Group,
    PeriodicTask,
    IntervalSchedule,
    CrontabSchedule,
    SolarSchedule,
    ClockedSchedule,
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _ReadOnly)
