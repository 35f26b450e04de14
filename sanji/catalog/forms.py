"""HTML forms of the catalogue pages: they parse input into specs; the services decide validity."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sanji.catalog.flows import MaterialSpec, MatterTerms, StepSpec
from sanji.catalog.models import MaterialForm, MatterKind, MatterType, StepCode
from sanji.catalog.services import MatterDetails
from sanji.core.roles import Role
from sanji.orgs.models import DepartmentKind, RegionLevel

_STEP_ROLES = [
    (r.value, r.label)
    for r in (Role.WINDOW_CLERK, Role.COMMUNITY_WORKER, Role.REVIEWER, Role.APPROVER, Role.DEPARTMENT_HEAD)
]
_TEXT = forms.Textarea(attrs={"rows": 3})


class MatterDetailsForm(forms.Form):
    name = forms.CharField(label=_("事项名称"), max_length=120)
    matter_type = forms.ChoiceField(label=_("事项类型"), choices=MatterType.choices)
    legal_basis = forms.CharField(label=_("设定依据"), widget=_TEXT)
    online = forms.BooleanField(label=_("可网上申报"), required=False)
    conditions = forms.CharField(label=_("受理条件"), widget=_TEXT, required=False)
    procedure = forms.CharField(label=_("办理流程说明"), widget=_TEXT, required=False)
    contact = forms.CharField(label=_("咨询方式"), max_length=200, required=False)

    def to_details(self) -> MatterDetails:
        d = self.cleaned_data
        return MatterDetails(
            name=d["name"],
            matter_type=d["matter_type"],
            legal_basis=d["legal_basis"],
            online=d["online"],
            conditions=d["conditions"],
            procedure=d["procedure"],
            contact=d["contact"],
        )


class TermsForm(forms.Form):
    kind = forms.ChoiceField(label=_("办件类型"), choices=MatterKind.choices)
    department_kind = forms.ChoiceField(label=_("主办部门类别"), choices=DepartmentKind.choices)
    accepting_levels = forms.MultipleChoiceField(
        label=_("受理层级"), choices=RegionLevel.choices, widget=forms.CheckboxSelectMultiple
    )
    deciding_level = forms.ChoiceField(label=_("决定层级"), choices=RegionLevel.choices)
    legal_limit_days = forms.IntegerField(label=_("法定时限（工作日）"), min_value=0, max_value=999)
    promised_limit_days = forms.IntegerField(label=_("承诺时限（工作日）"), min_value=0, max_value=999)
    fee_amount = forms.DecimalField(
        label=_("收费金额（元，0为免费）"), min_value=Decimal("0"), decimal_places=2
    )
    fee_basis = forms.CharField(label=_("收费依据"), widget=_TEXT, required=False)

    def to_terms(self) -> MatterTerms:
        d = self.cleaned_data
        return MatterTerms(
            kind=d["kind"],
            department_kind=d["department_kind"],
            accepting_levels=tuple(d["accepting_levels"]),
            deciding_level=d["deciding_level"],
            legal_limit_days=d["legal_limit_days"],
            promised_limit_days=d["promised_limit_days"],
            fee_amount=d["fee_amount"],
            fee_basis=d["fee_basis"],
        )


class MatterCreateForm(MatterDetailsForm, TermsForm):
    code = forms.CharField(label=_("事项编码"), max_length=40, help_text=_("如 MZ-0009"))

    field_order = ["code", "name", "matter_type"]


class StepForm(forms.Form):
    order = forms.IntegerField(label=_("序号"), min_value=1, max_value=99)
    code = forms.ChoiceField(label=_("环节"), choices=StepCode.choices)
    name = forms.CharField(label=_("环节名称"), max_length=100)
    level = forms.ChoiceField(label=_("层级"), choices=RegionLevel.choices)
    role = forms.ChoiceField(label=_("办理角色"), choices=_STEP_ROLES)
    department_kind = forms.ChoiceField(
        label=_("部门类别"), choices=[("", _("同主办部门")), *list(DepartmentKind.choices)], required=False
    )
    limit_days = forms.IntegerField(label=_("时限"), min_value=0, max_value=999)
    parallel_group = forms.IntegerField(label=_("并行组"), min_value=1, max_value=99, required=False)
    report_up = forms.BooleanField(label=_("上报"), required=False)

    def to_spec(self) -> StepSpec:
        d = self.cleaned_data
        return StepSpec(
            order=d["order"],
            code=d["code"],
            name=d["name"],
            level=d["level"],
            role=d["role"],
            limit_days=d["limit_days"],
            department_kind=d["department_kind"] or None,
            parallel_group=d["parallel_group"],
            report_up=d["report_up"],
        )


class MaterialRowForm(forms.Form):
    name = forms.CharField(label=_("材料名称"), max_length=200)
    form = forms.ChoiceField(label=_("形式"), choices=MaterialForm.choices)
    # No initial values: an untouched blank row must stay "unchanged" so the formset skips it.
    count = forms.IntegerField(
        label=_("份数"), min_value=1, max_value=99, required=False, help_text=_("默认1")
    )
    required = forms.BooleanField(label=_("必需"), required=False)
    blank_form_name = forms.CharField(label=_("空白表格名"), max_length=120, required=False)
    blank_form_template = forms.CharField(
        label=_("空白表格内容"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    notes = forms.CharField(label=_("备注"), max_length=300, required=False)

    def to_spec(self) -> MaterialSpec:
        d = self.cleaned_data
        return MaterialSpec(
            name=d["name"],
            form=d["form"],
            count=d["count"] or 1,
            required=d["required"],
            blank_form_name=d["blank_form_name"],
            blank_form_template=d["blank_form_template"],
            notes=d["notes"],
        )


StepFormSet = forms.formset_factory(StepForm, extra=3, can_delete=True, max_num=60)
MaterialFormSet = forms.formset_factory(MaterialRowForm, extra=3, can_delete=True, max_num=60)


class VersionNoteForm(forms.Form):
    note = forms.CharField(label=_("变更说明"), max_length=200, required=False)


def filled(formset: forms.BaseFormSet[Any]) -> list[Any]:
    """The forms of a valid formset that hold a row (blank extra rows and deleted rows left out)."""
    return [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE", False)]


def step_initial(specs: list[StepSpec]) -> list[dict[str, Any]]:
    return [
        {
            "order": s.order,
            "code": s.code,
            "name": s.name,
            "level": s.level,
            "role": s.role,
            "department_kind": s.department_kind or "",
            "limit_days": s.limit_days,
            "parallel_group": s.parallel_group,
            "report_up": s.report_up,
        }
        for s in specs
    ]


def material_initial(specs: list[MaterialSpec]) -> list[dict[str, Any]]:
    return [
        {
            "name": m.name,
            "form": m.form,
            "count": m.count,
            "required": m.required,
            "blank_form_name": m.blank_form_name,
            "blank_form_template": m.blank_form_template,
            "notes": m.notes,
        }
        for m in specs
    ]


def terms_initial(terms: MatterTerms) -> dict[str, Any]:
    return {
        "kind": terms.kind,
        "department_kind": terms.department_kind,
        "accepting_levels": list(terms.accepting_levels),
        "deciding_level": terms.deciding_level,
        "legal_limit_days": terms.legal_limit_days,
        "promised_limit_days": terms.promised_limit_days,
        "fee_amount": terms.fee_amount,
        "fee_basis": terms.fee_basis,
    }
