import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwen.settings")
application = get_wsgi_application()


def _settle() -> None:
    """Load the URL configuration now rather than on the first request, then freeze what
    start-up made (``gongwen.heap``): each gunicorn worker imports this module once."""
    from django.urls import get_resolver

    from gongwen.heap import freeze_startup_objects

    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    freeze_startup_objects()


_settle()
