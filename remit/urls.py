from django.contrib import admin
from django.urls import include, path

from remit.api.api import api
from remit.api.stripe_webhook import stripe_webhook
from remit.core.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("stripe/webhook", stripe_webhook, name="stripe_webhook"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("remit.usercenter.urls")),
]
