from django.urls import path

from .views import audit, auth, shell, units, users

app_name = "web"

urlpatterns = [
    path("", shell.root, name="root"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("home/", shell.home, name="home"),
    path("inbox/", shell.inbox, name="inbox"),
    path("outbox/", shell.outbox, name="outbox"),
    path("drafts/", shell.drafts, name="drafts"),
    path("approvals/", shell.approvals, name="approvals"),
    path("sealing/", shell.sealing, name="sealing"),
    path("tracking/", shell.tracking, name="tracking"),
    path("seals/", shell.seals, name="seals"),
    path("stats/", shell.stats, name="stats"),
    path("directory/", shell.directory_view, name="directory"),
    path("units/", units.unit_list, name="units"),
    path("units/new/", units.unit_create, name="unit_create"),
    path("units/<int:unit_id>/", units.unit_detail, name="unit_detail"),
    path("units/<int:unit_id>/edit/", units.unit_edit, name="unit_edit"),
    path("units/<int:unit_id>/rename/", units.unit_rename, name="unit_rename"),
    path("units/<int:unit_id>/merge/", units.unit_merge, name="unit_merge"),
    path("units/<int:unit_id>/revoke/", units.unit_revoke, name="unit_revoke"),
    path("groups/", units.group_list, name="groups"),
    path("groups/new/", units.group_edit, name="group_create"),
    path("groups/<int:group_id>/", units.group_edit, name="group_edit"),
    path("users/", users.user_list, name="users"),
    path("users/new/", users.user_create, name="user_create"),
    path("users/<int:user_id>/", users.user_edit, name="user_edit"),
    path("users/<int:user_id>/unlock/", users.user_unlock, name="user_unlock"),
    path("users/<int:user_id>/password/", users.user_password, name="user_password"),
    path("audit/", audit.audit_list, name="audit"),
    path("audit/verify/", audit.audit_verify, name="audit_verify"),
]
