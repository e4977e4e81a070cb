from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "gongwen.policy"
    label = "policy"
    verbose_name = "权限与推行政策"
