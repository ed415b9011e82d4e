"""A Content-Security-Policy header on every response (Django 5.2 has none built in).

The pages load only our own scripts (htmx and app.js from static/) and no inline script, so
``script-src 'self'`` holds; the policy itself comes from ``settings.CONTENT_SECURITY_POLICY``.
"""

from __future__ import annotations

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
