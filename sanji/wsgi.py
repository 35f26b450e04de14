"""WSGI entry point for gunicorn (``sanji serve``)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanji.settings")
application = get_wsgi_application()

# Import every URL pattern (and so every view and the API) now, not on the first request: under
# ``sanji serve`` this runs once in gunicorn's master before it forks the workers (preload_app).
get_resolver().url_patterns  # noqa: B018 — loaded for its side effect
