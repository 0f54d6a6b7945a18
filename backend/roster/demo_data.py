"""Synthetic people for the demo: Chinese names from surname and given-name lists, valid ID numbers (correct
check characters, Zhejiang district codes 3301xx–3311xx), organisations visibly marked 演示数据, and the
earlier register of exactly 1,349 provincial brokers certified 2012–2022 (as Hangzhou reported in 2022).
Everything is drawn from a seeded generator, so every run produces the same roster."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from backend.accounts.idcard import mod11_2_check_char

DEMO_MARK = "（演示数据）"
DEMO_NUMBER_PREFIX = "DEMO"
SEED = 20221349
# Certificates per year: growth, a dip in 2020, 1,349 in all (checked at import time).
LEGACY_PER_YEAR = {
    2012: 60,
    2013: 75,
    2014: 90,
    2015: 105,
    2016: 115,
    2017: 125,
    2018: 135,
    2019: 150,
    2020: 120,
    2021: 190,
    2022: 184,
}
LEGACY_TOTAL = 1349
# Zhejiang's cities (first four digits of the ID number) with some of their districts, and their weight:
# the training base is in Hangzhou, so most brokers are from there.
CITIES = {
    "3301": ("杭州市", ("02", "05", "06", "08", "09", "10", "11", "13"), 62),
    "3302": ("宁波市", ("03", "05", "06", "11", "12"), 8),
    "3303": ("温州市", ("02", "03", "04"), 5),
    "3304": ("嘉兴市", ("02", "11"), 5),
    "3305": ("湖州市", ("02", "03"), 4),
    "3306": ("绍兴市", ("02", "03", "04"), 5),
    "3307": ("金华市", ("02", "03"), 4),
    "3308": ("衢州市", ("02", "03"), 2),
    "3309": ("舟山市", ("02", "03"), 1),
    "3310": ("台州市", ("02", "03", "04"), 3),
    "3311": ("丽水市", ("02",), 1),
}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤楼俞章应"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉萍红鹏飞斌宇浩凯健俊帆旭宁琳晨欣怡佳嘉婷雪慧颖倩晶博文"
    "晓丹亮锋建国海峰志新春林云波辉荣成立永德思雨子一诗梦琪瑶璐彬航铭哲睿涵昊轩逸凡悦可心然安奕远恒毅"
)
ORGANISATIONS = (
    "{city}示范大学技术转移中心",
    "{city}示范理工学院科学技术研究院",
    "{city}示范农业科学研究院成果转化处",
    "{city}技术市场服务中心",
    "{city}科技企业孵化器有限公司",
    "{city}高新区创新服务中心",
    "{city}知识产权运营有限公司",
    "{city}{brand}科技有限公司",
    "{city}{brand}新材料有限公司",
    "{city}{brand}技术转移服务有限公司",
)
BRANDS = ("云帆", "启明", "智联", "恒创", "睿达", "瀚海", "聚能", "博远", "嘉禾", "星河", "远图", "鼎新")


@dataclass(frozen=True)
class DemoPerson:
    name: str
    id_number: str
    organisation: str
    region: str


class PeopleFactory:
    """Distinct people from one seeded generator."""

    def __init__(self, seed: int = SEED) -> None:
        self.random = random.Random(seed)
        self.ids: set[str] = set()

    def name(self) -> str:
        given = self.random.choice(GIVEN) + (self.random.choice(GIVEN) if self.random.random() < 0.7 else "")
        return self.random.choice(SURNAMES) + given

    def city(self) -> str:
        codes = list(CITIES)
        return self.random.choices(codes, weights=[CITIES[code][2] for code in codes])[0]

    def id_number(self, city: str, *, born_from: int = 1962, born_to: int = 1996) -> str:
        while True:
            district = self.random.choice(CITIES[city][1])
            birthday = date(born_from, 1, 1) + timedelta(
                days=self.random.randrange((born_to - born_from) * 365)
            )
            body = f"{city}{district}{birthday:%Y%m%d}{self.random.randrange(1000):03d}"
            number = body + mod11_2_check_char(body)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def organisation(self, city: str) -> str:
        short = CITIES[city][0].removesuffix("市")
        pattern = self.random.choice(ORGANISATIONS)
        return DEMO_MARK + pattern.format(city=short, brand=self.random.choice(BRANDS))

    def person(self) -> DemoPerson:
        city = self.city()
        return DemoPerson(self.name(), self.id_number(city), self.organisation(city), CITIES[city][0])


def legacy_number(year: int, level: int, seq: int) -> str:
    """DEMO + year + level + sequence: plainly not a real number, and never the shape of this platform's."""
    return f"{DEMO_NUMBER_PREFIX}{year}{level}{seq:04d}"


def _levels_for(count: int, year: int) -> list[int]:
    """Mostly junior; intermediate from the start, senior (高级) only once the three-level scheme exists."""
    senior = round(count * 0.03) if year >= 2016 else 0
    intermediate = round(count * 0.12)
    return [1] * (count - senior - intermediate) + [2] * intermediate + [3] * senior


def legacy_roster(factory: PeopleFactory) -> list[dict[str, object]]:
    """The earlier register as rows with the import's column names: 1,349 certificates, two class dates
    a year (June and November), every person once."""
    rows: list[dict[str, object]] = []
    for year, count in LEGACY_PER_YEAR.items():
        dates = (date(year, 6, 20 + year % 7), date(year, 11, 10 + year % 9))
        sequence = {1: 0, 2: 0, 3: 0}
        for index, level in enumerate(_levels_for(count, year)):
            person = factory.person()
            sequence[level] += 1
            rows.append(
                {
                    "name": person.name,
                    "id_number": person.id_number,
                    "number": legacy_number(year, level, sequence[level]),
                    "level": level,
                    "issued_on": dates[index % 2],
                    "organisation": person.organisation,
                    "region": person.region,
                    "status": "有效",
                }
            )
    assert len(rows) == LEGACY_TOTAL
    return rows
