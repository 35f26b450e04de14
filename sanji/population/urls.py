"""Population pages; included at ``/population/``."""

from django.urls import path

from sanji.population import views

app_name = "population"
urlpatterns = [
    # the population map and the grid worker's page
    path("map/", views.population_map, name="map"),
    path("map/grid/<int:grid_id>/", views.map_grid, name="map_grid"),
    path("map/building/<int:building_id>/", views.map_building, name="map_building"),
    path("grid/", views.grid_home, name="grid_home"),
    path("grid/<int:grid_id>/", views.grid_detail, name="grid_detail"),
]
