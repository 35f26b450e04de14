from django.urls import include, path

from sanji.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("sanji.accounts.urls")),
    path("orgs/", include("sanji.orgs.urls")),
    path("audit/", include("sanji.audit.urls")),
    path("calendar/", include("sanji.calendar.urls")),
    path("catalog/", include("sanji.catalog.urls")),
    path("", include("sanji.web.urls")),
]
