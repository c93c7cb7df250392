from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _

from accounts import views as account_views
from config.api import api
from config.health import health
from config.views import admin_login, api_not_found, favicon

admin.site.site_header = _("Booking back office")
admin.site.site_title = _("Booking admin")
admin.site.index_title = _("Back office")
admin.site.login = admin_login

urlpatterns = [
    path("", account_views.home, name="home"),
    path("dashboard/", account_views.dashboard, name="dashboard"),
    path("", include("accounts.urls")),
    path("", include("bookings.dashboard_urls")),
    path("", include("availability.urls")),
    path("", include("availability.room_urls")),
    path("", include("availability.tag_urls")),
    path("", include("bookings.urls")),
    path("", include("bookings.manage_urls")),
    path("", include("bookings.promo_urls")),
    path("", include("notifications.urls")),
    path("", include("notifications.calendar_urls")),
    path("", include("notifications.sms_urls")),
    path("", include("payments.urls")),
    path("", include("waitlist.urls")),
    path("", include("calendar_sync.urls")),
    path("", include("webhooks.urls")),
    path("", include("intake.urls")),
    path("", include("reports.urls")),
    path("", include("pages.urls")),
    # Before allauth's own: confirming one's email signs the person in (accounts.views).
    re_path(r"^accounts/confirm-email/(?P<key>[-:\w]+)/$", account_views.confirm_email, name="account_confirm_email"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    re_path(r"^api/", api_not_found),
    path("health/", health, name="health"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
]

handler404 = "config.views.page_not_found"
handler403 = "config.views.permission_denied"
handler500 = "config.views.server_error"
