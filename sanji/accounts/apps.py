from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sanji.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The audit pages (security auditor) name the units and regions entries hold by id and
        # code. The audit trail sits below the organisation in the layers, so the first app above
        # both hands the organisation's look-ups in (sanji.audit.names).
        from sanji.audit import names
        from sanji.orgs import selectors as orgs_selectors

        names.provide(
            units=orgs_selectors.unit_labels,
            regions=orgs_selectors.region_names,
            find_unit=orgs_selectors.unit_id_by_code,
        )
