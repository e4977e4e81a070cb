from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "gongwen.documents"
    label = "documents"
    verbose_name = "公文"

    def ready(self) -> None:
        from gongwen.audit import actions

        from .audit_actions import LABELS

        for action, label in LABELS.items():
            actions.LABELS.setdefault(action, label)
