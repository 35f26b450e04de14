"""Case pages for staff; the integrator includes them at ``/cases/``."""

from django.urls import path

from sanji.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("receive/", views.receive, name="receive"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/act/<str:action>/", views.case_act, name="act"),
    path("<int:case_id>/upload/", views.case_upload, name="upload"),
    path("<int:case_id>/print/<str:kind>/", views.case_print, name="print"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]
