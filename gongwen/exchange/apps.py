from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "gongwen.exchange"
    label = "exchange"
    verbose_name = "公文交换"

    def ready(self) -> None:
        from gongwen.audit import actions

        from .audit_actions import LABELS

        for action, label in LABELS.items():
            actions.LABELS.setdefault(action, label)
