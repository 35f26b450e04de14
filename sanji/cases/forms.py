"""Forms of the case pages: parse and check input; the services decide (no business rules here).

Every action form carries ``expected_version`` (optimistic concurrency: a stale page gets a Conflict).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from sanji.cases import files
from sanji.cases.models import DeliveryMethod
from sanji.cases.transitions import MAX_EXTENSION_DAYS_JOINT
from sanji.core.errors import ValidationFailed


def _text(label: Any, *, required: bool = True, rows: int = 2) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=2000, widget=forms.Textarea(attrs={"rows": rows})
    )


def check_file(upload: UploadedFile | None) -> tuple[str, bytes] | None:
    """Read an upload and judge it by its content (PDF, JPEG, PNG, OFD); raise a form error if refused."""
    if upload is None:
        return None
    if upload.size is not None and upload.size > files.MAX_BYTES:
        raise forms.ValidationError(_("文件超过 %(mb)s MB。") % {"mb": files.MAX_BYTES // (1024 * 1024)})
    content = upload.read()
    try:
        files.check_upload(upload.name or "", content)
    except ValidationFailed as exc:
        raise forms.ValidationError(exc.message) from None
    return upload.name or "", content


# --- receiving a walk-in (接件) -------------------------------------------------------------------


class LookupForm(forms.Form):
    id_number = forms.CharField(label=_("证件号码"), max_length=32)


class ReceiveForm(forms.Form):
    """The walk-in application: applicant, matter, materials checklist with scans."""

    id_number = forms.CharField(label=_("身份证号码/统一社会信用代码"), max_length=32)
    applicant_name = forms.CharField(label=_("申请人姓名/名称"), max_length=100)
    applicant_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    applicant_user_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    matter_code = forms.CharField(widget=forms.HiddenInput)
    title = forms.CharField(label=_("申请事由"), max_length=200, required=False)
    fee_charged = forms.DecimalField(
        label=_("实收费用（元）"), max_digits=10, decimal_places=2, min_value=Decimal("0"), required=False
    )

    def __init__(self, *args: Any, materials: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.materials = list(materials)
        for i, name in enumerate(self.materials):
            self.fields[f"received_{i}"] = forms.BooleanField(label=name, required=False)
            self.fields[f"scan_{i}"] = forms.FileField(label=_("扫描件"), required=False)

    def applicant_fields(self) -> list[forms.BoundField]:
        return [
            self[name] for name in ("id_number", "applicant_name", "applicant_phone", "title", "fee_charged")
        ]

    def material_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [(n, self[f"received_{i}"], self[f"scan_{i}"]) for i, n in enumerate(self.materials)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scans: list[tuple[str, str, bytes]] = []
        for i, name in enumerate(self.materials):
            try:
                checked = check_file(data.get(f"scan_{i}"))
            except forms.ValidationError as exc:
                self.add_error(f"scan_{i}", exc)
                continue
            if checked is not None:
                scans.append((name, *checked))
                data[f"received_{i}"] = True  # a scanned material was received
        data["scans"] = scans
        data["materials_received"] = [n for i, n in enumerate(self.materials) if data.get(f"received_{i}")]
        return data


# --- uploads ----------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    material_name = forms.ChoiceField(label=_("材料"))
    file = forms.FileField(label=_("文件（PDF、JPEG、PNG、OFD，不超过20MB）"))

    def __init__(self, *args: Any, materials: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(m, m) for m in materials] + [("其他材料", _("其他材料"))]
        self.fields["material_name"].choices = choices  # type: ignore[attr-defined]

    def clean_file(self) -> tuple[str, bytes]:
        checked = check_file(self.cleaned_data.get("file"))
        if checked is None:
            raise forms.ValidationError(_("请选择文件。"))
        return checked


# --- actions ----------------------------------------------------------------------------------------


class ActionForm(forms.Form):
    """Base of the action forms: the version the page was rendered from; ``materials`` are the
    case's, ``received`` those of them already in (ticked at the window or uploaded)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(
        self, *args: Any, materials: Sequence[str] = (), received: Sequence[str] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.materials = list(materials)
        self.received = set(received)

    def service_fields(self) -> dict[str, Any]:
        return {
            k: v for k, v in self.cleaned_data.items() if k != "expected_version" and v not in (None, "", [])
        }


class NoteForm(ActionForm):
    opinion = _text(_("意见（可选）"), required=False)


class OpinionForm(ActionForm):
    opinion = _text(_("意见"))


class ReasonForm(ActionForm):
    reason = _text(_("理由"))


class WithdrawForm(ActionForm):
    reason = _text(_("撤回理由（代申请人撤回时必填）"), required=False)


class RefuseForm(ActionForm):
    reason = _text(_("不予受理理由"))
    legal_basis = _text(_("法律依据"))


class CorrectionForm(ActionForm):
    """一次性告知: every missing or defective item at once."""

    missing_items = forms.MultipleChoiceField(
        label=_("需补正的材料"), required=False, widget=forms.CheckboxSelectMultiple
    )
    other_items = _text(_("其他需补正的内容（每行一项）"), required=False, rows=3)
    reason = _text(_("说明（可选）"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Materials already in are named so (the clerk may still tick one that is defective).
        self.fields["missing_items"].choices = [  # type: ignore[attr-defined]
            (m, _("%(material)s（已收到）") % {"material": m} if m in self.received else m)
            for m in self.materials
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        extra = [line.strip() for line in str(data.get("other_items") or "").splitlines() if line.strip()]
        items = [*list(data.get("missing_items") or []), *extra]
        if not items:
            raise forms.ValidationError(_("请一次性列明需要补正的全部内容。"))
        data["missing_items"] = items
        data.pop("other_items", None)
        return data


class ExtendForm(ActionForm):
    days = forms.IntegerField(label=_("延长工作日数"), min_value=1, max_value=MAX_EXTENSION_DAYS_JOINT)
    reason = _text(_("延期理由"))


class SpecialForm(ActionForm):
    reason = _text(_("特别程序（听证、检验、检测、鉴定、专家评审等）及理由"))
    duration_days = forms.IntegerField(label=_("批准时长（工作日）"), min_value=1, max_value=365)


class DeliverForm(ActionForm):
    delivery_method = forms.ChoiceField(label=_("送达方式"), choices=DeliveryMethod.choices)
    certificate_no = forms.CharField(label=_("证照编号（准予时必填）"), max_length=64, required=False)


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "submit": NoteForm,
    "precheck_pass": NoteForm,
    "precheck_return": ReasonForm,
    "request_correction": CorrectionForm,
    "allow_second_correction": ReasonForm,
    "supplement": NoteForm,
    "accept": NoteForm,
    "refuse": RefuseForm,
    "complete_step": OpinionForm,
    "report_up": OpinionForm,
    "take_over": NoteForm,
    "return_down": NoteForm,
    "extend": ExtendForm,
    "special_start": SpecialForm,
    "special_end": NoteForm,
    "approve": OpinionForm,
    "deny": ReasonForm,
    "deliver": DeliverForm,
    "complete": NoteForm,
    "withdraw": WithdrawForm,
    "void": ReasonForm,
}


def action_form(
    action: str,
    *,
    version: int,
    data: Any = None,
    materials: Sequence[str] = (),
    received: Sequence[str] = (),
    initial: dict[str, Any] | None = None,
) -> ActionForm:
    form_class = ACTION_FORMS.get(action, NoteForm)
    values = {"expected_version": version, **(initial or {})}
    return form_class(data, initial=values, materials=materials, received=received, prefix=action)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented way): cleans to a list, maybe empty."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        uploads = data if isinstance(data, list | tuple) else [data]
        return [single(d, initial) for d in uploads if d]


class SupplementForm(forms.Form):
    """补正 on the portal: the files for each item of the correction notice (``items``), one or more
    each; the service refuses a supplement that leaves an item without one."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    opinion = _text(_("说明（可选）"), required=False)

    def __init__(self, *args: Any, items: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for i, item in enumerate(self.items):
            self.fields[f"item_{i}"] = MultipleFileField(label=item, required=False)

    def item_fields(self) -> list[forms.BoundField]:
        return [self[f"item_{i}"] for i in range(len(self.items))]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        uploads: list[tuple[str, str, bytes]] = []
        for i, item in enumerate(self.items):
            name = f"item_{i}"
            for upload in data.get(name) or []:
                try:
                    checked = check_file(upload)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
                    continue
                if checked is not None:
                    uploads.append((item, *checked))
        data["uploads"] = uploads
        return data


# --- the portal -------------------------------------------------------------------------------------


class RegisterForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=100)
    id_number = forms.CharField(label=_("身份证号码"), max_length=18)
    phone = forms.CharField(label=_("手机号码"), max_length=20)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput, strip=False)
    password_again = forms.CharField(label=_("再次输入密码"), widget=forms.PasswordInput, strip=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("两次输入的密码不一致。"))
        return data


class ApplyForm(forms.Form):
    """网上申报: by default for oneself (the account's name and ID number, shown, not asked);
    代办 for somebody else only when chosen, with their name and ID number and the agent's relation
    or authorisation (and the matter's authorisation letter, 授权委托书, when it lists one)."""

    on_behalf = forms.ChoiceField(
        label=_("申请人"),
        choices=[("", _("本人申请")), ("1", _("为他人代办"))],
        required=False,
        widget=forms.RadioSelect,
    )
    applicant_name = forms.CharField(label=_("申请人姓名（代办时填写）"), max_length=100, required=False)
    id_number = forms.CharField(label=_("申请人身份证号码（代办时填写）"), max_length=32, required=False)
    agent_relation = forms.CharField(
        label=_("与申请人的关系及委托情况（代办时填写）"), max_length=200, required=False
    )
    applicant_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    region_code = forms.ChoiceField(label=_("向哪里申请（所在旗县区或街道）"))
    title = forms.CharField(label=_("申请事由"), max_length=200, required=False)

    #: The agent fields, shown together on the page.
    AGENT_FIELDS = ("applicant_name", "id_number", "agent_relation", "authorisation")

    def __init__(
        self,
        *args: Any,
        regions: Sequence[tuple[str, str]] = (),
        authorisation_material: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = list(regions)  # type: ignore[attr-defined]
        self.authorisation_material = authorisation_material
        if authorisation_material:
            self.fields["authorisation"] = forms.FileField(
                label=_("%(material)s（代办时上传，可选）") % {"material": authorisation_material},
                required=False,
            )

    def agent_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.AGENT_FIELDS if name in self.fields]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("applicant_phone", "region_code", "title")]

    def clean_on_behalf(self) -> bool:
        return self.cleaned_data.get("on_behalf") == "1"

    def clean_authorisation(self) -> tuple[str, bytes] | None:
        return check_file(self.cleaned_data.get("authorisation"))


class QueryForm(forms.Form):
    number = forms.CharField(label=_("办件编号"), max_length=40)
    code = forms.CharField(label=_("查询码"), max_length=16)
