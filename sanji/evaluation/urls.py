"""Evaluation pages; included at ``/evaluation/``."""

from django.urls import path

from sanji.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("rate/", views.my_ratings, name="my_ratings"),
    path("rate/<int:case_id>/", views.rate, name="rate"),
    path("device/", views.device, name="device"),
    path("ratings/", views.rating_list, name="ratings"),
    path("follow-ups/", views.follow_up_list, name="follow_ups"),
    path("follow-ups/<int:follow_up_id>/", views.follow_up_detail, name="follow_up_detail"),
    path("follow-ups/<int:follow_up_id>/act/<str:action>/", views.follow_up_act, name="follow_up_act"),
    path("scores/", views.score_list, name="scores"),
    path("scores/<int:score_id>/", views.score_detail, name="score_detail"),
    path("community/", views.community, name="community"),
    path("weights/", views.weights, name="weights"),
    path("compute/", views.compute, name="compute"),
]
