from django.contrib import admin
from django.urls import include, path

from gongwen.api.router import api
from gongwen.web.views.auth import admin_login, admin_logout, admin_password_change

admin.site.site_header = "电子公文无纸化传输平台 · 系统管理"
admin.site.site_title = "公文平台管理"
admin.site.index_title = "系统管理"
# One login page, with the platform's lockout and audit; the admin itself is read-only
# (gongwen.readonly_admin): changes go through the platform's audited pages.
admin.site.login = admin_login
admin.site.logout = admin_logout
admin.site.password_change = admin_password_change

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("gongwen.web.urls")),
]

handler400 = "gongwen.web.views.common.handler400"
handler403 = "gongwen.web.views.common.handler403"
handler404 = "gongwen.web.views.common.handler404"
handler500 = "gongwen.web.views.common.handler500"
