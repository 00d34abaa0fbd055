"""Synthetic archive items for bench/search.py: realistic enough to load an index honestly.

People with Chinese names (common names repeat, as they do), valid resident IDs and
credit codes, units, service items with their categories, agencies, channels, outcomes,
dates over ten years, and a few hundred characters of Chinese body text assembled from
the phrases of real notices. Deterministic for a seed; about 30,000 items/s.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from dangan.packages.identity import credit_code_check_char, resident_id_check_char
from dangan.search.document import ExtractedText, IndexDocument

CST = timezone(timedelta(hours=8))
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
            "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉兵辉鹏飞宇浩然子涵欣怡梓轩"
         "雨萱思远晨阳佳琪文博一鸣嘉怡俊杰诗雨海燕春梅德胜永刚小龙晓东雪梅淑珍秋菊")
UNIT_WORDS = ("远望", "恒信", "华联", "东方", "新源", "宏达", "金桥", "瑞丰", "天成", "锦程", "海纳",
              "嘉禾", "博远", "中和", "永盛", "信达", "长青", "安泰", "明德", "国鑫")
UNIT_KINDS = ("科技有限公司", "建筑工程有限公司", "商贸有限公司", "物流有限公司", "餐饮管理有限公司",
              "机械制造有限公司", "纺织有限公司", "电子有限公司")
CITIES = (("330102", "杭州市上城区"), ("330105", "杭州市拱墅区"), ("330106", "杭州市西湖区"),
          ("330108", "杭州市滨江区"), ("330109", "杭州市萧山区"), ("330110", "杭州市余杭区"),
          ("330203", "宁波市海曙区"), ("330302", "温州市鹿城区"), ("330402", "嘉兴市南湖区"),
          ("330602", "绍兴市越城区"))
ITEMS = (  # code, name, category, retention, kind of party
    ("SB001", "企业职工基本养老保险参保登记", "GL", "D30", "person"),
    ("SB002", "单位参保登记", "GL", "Y", "unit"),
    ("SB003", "职工参保信息变更登记", "GL", "D30", "person"),
    ("SB010", "养老保险缴费基数申报", "ZJ", "D30", "unit"),
    ("SB011", "社会保险费补缴", "ZJ", "D30", "person"),
    ("SB020", "工伤认定申请", "JL", "Y", "person"),
    ("SB021", "劳动能力鉴定申请", "JL", "Y", "person"),
    ("SB022", "工伤保险待遇核定", "ZF", "Y", "person"),
    ("SB030", "失业保险金申领", "ZF", "D30", "person"),
    ("SB031", "失业登记", "JL", "D30", "person"),
    ("SB040", "企业职工基本养老保险待遇申领", "ZF", "Y", "person"),
    ("SB041", "养老保险关系转移接续", "GL", "Y", "person"),
    ("SB042", "丧葬补助金和抚恤金申领", "ZF", "Y", "person"),
    ("SB050", "个人账户一次性待遇申领", "ZF", "Y", "person"),
)
CHANNELS = ("window",) * 5 + ("online",) * 3 + ("mobile", "self_service", "home_visit")
OUTCOMES = ("approved",) * 8 + ("rejected", "not_accepted", "withdrawn")
SECURITY = ("public",) * 7 + ("internal",) * 2 + ("restricted",)
SENTENCES = (
    "申请人{name}于{date}到{agency}社会保险经办窗口提交{item}申请材料。",
    "经办人员对申请材料进行了受理审查，材料齐全，符合法定形式，予以受理。",
    "根据《社会保险法》和省人力资源社会保障厅的有关规定，经审核，{result}。",
    "{name}的参保单位为{unit}，统一社会信用代码已核验无误。",
    "经调查核实，{name}在工作时间和工作场所内因工作原因受到事故伤害。",
    "本次核定的缴费基数为每月{amount}元，个人账户累计储存额已记入。",
    "因劳动合同期满终止劳动关系，申请领取失业保险金，核定领取期限{months}个月。",
    "申请人对本决定不服的，可以自收到本决定书之日起六十日内申请行政复议。",
    "已通过短信和邮寄方式将办理结果告知申请人，并提示其按时领取待遇。",
    "经比对户籍和死亡登记信息，确认参保人{name}已于{date}死亡，其遗属申请丧葬补助金。",
    "转出地社会保险经办机构已出具参保缴费凭证，转入地经办机构审核后予以接续。",
    "附件包括身份证复印件、劳动合同、工资发放明细和医疗诊断证明书。",
    "单位经办人{name}提交了参保登记表，并承诺所填信息真实有效。",
    "经劳动能力鉴定委员会鉴定，伤残等级为{grade}级，生活自理障碍等级为无。",
)
RESULTS = ("准予办理", "符合条件，准予登记", "不符合申领条件，不予办理", "材料不全，不予受理")
GRADES = "一二三四五六七八九十"


def person_id(rng: random.Random, area: str) -> str:
    birth = datetime(1950, 1, 1) + timedelta(days=rng.randrange(0, 50 * 365))
    first = f"{area}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first + resident_id_check_char(first)


def unit_code(rng: random.Random, area: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + area + "".join(rng.choice(alphabet) for _ in range(9))
    return body + credit_code_check_char(body)


def person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def generate(n: int, seed: int = 7) -> list[IndexDocument]:
    """``n`` synthetic items. Persons repeat (about 1.6 cases each), as in a real archive."""
    rng = random.Random(seed)
    persons = [(person_name(rng), person_id(rng, rng.choice(CITIES)[0]))
               for _ in range(max(1, int(n / 1.6)))]
    units = [(rng.choice(UNIT_WORDS[:10]) + rng.choice(UNIT_WORDS[10:]) + rng.choice(UNIT_KINDS),
              unit_code(rng, rng.choice(CITIES)[0][:6])) for _ in range(max(1, n // 20))]
    docs: list[IndexDocument] = []
    start = datetime(2015, 1, 1, 8, 30, tzinfo=CST)
    for i in range(n):
        code, item, category, retention, party_kind = rng.choice(ITEMS)
        area, city = rng.choice(CITIES)
        person = persons[rng.randrange(len(persons))]
        unit = units[rng.randrange(len(units))]
        accepted = start + timedelta(minutes=rng.randrange(0, 10 * 365 * 24 * 60))
        completed = accepted + timedelta(days=rng.randrange(0, 20), hours=rng.randrange(0, 8))
        outcome = rng.choice(OUTCOMES)
        parties = [{"role": "applicant", "kind": "person", "name": person[0],
                    "id_type": "resident_id", "id_number": person[1]}]
        if party_kind == "unit" or rng.random() < 0.3:
            parties.append({"role": "subject", "kind": "unit", "name": unit[0],
                            "id_type": "credit_code", "id_number": unit[1]})
        fill = {"name": person[0], "date": f"{accepted:%Y年%m月%d日}", "agency": city,
                "item": item, "unit": unit[0], "amount": rng.randrange(3000, 30000),
                "months": rng.randrange(3, 25), "grade": rng.choice(GRADES),
                "result": RESULTS[0] if outcome == "approved" else rng.choice(RESULTS[2:])}
        body = "".join(s.format(**fill) for s in rng.sample(SENTENCES, rng.randrange(5, 9)))
        title = f"{person[0] if party_kind == 'person' else unit[0]}{item}"
        docs.append(IndexDocument(
            aip_id=f"aip-{i:07d}", archival_code=f"Z001-SB·{completed.year}-{retention}-{category}-{i:06d}",
            case_id=f"JB{completed.year}{i:08d}", source_system="jbxt", version=1, title=title,
            service_item_code=code, service_item_name=item, category=category, retention=retention,
            classification_code=f"SB-{category}", agency_code=area,
            agency_name=f"{city}社会保险管理服务中心", channel=rng.choice(CHANNELS), outcome=outcome,
            decision_no=f"人社{category}〔{completed.year}〕{i}号" if outcome != "withdrawn" else None,
            accepted_at=accepted, completed_at=completed, year=completed.year,
            security_classification=rng.choice(SECURITY), parties=parties,
            texts=[ExtractedText("f1", "审批表", "decision", body, "pdf")]))
    return docs
