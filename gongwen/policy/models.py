"""Roll-out policy as data (R-POLICY-1, R-POLICY-2; notice §1, §2).

The notice brings paperless exchange in by phases. Phase 1 (from 2006-07-24): networked units
only, and only documents issued in the name of the city government or its office, national
and provincial documents, and units' requests (请示) to the city government. Phase 2 (from
2007-01-01): every issuing unit, every document. Until the end of 2006 the city office also
sends its documents on paper (纸电并行), and units report their requests both ways.

Each phase is a row; the phase in force on a day is the one that started last on or before
it. No row at all means the operator has not configured a roll-out: nothing is restricted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RolloutPhase(models.Model):
    name = models.CharField("阶段名称", max_length=40, help_text="如“第一阶段”")
    starts_on = models.DateField("起始日期", unique=True)
    all_documents = models.BooleanField(
        "全部发文单位、全部文件", default=False,
        help_text="勾选：所有发文单位的所有文件均通过平台传输（第二阶段）；"
                  "不勾选：仅下列范围内的文件（第一阶段）")
    networked_only = models.BooleanField(
        "仅限已联网单位发文", default=True,
        help_text="传输范围为联入电子政务内网的单位；未联网单位不能通过平台发文")
    senders = models.ManyToManyField(
        "units.Unit", verbose_name="以其名义发文的单位", blank=True, related_name="+",
        help_text="以这些单位名义的发文在传输范围内，如市政府、市政府办公室，"
                  "以及省政府办公厅（省相关文件）")
    request_recipients = models.ManyToManyField(
        "units.Unit", verbose_name="请示的受理单位", blank=True, related_name="+",
        help_text="各联网单位向这些单位上报的请示在传输范围内，如市政府、市政府办公室")
    allow_forwarding = models.BooleanField(
        "转发国家、省相关文件", default=True,
        help_text="转发省级单位通过平台发来的公文（来文原件随文传输）在传输范围内")
    paper_parallel = models.BooleanField(
        "纸电并行", default=False,
        help_text="本阶段下发文件同时发送纸质件，上报的请示须同时报送纸质件和电子件；"
                  "只报送纸质件的请示不予受理")
    note = models.CharField("说明", max_length=300, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="修改人", null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "推行阶段"
        verbose_name_plural = "推行阶段"
        ordering = ["starts_on"]

    def __str__(self) -> str:
        return f"{self.name}（{self.starts_on:%Y-%m-%d} 起）"
