"""Realistic parties for demo cases: people, units, agencies and their staff.

Names follow the frequency of Chinese surnames; resident ID numbers carry a real county
code, the birth date, a sequence whose parity gives the sex, and a valid GB 11643 check
character; units get unified social credit codes with a valid GB 11714 organisation code
and GB 32100 check character. Everything is drawn from the caller's ``random.Random`` so a
seed gives the same people every time.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from dangan.packages.identity import credit_code_check_char, resident_id_check_char

# Surnames with approximate shares (per mille) in the 2020 census ranking.
_SURNAMES = (
    "王71 李70 张67 刘54 陈46 杨31 黄22 赵20 吴19 周18 徐13 孙13 马12 朱11 胡11 郭10 何10 "
    "高10 林9 罗9 郑8 梁8 谢6 宋6 唐6 许5 韩5 冯5 邓5 曹5 彭5 曾5 肖5 田4 董4 袁4 潘4 于4 "
    "蒋4 蔡4 余4 杜4 叶4 程4 苏3 魏3 吕3 丁3 任3 沈3 姚3 卢3 姜3 崔3 钟3 谭3 陆3 汪3 范3 "
    "金3 石3 廖3 贾3 夏2 韦2 付2 方2 白2 邹2 孟2 熊2 秦2 邱2 江2 尹2 薛2 闫2 段2 雷2 侯2 "
    "龙2 史2 陶2 黎2 贺2 顾2 毛2 郝2 龚2 邵2 万2 钱2 严2 覃1 武2 戴2 莫1 孔1 向1 汤1 欧阳1"
)
_PAIRS = [re.fullmatch(r"(\D+)(\d+)", s).groups() for s in _SURNAMES.split()]  # type: ignore[union-attr]
SURNAMES: tuple[str, ...] = tuple(name for name, _ in _PAIRS)
SURNAME_WEIGHTS: tuple[int, ...] = tuple(int(w) for _, w in _PAIRS)

_MALE = "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宁 凯 浩 宇 俊 帅 建 国 志 文 海 峰 林 东 亮 成 德 振 立 永 健 晨 博 子 轩 睿 泽 昊 一 天 家 嘉 铭 诚 兴 旭 阳"
_FEMALE = "芳 娜 敏 静 丽 艳 娟 霞 秀 玲 婷 燕 丹 萍 红 琳 洁 莉 雪 梅 慧 颖 倩 晶 欣 怡 佳 雨 思 梦 瑶 璐 悦 诗 涵 琪 彤 妍 蕾 薇 月 桂 英 兰 凤 春 玉 珍 宁 晓"
MALE_CHARS = tuple(_MALE.split())
FEMALE_CHARS = tuple(_FEMALE.split())

# Real county-level divisions (GB/T 2260): code, province-level name, city, district.
REGIONS: tuple[tuple[str, str, str, str], ...] = (
    ("110101", "北京市", "北京市", "东城区"), ("110105", "北京市", "北京市", "朝阳区"),
    ("120101", "天津市", "天津市", "和平区"), ("130102", "河北省", "石家庄市", "长安区"),
    ("140105", "山西省", "太原市", "小店区"), ("140106", "山西省", "太原市", "迎泽区"),
    ("140502", "山西省", "晋城市", "城区"), ("141002", "山西省", "临汾市", "尧都区"),
    ("150102", "内蒙古自治区", "呼和浩特市", "新城区"), ("210102", "辽宁省", "沈阳市", "和平区"),
    ("220102", "吉林省", "长春市", "南关区"), ("230103", "黑龙江省", "哈尔滨市", "南岗区"),
    ("310104", "上海市", "上海市", "徐汇区"), ("310115", "上海市", "上海市", "浦东新区"),
    ("320102", "江苏省", "南京市", "玄武区"), ("330106", "浙江省", "杭州市", "西湖区"),
    ("331002", "浙江省", "台州市", "椒江区"), ("340104", "安徽省", "合肥市", "蜀山区"),
    ("350203", "福建省", "厦门市", "思明区"), ("360102", "江西省", "南昌市", "东湖区"),
    ("370102", "山东省", "济南市", "历下区"), ("370502", "山东省", "东营市", "东营区"),
    ("410105", "河南省", "郑州市", "金水区"), ("420106", "湖北省", "武汉市", "武昌区"),
    ("430104", "湖南省", "长沙市", "岳麓区"), ("440106", "广东省", "广州市", "天河区"),
    ("440304", "广东省", "深圳市", "福田区"), ("440305", "广东省", "深圳市", "南山区"),
    ("440307", "广东省", "深圳市", "龙岗区"), ("450103", "广西壮族自治区", "南宁市", "青秀区"),
    ("450902", "广西壮族自治区", "玉林市", "玉州区"), ("460106", "海南省", "海口市", "龙华区"),
    ("500103", "重庆市", "重庆市", "渝中区"), ("510107", "四川省", "成都市", "武侯区"),
    ("520102", "贵州省", "贵阳市", "南明区"), ("530102", "云南省", "昆明市", "五华区"),
    ("610113", "陕西省", "西安市", "雁塔区"), ("620102", "甘肃省", "兰州市", "城关区"),
    ("630102", "青海省", "西宁市", "城东区"), ("640104", "宁夏回族自治区", "银川市", "兴庆区"),
    ("650102", "新疆维吾尔自治区", "乌鲁木齐市", "天山区"), ("652301", "新疆维吾尔自治区", "昌吉回族自治州", "昌吉市"),
    ("652302", "新疆维吾尔自治区", "昌吉回族自治州", "阜康市"),
)


@dataclass(frozen=True)
class Agency:
    """A social insurance agency (经办机构) that sends cases to Dangan."""

    code: str
    name: str
    short: str  # used in decision numbers (文号), e.g. 深社保
    regions: tuple[str, ...]  # county codes it serves (first = its own seat)
    phone: str
    address: str


AGENCIES: tuple[Agency, ...] = (
    Agency("440304", "深圳市社会保险基金管理局福田分局", "深社保福", ("440304", "440305", "440307"),
           "0755-12333", "深圳市福田区福华三路"),
    Agency("652300", "昌吉回族自治州社会保险管理局", "昌州社保", ("652301", "652302"),
           "0994-2206673", "昌吉市兴昌路475号"),
    Agency("140100", "太原市企业养老保险管理服务中心", "并养老", ("140105", "140106"),
           "0351-12333", "太原市小店区长风街"),
    Agency("140500", "晋城市企业养老保险管理服务中心", "晋市养老", ("140502",),
           "0356-12333", "晋城市城区泽州路"),
)

STAFF_ROLES = ("窗口人员", "审核人员", "复核人员")

_BRANDS = (
    "华宇 鑫达 恒通 天成 瑞丰 宏远 金桥 嘉禾 永信 中晟 博远 新锐 海纳 德润 盛世 锦程 信达 "
    "安泰 兴业 光华 远航 立达 华盛 同创 正和 汇通 众诚 明德 合力 长青 卓越 天祥 创新 联合"
).split()
_TRADES = (
    "电子科技 建筑工程 物流 餐饮管理 商贸 机械制造 软件技术 物业管理 医药 建材 纺织 食品 "
    "环保科技 信息技术 文化传媒 汽车销售 装饰工程 农业开发 劳务服务 酒店管理"
).split()
_UNIT_SUFFIX = ("有限公司", "有限公司", "有限责任公司", "股份有限公司")
_INSTITUTIONS = ("第一中学", "人民医院", "实验小学", "图书馆", "疾病预防控制中心", "公路管理站")
_STREETS = "人民路 解放路 建设路 中山路 新华路 长江路 和平路 迎宾大道 文化路 胜利街 友谊路 光明街".split()
_NATIONS = ("汉族",) * 18 + ("回族", "满族", "壮族", "维吾尔族", "蒙古族")

_MOBILE_PREFIXES = tuple(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199".split()
)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # credit-code alphabet (no I O S V Z)


@dataclass(frozen=True)
class Person:
    name: str
    sex: str  # "男" / "女"
    birth: date
    id_number: str
    region: tuple[str, str, str, str]
    nation: str
    phone: str
    address: str
    hukou: str = ""  # registered household address, as printed on the ID card

    def age(self, on: date) -> int:
        return on.year - self.birth.year - ((on.month, on.day) < (self.birth.month, self.birth.day))

    def party(self) -> dict[str, str]:
        return {"kind": "person", "name": self.name, "id_type": "resident_id",
                "id_number": self.id_number}


@dataclass(frozen=True)
class Unit:
    name: str
    credit_code: str
    region: tuple[str, str, str, str]
    legal_rep: Person
    contact: Person
    address: str
    phone: str
    kind: str = "企业"
    employees: int = 20

    def party(self) -> dict[str, str]:
        return {"kind": "unit", "name": self.name, "id_type": "credit_code",
                "id_number": self.credit_code}


@dataclass
class Staff:
    id: str
    name: str
    role: str

    def actor(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "role": self.role}


@dataclass
class PeopleFactory:
    """Draws people, units and staff from one ``random.Random``."""

    rng: random.Random
    agency: Agency
    _staff: dict[str, list[Staff]] = field(default_factory=dict)

    def name(self, sex: str, surname: str | None = None) -> str:
        rng = self.rng
        surname = surname or rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
        pool = MALE_CHARS if sex == "男" else FEMALE_CHARS
        given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.8 else "")
        return surname + given

    def region(self, local_share: float = 0.7) -> tuple[str, str, str, str]:
        by_code = {r[0]: r for r in REGIONS}
        if self.rng.random() < local_share:
            return by_code[self.rng.choice(self.agency.regions)]
        return self.rng.choice(REGIONS)

    def address(self, region: tuple[str, str, str, str]) -> str:
        _, province, city, district = region
        prefix = city if province == city else province + city
        return f"{prefix}{district}{self.rng.choice(_STREETS)}{self.rng.randint(1, 388)}号"

    def phone(self) -> str:
        rng = self.rng
        return f"{rng.choice(_MOBILE_PREFIXES)}{rng.randint(0, 99999999):08d}"

    def person(self, *, age: tuple[int, int] = (20, 58), on: date | None = None,
               sex: str | None = None, surname: str | None = None) -> Person:
        rng = self.rng
        on = on or date(2024, 6, 30)
        sex = sex or rng.choice("男女")
        years = rng.randint(age[0], age[1])
        birth = on - timedelta(days=years * 365 + rng.randint(0, 364))
        region = self.region(0.6)
        seq = rng.randint(0, 99) * 10 + rng.choice((1, 3, 5, 7, 9) if sex == "男" else (0, 2, 4, 6, 8))
        first17 = f"{region[0]}{birth:%Y%m%d}{seq:03d}"
        return Person(
            name=self.name(sex, surname), sex=sex, birth=birth,
            id_number=first17 + resident_id_check_char(first17), region=region,
            nation=rng.choice(_NATIONS), phone=self.phone(), address=self.address(self.region()),
            hukou=self.address(region),
        )

    def unit(self, *, institution: bool = False) -> Unit:
        rng = self.rng
        region = self.region(1.0)  # employers are registered where the agency is
        city = region[2]
        if institution:
            name = f"{city}{region[3]}{rng.choice(_INSTITUTIONS)}"
            prefix, kind = "12", "事业单位"
        else:
            name = f"{city}{rng.choice(_BRANDS)}{rng.choice(_TRADES)}{rng.choice(_UNIT_SUFFIX)}"
            prefix, kind = "91", "企业"
        first17 = f"{prefix}{region[0]}{self._org_code(institution)}"
        return Unit(
            name=name, credit_code=first17 + credit_code_check_char(first17), region=region,
            legal_rep=self.person(age=(32, 60)), contact=self.person(age=(23, 50)),
            address=self.address(region), phone=self.phone(), kind=kind,
            employees=rng.choice((6, 12, 25, 48, 86, 150, 320)),
        )

    def _org_code(self, institution: bool = False) -> str:
        """A GB 11714 organisation code: 8 body characters and its check character."""
        rng = self.rng
        if institution:  # public institutions keep their numeric pre-2015 codes
            body = "4" + "".join(rng.choice("0123456789") for _ in range(7))
        else:  # codes issued by market regulators since 2015 start with MA
            body = "MA" + "".join(rng.choice(_ORG_CHARS[:10] + "ABCDEFGH") for _ in range(6))
        total = sum(_ORG_CHARS.index(c) * w if c.isdigit() else (ord(c) - 55) * w
                    for c, w in zip(body, _ORG_WEIGHTS, strict=True))
        check = 11 - total % 11
        return body + ("X" if check == 10 else "0" if check == 11 else str(check))

    def staff(self, role: str) -> Staff:
        """One of a small, stable roster per role, so the same clerks recur across cases."""
        roster = self._staff.get(role)
        if roster is None:
            r = random.Random(f"{self.agency.code}-{role}")
            sub = PeopleFactory(r, self.agency)
            roster = [
                Staff(f"{self.agency.code}-{STAFF_ROLES.index(role) + 1}{n:03d}",
                      sub.name(r.choice("男女")), role)
                for n in range(1, 5 if role != "窗口人员" else 8)
            ]
            self._staff[role] = roster
        return self.rng.choice(roster)
