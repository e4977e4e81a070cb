from django.apps import AppConfig


class AuthorityConfig(AppConfig):
    name = "gongwen.authority"
    label = "authority"
    verbose_name = "密码与证书"
