"""Fixtures for the GB/T 9704 core: the seed notice, fonts, its layout and renditions."""

from __future__ import annotations

import shutil

import pytest

from gongwen.documents.gbt9704 import FontSet, layout_document, render_ofd, render_pdf

from .seed_notice import seed_notice


def needs_tool(*names: str):
    missing = [n for n in names if shutil.which(n) is None]
    return pytest.mark.skipif(bool(missing), reason=f"missing tool(s): {', '.join(missing)}")


@pytest.fixture(scope="session")
def fonts() -> FontSet:
    return FontSet.default()


@pytest.fixture(scope="session")
def seed_doc():
    return seed_notice()


@pytest.fixture(scope="session")
def seed_layout(seed_doc, fonts):
    return layout_document(seed_doc, fonts)


@pytest.fixture(scope="session")
def seed_pdf(seed_layout) -> bytes:
    return render_pdf(seed_layout)


@pytest.fixture(scope="session")
def seed_ofd(seed_layout) -> bytes:
    return render_ofd(seed_layout)
