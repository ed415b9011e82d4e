import os

# pytest-django's live_server and sync Playwright share a thread with the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["emulators.testing"]
