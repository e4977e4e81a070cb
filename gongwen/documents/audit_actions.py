"""Chinese labels of the documents app's audited actions (shown on the auditor page).
Merged into ``gongwen.audit.actions.LABELS`` when the app is ready."""

LABELS = {
    "document.created": "新建公文草稿",
    "document.updated": "修改公文草稿",
    "document.discarded": "删除公文草稿",
    "document.submitted": "提交核批",
    "document.withdrawn": "撤回核批",
    "document.approved": "核批签发（编发文字号）",
    "document.returned": "退回修改",
    "document.attachment_added": "上传附件",
    "document.attachment_removed": "删除附件",
    "document.attachment_moved": "调整附件顺序",
    "document.body_uploaded": "上传正文文件",
    "document.body_removed": "改用文字正文",
    "document.upload_refused": "拒收上传文件",
    "document.classified_refused": "拒绝密级公文",
    "document.correction_started": "起草更正公文",
    "document.forward_started": "起草转发公文",
    "document.forward_refused": "拒绝转发来文",
    "document.reply_started": "起草答复（批复、复函）",
    "document.reply_refused": "拒绝答复来文",
}
