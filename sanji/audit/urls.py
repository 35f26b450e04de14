from django.urls import path

from sanji.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.search, name="search"),
    path("entries/<int:seq>/", views.entry_detail, name="entry_detail"),
    path("export.csv", views.export, {"format": "csv"}, name="export_csv"),
    path("export.xlsx", views.export, {"format": "xlsx"}, name="export_xlsx"),
    path("verify/", views.verify, name="verify"),
]
