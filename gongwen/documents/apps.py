from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "gongwen.documents"
    label = "documents"
    verbose_name = "公文"
