from django.urls import path

from sanji.calendar import views

app_name = "calendar"
urlpatterns = [
    path("", views.year_list, name="year_list"),
    path("years/edit/", views.year_edit, name="year_edit"),
    path("years/import/", views.calendar_import, name="import"),
    path("years/seed/", views.seed, name="seed"),
    path("years/<int:year>/", views.year_detail, name="year_detail"),
]
