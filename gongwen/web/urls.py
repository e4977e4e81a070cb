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

# 证书管理 (issue 5): public CRL and CA certificate downloads (no login), operator pages and
# the holder's own key disks.
from .views import pki  # noqa: E402

urlpatterns += [
    path("pki/crl/<slug:ca>.crl", pki.crl_download, name="pki_crl"),
    path("pki/ca/<slug:ca>.crt", pki.ca_certificate_download, name="pki_ca_cert"),
    path("pki/", pki.pki_home, name="pki"),
    path("pki/init/", pki.pki_init, name="pki_init"),
    path("pki/cas/<slug:ca>/publish-crl/", pki.pki_publish_crl, name="pki_crl_publish"),
    path("pki/certs/", pki.pki_certs, name="pki_certs"),
    path("pki/certs/new/", pki.pki_issue, name="pki_issue"),
    path("pki/certs/<int:cert_id>/", pki.pki_cert_detail, name="pki_cert"),
    path("pki/certs/<int:cert_id>/revoke/", pki.pki_cert_revoke, name="pki_cert_revoke"),
    path("pki/certs/<int:cert_id>/download/<str:fmt>/", pki.pki_cert_download,
         name="pki_cert_download"),
    path("pki/keydisks/", pki.pki_keydisks, name="pki_keydisks"),
    path("pki/keydisks/<int:disk_id>/unlock/", pki.pki_keydisk_unlock,
         name="pki_keydisk_unlock"),
    path("pki/verify/", pki.pki_verify, name="pki_verify"),
    path("pki/my-keydisks/", pki.my_keydisks, name="my_keydisks"),
    path("pki/my-keydisks/<int:disk_id>/check/", pki.my_keydisk_check, name="my_keydisk_check"),
]
