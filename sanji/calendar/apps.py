from django.apps import AppConfig


class CalendarConfig(AppConfig):
    verbose_name = "Working-day calendar"
    name = "sanji.calendar"
    label = "calendar"
    default_auto_field = "django.db.models.BigAutoField"
