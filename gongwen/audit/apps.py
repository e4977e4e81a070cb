from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "gongwen.audit"
    label = "audit"
    verbose_name = "审计"
