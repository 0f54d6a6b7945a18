"""Exporting stored courses back to folders: byte for byte when nobody edited them, the current texts
when someone did, and a folder that validates and imports back unchanged."""

from __future__ import annotations

import filecmp
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, select

from backend.courses.exporter import export_all, export_course
from backend.courses.format import check_courses
from backend.courses.importer import import_course, import_course_tree
from backend.courses.versions import create_module, current_module_version, save_module_version
from backend.models import AuditEvent, Course, CourseModule, User

BreakCourse = Callable[..., Path]
COURSES_DIR = Path(__file__).parents[2] / "courses"


def differences(left: Path, right: Path) -> list[str]:
    """Every file that is only on one side or whose bytes differ, through all subfolders."""
    found: list[str] = []
    compare = filecmp.dircmp(left, right, ignore=[])
    found += [f"only in {left}: {name}" for name in compare.left_only]
    found += [f"only in {right}: {name}" for name in compare.right_only]
    files = [name for name in compare.common if (left / name).is_file()]
    _, mismatch, errors = filecmp.cmpfiles(left, right, files, shallow=False)
    found += [f"differs: {name}" for name in mismatch + errors]
    for name in compare.common_dirs:
        found += differences(left / name, right / name)
    return found


def test_an_unedited_course_comes_out_byte_for_byte(db: Session, sample_course: Path, tmp_path: Path) -> None:
    import_course(db, sample_course)
    course = db.exec(select(Course)).one()

    folder = export_course(db, course, tmp_path, media_source=sample_course / "media")

    assert folder == tmp_path / "sample-course"
    assert differences(sample_course, folder) == []


def test_the_shipped_courses_come_out_byte_for_byte(db: Session, tmp_path: Path) -> None:
    import_course_tree(db, COURSES_DIR)

    folders = export_all(db, tmp_path, courses_dir=COURSES_DIR)

    assert [folder.name for folder in folders] == ["broker-intermediate", "broker-junior", "ce-refresher"]
    shipped = sorted(path.name for path in COURSES_DIR.iterdir() if (path / "course.yaml").exists())
    assert sorted(path.name for path in tmp_path.iterdir()) == shipped
    for folder in folders:
        assert differences(COURSES_DIR / folder.name, folder) == []


def test_without_a_media_source_no_media_is_written(db: Session, sample_course: Path, tmp_path: Path) -> None:
    import_course(db, sample_course)

    (folder,) = export_all(db, tmp_path)

    assert not (folder / "media").exists()
    assert differences(sample_course, folder) == [f"only in {sample_course}: media"]


def test_an_edited_course_exports_its_current_texts_and_imports_back_unchanged(
    db: Session, sample_course: Path, tmp_path: Path, instructor: User
) -> None:
    import_course(db, sample_course)
    course = db.exec(select(Course)).one()
    law = db.exec(select(CourseModule).where(CourseModule.name == "02-law")).one()
    edited = current_module_version(db, law).text.replace("# 要点", "# 要点（修订）")
    save_module_version(db, module=law, text=edited, author=instructor, message="")
    create_module(
        db, course=course, name="04-cases", title="案例", group="能力提升", hours=1, author=instructor
    )

    folder = export_course(db, course, tmp_path / "out", media_source=sample_course / "media")

    assert (folder / "02-law.md").read_bytes() == edited.encode("utf-8")
    assert (folder / "course.yaml").read_bytes() == course.yaml_text.encode("utf-8")
    assert (folder / "04-cases.md").read_text(encoding="utf-8").startswith("---\ntitle: 案例\n")
    assert check_courses(folder) == []
    assert import_course(db, folder).unchanged


def test_exporting_onto_a_course_folder_removes_modules_no_longer_in_it(
    db: Session, break_course: BreakCourse, tmp_path: Path
) -> None:
    course_dir = break_course()
    import_course(db, course_dir)
    export_all(db, tmp_path / "out", courses_dir=course_dir.parent)
    break_course(("course.yaml", "  - 02-law\n", ""), ("02-law.md", None, None))
    import_course(db, course_dir)
    (tmp_path / "out" / "sample-course" / "README.md").write_text("notes", encoding="utf-8")

    (folder,) = export_all(db, tmp_path / "out", courses_dir=course_dir.parent)

    assert not (folder / "02-law.md").exists()
    assert (folder / "README.md").exists()
    assert sorted(path.name for path in folder.glob("*.md")) == [
        "01-basics.md",
        "03-practice.md",
        "README.md",
    ]
    assert check_courses(folder) == []


def test_exporting_onto_the_source_folder_rewrites_it_unchanged(
    db: Session, break_course: BreakCourse, tmp_path: Path, sample_course: Path
) -> None:
    course_dir = break_course()
    import_course(db, course_dir)

    export_all(db, course_dir.parent, courses_dir=course_dir.parent)

    assert differences(sample_course, course_dir) == []


def test_exports_are_audit_logged(db: Session, sample_course: Path, tmp_path: Path, admin: User) -> None:
    import_course(db, sample_course)

    export_all(db, tmp_path, actor=admin)

    event = db.exec(select(AuditEvent).where(AuditEvent.action == "course.exported")).one()
    assert (event.actor_id, event.after) == (
        admin.id,
        {"slug": "sample-course", "folder": str(tmp_path / "sample-course")},
    )
