"""Domain errors carry a message for people (the active language) and details for programs."""

from __future__ import annotations

import pytest
from django.utils import translation

from sanji.core.authz import require
from sanji.core.errors import Forbidden, NotFound


def test_default_messages_are_in_the_active_language() -> None:
    with translation.override("zh-hans"):
        assert NotFound().message == "未找到，或不在您的管辖范围内。"
        assert Forbidden().message == "您无权执行此操作。"
        with pytest.raises(Forbidden, match=r"^您无权执行此操作。$"):
            require(False)


def test_a_given_message_and_details_are_kept_as_given() -> None:
    error = NotFound("没有这个部门。", details={"field": "department"})
    assert (error.message, error.details) == ("没有这个部门。", {"field": "department"})
    with pytest.raises(Forbidden, match=r"^只有系统管理员可以修改单位。$"):
        require(False, "只有系统管理员可以修改单位。")
