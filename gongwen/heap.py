"""The garbage collector of a long-running process (web worker, task worker, benchmark).

A gongwen process holds a few hundred thousand objects from start-up on: Django, its URL
configuration and models, lxml, asn1crypto's specs, parsed certificates. None of them ever
becomes garbage, yet CPython's full (generation 2) collection walks them all every time it
runs: ~100 ms in ``gongwen bench exchange``, once every few hundred documents, about 0.5 ms
a document on average. :func:`freeze_startup_objects` moves them into the permanent
generation (``gc.freeze``, meant for this), so later full collections only walk what the
requests and tasks made. Collection itself stays on: cycles made after start-up are freed
as before.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_objects", "settle_django_process"]


def freeze_startup_objects() -> int:
    """Collect once, then exempt every object alive now from later collections. Call it
    once start-up is over (the application loaded and warmed). Returns the number of
    objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def settle_django_process() -> int:
    """The end of a Django process's start-up (a web worker, the task worker): the URL
    configuration is loaded now rather than on the first request or the first notice that
    links to a page (``reverse``; it imports every view module), then everything is frozen
    (:func:`freeze_startup_objects`). Django is imported here only, so that the freezing
    itself stays usable without it."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (loads the URL configuration)
    return freeze_startup_objects()
