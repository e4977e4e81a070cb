"""The workbench and the feature pages of later issues (they say 建设中 until built)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from gongwen.policy.permissions import Perm
from gongwen.units.selectors import directory, groups_for
from gongwen.web.workbench import tiles_for

from .common import paginate, requires, search_text


@login_required
def home(request):
    return render(request, "web/home.html", {"tiles": tiles_for(request.user)})


@requires(Perm.VIEW_DIRECTORY)
def directory_view(request):
    query = search_text(request)
    page = paginate(request, directory(query), per_page=50)
    template = "web/_directory_rows.html" if request.htmx else "web/directory.html"
    return render(request, template,
                  {"page": page, "q": query, "groups": groups_for(request.user.unit)})


def root(request):
    return redirect("web:home" if request.user.is_authenticated else "web:login")
