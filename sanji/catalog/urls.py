"""Catalogue pages; the integrator includes them at ``/catalog/``."""

from django.urls import path

from sanji.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.matter_list, name="list"),
    path("new/", views.matter_create, name="create"),
    path("<str:code>/", views.matter_detail, name="detail"),
    path("<str:code>/edit/", views.matter_edit, name="edit"),
    path("<str:code>/deactivate/", views.matter_set_active, {"active": False}, name="deactivate"),
    path("<str:code>/activate/", views.matter_set_active, {"active": True}, name="activate"),
    path("<str:code>/flow/", views.flow_edit, name="flow_edit"),
    path("<str:code>/versions/", views.version_list, name="versions"),
    path("<str:code>/versions/<int:number>/", views.version_detail, name="version_detail"),
    path("<str:code>/forms/<int:material_id>/", views.blank_form, name="blank_form"),
]
