from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.decorators.cache import cache_control

from remit.api.api import api, operation_not_found
from remit.api.stripe_webhook import stripe_webhook
from remit.operations.views import health, metrics


@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico wherever a page names none (the back office, PDFs)."""
    return HttpResponseRedirect(static("usercenter/favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("health", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", operation_not_found),
    path("stripe/webhook", stripe_webhook, name="stripe_webhook"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("remit.usercenter.urls")),
]
