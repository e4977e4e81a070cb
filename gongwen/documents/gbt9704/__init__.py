"""Django-free core of official documents per GB/T 9704-2012 《党政机关公文格式》.

Layers, one way: ``model`` → ``fonts`` → ``linebreak`` → ``layout`` → ``pdf`` / ``ofd``
(+ ``ofd_reader``). Public entry points::

    layout = layout_document(doc, FontSet.load(official_paths))
    pdf_bytes = render_pdf(layout)
    ofd_bytes = render_ofd(layout)
"""

from .fonts import FontError, FontRole, FontSet, FontSpec
from .layout import Layout, LayoutOptions, SealBox, layout_document
from .model import (
    Attachment,
    AttendanceLine,
    DocNumber,
    DocType,
    FormatVariant,
    Issuer,
    Level,
    ModelError,
    OfficialDocument,
    Paragraph,
    Secrecy,
    Urgency,
    body_from_text,
)
from .ofd import render_ofd
from .ofd_reader import OFDError, OFDReader
from .pdf import render_pdf

__all__ = [
    "Attachment",
    "AttendanceLine",
    "DocNumber",
    "DocType",
    "FontError",
    "FontRole",
    "FontSet",
    "FontSpec",
    "FormatVariant",
    "Issuer",
    "Layout",
    "LayoutOptions",
    "Level",
    "ModelError",
    "OFDError",
    "OFDReader",
    "OfficialDocument",
    "Paragraph",
    "SealBox",
    "Secrecy",
    "Urgency",
    "body_from_text",
    "layout_document",
    "render_ofd",
    "render_pdf",
]
