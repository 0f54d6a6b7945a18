"""Editing a stored course as the browser editor does: saving, reverting and creating modules, reordering
them and changing course settings, each validated with the whole course and kept as versions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, SQLModel, col, func, select

from backend.courses.format import load_course
from backend.courses.importer import CourseProblems, import_course
from backend.courses.versions import (
    create_module,
    current_module_version,
    module_history,
    reorder_modules,
    revert_module,
    save_module_version,
    update_course_settings,
)
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.models import AuditEvent, Course, CourseModule, ModuleVersion, Question, QuestionVersion, User

BreakCourse = Callable[..., Path]
RANGE_BLOCK_START = "```question id=law-range"


def count(db: Session, model: type[SQLModel], *where: Any) -> int:
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture
def course(db: Session, sample_course: Path) -> Course:
    import_course(db, sample_course)
    db.commit()
    return db.exec(select(Course)).one()


def module(db: Session, name: str) -> CourseModule:
    return db.exec(select(CourseModule).where(CourseModule.name == name)).one()


def question(db: Session, qid: str) -> Question:
    return db.exec(select(Question).where(Question.qid == qid)).one()


def text_of(db: Session, name: str) -> str:
    return current_module_version(db, module(db, name)).text


def without_range_question(text: str) -> str:
    start = text.index(RANGE_BLOCK_START)
    end = text.index("```\n", start + 10) + 4
    return text[:start] + text[end:]


# ---- saving a module -----------------------------------------------------------------------------------


def test_saving_adds_a_version_and_keeps_the_old_one(db: Session, course: Course, instructor: User) -> None:
    law = module(db, "02-law")
    old = text_of(db, "02-law")
    new = old.replace("# 要点", "# 要点\n\n第四十五条规定了奖励的下限。")

    version = save_module_version(db, module=law, text=new, author=instructor, message="补充说明")

    assert version is not None
    assert (version.number, version.text, version.message, version.author_id) == (
        2,
        new,
        "补充说明",
        instructor.id,
    )
    assert version.rendered_html is None
    assert current_module_version(db, law).id == version.id
    assert [(item.number, item.text) for item in module_history(db, law)] == [(2, new), (1, old)]
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "module.saved")).one()
    assert (event.actor_id, event.target_id, event.before, event.after) == (
        instructor.id,
        str(law.id),
        {"version": 1},
        {"version": 2, "message": "补充说明"},
    )


def test_saving_the_same_text_changes_nothing(db: Session, course: Course, instructor: User) -> None:
    law = module(db, "02-law")
    browser_text = text_of(db, "02-law").replace("\n", "\r\n")  # a form sends CRLF line endings

    assert save_module_version(db, module=law, text=browser_text, author=instructor, message="") is None
    assert count(db, ModuleVersion) == 3
    assert count(db, AuditEvent, AuditEvent.action == "module.saved") == 0


def test_a_module_text_with_a_problem_is_refused_with_its_line(
    db: Session, course: Course, instructor: User
) -> None:
    law = module(db, "02-law")
    text = text_of(db, "02-law").replace("- [x] 100 万元", "- [ ] 100 万元")
    line = text.split("\n").index("```question id=law-045-reward type=single points=2") + 1

    with pytest.raises(CourseProblems) as raised:
        save_module_version(db, module=law, text=text, author=instructor, message="")

    assert [str(problem) for problem in raised.value.problems] == [
        f"sample-course/02-law.md:{line}: choice question has no right option (mark one - [x])"
    ]
    assert count(db, ModuleVersion) == 3


def test_a_question_id_used_in_another_module_is_refused(
    db: Session, course: Course, instructor: User
) -> None:
    law = module(db, "02-law")
    text = text_of(db, "02-law").replace("id=law-fill", "id=basics-single")

    with pytest.raises(CourseProblems) as raised:
        save_module_version(db, module=law, text=text, author=instructor, message="")

    messages = {(problem.path.name, problem.message.split(" (")[0]) for problem in raised.value.problems}
    assert messages == {
        ("02-law.md", "duplicate question id 'basics-single'"),
        ("01-basics.md", "duplicate question id 'basics-single'"),
    }


def test_taking_away_questions_the_exam_draws_is_refused(
    db: Session, course: Course, instructor: User
) -> None:
    practice = module(db, "03-practice")
    text = text_of(db, "03-practice")
    for qid in ("practice-multiple", "practice-exact"):  # leaves one exam question; the draw takes 2
        start = text.index(f"```question id={qid}")
        text = text[:start] + text[text.index("```\n", start + 10) + 4 :]

    with pytest.raises(CourseProblems) as raised:
        save_module_version(db, module=practice, text=text, author=instructor, message="")

    assert [str(problem) for problem in raised.value.problems] == [
        "sample-course/course.yaml:20: exam draws 2 questions from module '03-practice' "
        "but it has only 1 exam questions"
    ]


def test_saving_versions_changed_questions_and_archives_removed_ones(
    db: Session, course: Course, instructor: User
) -> None:
    law = module(db, "02-law")
    original = text_of(db, "02-law")
    edited = without_range_question(original).replace("- [ ] 140 万元", "- [ ] 160 万元")

    save_module_version(db, module=law, text=edited, author=instructor, message="")

    assert question(db, "law-045-reward").current_version == 2
    assert question(db, "law-fill").current_version == 1
    assert question(db, "law-range").archived_at is not None
    assert count(db, QuestionVersion) == 13

    save_module_version(db, module=law, text=original, author=instructor, message="")

    assert question(db, "law-range").archived_at is None
    assert question(db, "law-range").current_version == 1
    assert question(db, "law-045-reward").current_version == 3  # back to the old block: a new version


def test_an_image_on_disk_elsewhere_is_accepted_unless_its_media_folder_lacks_it(
    db: Session, course: Course, instructor: User, sample_course: Path
) -> None:
    law = module(db, "02-law")
    text = text_of(db, "02-law") + "\n![图](media/new-figure.png)\n"
    media = sample_course / "media"

    with pytest.raises(CourseProblems, match=r"02-law.md:\d+: image 'media/new-figure.png' does not exist"):
        save_module_version(db, module=law, text=text, author=instructor, message="", media_dir=media)

    assert save_module_version(db, module=law, text=text, author=instructor, message="") is not None
    figure = text + "\n![图](media/figure.png)\n"
    version = save_module_version(
        db, module=module(db, "02-law"), text=figure, author=instructor, message="x"
    )
    assert version is not None and version.number == 3


def test_an_archived_module_cannot_be_saved(db: Session, course: Course, instructor: User) -> None:
    law = module(db, "02-law")
    law.archived_at = law.archived_at or course.created_at
    db.flush()

    with pytest.raises(Conflict):
        save_module_version(db, module=law, text="---\n", author=instructor, message="")


# ---- reverting -----------------------------------------------------------------------------------------


def test_reverting_adds_a_version_with_the_old_text(db: Session, course: Course, instructor: User) -> None:
    law = module(db, "02-law")
    original = text_of(db, "02-law")
    save_module_version(
        db, module=law, text=original.replace("# 要点", "# 新要点"), author=instructor, message=""
    )

    version = revert_module(db, module=law, to_number=1, author=instructor)

    assert (version.number, version.text, version.message) == (3, original, "Revert to version 1")
    assert [item.number for item in module_history(db, law)] == [3, 2, 1]
    with pytest.raises(Conflict):
        revert_module(db, module=law, to_number=1, author=instructor)
    with pytest.raises(NotFound):
        revert_module(db, module=law, to_number=9, author=instructor)


def test_reverting_keeps_crlf_text_exactly(db: Session, break_course: BreakCourse, instructor: User) -> None:
    course_dir = break_course()
    law_path = course_dir / "02-law.md"
    crlf = law_path.read_bytes().replace(b"\n", b"\r\n")
    law_path.write_bytes(crlf)
    import_course(db, course_dir)
    law = module(db, "02-law")
    edited = (
        crlf.decode("utf-8").replace("# 要点", "# 新要点").replace("\r\n", "\n")
    )  # as an editor may send it

    saved = save_module_version(db, module=law, text=edited, author=instructor, message="")
    reverted = revert_module(db, module=law, to_number=1, author=instructor)

    assert saved is not None and "\r\n" in saved.text and "# 新要点" in saved.text
    assert reverted.text.encode("utf-8") == crlf


# ---- creating and ordering modules ---------------------------------------------------------------------


def test_creating_a_module_appends_it_and_keeps_the_course_valid(
    db: Session, course: Course, instructor: User, tmp_path: Path
) -> None:
    row = create_module(
        db, course=course, name="04-cases", title="案例研讨", group="能力提升", hours=2.0, author=instructor
    )

    assert (row.position, row.current_version) == (3, 1)
    version = current_module_version(db, row)
    assert version.text == "---\ntitle: 案例研讨\ngroup: 能力提升\nhours: 2\n---\n\n# 案例研讨\n"
    assert (version.title, version.group, version.hours, version.author_id) == (
        "案例研讨",
        "能力提升",
        2,
        instructor.id,
    )
    assert "  - 03-practice\n  - 04-cases\n" in course.yaml_text
    assert course.exam_rules["draw"] == {
        "per_module": None,
        "modules": [
            {"module": "01-basics", "count": 2},
            {"module": "02-law", "count": 2},
            {"module": "03-practice", "count": 2},
        ],
        "essay": 1,
    }
    folder = tmp_path / "sample-course"
    folder.mkdir()
    (folder / "course.yaml").write_text(course.yaml_text, encoding="utf-8")
    for name in ("01-basics", "02-law", "03-practice", "04-cases"):
        (folder / f"{name}.md").write_text(text_of(db, name), encoding="utf-8")
    (folder / "media").mkdir()
    (folder / "media" / "figure.png").write_bytes(b"")
    assert load_course(folder)[1] == []
    assert count(db, AuditEvent, AuditEvent.action == "module.created") == 1


def test_other_modules_stay_editable_after_a_module_is_created(
    db: Session, course: Course, instructor: User
) -> None:
    create_module(
        db, course=course, name="04-cases", title="案例", group="能力提升", hours=1, author=instructor
    )
    law = module(db, "02-law")

    version = save_module_version(
        db, module=law, text=text_of(db, "02-law") + "\n补充。\n", author=instructor, message=""
    )

    assert version is not None


@pytest.mark.parametrize(
    ("name", "field"),
    [("02-law", "name"), ("bad name", "name"), ("05-x.md", "name"), ("-x", "name"), ("x" * 101, "name")],
)
def test_a_bad_or_taken_module_name_is_refused(
    db: Session, course: Course, instructor: User, name: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        create_module(
            db, course=course, name=name, title="标题", group="公共知识", hours=1, author=instructor
        )

    assert raised.value.field == field and field in raised.value.errors
    assert count(db, CourseModule) == 3


def test_bad_title_group_and_hours_are_each_reported(db: Session, course: Course, instructor: User) -> None:
    with pytest.raises(ValidationFailed) as raised:
        create_module(db, course=course, name="04-x", title=" ", group="其他", hours=0, author=instructor)

    assert set(raised.value.errors) == {"title", "group", "hours"}


def test_reordering_modules_updates_positions_and_course_yaml(
    db: Session, course: Course, instructor: User
) -> None:
    reorder_modules(db, course=course, names=["03-practice", "01-basics", "02-law"], author=instructor)

    rows = db.exec(select(CourseModule).order_by(col(CourseModule.position))).all()
    assert [row.name for row in rows] == ["03-practice", "01-basics", "02-law"]
    assert "modules:\n  - 03-practice\n  - 01-basics\n  - 02-law\ncompletion:" in course.yaml_text
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "course.modules_reordered")).one()
    assert event.before == {"modules": ["01-basics", "02-law", "03-practice"]}


@pytest.mark.parametrize(
    "names", [["01-basics", "02-law"], ["01-basics", "02-law", "02-law"], ["01-basics", "02-law", "x"]]
)
def test_an_order_that_is_not_a_permutation_is_refused(
    db: Session, course: Course, instructor: User, names: list[str]
) -> None:
    before = course.yaml_text

    with pytest.raises(ValidationFailed):
        reorder_modules(db, course=course, names=names, author=instructor)

    assert course.yaml_text == before


# ---- course settings -----------------------------------------------------------------------------------


def exam(**changes: Any) -> dict[str, Any]:
    rules = {
        "title": "结业考试",
        "time_limit_minutes": 30,
        "pass_score": 60,
        "max_attempts": 2,
        "draw": {"per_module": 2, "modules": [], "essay": 1},
        "shuffle_options": False,
    }
    return rules | changes


def test_settings_change_the_columns_and_only_their_lines(
    db: Session, course: Course, instructor: User
) -> None:
    before = course.yaml_text

    update_course_settings(
        db,
        course=course,
        title="示例课程（第二版）",
        description="A small course.",
        min_hours=8,
        exam=exam(
            pass_score=70,
            draw={"per_module": None, "modules": [{"module": "02-law", "count": 4}], "essay": 0},
        ),
        author=instructor,
    )

    assert (course.title, course.description, course.min_hours) == (
        "示例课程（第二版）",
        "A small course.",
        8,
    )
    assert course.exam_rules["pass_score"] == 70
    assert course.exam_rules["draw"] == {
        "per_module": None,
        "modules": [{"module": "02-law", "count": 4}],
        "essay": 0,
    }
    assert "title: 示例课程（第二版）\ntitle_en: Sample Course\n" in course.yaml_text
    assert "    per_module:\n      - module: 02-law\n        count: 4\n    essay: 0\n" in course.yaml_text
    assert course.yaml_text.endswith(before[before.index("certificate:") :])
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "course.settings_changed")).one()
    assert (event.before["title"], event.after["title"]) == ("示例课程", "示例课程（第二版）")
    assert (event.before["exam"]["pass_score"], event.after["exam"]["pass_score"]) == (60, 70)


def test_unchanged_settings_write_nothing(db: Session, course: Course, instructor: User) -> None:
    before = course.yaml_text
    description = "A small course that exercises every part of the course format."

    update_course_settings(
        db,
        course=course,
        title="示例课程",
        description=description,
        min_hours=6.0,
        exam=exam(),
        author=instructor,
    )

    assert course.yaml_text == before
    assert count(db, AuditEvent, AuditEvent.action == "course.settings_changed") == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pass_score": 150}, "exam.pass_score must be a number from 0 to 100, not 150"),
        ({"time_limit_minutes": 0}, "exam.time_limit_minutes must be a positive whole number, not 0"),
        (
            {"draw": {"per_module": 5, "modules": [], "essay": 1}},
            "exam draws 5 questions from module '01-basics' but it has only 3 exam questions",
        ),
        (
            {"draw": {"per_module": 2, "modules": [], "essay": 2}},
            "exam draws 2 essay questions but the course has only 1 exam essay questions",
        ),
    ],
)
def test_bad_settings_are_refused_with_the_validators_message(
    db: Session, course: Course, instructor: User, changes: dict[str, Any], message: str
) -> None:
    before = course.yaml_text

    with pytest.raises(CourseProblems) as raised:
        update_course_settings(
            db,
            course=course,
            title="示例课程",
            description="",
            min_hours=6,
            exam=exam(**changes),
            author=instructor,
        )

    assert message in [problem.message for problem in raised.value.problems]
    assert all(str(problem).startswith("sample-course/course.yaml:") for problem in raised.value.problems)
    assert (course.yaml_text, course.exam_rules["pass_score"]) == (before, 60)
