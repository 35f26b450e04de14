from django.urls import path

from sanji.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change_view, name="password_change"),
    path("totp/enrol/", views.totp_enrol_view, name="totp_enrol"),
    path("totp/verify/", views.totp_verify_view, name="totp_verify"),
    path("me/", views.me_view, name="me"),
    path("me/tokens/", views.my_token_create_view, name="my_token_create"),
    path("me/tokens/<int:token_id>/revoke/", views.my_token_revoke_view, name="my_token_revoke"),
    path("users/", views.user_list_view, name="user_list"),
    path("users/new/", views.user_create_view, name="user_create"),
    path("users/<int:user_id>/", views.user_detail_view, name="user_detail"),
    path("units/choices/", views.unit_choices_view, name="unit_choices"),
    path("users/<int:user_id>/roles/", views.role_grant_view, name="role_grant"),
    path("users/<int:user_id>/roles/<int:assignment_id>/revoke/", views.role_revoke_view, name="role_revoke"),
    path("users/<int:user_id>/password-reset/", views.user_password_reset_view, name="user_password_reset"),
    path("users/<int:user_id>/unlock/", views.user_unlock_view, name="user_unlock"),
    path("users/<int:user_id>/deactivate/", views.user_deactivate_view, name="user_deactivate"),
    path("users/<int:user_id>/reactivate/", views.user_reactivate_view, name="user_reactivate"),
    path("users/<int:user_id>/totp-reset/", views.user_totp_reset_view, name="user_totp_reset"),
    path("users/<int:user_id>/tokens/", views.token_create_view, name="token_create"),
    path("users/<int:user_id>/tokens/<int:token_id>/revoke/", views.token_revoke_view, name="token_revoke"),
]
