"""Drawing a paper by the course's draw rules, and the snapshot it stores: later edits of a question never
change a paper already drawn."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from sqlmodel import Session, col, select

from backend.courses.versions import current_module_version, save_module_version
from backend.exams import attempts, draw, service
from backend.models import Course, CourseModule, ExamItem, Question, QuestionVersion, User
from tests.exams.support import SAMPLE_DRAW, course_copy, credit_hours, import_folder, paper


def _qids(db: Session, course: Course, items: list[draw.DrawnItem]) -> list[str]:
    ids = {q.id: q.qid for q in db.exec(select(Question).where(Question.course_id == course.id))}
    return [ids[item.question_id] for item in items]


def test_per_module_count_and_essays_from_the_whole_course(db: Session, tmp_path: Path) -> None:
    course = import_folder(db, course_copy(tmp_path, draw=SAMPLE_DRAW))  # per_module: 2, essay: 1
    modules = {m.id: m.name for m in db.exec(select(CourseModule))}
    question_module = {q.id: modules[q.module_id] for q in db.exec(select(Question))}
    for seed in range(20):
        items = draw.draw_paper(db, course=course, rng=random.Random(seed))
        objective = [item for item in items if item.version.type != "essay"]
        essays = [item for item in items if item.version.type == "essay"]
        per_module = Counter(question_module[item.question_id] for item in objective)
        assert per_module == {"01-basics": 2, "02-law": 2, "03-practice": 2}
        assert len(essays) == 1 and items[-1].version.type == "essay"  # essays come last
        qids = _qids(db, course, items)
        assert "basics-selfcheck" not in qids  # exam=false never drawn
        assert len(set(qids)) == len(qids)
        assert all(
            item.option_order == list(range(len(item.version.options)))
            for item in objective
            if item.version.type in ("single", "multiple")
        )  # shuffle_options: false


def test_list_draw_shuffles_options_and_uses_system_randomness(db: Session, course: Course) -> None:
    items = draw.draw_paper(db, course=course)  # the full draw, options shuffled, SystemRandom
    qids = _qids(db, course, items)
    assert len(qids) == 11 and qids[-1] == "practice-case"
    orders = set()
    for seed in range(30):
        for item in draw.draw_paper(db, course=course, rng=random.Random(seed)):
            if item.version.type in ("single", "multiple"):
                assert sorted(item.option_order) == list(range(len(item.version.options)))
                orders.add(tuple(item.option_order))
    assert len(orders) > 3  # options really are shuffled
    assert isinstance(draw._system_random, random.SystemRandom)


def test_archived_questions_are_never_drawn(db: Session, tmp_path: Path, admin: User) -> None:
    course = import_folder(db, course_copy(tmp_path, draw=SAMPLE_DRAW))  # 2 of 02-law's 4 questions
    module = db.exec(select(CourseModule).where(CourseModule.name == "02-law")).one()
    version = current_module_version(db, module)
    start = version.text.index("```question id=law-percent")
    end = version.text.index("```", version.text.index("\n", start) + 1) + 4
    save_module_version(
        db, module=module, text=version.text[:start] + version.text[end:], author=admin, message="drop"
    )
    db.commit()
    assert db.exec(select(Question).where(Question.qid == "law-percent")).one().archived_at is not None
    seen: set[str] = set()
    for seed in range(40):
        qids = _qids(db, course, draw.draw_paper(db, course=course, rng=random.Random(seed)))
        seen |= set(qids)
        assert sum(qid.startswith("law-") for qid in qids) == 2
    assert "law-percent" not in seen
    assert {"law-045-reward", "law-fill", "law-range"} <= seen


def test_snapshot_survives_an_edit_of_the_question(
    db: Session, course: Course, ready_trainee: User, admin: User
) -> None:
    attempt = attempts.start_attempt(db, user=ready_trainee, course=course)
    db.commit()
    before = paper(db, attempt.id or 0)
    stem_before = before["law-045-reward"].version.stem
    module = db.exec(select(CourseModule).where(CourseModule.name == "02-law")).one()
    text = current_module_version(db, module).text
    edited = text.replace("应当提取用于奖励的金额不低于", "应当提取用于奖励的金额最少为").replace(
        "- [x] 100 万元", "- [x] 100 万元整"
    )
    save_module_version(db, module=module, text=edited, author=admin, message="edit")
    db.commit()
    question = db.exec(select(Question).where(Question.qid == "law-045-reward")).one()
    assert question.current_version == 2
    after = paper(db, attempt.id or 0)
    assert after["law-045-reward"].version.stem == stem_before
    assert after["law-045-reward"].version.number == 1
    assert {qid: row.order for qid, row in after.items()} == {qid: row.order for qid, row in before.items()}
    shown = service.attempt_paper(db, attempt=attempt)
    item = next(i for i in shown if i.position == after["law-045-reward"].position)
    assert "不低于" in item.stem and "100 万元整" not in item.options
    # A new attempt (after this one) draws the new version.
    attempts.submit_attempt(db, attempt_id=attempt.id or 0)
    db.commit()
    items = db.exec(select(ExamItem).where(ExamItem.attempt_id == attempt.id)).all()
    versions = db.exec(
        select(QuestionVersion).where(col(QuestionVersion.id).in_([i.question_version_id for i in items]))
    ).all()
    assert all(v.number == 1 for v in versions)
    fresh = draw.draw_paper(db, course=course)
    reward = next(item for item in fresh if item.question_id == question.id)
    assert reward.version.number == 2


def test_snapshot_points_and_groups(db: Session, course: Course, ready_trainee: User) -> None:
    attempt = attempts.start_attempt(db, user=ready_trainee, course=course)
    db.commit()
    items = {i.position: i for i in db.exec(select(ExamItem).where(ExamItem.attempt_id == attempt.id))}
    rows = paper(db, attempt.id or 0)
    assert items[rows["practice-case"].position].points == 10
    assert items[rows["practice-case"].position].group == "实务技能"
    assert items[rows["law-fill"].position].group == "政策法规"
    assert attempt.max_points == sum(item.points for item in items.values())
    assert sorted(items) == list(range(1, len(items) + 1))


def test_the_draw_of_the_real_course(db: Session) -> None:
    root = Path(__file__).resolve().parents[2] / "courses" / "broker-junior"
    course = import_folder(db, root)
    items = draw.draw_paper(db, course=course)
    modules = db.exec(select(CourseModule).where(CourseModule.course_id == course.id)).all()
    assert len(items) == 4 * len(modules) + 1
    assert items[-1].version.type == "essay"


def test_credit_hours_helper_counts(db: Session, course: Course, trainee: User) -> None:
    credit_hours(db, trainee, course)
    state = service.eligibility(db, user=trainee, course=course)
    assert state.hours_done == 6.5 and state.reasons == []
