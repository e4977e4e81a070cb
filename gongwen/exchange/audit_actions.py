"""Chinese labels of the exchange app's audited actions (merged into the auditor page)."""

LABELS = {
    "exchange.dispatched": "分发公文",
    "exchange.opened": "打开来文",
    "exchange.verified": "来文核验",
    "exchange.signed": "签收公文（生成签收回执）",
    "exchange.returned": "退回来文",
    "exchange.auto_returned": "来文核验未通过，自动退回",
    "exchange.withdrawn": "撤回已发公文",
    "exchange.follow_up": "登记催办",
    "exchange.reminded": "发送超时未签收提醒",
    "exchange.printed": "打印来文（编号打印件）",
    "exchange.print_limit": "设定打印份数上限",
    "exchange.paper_copies": "登记纸质发文",
    "exchange.paper_received": "登记纸质件收到",
    "exchange.paper_arrival": "纸质来文登记",
    "exchange.paper_matched": "纸质来文与后到的电子件对应",
}
