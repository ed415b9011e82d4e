"""The REST API under /api/v1/ (session authentication, login required)."""
