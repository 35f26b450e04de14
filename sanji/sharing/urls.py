"""Sharing pages; included at ``/sharing/``."""

from django.urls import path

from sanji.sharing import views

app_name = "sharing"
urlpatterns = [
    path("read/", views.shared_read, name="read"),
    path("grants/", views.grants, name="grants"),
    path("grants/<int:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("people/", views.person_search, name="people"),
    path("people/<int:person_id>/", views.person_detail, name="person"),
    path("people/<int:person_id>/unmask/", views.person_unmask, name="person_unmask"),
    path("changes/<int:change_id>/id-numbers/", views.change_unmask, name="change_unmask"),
    path("my-reads/", views.my_reads, name="my_reads"),
]
