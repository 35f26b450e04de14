"""National standard code tables used by the population registry. Pure data.

- Sex (性别), GB/T 2261.1-2003.
- Ethnicity (民族), GB/T 3304-1991: the 56 recognised nationalities, plus 97 (其他未识别民族,
  not yet identified) and 98 (外国血统中国籍人士, Chinese citizens of foreign origin).
- Marital status (婚姻状况), GB/T 2261.2-2003.
- Relation to the head of household (家庭关系), GB/T 4761-2008.

Import files may give either the code or the name, with or without 族 (``"02"``/``"2"``/``"蒙古族"``/
``"蒙古"``; ``"汉"`` as the ID card prints it); :func:`lookup` resolves both.
"""

from __future__ import annotations

from collections.abc import Mapping

#: GB/T 2261.1-2003 (人的性别代码), with "男"/"女" as ID cards print them.
SEX: dict[str, str] = {
    "0": "未知的性别",
    "1": "男",
    "2": "女",
    "5": "女性改(变)为男性",
    "6": "男性改(变)为女性",
    "9": "未说明的性别",
}

#: The sexes an ID number may show (its 17th digit: odd 1, even 2) for each code a record states.
#: A sex change is followed by a new ID number of the new sex, so 5 (female changed to male) goes
#: with a male number and 6 with a female one; 0 (unknown) and 9 (not stated) contradict none. The
#: registry keeps the ID number's sex (``Person.sex``): the stated code is a cross-check.
SEX_AGREES_WITH: dict[str, frozenset[str]] = {
    "0": frozenset({"1", "2"}),
    "1": frozenset({"1"}),
    "2": frozenset({"2"}),
    "5": frozenset({"1"}),
    "6": frozenset({"2"}),
    "9": frozenset({"1", "2"}),
}

ETHNICITY: dict[str, str] = {
    f"{i:02d}": name
    for i, name in enumerate(
        [
            "汉族",
            "蒙古族",
            "回族",
            "藏族",
            "维吾尔族",
            "苗族",
            "彝族",
            "壮族",
            "布依族",
            "朝鲜族",
            "满族",
            "侗族",
            "瑶族",
            "白族",
            "土家族",
            "哈尼族",
            "哈萨克族",
            "傣族",
            "黎族",
            "傈僳族",
            "佤族",
            "畲族",
            "高山族",
            "拉祜族",
            "水族",
            "东乡族",
            "纳西族",
            "景颇族",
            "柯尔克孜族",
            "土族",
            "达斡尔族",
            "仫佬族",
            "羌族",
            "布朗族",
            "撒拉族",
            "毛南族",
            "仡佬族",
            "锡伯族",
            "阿昌族",
            "普米族",
            "塔吉克族",
            "怒族",
            "乌孜别克族",
            "俄罗斯族",
            "鄂温克族",
            "德昂族",
            "保安族",
            "裕固族",
            "京族",
            "塔塔尔族",
            "独龙族",
            "鄂伦春族",
            "赫哲族",
            "门巴族",
            "珞巴族",
            "基诺族",
        ],
        start=1,
    )
}
ETHNICITY.update({"97": "其他未识别民族", "98": "外国血统中国籍人士"})

MARITAL_STATUS: dict[str, str] = {
    "10": "未婚",
    "20": "已婚",
    "21": "初婚",
    "22": "再婚",
    "23": "复婚",
    "30": "丧偶",
    "40": "离婚",
    "90": "未说明的婚姻状况",
}

RELATION: dict[str, str] = {
    "01": "本人", "02": "户主",
    "10": "配偶", "11": "夫", "12": "妻",
    "20": "子", "21": "独生子", "22": "长子", "23": "次子", "24": "三子", "25": "四子", "26": "五子",
    "27": "养子或继子", "28": "女婿", "29": "其他儿子",
    "30": "女", "31": "独生女", "32": "长女", "33": "次女", "34": "三女", "35": "四女", "36": "五女",
    "37": "养女或继女", "38": "儿媳", "39": "其他女儿",
    "40": "孙子、孙女或外孙子、外孙女", "41": "孙子", "42": "孙女", "43": "外孙子", "44": "外孙女",
    "45": "孙媳妇或外孙媳妇", "46": "孙女婿或外孙女婿", "47": "曾孙子或外曾孙子", "48": "曾孙女或外曾孙女",
    "49": "其他孙子、孙女或外孙子、外孙女",
    "50": "父母", "51": "父亲", "52": "母亲", "53": "公公", "54": "婆婆", "55": "岳父", "56": "岳母",
    "57": "继父或养父", "58": "继母或养母", "59": "其他父母关系",
    "60": "祖父母或外祖父母", "61": "祖父", "62": "祖母", "63": "外祖父", "64": "外祖母",
    "65": "配偶的祖父母或外祖父母", "66": "曾祖父", "67": "曾祖母", "68": "配偶的曾祖父母或外曾祖父母",
    "69": "其他祖父母或外祖父母关系",
    "70": "兄弟姐妹", "71": "兄", "72": "嫂", "73": "弟", "74": "弟媳", "75": "姐姐", "76": "姐夫",
    "77": "妹妹", "78": "妹夫", "79": "其他兄弟姐妹",
    "80": "其他", "81": "伯父", "82": "伯母", "83": "叔父", "84": "婶母", "85": "舅父", "86": "舅母",
    "87": "姨父", "88": "姨母", "89": "姑父", "90": "姑母", "91": "堂兄弟、堂姐妹", "92": "表兄弟、表姐妹",
    "93": "侄子", "94": "侄女", "95": "外甥", "96": "外甥女", "97": "其他亲属", "99": "非亲属",
}  # fmt: skip

HEAD_OF_HOUSEHOLD = "02"

#: Person status (人员状态): the registry's own codes, with the Chinese words an import may use.
STATUS: dict[str, str] = {"living": "正常", "deceased": "死亡", "moved_out": "迁出", "cancelled": "注销"}


def _aliases(table: Mapping[str, str], *, width: int, suffix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for code, name in table.items():
        out[code] = code
        out[code.lstrip("0") or "0"] = code
        out[name] = code
        if suffix and name.endswith(suffix) and len(name) > len(suffix):
            out[name[: -len(suffix)]] = code  # 蒙古 for 蒙古族, 汉 for 汉族 (as the ID card prints it)
    return out


_LOOKUPS: dict[str, dict[str, str]] = {
    "sex": {
        **_aliases(SEX, width=1),
        "男性": "1",
        "女性": "2",
        "女性改为男性": "5",
        "女性改变为男性": "5",
        "男性改为女性": "6",
        "男性改变为女性": "6",
    },
    "ethnicity": _aliases(ETHNICITY, width=2, suffix="族"),
    "marital_status": _aliases(MARITAL_STATUS, width=2),
    "relation": _aliases(RELATION, width=2),
    "status": {**{c: c for c in STATUS}, **{n: c for c, n in STATUS.items()}},
}


def lookup(table: str, value: str) -> str | None:
    """The code for a code or name in ``table`` (``sex``, ``ethnicity``, ...); None when unknown."""
    return _LOOKUPS[table].get(value.strip())
