from django.contrib import admin
from django.urls import include, path

from remit.api.api import api
from remit.core.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("remit.usercenter.urls")),
]
