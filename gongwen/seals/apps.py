from django.apps import AppConfig


class SealsConfig(AppConfig):
    name = "gongwen.seals"
    label = "seals"
    verbose_name = "电子印章"

    def ready(self) -> None:
        # Art. 9 / R-UNIT-2: a merged, renamed or revoked unit returns its seals.
        from gongwen.authority.services import certificate_revoked
        from gongwen.units.services import unit_retired

        from .services import on_certificate_revoked, on_unit_retired

        unit_retired.connect(on_unit_retired, dispatch_uid="seals.open_return_applications")
        # A seal certificate revoked in 证书管理 ends the seal too (one register, one truth).
        certificate_revoked.connect(on_certificate_revoked, dispatch_uid="seals.end_seal")
