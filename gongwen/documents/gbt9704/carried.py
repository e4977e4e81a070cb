"""Files a rendition carries inside itself, byte for byte (R-FLOW-5, R-DOC-4).

A unit that forwards (转发) a national or provincial document, or sends an existing PDF/OFD as
its body or as file attachments, prints only a placeholder line on the page; the uploaded
file itself travels inside the rendition so that the unit's seal covers it and the recipient
can take it out unchanged (and verify its own seal):

* PDF: an embedded file stream (``/Type /EmbeddedFile``, ISO 32000-1 §7.11.4) under a file
  specification (``/Filespec`` with ``/EF``) named in the catalog's ``/Names /EmbeddedFiles``
  name tree and associated with the document through the catalog's ``/AF`` array and
  ``/AFRelationship`` (ISO 32000-2 §14.13, PDF/A-3 style): ``Source`` for the body file,
  ``Supplement`` for an attachment. Written in the original revision, before any signature,
  so the CMS signature's byte ranges cover it.
* OFD: GB/T 33190-2016 §7.7 attachments — ``Document.xml`` names
  ``<ofd:Attachments>`` → ``Attachments.xml`` with one ``<ofd:Attachment ID Name Format
  CreationDate Size Visible="false" Usage><ofd:FileLoc>`` per file; the file is a package
  member, so the GB/T 38540 seal signature lists it in its ``References`` (every member but
  Signatures.xml is protected, see ``gongwen.sealing.ofd_seal``).

Writers: :func:`gongwen.documents.gbt9704.pdf.render_pdf` and
:func:`gongwen.documents.gbt9704.ofd.render_ofd` take ``carried=``; the reader is
:mod:`gongwen.sealing.carried`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["ATTACHMENT", "BODY", "CarriedFile", "media_type", "unique_names"]

BODY = "Source"  # the uploaded body: the source of what the page shows
ATTACHMENT = "Supplement"  # an uploaded attachment file


@dataclass(frozen=True)
class CarriedFile:
    """One file to carry: ``name`` is the file name readers show, ``description`` the
    附件 title (or the body's label), ``relationship`` :data:`BODY` or :data:`ATTACHMENT`,
    ``created`` the date written as its creation/modification date (deterministic output:
    no clock is read)."""

    name: str
    data: bytes
    description: str = ""
    relationship: str = ATTACHMENT
    created: dt.date | None = None

    def __repr__(self) -> str:  # the bytes are not part of a readable repr
        return (f"CarriedFile(name={self.name!r}, size={len(self.data)}, "
                f"relationship={self.relationship!r})")

    @property
    def file_format(self) -> str:
        """"pdf", "ofd" or "" from the bytes (the name may lie)."""
        if self.data[:5] == b"%PDF-":
            return "pdf"
        if self.data[:2] == b"PK":
            return "ofd"
        return ""


def media_type(f: CarriedFile) -> str:
    return {"pdf": "application/pdf", "ofd": "application/ofd"}.get(
        f.file_format, "application/octet-stream")


def unique_names(files: tuple[CarriedFile, ...] | list[CarriedFile]) -> list[str]:
    """The files' names, made unique (a second "附件.pdf" becomes "附件(2).pdf"): the PDF
    name tree and a reader's list are keyed by name."""
    seen: set[str] = set()
    out: list[str] = []
    for f in files:
        name = (f.name or "附件").replace("/", "_").replace("\\", "_").strip() or "附件"
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{stem}({n}).{ext}" if ext else f"{stem}({n})"
        seen.add(candidate)
        out.append(candidate)
    return out
