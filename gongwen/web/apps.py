from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "gongwen.web"
    label = "web"
    verbose_name = "网页界面"
