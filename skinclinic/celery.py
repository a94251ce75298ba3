"""The Celery app. Without REDIS_URL (the embedded default) tasks run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skinclinic.settings")

app = Celery("skinclinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
