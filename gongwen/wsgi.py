import os

from django.core.wsgi import get_wsgi_application

from gongwen.heap import settle_django_process

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwen.settings")
application = get_wsgi_application()


# Each gunicorn worker imports this module once: its start-up ends here (gongwen.heap).
settle_django_process()
