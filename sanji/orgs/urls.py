from django.urls import path

from sanji.orgs import views

app_name = "orgs"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("regions/import/", views.region_import, name="region_import"),
    path("regions/<str:code>/", views.region_detail, name="region"),
    path("regions/<str:code>/children/", views.region_children, name="region_children"),
    path("units/<int:pk>/", views.unit_detail, name="unit"),
    path("units/<int:pk>/rename/", views.unit_rename, name="unit_rename"),
    path("units/<int:pk>/windows/", views.unit_add_window, name="unit_add_window"),
    path("units/<int:pk>/deactivate/", views.unit_deactivate, name="unit_deactivate"),
    path("terminals/", views.terminal_list, name="terminal_list"),
    path("terminals/new/", views.terminal_register, name="terminal_register"),
    path("terminals/units/", views.terminal_unit_choices, name="unit_choices"),
    path("terminals/<int:pk>/rekey/", views.terminal_rekey, name="terminal_rekey"),
    path("terminals/<int:pk>/deactivate/", views.terminal_deactivate, name="terminal_deactivate"),
]
