"""Population pages; the integrator includes them at ``/population/``."""

from django.urls import path

from sanji.population import views

app_name = "population"
urlpatterns = [
    # changes (人口变动) and police verification (公安核查)
    path("changes/", views.change_list, name="change_list"),
    path("changes/new/", views.change_new, name="change_new"),
    path("changes/<int:change_id>/", views.change_detail, name="change_detail"),
    path("changes/<int:change_id>/<str:action>/", views.change_decide, name="change_decide"),
]
