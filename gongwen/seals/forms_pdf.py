"""The printable 电子印章申请表 (art. 7: 填写由市政府办公室制订的统一格式申请单)."""

from __future__ import annotations

import io
import threading

from django.utils import timezone

_lock = threading.Lock()  # reportlab's font registry is global


def _fmt(dt) -> str:
    return timezone.localtime(dt).strftime("%Y年%m月%d日 %H:%M") if dt else ""


def application_pdf(app, *, font_path: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    with _lock:
        if "GWSong" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("GWSong", font_path))
        body = ParagraphStyle("b", fontName="GWSong", fontSize=11, leading=16)
        title = ParagraphStyle("t", fontName="GWSong", fontSize=20, leading=28, alignment=1)
        seal = app.seal

        def p(text):
            return Paragraph(str(text or "").replace("\n", "<br/>"), body)

        rows = [
            [p("申请单位"), p(app.unit.name), p("申请事项"), p(app.get_kind_display())],
            [p("印章名称"), p(app.seal_name), p("原印章编码"), p(seal.es_id if seal else "—")],
            [p("印章管理员"), p(app.keeper.display_name if app.keeper else "—"),
             p("填表人"), p(app.applicant.display_name if app.applicant else "系统（第九条）")],
            [p("申请理由"), p(app.reason), "", ""],
            [p("单位负责人意见"), p(("同意。" + app.head_signer.display_name + " "
                                  + _fmt(app.head_signed_at)) if app.head_signer else ""), "", ""],
            [p("市政府办公室审批意见"), p(("同意。" + app.approver.display_name + " "
                                       + _fmt(app.approved_at)) if app.approver else ""), "", ""],
            [p("办理情况"), p(("已办理。" + app.executor.display_name + " "
                              + _fmt(app.executed_at)
                              + (f"，新印章编码 {app.result_seal.es_id}" if app.result_seal
                                 else "")) if app.executor else ""), "", ""],
        ]
        if app.rejected_at:
            rows.append([p("退回理由"), p(f"{app.rejection_reason}（{app.rejected_by.display_name}"
                                          f" {_fmt(app.rejected_at)}）"), "", ""])
        table = Table(rows, colWidths=[34 * mm, 56 * mm, 30 * mm, 50 * mm])
        style = [("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                 ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
        for r in range(3, len(rows)):
            style.append(("SPAN", (1, r), (3, r)))
        table.setStyle(TableStyle(style))
        buf = io.BytesIO()
        doc = SimpleDocTemplate(buf, pagesize=A4, title=f"电子印章申请表 #{app.pk}",
                                leftMargin=20 * mm, rightMargin=20 * mm, topMargin=25 * mm)
        doc.build([Paragraph("电子印章申请表", title), Spacer(1, 4 * mm),
                   Paragraph(f"编号：{app.pk}　　填表时间：{_fmt(app.filled_at)}　　状态："
                             f"{app.get_state_display()}", body), Spacer(1, 3 * mm), table,
                   Spacer(1, 6 * mm),
                   Paragraph("依据《连云港市政府机关电子印章管理暂行办法》第七条至第九条办理。", body)])
        return buf.getvalue()
