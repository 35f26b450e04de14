from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "sanji.evaluation"
    label = "evaluation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The follow-up watch runs as a step of the supervision sweep (supervision cannot import us).
        from sanji.evaluation.services import follow_up_watch
        from sanji.supervision.services import sweep_step_register

        sweep_step_register("follow_up_overdue", follow_up_watch)
