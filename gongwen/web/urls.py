from django.urls import path

from .views import audit, auth, documents, exchange, pki, seals, shell, units, users
from .views import forwarding as forwarding_views
from .views import paper as paper_views
from .views import printing as printing_views
from .views import sealing as sealing_views
from .views import stats as stats_views

app_name = "web"

urlpatterns = [
    path("", shell.root, name="root"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("home/", shell.home, name="home"),
    path("drafts/", documents.drafts, name="drafts"),
    path("drafts/new/", documents.draft_create, name="draft_create"),
    path("drafts/preview/", documents.draft_preview, name="draft_preview"),
    path("drafts/<int:doc_id>/", documents.draft_edit, name="draft_edit"),
    path("drafts/<int:doc_id>/submit/", documents.draft_submit, name="draft_submit"),
    path("drafts/<int:doc_id>/withdraw/", documents.draft_withdraw, name="draft_withdraw"),
    path("drafts/<int:doc_id>/discard/", documents.draft_discard, name="draft_discard"),
    path("drafts/<int:doc_id>/attachments/", documents.attachment_add, name="attachment_add"),
    path("drafts/<int:doc_id>/attachments/<int:attachment_id>/<str:how>/",
         documents.attachment_change, name="attachment_change"),
    path("drafts/<int:doc_id>/body/", documents.body_upload, name="body_upload"),
    path("drafts/<int:doc_id>/body/remove/", documents.body_remove, name="body_remove"),
    path("approvals/", documents.approvals, name="approvals"),
    path("documents/<int:doc_id>/", documents.document_detail, name="document"),
    path("documents/<int:doc_id>/preview/", documents.document_preview,
         name="document_preview"),
    path("documents/<int:doc_id>/file.<str:fmt>", documents.document_rendition,
         name="document_rendition"),
    path("documents/<int:doc_id>/body-file/", documents.body_file, name="document_body_file"),
    path("documents/<int:doc_id>/attachments/<int:attachment_id>/", documents.attachment_file,
         name="attachment_file"),
    path("documents/<int:doc_id>/correct/", documents.document_correct,
         name="document_correct"),
    path("documents/<int:doc_id>/review/<str:decision>/", documents.document_review,
         name="document_review"),
    path("seals/", seals.register, name="seals"),
    path("stats/", stats_views.stats_view, name="stats"),
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
    path("account/tokens/", users.my_tokens, name="my_tokens"),
    path("audit/", audit.audit_list, name="audit"),
    path("audit/verify/", audit.audit_verify, name="audit_verify"),
    path("audit/export.csv", audit.audit_export, name="audit_export"),
]

# 证书管理 (issue 5): public CRL and CA certificate downloads (no login), operator pages and
# the holder's own key disks.

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
    path("pki/my-keydisks/<int:disk_id>/pin/", pki.my_keydisk_pin, name="my_keydisk_pin"),
    path("seals/register.csv", seals.register_csv, name="seal_register_csv"),
    path("seals/<int:seal_id>/", seals.seal_detail, name="seal"),
    path("seals/<int:seal_id>/image.png", seals.seal_image, name="seal_image"),
    path("seals/<int:seal_id>/history.csv", seals.seal_history_csv, name="seal_history_csv"),
    path("seals/applications/", seals.applications, name="seal_applications"),
    path("seals/applications/new/", seals.application_new, name="seal_application_new"),
    path("seals/applications/<int:app_id>/", seals.application_detail,
         name="seal_application"),
    path("seals/applications/<int:app_id>/form.pdf", seals.application_pdf,
         name="seal_application_pdf"),
    path("seals/applications/<int:app_id>/<str:action>/", seals.application_action,
         name="seal_application_action"),
    path("seals/workstations/", seals.workstations, name="seal_workstations"),
    path("seals/workstations/<int:ws_id>/<str:action>/", seals.workstation_action,
         name="seal_workstation_action"),
]

# 自建电子印章系统批准 (issue 6, attachment art. 4 para. 2).
urlpatterns += [
    path("seals/self-systems/", seals.self_systems, name="seal_self_systems"),
]

# 收文 / 发文 / 跟踪 / 通知 (issue 9, document exchange).

urlpatterns += [
    path("inbox/", exchange.inbox, name="inbox"),
    path("inbox/sign/", exchange.inbox_sign, name="inbox_sign"),
    path("inbox/<int:delivery_id>/", exchange.delivery_detail, name="delivery"),
    path("inbox/<int:delivery_id>/sign/", exchange.delivery_sign, name="delivery_sign"),
    path("inbox/<int:delivery_id>/return/", exchange.delivery_return, name="delivery_return"),
    path("inbox/<int:delivery_id>/file/", exchange.delivery_file, name="delivery_file"),
    path("inbox/<int:delivery_id>/print/", printing_views.delivery_print, name="delivery_print"),
    path("v/", printing_views.public_verify, name="public_verify_form"),
    path("v/<str:code>/", printing_views.public_verify, name="public_verify"),
    path("inbox/<int:delivery_id>/receipt.json", exchange.receipt_download, name="receipt"),
    path("inbox/<int:delivery_id>/follow-up/", exchange.follow_up, name="follow_up"),
    path("outbox/", exchange.outbox, name="outbox"),
    path("outbox/dispatch/", exchange.dispatch_documents, name="dispatch_documents"),
    path("outbox/dispatch/<int:doc_id>/", exchange.dispatch_document, name="dispatch_document"),
    path("outbox/<int:dispatch_id>/", exchange.dispatch_detail, name="dispatch"),
    path("outbox/<int:dispatch_id>/withdraw/", exchange.dispatch_withdraw,
         name="dispatch_withdraw"),
    path("outbox/<int:dispatch_id>/print-limit/", printing_views.dispatch_print_limit,
         name="dispatch_print_limit"),
    path("tracking/", exchange.tracking, name="tracking"),
    path("outbox/<int:dispatch_id>/paper/", paper_views.dispatch_paper, name="dispatch_paper"),
    path("inbox/<int:delivery_id>/paper-received/", paper_views.delivery_paper_received,
         name="delivery_paper_received"),
    path("inbox/paper/", paper_views.arrivals, name="paper_arrivals"),
    path("policy/", paper_views.phases, name="policy"),
    path("policy/phases/", paper_views.phase_save, name="policy_phase_save"),
    path("policy/phases/<int:phase_id>/delete/", paper_views.phase_delete,
         name="policy_phase_delete"),
    path("notifications/", exchange.notifications, name="notifications"),
    path("notifications/read/", exchange.notifications_read, name="notifications_read"),
]

# 用印 (issue 8): the seal keeper's queue, the seal form, the verification report.
urlpatterns += [
    path("sealing/", sealing_views.queue, name="sealing"),
    path("sealing/<int:doc_id>/", sealing_views.seal_form, name="sealing_form"),
    path("documents/<int:doc_id>/verification/", sealing_views.report, name="sealing_report"),
]

# 转发 and carried files (R-FLOW-5); 答复 (批复, 复函) of a received 请示 or 函.
urlpatterns += [
    path("inbox/<int:delivery_id>/forward/", forwarding_views.delivery_forward,
         name="delivery_forward"),
    path("inbox/<int:delivery_id>/reply/", forwarding_views.delivery_reply,
         name="delivery_reply"),
    path("inbox/<int:delivery_id>/carried/<int:index>/", forwarding_views.delivery_carried_file,
         name="delivery_carried_file"),
    path("documents/<int:doc_id>/carried/<int:index>/", forwarding_views.document_carried_file,
         name="document_carried_file"),
]
