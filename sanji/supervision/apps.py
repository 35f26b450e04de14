from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "sanji.supervision"
    label = "supervision"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # After-commit evaluation of the event-driven rules (DESIGN.md §3): an explicit hook, not a signal.
        from sanji.core import hooks
        from sanji.supervision.services import case_event_evaluate

        hooks.case_event_committed.subscribe(case_event_evaluate)
