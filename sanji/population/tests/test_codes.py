"""The national code tables, pinned to the standards' own text (not to the module's list order).

GB/T 3304-1991 is transcribed here from its Table 1 (ordered by the strokes of the name, so a
shift in the module's numbered list cannot hide behind the same shift here); GB/T 2261.2-2003 and
GB/T 4761-2008 by code.
"""

from __future__ import annotations

import pytest

from sanji.population import codes

#: GB/T 3304-1991, Table 1: the 56 nationalities and their numeric codes.
GB_T_3304: dict[str, str] = {
    "土家族": "15", "土族": "30", "门巴族": "54", "水族": "25", "毛南族": "36", "乌孜别克族": "43",
    "布依族": "09", "布朗族": "34", "东乡族": "26", "仡佬族": "37", "仫佬族": "32", "白族": "14",
    "汉族": "01", "达斡尔族": "31", "回族": "03", "佤族": "21", "壮族": "08", "羌族": "33",
    "阿昌族": "39", "纳西族": "27", "拉祜族": "24", "苗族": "06", "侗族": "12", "京族": "49",
    "柯尔克孜族": "29", "哈尼族": "16", "哈萨克族": "17", "保安族": "47", "俄罗斯族": "44",
    "独龙族": "51", "怒族": "42", "珞巴族": "55", "高山族": "23", "基诺族": "56", "鄂伦春族": "52",
    "鄂温克族": "45", "维吾尔族": "05", "塔吉克族": "41", "塔塔尔族": "50", "朝鲜族": "10",
    "景颇族": "28", "傣族": "18", "傈僳族": "20", "畲族": "22", "普米族": "40", "裕固族": "48",
    "蒙古族": "02", "锡伯族": "38", "满族": "11", "瑶族": "13", "赫哲族": "53", "撒拉族": "35",
    "德昂族": "46", "黎族": "19", "藏族": "04", "彝族": "07",
}  # fmt: skip

#: GB/T 2261.2-2003, marital status.
GB_T_2261_2: dict[str, str] = {
    "10": "未婚", "20": "已婚", "21": "初婚", "22": "再婚", "23": "复婚", "30": "丧偶", "40": "离婚",
    "90": "未说明的婚姻状况",
}  # fmt: skip

#: GB/T 4761-2008, relation to the head of household: a sample across every group.
GB_T_4761_SAMPLE: dict[str, str] = {
    "01": "本人", "02": "户主", "10": "配偶", "11": "夫", "12": "妻", "20": "子", "21": "独生子",
    "28": "女婿", "30": "女", "38": "儿媳", "41": "孙子", "42": "孙女", "51": "父亲", "52": "母亲",
    "61": "祖父", "62": "祖母", "71": "兄", "73": "弟", "75": "姐姐", "77": "妹妹", "80": "其他",
    "93": "侄子", "97": "其他亲属", "99": "非亲属",
}  # fmt: skip


def test_ethnicity_holds_the_56_nationalities_of_gb_t_3304_and_the_two_other_codes() -> None:
    assert len(GB_T_3304) == 56
    assert sorted(GB_T_3304.values()) == [f"{i:02d}" for i in range(1, 57)]
    nationalities = {code: name for code, name in codes.ETHNICITY.items() if code <= "56"}
    assert nationalities == {code: name for name, code in GB_T_3304.items()}
    assert set(codes.ETHNICITY) - set(nationalities) == {"97", "98"}
    assert len(codes.ETHNICITY) == 58
    assert codes.ETHNICITY["98"] == "外国血统中国籍人士"


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("01", "汉族"),
        ("02", "蒙古族"),
        ("03", "回族"),
        ("11", "满族"),
        ("31", "达斡尔族"),
        ("45", "鄂温克族"),
    ],
)
def test_hohhot_s_main_nationalities(code: str, name: str) -> None:
    assert codes.ETHNICITY[code] == name
    assert codes.lookup("ethnicity", name) == code
    assert codes.lookup("ethnicity", name.removesuffix("族")) == code
    assert codes.lookup("ethnicity", code.lstrip("0")) == code


def test_marital_status_is_gb_t_2261_2() -> None:
    assert codes.MARITAL_STATUS == GB_T_2261_2


def test_relation_codes_are_gb_t_4761() -> None:
    for code, name in GB_T_4761_SAMPLE.items():
        assert codes.RELATION[code] == name, code
    # 01 本人, 02 户主, then ten codes for each of the groups 1–7 (配偶 10–12 only), 80–97 and 99.
    expected = {"01", "02", "10", "11", "12", *(f"{i}" for i in range(20, 98)), "99"}
    assert set(codes.RELATION) == expected
    assert len(codes.RELATION) == 84
    assert codes.HEAD_OF_HOUSEHOLD == "02"
    assert codes.lookup("relation", "户主") == "02"


def test_lookup_refuses_what_the_tables_do_not_hold() -> None:
    assert codes.lookup("ethnicity", "57") is None
    assert codes.lookup("ethnicity", "火星族") is None
    assert codes.lookup("marital_status", "50") is None
    assert codes.lookup("relation", "98") is None
