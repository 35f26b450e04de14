"""Supervision pages; included at ``/supervision/``."""

from django.urls import path

from sanji.supervision import views

app_name = "supervision"
urlpatterns = [
    path("", views.board, name="board"),
    path("board/unit/<int:unit_id>/", views.board_unit, name="board_unit"),
    path("marks/", views.mark_list, name="marks"),
    path("marks/mine/", views.my_marks, name="my_marks"),
    path("marks/<int:mark_id>/", views.mark_detail, name="mark_detail"),
    path("marks/<int:mark_id>/act/<str:action>/", views.mark_act, name="mark_act"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:order_id>/act/<str:action>/", views.order_act, name="order_act"),
    path("rules/", views.rules, name="rules"),
    path("sweeps/", views.sweep_list, name="sweeps"),
]
