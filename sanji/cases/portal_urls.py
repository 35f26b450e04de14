"""The citizen portal (网上办事大厅); the integrator includes it at ``/portal/``."""

from django.urls import path

from sanji.cases import views

app_name = "portal"
urlpatterns = [
    path("", views.portal_home, name="home"),
    path("register/", views.portal_register, name="register"),
    path("matters/", views.portal_matters, name="matters"),
    path("apply/<str:code>/", views.portal_apply, name="apply"),
    path("cases/", views.portal_my_cases, name="my_cases"),
    path("cases/<int:case_id>/", views.portal_case, name="case"),
    path("cases/<int:case_id>/act/<str:action>/", views.portal_act, name="act"),
    path("cases/<int:case_id>/upload/", views.portal_upload, name="upload"),
    path("cases/<int:case_id>/supplement/", views.portal_supplement, name="supplement"),
    path("query/", views.portal_query, name="query"),
]
