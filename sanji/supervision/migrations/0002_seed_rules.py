"""Seed the rule configuration with the defaults of DESIGN.md §4 (sanji.supervision.rules.DEFAULTS)."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = {
    # code: (enabled, threshold, auto_issue, points)
    "warning": (True, 2, True, "0"),
    "yellow_card": (True, 0, True, "-5"),
    "red_card": (True, 0, True, "-10"),
    "acceptance_late": (True, 5, True, "-5"),
    "second_correction": (True, 0, True, "-2"),
    "no_reason": (True, 4, False, "-2"),
    "step_overrun": (True, 0, True, "-1"),
    "special_overrun": (True, 0, True, "-5"),
    "fee_mismatch": (True, 0, False, "-10"),
    "out_of_flow": (True, 0, False, "-10"),
    "time_contradiction": (True, 0, False, "-2"),
    "order_overdue": (True, 0, True, "-10"),
    "follow_up_overdue": (True, 0, True, "-5"),
}


def seed(apps, schema_editor):
    RuleConfig = apps.get_model("supervision", "RuleConfig")
    existing = set(RuleConfig.objects.values_list("code", flat=True))
    RuleConfig.objects.bulk_create(
        RuleConfig(code=code, enabled=e, threshold=t, auto_issue=a, points=Decimal(p))
        for code, (e, t, a, p) in DEFAULTS.items()
        if code not in existing
    )


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
