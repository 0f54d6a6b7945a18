"""GIFT (Moodle) import into a module and export of a module's questions: every type, problems reported with
their line and nothing imported when any line fails, and a round trip (export → import into an empty
module → the same questions)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from backend.courses.versions import current_module_version
from backend.exams import bank, gift, gift_reader
from backend.models import Course, CourseModule, ModuleVersion, Question, QuestionVersion, User
from tests.exams.support import import_folder
from tests.support import csrf_token, login, post_form, visible_text

EVERY_TYPE = r"""// A comment line, then a category that is ignored.
$CATEGORY: $course$/Broker

::gift-single::依照第四十五条，奖励不低于净收入的：{
=百分之五十#正确：第四十五条。
~百分之三十#不对。
~百分之二十
}

// academy: points=2 tags=合同,实务
::gift-multiple::技术合同包括：{=技术开发合同 =技术转让合同 ~劳动合同####《民法典》第八百四十三条。}

::gift-partial::[markdown]下列哪些属于转化方式？{
~%50%自行投资实施转化
~%50%向他人转让
~%-50%发表论文
}

::gift-true::技术经纪人是促成技术交易的中介人员。{T}

::gift-false::技术秘密转让合同可以不约定保密义务。{FALSE#错。#对。}

::gift-short::全称是《中华人民共和国____法》。{=促进科技成果转化 =促进科技成果转化法}

::gift-tolerance::最低奖励比例是百分之多少？{#50:0.5}

::gift-range::奖励金额（万元）可以是：{#50..70####第三十七条。}

::gift-exact::服务费（万元）是多少？{#1}

::gift-essay::请分析技术经纪人应当如何组织这次交易。{####评分要点：确认权属、评估作价、履行公示。}

Untitled question with an escaped \= sign and a \{brace\}: {=a\~b ~c}

The missing word {=转化 ~转让} goes in the middle.
"""


@pytest.fixture
def empty_course(db: Session, tmp_path: Path) -> Course:
    """A course whose first module has no questions yet (the exam draws from its second)."""
    folder = tmp_path / "gift-course"
    folder.mkdir()
    (folder / "course.yaml").write_text(
        "slug: gift-course\ntitle: GIFT 课程\nlevel: junior\nlanguage: zh-CN\nmodules:\n  - 01-empty\n  - 02-other\n"
        "completion:\n  min_hours: 1\nexam:\n  title: 考试\n  time_limit_minutes: 30\n  pass_score: 60\n"
        "  max_attempts: 1\n  draw:\n    per_module:\n      - {module: 02-other, count: 1}\n    essay: 0\n"
        "  shuffle_options: false\n"
        "certificate:\n  title: 证书\n  validity_years: 0\n",
        encoding="utf-8",
    )
    (folder / "01-empty.md").write_text(
        "---\ntitle: 空模块\ngroup: 实务技能\nhours: 1\n---\n\n# 空模块\n\n正文。\n", encoding="utf-8"
    )
    (folder / "02-other.md").write_text(
        "---\ntitle: 另一模块\ngroup: 公共知识\nhours: 1\n---\n\n```question id=other-q\n问题\n\n- [x] 是\n- [ ] 否\n```\n",
        encoding="utf-8",
    )
    return import_folder(db, folder)


def _questions(db: Session, course: Course, module_name: str) -> dict[str, QuestionVersion]:
    module = db.exec(
        select(CourseModule).where(CourseModule.course_id == course.id, CourseModule.name == module_name)
    ).one()
    rows = db.exec(
        select(Question.qid, QuestionVersion)
        .join(QuestionVersion, col(QuestionVersion.question_id) == Question.id)
        .where(
            Question.module_id == module.id,
            col(Question.archived_at).is_(None),
            QuestionVersion.number == Question.current_version,
        )
    ).all()
    return dict(rows)


def test_every_type_is_read(db: Session, empty_course: Course, admin: User) -> None:
    count = bank.import_module_gift(
        db, course=empty_course, module_name="01-empty", text=EVERY_TYPE, author=admin
    )
    db.commit()
    assert count == 12
    found = _questions(db, empty_course, "01-empty")
    single = found["gift-single"]
    assert single.type == "single" and [o["correct"] for o in single.options] == [True, False, False]
    assert single.explanation == "正确：第四十五条。"  # the right answer's feedback
    multiple = found["gift-multiple"]
    assert (multiple.type, multiple.scoring, multiple.points, multiple.tags) == (
        "multiple",
        "all",
        2,
        ["合同", "实务"],
    )
    assert multiple.explanation == "《民法典》第八百四十三条。"
    partial = found["gift-partial"]
    assert (partial.type, partial.scoring) == ("multiple", "partial")
    assert [o["correct"] for o in partial.options] == [True, True, False]
    assert (found["gift-true"].type, found["gift-true"].truth) == ("truefalse", True)
    assert (found["gift-false"].truth, found["gift-false"].explanation) == (False, "对。")
    assert found["gift-short"].accepted == ["促进科技成果转化", "促进科技成果转化法"]
    assert (found["gift-tolerance"].numeric_low, found["gift-tolerance"].numeric_high) == (49.5, 50.5)
    assert (found["gift-range"].numeric_low, found["gift-range"].numeric_high) == (50, 70)
    assert (found["gift-exact"].numeric_low, found["gift-exact"].numeric_high) == (1, 1)
    essay = found["gift-essay"]
    assert essay.type == "essay" and essay.explanation == "评分要点：确认权属、评估作价、履行公示。"
    untitled = found["01-empty-gift-1"]
    assert "escaped = sign and a {brace}" in untitled.stem and untitled.options[0]["text"] == "a~b"
    assert found["01-empty-gift-2"].stem == "The missing word ____ goes in the middle."
    module = db.exec(select(CourseModule).where(CourseModule.name == "01-empty")).one()
    version = current_module_version(db, module)
    assert version.number == 2 and "```question id=gift-essay type=essay" in version.text
    assert version.text.startswith("---\ntitle: 空模块")  # appended, the rest of the text kept


BROKEN = """// line 1: a comment
::ok-one::fine {=a ~b}

::no-right::no right answer {~a ~b}

::bad-number::what? {#abc}

::essay-no-guide::discuss {}

::matching::match {=a -> b =c -> d}

a question without an answer block

::too-many::nine answers {~1 =2 ~3 ~4 ~5 ~6 ~7 ~8 ~9}

::basics-single::an id the course already uses {=a ~b}
"""


def test_problems_are_reported_with_their_lines_and_nothing_is_imported(
    client: TestClient, db: Session, course: Course, instructor: User
) -> None:
    module = db.exec(
        select(CourseModule).where(CourseModule.course_id == course.id, CourseModule.name == "02-law")
    ).one()
    before = current_module_version(db, module).number
    with pytest.raises(gift.GiftProblems) as caught:
        bank.import_module_gift(db, course=course, module_name="02-law", text=BROKEN, author=instructor)
    lines = [(problem.line, problem.message) for problem in caught.value.problems]
    assert [line for line, _ in lines] == [4, 6, 8, 10, 12, 14, 16]
    assert "no right answer" in lines[0][1] and "numeric" in lines[1][1] and "marking guide" in lines[2][1]
    assert "matching" in lines[3][1] and "answer block" in lines[4][1] and "2 to 8" in lines[5][1]
    assert "already used" in lines[6][1]
    db.rollback()
    login(client, instructor.email)
    response = post_form(
        client, "/instructor/questions/sample-course/modules/02-law/import", {"gift": BROKEN}
    )
    assert response.status_code == 422
    text = visible_text(response.text)
    assert "GIFT:4: no right answer" in text and "GIFT:14:" in text
    db.commit()
    assert current_module_version(db, module).number == before
    assert db.exec(select(Question).where(Question.qid == "ok-one")).first() is None
    # An id the course already uses is a problem at its line too.
    duplicate = "::basics-single::again {=a ~b}\n"
    with pytest.raises(gift.GiftProblems) as caught:
        bank.import_module_gift(db, course=course, module_name="02-law", text=duplicate, author=instructor)
    assert caught.value.problems[0].line == 1 and "already used" in caught.value.problems[0].message


def test_import_over_http_adds_a_version(
    client: TestClient, db: Session, course: Course, instructor: User
) -> None:
    login(client, instructor.email)
    text = "::new-q::新题 {=对 ~错}\n\n::new-tf::判断 {F}\n"
    response = client.post(
        "/instructor/questions/sample-course/modules/03-practice/import",
        data={"csrf_token": csrf_token(client)},
        files={"file": ("questions.gift.txt", text.encode("utf-8"), "text/plain")},
    )
    assert response.status_code == 303, response.text
    page = client.get("/instructor/questions/sample-course")
    assert "new-q" in page.text and "new-tf" in page.text
    db.commit()
    module = db.exec(select(CourseModule).where(CourseModule.name == "03-practice")).one()
    latest = db.exec(
        select(ModuleVersion)
        .where(ModuleVersion.module_id == module.id)
        .order_by(col(ModuleVersion.number).desc())
    ).first()
    assert latest is not None and latest.author_id == instructor.id and "GIFT" in latest.message


def _fields(version: QuestionVersion) -> tuple[object, ...]:
    return (
        version.type,
        version.stem,
        version.points,
        version.exam,
        version.scoring,
        version.tags,
        version.options,
        version.accepted,
        version.truth,
        version.numeric_low,
        version.numeric_high,
        version.explanation,
    )


def test_round_trip(
    client: TestClient, db: Session, course: Course, empty_course: Course, admin: User
) -> None:
    login(client, admin.email)
    for name in ("01-basics", "02-law", "03-practice"):
        response = client.get(f"/instructor/questions/sample-course/modules/{name}/export.gift")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        assert "attachment" in response.headers["content-disposition"]
        bank.import_module_gift(
            db, course=empty_course, module_name="01-empty", text=response.text, author=admin
        )
        db.commit()
    original: dict[str, QuestionVersion] = {}
    for name in ("01-basics", "02-law", "03-practice"):
        original |= _questions(db, course, name)
    copied = _questions(db, empty_course, "01-empty")
    assert set(copied) == set(original)
    for qid, version in original.items():
        assert _fields(copied[qid]) == _fields(version), qid
    # And exporting the copy gives the same GIFT again.
    again = bank.export_module_gift(db, course=empty_course, module_name="01-empty")
    for qid in original:
        assert f"::{qid}::" in again


def test_export_escapes_gift_syntax() -> None:
    question = gift.GiftQuestion(
        line=0,
        id="q-1",
        type="single",
        stem="a {b} = c ~ d # e: f\\g\n\n第二段",
        options=[("x = 1", True), ("y ~ 2", False)],
        explanation="说明 #1",
    )
    text = gift.to_gift(question)
    parsed = gift_reader.parse_gift(text, taken_ids=set(), id_prefix="x")
    assert len(parsed) == 1
    assert (parsed[0].stem, parsed[0].options, parsed[0].explanation) == (
        question.stem,
        question.options,
        "说明 #1",
    )
