from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..roles import user_is_admin


class IsAdminOrReadOnly(BasePermission):
    """Logged-in people read; only integration admins (and superusers) change anything."""

    message = "Only integration admins can change settings; viewers can only read."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or user_is_admin(user)
