"""Learning progress: the whole reading flow of a trainee over HTTP, completing modules, and hours (学时)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.courses import service
from backend.errors import Conflict
from backend.models import Course, CourseModule, ModuleProgress, SelfCheckAnswer, User
from tests.courses.reading_support import load_sample_course
from tests.support import TEST_PASSWORD, login, post_form, visible_text

COURSE = "/courses/sample-course"
ANSWERS = {
    "01-basics": [
        ("basics-single", {"choice": "1"}),
        ("basics-multiple", {"choice": ["0", "1"]}),
        ("basics-truefalse", {"truth": "true"}),
        ("basics-selfcheck", {"choice": "0"}),  # a wrong answer still counts as answered
    ],
    "02-law": [
        ("law-045-reward", {"choice": "1"}),
        ("law-fill", {"text": "促进科技成果转化"}),
        ("law-percent", {"value": "50"}),
        ("law-range", {"value": "60"}),
    ],
    "03-practice": [
        ("practice-multiple", {"choice": ["0", "1", "2"]}),
        ("practice-exact", {"value": "1"}),
        ("practice-false", {"truth": "false"}),
        ("practice-case", {"text": "确认权属、评估作价、履行公示。"}),
    ],
}


@pytest.fixture
def course(db: Session) -> Course:
    return load_sample_course(db)


def test_a_trainee_reads_answers_completes_and_earns_hours(
    client: TestClient, course: Course, trainee: User
) -> None:
    login(client, trainee.email)
    catalogue = client.get("/courses")
    assert f'href="{COURSE}"' in catalogue.text
    outline = client.get(COURSE)
    assert f'href="{COURSE}/modules/01-basics"' in outline.text
    assert "还差 6 学时" in visible_text(outline.text)
    assert "你还没有开始学习任何课程" in visible_text(client.get("/me").text)

    for name in ("01-basics", "02-law"):
        page = f"{COURSE}/modules/{name}"
        for qid, data in ANSWERS[name]:
            response = post_form(client, f"{page}/questions/{qid}", data)
            assert response.status_code == 303 and response.headers["location"] == f"{page}#q-{qid}"
        box = client.get(page).text
        assert "完成本模块" in box and " disabled" not in box.split('id="module_complete"')[1]
        response = post_form(client, f"{page}/complete", {})
        assert response.status_code == 303 and response.headers["location"] == page
        done = visible_text(client.get(page).text)
        assert "你已完成本模块" in done

    flash_page = visible_text(client.get(f"{COURSE}/modules/02-law").text)
    assert "已计入 3 学时" in flash_page

    me = visible_text(client.get("/me").text)
    assert "示例课程" in me
    assert "已获 5 学时，要求 6 学时" in me and "还差 1 学时" in me
    assert "公共知识 2 学时 2 学时" in me and "政策法规 3 学时 3 学时" in me
    assert "实务技能 0 学时 1.5 学时" in me and "合计 5 学时 6.5 学时" in me
    assert "继续学习：技术合同实务" in me
    assert f'href="{COURSE}/modules/03-practice"' in client.get("/me").text

    token = client.post("/api/v1/auth/token", data={"username": trainee.email, "password": TEST_PASSWORD})
    progress = client.get(
        "/api/v1/me/progress", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    ).json()
    assert progress == {
        "courses": [
            {
                "slug": "sample-course",
                "title": "示例课程",
                "min_hours": 6.0,
                "hours_done": 5.0,
                "hours_left": 1.0,
                "hours_by_group": {"公共知识": 2.0, "政策法规": 3.0, "实务技能": 0.0, "能力提升": 0.0},
                "completed_modules": ["01-basics", "02-law"],
            }
        ]
    }

    page = f"{COURSE}/modules/03-practice"
    for qid, data in ANSWERS["03-practice"]:
        post_form(client, f"{page}/questions/{qid}", data)
    post_form(client, f"{page}/complete", {})
    me = visible_text(client.get("/me").text)
    assert "已获 6.5 学时，要求 6 学时" in me and "已达到学时要求" in me and "继续学习" not in me


def test_complete_is_refused_while_questions_are_unanswered(
    client: TestClient, db: Session, course: Course, trainee: User
) -> None:
    login(client, trainee.email)
    page = f"{COURSE}/modules/01-basics"
    for qid, data in ANSWERS["01-basics"][:3]:
        post_form(client, f"{page}/questions/{qid}", data)
    box = client.get(page).text.split('id="module_complete"')[1]
    assert "还有 1 道自测题未作答" in visible_text(box) and " disabled" in box
    response = post_form(client, f"{page}/complete", {})
    assert response.status_code == 409
    assert "请先完成全部自测题：还有 1 道未作答" in visible_text(response.text)
    progress = db.exec(select(ModuleProgress)).one()
    assert progress.completed_at is None and progress.hours_credited == 0


def test_completing_twice_changes_nothing(db: Session, course: Course, trainee: User) -> None:
    user_id = trainee.id or 0
    for qid, answer in (("law-045-reward", {"choice": 1}), ("law-fill", {"text": "x"})):
        service.answer_self_check(
            db, user_id=user_id, slug="sample-course", name="02-law", qid=qid, answer=answer
        )
    with pytest.raises(Conflict):
        service.complete_module(db, user_id=user_id, slug="sample-course", name="02-law")
    for qid in ("law-percent", "law-range"):
        service.answer_self_check(
            db, user_id=user_id, slug="sample-course", name="02-law", qid=qid, answer={"value": "1"}
        )
    first = service.complete_module(db, user_id=user_id, slug="sample-course", name="02-law")
    db.commit()
    assert first.completed_at is not None and first.hours_credited == 3
    again = service.complete_module(db, user_id=user_id, slug="sample-course", name="02-law")
    assert again.completed_at == first.completed_at and again.hours_credited == 3
    assert len(db.exec(select(ModuleProgress)).all()) == 1


def test_hours_credited_are_the_version_hours_at_completion(
    db: Session, course: Course, trainee: User
) -> None:
    user_id = trainee.id or 0
    answers: dict[str, dict[str, object]] = {
        "practice-multiple": {"choice": [0, 1, 2]},
        "practice-exact": {"value": "1"},
        "practice-false": {"truth": False},
        "practice-case": {"text": "分析"},
    }
    for qid, answer in answers.items():
        service.answer_self_check(
            db, user_id=user_id, slug="sample-course", name="03-practice", qid=qid, answer=answer
        )
    progress = service.complete_module(db, user_id=user_id, slug="sample-course", name="03-practice")
    assert progress.hours_credited == 1.5
    summary = service.progress_summary(db, user_id=user_id)
    assert [item.course.slug for item in summary] == ["sample-course"]
    assert summary[0].hours_by_group["实务技能"] == 1.5 and summary[0].hours_left == 4.5


def test_answering_again_keeps_one_latest_answer(db: Session, course: Course, trainee: User) -> None:
    user_id = trainee.id or 0
    kwargs = {"user_id": user_id, "slug": "sample-course", "name": "01-basics", "qid": "basics-single"}
    wrong = service.answer_self_check(db, **kwargs, answer={"choice": 0})  # type: ignore[arg-type]
    right = service.answer_self_check(db, **kwargs, answer={"choice": 1})  # type: ignore[arg-type]
    db.commit()
    assert wrong.result and wrong.result.correct is False
    assert right.result and right.result.correct is True
    stored = db.exec(select(SelfCheckAnswer)).all()
    assert len(stored) == 1 and stored[0].answer == {"choice": 1} and stored[0].correct is True
    module = db.exec(select(CourseModule).where(CourseModule.name == "01-basics")).one()
    progress = db.exec(select(ModuleProgress)).one()
    assert progress.module_id == module.id and progress.completed_at is None


def test_progress_of_another_trainee_is_separate(
    client: TestClient, db: Session, course: Course, trainee: User, instructor: User
) -> None:
    service.answer_self_check(
        db,
        user_id=trainee.id or 0,
        slug="sample-course",
        name="01-basics",
        qid="basics-single",
        answer={"choice": 1},
    )
    db.commit()
    login(client, instructor.email)
    assert "你还没有开始学习任何课程" in visible_text(client.get("/me").text)
    box = client.get(f"{COURSE}/modules/01-basics").text
    assert "还有 4 道自测题未作答" in visible_text(box)


def test_me_requires_login(client: TestClient) -> None:
    assert client.get("/me").status_code == 303
