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
    # the population map and the grid worker's page
    path("map/", views.population_map, name="map"),
    path("map/grid/<int:grid_id>/", views.map_grid, name="map_grid"),
    path("map/building/<int:building_id>/", views.map_building, name="map_building"),
    path("grid/", views.grid_home, name="grid_home"),
    path("grid/<int:grid_id>/", views.grid_detail, name="grid_detail"),
]
