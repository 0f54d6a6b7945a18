"""Importing course folders: what lands in the database, idempotence, new versions only for what changed,
archiving instead of deleting, and refusing a course with any problem without changing anything."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, SQLModel, col, func, select

from backend.courses.importer import CourseProblems, import_course, import_course_tree
from backend.courses.versions import current_module_version, save_module_version
from backend.models import (
    AuditEvent,
    Course,
    CourseModule,
    ModuleProgress,
    ModuleVersion,
    Question,
    QuestionVersion,
    User,
)

BreakCourse = Callable[..., Path]
COURSES_DIR = Path(__file__).parents[2] / "courses"
LAW_ANSWER = "- [x] 100 万元"  # the right option of law-045-reward, in 02-law.md


def count(db: Session, model: type[SQLModel], *where: Any) -> int:
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def module(db: Session, name: str) -> CourseModule:
    return db.exec(select(CourseModule).where(CourseModule.name == name)).one()


def question(db: Session, qid: str) -> Question:
    return db.exec(select(Question).where(Question.qid == qid)).one()


def line_of(path: Path, marker: str) -> int:
    lines = path.read_text(encoding="utf-8").split("\n")
    hits = [number for number, line in enumerate(lines, 1) if marker in line]
    assert len(hits) == 1, f"{marker!r} is on lines {hits} of {path.name}"
    return hits[0]


# ---- a first import ------------------------------------------------------------------------------------


def test_first_import_stores_the_course_as_written(db: Session, sample_course: Path) -> None:
    result = import_course(db, sample_course)

    assert result.created and not result.unchanged
    assert (result.modules_added, result.module_versions_added, result.modules_archived) == (3, 3, 0)
    assert result.questions_versions_added == 12 == count(db, QuestionVersion)
    course = db.exec(select(Course)).one()
    assert (course.slug, course.title, course.title_en, course.level) == (
        "sample-course",
        "示例课程",
        "Sample Course",
        "junior",
    )
    assert (course.min_hours, course.certificate_title, course.validity_years) == (
        6,
        "示例课程培训合格证书",
        3,
    )
    assert course.yaml_text == (sample_course / "course.yaml").read_bytes().decode("utf-8")
    assert course.exam_rules == {
        "title": "结业考试",
        "time_limit_minutes": 30,
        "pass_score": 60,
        "max_attempts": 2,
        "draw": {"per_module": 2, "modules": [], "essay": 1},
        "shuffle_options": False,
    }
    modules = db.exec(select(CourseModule).order_by(col(CourseModule.position))).all()
    assert [(row.name, row.position, row.current_version) for row in modules] == [
        ("01-basics", 0, 1),
        ("02-law", 1, 1),
        ("03-practice", 2, 1),
    ]


def test_module_versions_and_questions_hold_the_parsed_content(db: Session, sample_course: Path) -> None:
    import_course(db, sample_course)

    law = current_module_version(db, module(db, "02-law"))
    assert law.text == (sample_course / "02-law.md").read_bytes().decode("utf-8")
    assert (law.title, law.group, law.hours, law.rendered_html) == (
        "《促进科技成果转化法》要点",
        "政策法规",
        3,
        None,
    )
    reward = db.exec(select(QuestionVersion).join(Question).where(Question.qid == "law-045-reward")).one()
    assert (reward.type, reward.points, reward.exam) == ("single", 2, True)
    assert [option["correct"] for option in reward.options] == [False, True, False]
    assert reward.options[1]["text"] == "100 万元"
    assert reward.explanation.startswith("解析：《促进科技成果转化法》第四十五条")
    percent = db.exec(select(QuestionVersion).join(Question).where(Question.qid == "law-percent")).one()
    assert (percent.numeric_low, percent.numeric_high) == (49.5, 50.5)
    selfcheck = db.exec(
        select(QuestionVersion).join(Question).where(Question.qid == "basics-selfcheck")
    ).one()
    assert selfcheck.exam is False
    assert question(db, "law-fill").module_id == module(db, "02-law").id


def test_the_import_is_audit_logged(db: Session, sample_course: Path, admin: User) -> None:
    import_course(db, sample_course, author=admin)

    event = db.exec(select(AuditEvent).where(AuditEvent.action == "course.imported")).one()
    assert (event.actor_id, event.after) == (
        admin.id,
        {
            "slug": "sample-course",
            "created": True,
            "modules_added": 3,
            "module_versions_added": 3,
            "question_versions_added": 12,
            "modules_archived": 0,
        },
    )
    assert current_module_version(db, module(db, "01-basics")).author_id == admin.id


# ---- importing again -----------------------------------------------------------------------------------


def test_importing_the_same_files_again_adds_nothing(db: Session, sample_course: Path) -> None:
    import_course(db, sample_course)
    db.commit()

    result = import_course(db, sample_course)

    assert result.unchanged and not result.created
    assert (result.modules_added, result.module_versions_added, result.questions_versions_added) == (0, 0, 0)
    assert (count(db, ModuleVersion), count(db, QuestionVersion)) == (3, 12)
    assert count(db, AuditEvent, AuditEvent.action == "course.imported") == 1


def test_a_changed_question_gets_a_new_version_and_the_others_keep_theirs(
    db: Session, break_course: BreakCourse
) -> None:
    course_dir = break_course()
    import_course(db, course_dir)
    old_text = (course_dir / "02-law.md").read_bytes().decode("utf-8")
    break_course(("02-law.md", "- [ ] 140 万元", "- [ ] 150 万元"))

    result = import_course(db, course_dir)

    assert not result.unchanged
    assert (result.module_versions_added, result.questions_versions_added) == (1, 1)
    law = module(db, "02-law")
    assert law.current_version == 2
    versions = db.exec(select(ModuleVersion).where(ModuleVersion.module_id == law.id)).all()
    assert sorted((version.number, version.text == old_text) for version in versions) == [
        (1, True),
        (2, False),
    ]
    assert question(db, "law-045-reward").current_version == 2
    assert (
        "150 万元"
        in db.exec(
            select(QuestionVersion.stem, QuestionVersion.options)
            .join(Question)
            .where(Question.qid == "law-045-reward", QuestionVersion.number == 2)
        ).one()[1][2]["text"]
    )
    assert question(db, "law-fill").current_version == 1
    assert module(db, "01-basics").current_version == 1


def test_prose_edit_makes_a_module_version_but_no_question_version(
    db: Session, break_course: BreakCourse
) -> None:
    course_dir = break_course()
    import_course(db, course_dir)
    break_course(("01-basics.md", "技术转移是把科技成果", "技术转移是指把科技成果"))

    result = import_course(db, course_dir)

    assert (result.module_versions_added, result.questions_versions_added) == (1, 0)


def test_a_question_moved_to_another_module_keeps_its_row_and_version(
    db: Session, break_course: BreakCourse
) -> None:
    course_dir = break_course()
    import_course(db, course_dir)
    law = (course_dir / "02-law.md").read_bytes().decode("utf-8")
    block = law[law.index("```question id=law-percent") :]
    block = block[: block.index("```\n", 10) + 4]
    break_course(
        ("02-law.md", block, ""),
        ("03-practice.md", "```question id=practice-exact", block + "\n```question id=practice-exact"),
    )

    result = import_course(db, course_dir)

    moved = question(db, "law-percent")
    assert (moved.module_id, moved.current_version, moved.archived_at) == (
        module(db, "03-practice").id,
        1,
        None,
    )
    assert (result.module_versions_added, result.questions_versions_added) == (2, 0)


def test_a_removed_question_is_archived_and_comes_back(db: Session, break_course: BreakCourse) -> None:
    course_dir = break_course()
    import_course(db, course_dir)
    law = (course_dir / "02-law.md").read_bytes().decode("utf-8")
    block = law[law.index("```question id=law-range") :]
    break_course(("02-law.md", block, ""))
    import_course(db, course_dir)
    assert question(db, "law-range").archived_at is not None
    assert count(db, Question) == 12  # never deleted

    break_course(("02-law.md", None, law))
    result = import_course(db, course_dir)

    assert question(db, "law-range").archived_at is None
    assert question(db, "law-range").current_version == 1  # the same block as before: no new version
    assert (result.module_versions_added, result.questions_versions_added) == (1, 0)


def test_a_module_dropped_from_course_yaml_is_archived_with_its_progress_kept(
    db: Session, break_course: BreakCourse, trainee: User
) -> None:
    course_dir = break_course()
    import_course(db, course_dir)
    law = module(db, "02-law")
    db.add(ModuleProgress(user_id=trainee.id, module_id=law.id, hours_credited=3))
    db.commit()
    law_text = (course_dir / "02-law.md").read_bytes()
    break_course(("course.yaml", "  - 02-law\n", ""), ("02-law.md", None, None))

    dropped = import_course(db, course_dir)

    assert (dropped.modules_archived, dropped.modules_added, dropped.unchanged) == (1, 0, False)
    assert module(db, "02-law").archived_at is not None
    assert count(db, ModuleProgress, ModuleProgress.module_id == law.id) == 1
    assert count(db, Question, col(Question.archived_at).is_not(None)) == 4
    assert [row.position for row in db.exec(select(CourseModule).where(CourseModule.name != "02-law"))] == [
        0,
        1,
    ]

    (course_dir / "02-law.md").write_bytes(law_text)
    break_course(("course.yaml", "  - 01-basics\n", "  - 01-basics\n  - 02-law\n"))
    restored = import_course(db, course_dir)

    assert (restored.modules_added, restored.module_versions_added, restored.questions_versions_added) == (
        1,
        0,
        0,
    )
    assert module(db, "02-law").archived_at is None
    assert count(db, Question, col(Question.archived_at).is_not(None)) == 0
    assert count(db, CourseModule) == 3


def test_module_order_follows_course_yaml(db: Session, break_course: BreakCourse) -> None:
    course_dir = break_course()
    import_course(db, course_dir)
    break_course(("course.yaml", "  - 01-basics\n  - 02-law\n", "  - 02-law\n  - 01-basics\n"))

    result = import_course(db, course_dir)

    assert not result.unchanged and result.module_versions_added == 0
    assert (module(db, "02-law").position, module(db, "01-basics").position) == (0, 1)
    assert db.exec(select(Course)).one().yaml_text.index("02-law") < db.exec(
        select(Course)
    ).one().yaml_text.index("01-basics")


def test_reimporting_unchanged_files_keeps_edits_made_in_the_browser(
    db: Session, break_course: BreakCourse, instructor: User
) -> None:
    course_dir = break_course()
    import_course(db, course_dir)
    law = module(db, "02-law")
    edited = current_module_version(db, law).text.replace("# 要点", "# 要点（修订）")
    save_module_version(db, module=law, text=edited, author=instructor, message="heading")

    again = import_course(db, course_dir)

    assert again.unchanged
    assert current_module_version(db, law).text == edited

    break_course(("02-law.md", "# 要点", "# 要点与案例"))
    changed = import_course(db, course_dir)

    assert changed.module_versions_added == 1
    assert current_module_version(db, law).number == 3
    assert "# 要点与案例" in current_module_version(db, law).text


# ---- refusing a course with problems -------------------------------------------------------------------


def test_a_course_with_problems_is_refused_and_nothing_changes(
    db: Session, break_course: BreakCourse
) -> None:
    course_dir = break_course()
    import_course(db, course_dir)
    db.commit()
    break_course(
        ("course.yaml", "title: 示例课程\n", "title: 新的标题\n"), ("02-law.md", LAW_ANSWER, "- [ ] 100 万元")
    )

    with pytest.raises(CourseProblems) as raised:
        import_course(db, course_dir)

    line = line_of(course_dir / "02-law.md", "```question id=law-045-reward")
    expected = f"{course_dir / '02-law.md'}:{line}: choice question has no right option (mark one - [x])"
    assert [str(problem) for problem in raised.value.problems] == [expected]
    assert raised.value.message == expected
    assert raised.value.status_code == 422
    assert db.exec(select(Course)).one().title == "示例课程"
    assert (count(db, ModuleVersion), count(db, QuestionVersion)) == (3, 12)


def test_a_broken_course_is_never_created(db: Session, break_course: BreakCourse) -> None:
    course_dir = break_course(("course.yaml", "level: junior", "level: expert"))

    with pytest.raises(CourseProblems, match=r"course.yaml:4: level 'expert' is not one of"):
        import_course(db, course_dir)

    assert count(db, Course) == 0


def test_values_longer_than_their_column_are_problems_with_a_line(
    db: Session, break_course: BreakCourse
) -> None:
    course_dir = break_course(("01-basics.md", "title: 技术转移基础", "title: " + "长" * 201))

    with pytest.raises(CourseProblems) as raised:
        import_course(db, course_dir)

    assert [str(problem) for problem in raised.value.problems] == [
        f"{course_dir / '01-basics.md'}:2: title is longer than 200 characters (201)"
    ]


# ---- a folder of courses -------------------------------------------------------------------------------


def test_a_tree_with_one_broken_course_imports_none_and_lists_its_problems(
    db: Session, break_course: BreakCourse, tmp_path: Path
) -> None:
    root = tmp_path / "courses"
    root.mkdir()
    shutil.copytree(break_course(), root / "good-course")
    other = root / "good-course" / "course.yaml"
    other.write_text(
        other.read_text(encoding="utf-8").replace("slug: sample-course", "slug: good-course"),
        encoding="utf-8",
    )
    shutil.copytree(break_course(("03-practice.md", "= false", "= maybe")), root / "sample-course")

    with pytest.raises(CourseProblems) as raised:
        import_course_tree(db, root)

    assert [problem.message for problem in raised.value.problems] == [
        "truefalse answer must be true or false, not 'maybe'"
    ]
    assert raised.value.problems[0].path == root / "sample-course" / "03-practice.md"
    assert count(db, Course) == 0


def test_a_tree_imports_every_course_in_order(db: Session) -> None:
    results = import_course_tree(db, COURSES_DIR)

    assert [result.slug for result in results] == ["broker-intermediate", "broker-junior", "ce-refresher"]
    assert all(result.created for result in results)
    assert count(db, CourseModule) == sum(result.modules_added for result in results)
    assert [result.unchanged for result in import_course_tree(db, COURSES_DIR)] == [True, True, True]


def test_a_folder_without_courses_is_a_problem(db: Session, tmp_path: Path) -> None:
    with pytest.raises(CourseProblems, match="no course here"):
        import_course_tree(db, tmp_path)
