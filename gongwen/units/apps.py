from django.apps import AppConfig


class UnitsConfig(AppConfig):
    name = "gongwen.units"
    label = "units"
    verbose_name = "单位"
