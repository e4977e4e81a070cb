from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "gongwen.policy"
    label = "policy"
    verbose_name = "权限与推行政策"

    def ready(self) -> None:
        from gongwen.audit import actions

        for action, label in {"policy.phase_saved": "保存推行阶段",
                              "policy.phase_deleted": "删除推行阶段",
                              "policy.out_of_scope": "超出推行阶段传输范围，未予办理"}.items():
            actions.LABELS.setdefault(action, label)
