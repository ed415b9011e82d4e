"""Two roles, kept as groups: integration admins change settings, viewers only read.

Superusers count as admins. A user in neither group reads like a viewer. The groups are created
by the ``0001_roles`` data migration; put people in them on the Django admin's Users page.
"""

from __future__ import annotations

from functools import wraps

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ADMINS = "Integration admins"
VIEWERS = "Viewers"
ROLE_LABELS = {ADMINS: gettext_lazy("Integration admin"), VIEWERS: gettext_lazy("Viewer")}

_CACHE = "_integration_admin_is_admin"


def user_is_admin(user) -> bool:
    """True for superusers and members of "Integration admins" (one query, cached on the user)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, _CACHE):
        setattr(user, _CACHE, user.groups.filter(name=ADMINS).exists())
    return getattr(user, _CACHE)


def user_role_label(user) -> str:
    return str(ROLE_LABELS[ADMINS] if user_is_admin(user) else ROLE_LABELS[VIEWERS])


def forbidden_response(request: HttpRequest) -> HttpResponse:
    """403 with a message: as a flash for htmx requests, as a page otherwise."""
    message = _(
        "Only integration admins can change settings. You can look, but this change was not "
        "saved. Ask an admin to add you to the “Integration admins” group."
    )
    if getattr(request, "htmx", False):
        html = render_to_string(
            "integration_admin/partials/flash.html",
            {"flash_messages": [("error", message)]},
            request=request,
        )
        response = HttpResponseForbidden(html)
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "innerHTML"
        return response
    html = render_to_string("403.html", {"message": message}, request=request)
    return HttpResponseForbidden(html)


def admin_required(view):
    """For views that change something: admins pass, everyone else gets a 403 and a message.
    Use under ``login_required``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not user_is_admin(request.user):
            return forbidden_response(request)
        return view(request, *args, **kwargs)

    return wrapper
