"""The production settings (DEBUG off, so Django's error handlers answer, not
its debug pages) without the manifest static storage, whose collectstatic takes
over a minute: the tests that serve the app with gunicorn fetch no static file."""

from workbench.settings import *  # noqa: F403

DEBUG = False
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
