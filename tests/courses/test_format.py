"""The course format: the sample course parses into the expected objects, and each validation rule
reports its own message at the right `path:line`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from backend.courses.format import (
    GROUPS,
    Option,
    Problem,
    check_courses,
    load_course,
    parse_module_text,
)
from backend.courses.questions import parse_numeric

BreakCourse = Callable[..., Path]  # the break_course fixture (conftest.py)


def line_of(path: Path, marker: str | int | None) -> int:
    """The 1-based line of `marker` in the file: a line number as is, None for line 1, else the one line
    equal to the marker (stripped) or, failing that, the one line containing it."""
    if marker is None:
        return 1
    if isinstance(marker, int):
        return marker
    lines = path.read_bytes().decode("utf-8").split("\n")
    hits = [number for number, line in enumerate(lines, 1) if line.strip() == marker.strip()]
    hits = hits or [number for number, line in enumerate(lines, 1) if marker in line]
    assert len(hits) == 1, f"marker {marker!r} is on lines {hits} of {path.name}; it must be on one"
    return hits[0]


# ---- the sample course ------------------------------------------------------------------------------


def test_sample_course_loads_without_problems(sample_course: Path) -> None:
    course, problems = load_course(sample_course)

    assert problems == []
    assert course is not None
    assert (course.slug, course.title, course.title_en) == ("sample-course", "示例课程", "Sample Course")
    assert (course.level, course.language, course.min_hours) == ("junior", "zh-CN", 6)
    assert course.description == "A small course that exercises every part of the course format."
    assert course.module_names == ("01-basics", "02-law", "03-practice")
    assert [module.name for module in course.modules] == list(course.module_names)
    assert (course.certificate_title, course.validity_years) == ("示例课程培训合格证书", 3)
    assert course.yaml_text == (sample_course / "course.yaml").read_text(encoding="utf-8")


def test_sample_exam_rules(sample_course: Path) -> None:
    course, _ = load_course(sample_course)
    assert course is not None
    exam = course.exam

    assert (exam.title, exam.time_limit_minutes, exam.pass_score, exam.max_attempts) == (
        "结业考试",
        30,
        60,
        2,
    )
    assert (exam.draw_per_module, exam.draw_modules, exam.essay) == (2, (), 1)
    assert exam.shuffle_options is False


def test_sample_modules(sample_course: Path) -> None:
    course, _ = load_course(sample_course)
    assert course is not None
    basics, law, practice = course.modules

    assert (basics.title, basics.title_en, basics.group, basics.hours) == (
        "技术转移基础",
        "Technology Transfer Basics",
        "公共知识",
        2,
    )
    assert basics.objectives == ("说出技术转移的主要环节",)
    assert basics.sources == ("《中华人民共和国促进科技成果转化法》（2015年修正）",)
    assert (law.group, practice.group, practice.hours, practice.title_en) == ("政策法规", "实务技能", 1.5, "")
    assert basics.text == (sample_course / "01-basics.md").read_text(encoding="utf-8")
    assert basics.text.endswith(basics.body)
    assert basics.body.startswith("\n# 技术转移基础")
    assert basics.body_first_line() == 11
    assert basics.content_hash() == hashlib.sha256(basics.text.encode()).hexdigest()
    assert [len(module.questions) for module in course.modules] == [4, 4, 4]


def test_teaching_text_drops_question_blocks_but_keeps_other_code(sample_course: Path) -> None:
    course, _ = load_course(sample_course)
    assert course is not None
    basics, _, practice = course.modules

    assert "```question" not in basics.teaching_text()
    assert "- [x]" not in basics.teaching_text()
    assert "技术转移是把科技成果" in basics.teaching_text()
    assert "```question id=not-a-question" in practice.teaching_text()  # inside a ```` example
    assert "评分要点" not in practice.teaching_text()


def test_choice_questions(sample_course: Path) -> None:
    course, _ = load_course(sample_course)
    assert course is not None
    single, multiple, _, selfcheck = course.modules[0].questions

    assert (single.id, single.type, single.points, single.exam, single.line) == (
        "basics-single",
        "single",
        2,
        True,
        18,
    )
    assert single.tags == ("概念", "入门")
    assert single.stem == "依照《促进科技成果转化法》第二条，科技成果是指："
    assert single.options == (
        Option("只有专利", False),
        Option("通过科学研究与技术开发所产生的具有实用价值的成果", True),
        Option("只有论文", False),
    )
    assert single.explanation == "解析：《促进科技成果转化法》第二条。"
    assert (single.accepted, single.truth, single.numeric_low) == ((), None, None)
    assert (multiple.type, multiple.scoring, multiple.points) == ("multiple", "partial", 1)
    assert [option.correct for option in multiple.options] == [True, True, False]
    assert (
        multiple.explanation == "解析：《促进科技成果转化法》第十六条列出六种方式。\n论文发表不是转化方式。"
    )
    assert (selfcheck.type, selfcheck.exam, selfcheck.explanation, selfcheck.scoring) == (
        "single",
        False,
        "",
        "all",
    )
    explicit = course.modules[2].questions[0]
    assert (explicit.id, explicit.type, len(explicit.options)) == ("practice-multiple", "multiple", 4)


def test_question_source_is_the_exact_block(sample_course: Path) -> None:
    course, _ = load_course(sample_course)
    assert course is not None
    single = course.modules[0].questions[0]
    lines = (sample_course / "01-basics.md").read_text(encoding="utf-8").split("\n")

    assert single.source == "\n".join(lines[17:26])
    assert single.source.startswith("```question id=basics-single") and single.source.endswith("```")
    assert single.content_hash() == hashlib.sha256(single.source.encode()).hexdigest()


def test_truefalse_fill_numeric_essay(sample_course: Path) -> None:
    course, _ = load_course(sample_course)
    assert course is not None
    basics, law, practice = course.modules
    truth, fill, tolerance, interval = basics.questions[2], *law.questions[1:]
    exact, false, essay = practice.questions[1:]

    assert (truth.type, truth.truth, truth.options) == ("truefalse", True, ())
    assert (false.type, false.truth) == ("truefalse", False)
    assert (fill.type, fill.accepted, fill.line, fill.explanation) == (
        "fill",
        ("促进科技成果转化", "促进科技成果转化法"),
        24,
        "",
    )
    assert fill.source.startswith("~~~question") and fill.source.endswith("~~~")
    assert (tolerance.type, tolerance.numeric_low, tolerance.numeric_high) == ("numeric", 49.5, 50.5)
    assert (interval.numeric_low, interval.numeric_high, interval.tags) == (50, 70, ("计算",))
    assert (exact.numeric_low, exact.numeric_high, exact.points) == (1, 1, 1.5)
    assert (essay.type, essay.points, essay.options, essay.accepted) == ("essay", 10, (), ())
    assert essay.explanation == "评分要点：\n\n1. 确认权属（3 分）\n2. 评估作价（4 分）\n3. 履行公示（3 分）"


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("50", (50, 50)),
        ("-2.5", (-2.5, -2.5)),
        ("50 ± 0.5", (49.5, 50.5)),
        ("50±0.5", (49.5, 50.5)),
        ("50 +- 0.5", (49.5, 50.5)),
        ("[45, 55]", (45, 55)),
        ("[ 1e3 , 2e3 ]", (1000, 2000)),
        ("fifty", None),
        ("50 ±", None),
        ("[45 55]", None),
        ("50%", None),
    ],
)
def test_numeric_answer_forms(text: str, interval: tuple[float, float] | None) -> None:
    assert parse_numeric(text) == interval


# ---- parse_module_text ------------------------------------------------------------------------------

MODULE = """---
title: 模块
group: 实务技能
hours: 1
---

- 列表里的题目：

  ```question id=nested type=numeric
  多少？

  = 50 +- 0.5
  ```

````markdown
```question id=example
not a question: inside a longer fence
```
````

```question id=multi-line
下列哪项正确？

- [x] 第一项
  接续的一行
- [ ] 第二项
```
"""


def test_parse_module_text_finds_nested_questions_and_skips_examples() -> None:
    module, problems = parse_module_text(MODULE, name="m", path=Path("m.md"))

    assert problems == []
    assert module is not None
    nested, multi_line = module.questions
    assert (nested.id, nested.line, nested.numeric_low, nested.numeric_high) == ("nested", 9, 49.5, 50.5)
    assert nested.source.startswith("  ```question id=nested") and nested.source.endswith("  ```")
    assert multi_line.options[0] == Option("第一项\n接续的一行", True)
    assert multi_line.line == 21


def test_module_text_is_kept_byte_exact_with_crlf() -> None:
    text = MODULE.replace("\n", "\r\n")
    module, problems = parse_module_text(text, name="m", path=Path("m.md"))

    assert problems == []
    assert module is not None
    assert module.text == text
    assert module.body.startswith("\r\n- 列表里的题目")
    assert [question.line for question in module.questions] == [9, 21]
    assert module.questions[1].source.endswith("- [ ] 第二项\r\n```")


def test_parse_module_text_reports_duplicate_ids_within_a_module() -> None:
    text = MODULE.replace("id=multi-line", "id=nested")
    module, problems = parse_module_text(text, name="m", path=Path("m.md"))

    assert module is None
    assert [str(problem) for problem in problems] == [
        "m.md:9: duplicate question id 'nested' (also at line 21)",
        "m.md:21: duplicate question id 'nested' (also at line 9)",
    ]


def test_problem_prints_as_path_line_message() -> None:
    assert str(Problem(Path("courses/a/b.md"), 7, "bad")) == "courses/a/b.md:7: bad"


# ---- one rule, one message --------------------------------------------------------------------------

ONE_PROBLEM = [
    # course.yaml
    ("course.yaml", None, "- just\n- a list\n", None, "course.yaml must be a mapping of fields, not a list"),
    (
        "course.yaml",
        "level: junior",
        "level: junior: x",
        "level:",
        "course.yaml is not valid YAML: mapping values are not allowed here",
    ),
    (
        "course.yaml",
        "slug: sample-course",
        "slug: other-course",
        "slug:",
        "slug 'other-course' does not match the folder name 'sample-course'",
    ),
    ("course.yaml", "slug: sample-course\n", "", None, "missing course.yaml field 'slug'"),
    ("course.yaml", "title: 示例课程\n", "", None, "missing course.yaml field 'title'"),
    ("course.yaml", "level: junior\n", "", None, "missing course.yaml field 'level'"),
    (
        "course.yaml",
        "level: junior",
        "level: expert",
        "level:",
        "level 'expert' is not one of junior|intermediate|senior",
    ),
    (
        "course.yaml",
        "modules:\n  - 01-basics\n  - 02-law\n  - 03-practice\n",
        "",
        None,
        "missing course.yaml field 'modules'",
    ),
    (
        "course.yaml",
        "modules:\n  - 01-basics\n  - 02-law\n  - 03-practice\n",
        "modules: []\n",
        "modules:",
        "modules must be a list of module names, not an empty list",
    ),
    (
        "course.yaml",
        "  - 03-practice\n",
        "  - 03-practice\n  - 04-missing\n",
        "04-missing",
        "module '04-missing' is listed but 04-missing.md does not exist",
    ),
    (
        "course.yaml",
        "  - 03-practice\n",
        "  - 03-practice\n  - 01-basics\n",
        12,
        "module '01-basics' is listed twice (first at line 9)",
    ),
    (
        "course.yaml",
        "  - 03-practice\n",
        "  - 03-practice\n  - ../escape\n",
        "../escape",
        "module name '../escape' is not a file name (letters, digits, '.', '_', '-')",
    ),
    (
        "course.yaml",
        "  - 03-practice\n",
        "  - 03-practice\n  - 04-new.md\n",
        "04-new.md",
        "module name '04-new.md' must not end in .md",
    ),
    (
        "99-extra.md",
        None,
        "---\ntitle: 额外\n---\n",
        None,
        "99-extra.md is not listed in course.yaml modules",
    ),
    (
        "course.yaml",
        "  min_hours: 6\n",
        "",
        "completion:",
        "missing course.yaml field 'completion.min_hours'",
    ),
    (
        "course.yaml",
        "min_hours: 6",
        "min_hours: -1",
        "min_hours:",
        "completion.min_hours must be a number ≥ 0, not -1",
    ),
    (
        "course.yaml",
        "time_limit_minutes: 30",
        "time_limit_minutes: 0",
        "time_limit_minutes:",
        "exam.time_limit_minutes must be a positive whole number, not 0",
    ),
    (
        "course.yaml",
        "  time_limit_minutes: 30\n",
        "",
        "exam:",
        "missing course.yaml field 'exam.time_limit_minutes'",
    ),
    (
        "course.yaml",
        "pass_score: 60",
        "pass_score: 120",
        "pass_score:",
        "exam.pass_score must be a number from 0 to 100, not 120",
    ),
    (
        "course.yaml",
        "pass_score: 60",
        "pass_score: -1",
        "pass_score:",
        "exam.pass_score must be a number from 0 to 100, not -1",
    ),
    (
        "course.yaml",
        "max_attempts: 2",
        "max_attempts: 1.5",
        "max_attempts:",
        "exam.max_attempts must be a positive whole number, not 1.5",
    ),
    (
        "course.yaml",
        "max_attempts: 2",
        "max_attempts: two",
        "max_attempts:",
        "exam.max_attempts must be a positive whole number, not 'two'",
    ),
    (
        "course.yaml",
        "shuffle_options: false",
        "shuffle_options: maybe",
        "shuffle_options:",
        "exam.shuffle_options must be true or false, not 'maybe'",
    ),
    (
        "course.yaml",
        "  shuffle_options: false\n",
        "  shuffle_options: false\n  negative_marking: true\n",
        "negative_marking",
        "unknown course.yaml field 'exam.negative_marking'",
    ),
    (
        "course.yaml",
        "  draw:\n    per_module: 2\n    essay: 1\n",
        "",
        "exam:",
        "missing course.yaml field 'exam.draw'",
    ),
    (
        "course.yaml",
        "per_module: 2",
        "per_module: 0",
        "per_module:",
        "exam.draw.per_module must be a positive whole number, not 0",
    ),
    (
        "course.yaml",
        "essay: 1",
        "essay: 2",
        "essay:",
        "exam draws 2 essay questions but the course has only 1 exam essay questions",
    ),
    ("course.yaml", "essay: 1", "essay: -1", "essay:", "exam.draw.essay must be a whole number ≥ 0, not -1"),
    (
        "course.yaml",
        "per_module: 2",
        "per_module: [{module: 02-law, count: 5}]",
        "per_module:",
        "exam draws 5 questions from module '02-law' but it has only 4 exam questions",
    ),
    (
        "course.yaml",
        "per_module: 2",
        "per_module: [{module: 09-none, count: 1}]",
        "per_module:",
        "exam draw names unknown module '09-none'",
    ),
    (
        "course.yaml",
        "per_module: 2",
        "per_module:\n      - {module: 02-law, count: 1}\n      - {module: 02-law, count: 2}",
        "count: 2",
        "module '02-law' appears twice in the exam draw",
    ),
    ("course.yaml", "per_module: 2", "per_module: []", "per_module:", "exam.draw.per_module lists no module"),
    (
        "course.yaml",
        "per_module: 2",
        "per_module: [02-law]",
        "per_module:",
        "exam.draw.per_module[0] must be a mapping like {module: name, count: 5}",
    ),
    (
        "course.yaml",
        "per_module: 2",
        "per_module:\n      - module: 02-law\n        count: 0",
        "count: 0",
        "exam.draw.per_module[0].count must be a positive whole number, not 0",
    ),
    (
        "course.yaml",
        "  title: 示例课程培训合格证书\n",
        "",
        "certificate:",
        "missing course.yaml field 'certificate.title'",
    ),
    (
        "course.yaml",
        "validity_years: 3",
        "validity_years: -1",
        "validity_years:",
        "certificate.validity_years must be a whole number ≥ 0, not -1",
    ),
    (
        "course.yaml",
        "language: zh-CN",
        "language: zh-CN\nlanguage: en",
        "language: en",
        "course.yaml field 'language' is given twice (first at line 5)",
    ),
    (
        "course.yaml",
        "validity_years: 3\n",
        "validity_years: 3\nauthor: 张三\n",
        "author:",
        "unknown course.yaml field 'author'",
    ),
    # module front matter
    (
        "01-basics.md",
        "---\ntitle: 技术转移基础\n",
        "title: 技术转移基础\n",
        None,
        "front matter missing: the file must start with a '---' line",
    ),
    (
        "01-basics.md",
        "（2015年修正）\n---\n",
        "（2015年修正）\n",
        None,
        "front matter is not closed: no '---' line after line 1",
    ),
    (
        "01-basics.md",
        "hours: 2",
        "hours: 2: 3",
        "hours:",
        "front matter is not valid YAML: mapping values are not allowed here",
    ),
    ("01-basics.md", "title: 技术转移基础\n", "", None, "missing front-matter field 'title'"),
    ("01-basics.md", "title: 技术转移基础", 'title: ""', "title:", "front-matter field 'title' is empty"),
    ("01-basics.md", "group: 公共知识\n", "", None, "missing front-matter field 'group'"),
    (
        "01-basics.md",
        "group: 公共知识",
        "group: 其他",
        "group:",
        "group '其他' is not one of 公共知识|政策法规|实务技能|能力提升",
    ),
    ("01-basics.md", "hours: 2\n", "", None, "missing front-matter field 'hours'"),
    ("01-basics.md", "hours: 2", "hours: 0", "hours:", "hours must be a positive number, not 0"),
    ("01-basics.md", "hours: 2", "hours: 两小时", "hours:", "hours must be a positive number, not '两小时'"),
    (
        "01-basics.md",
        "hours: 2\n",
        "hours: 2\nauthor: 张三\n",
        "author:",
        "unknown front-matter field 'author'",
    ),
    (
        "01-basics.md",
        "objectives:\n  - 说出技术转移的主要环节",
        "objectives: 说出",
        "objectives:",
        "objectives must be a list, not '说出'",
    ),
    (
        "01-basics.md",
        "  - 说出技术转移的主要环节\n",
        "  - 说出技术转移的主要环节\n  - \n",
        8,
        "objectives item 2 must be non-empty text",
    ),
    # question attributes
    (
        "01-basics.md",
        "```question id=basics-single points=2",
        "```question points=2",
        "```question points=2",
        "question has no id (add id=...)",
    ),
    (
        "01-basics.md",
        "id=basics-single",
        "id=基础",
        "id=基础",
        "question id '基础' may contain only letters, digits, '.', '_' and '-'",
    ),
    (
        "01-basics.md",
        "scoring=partial",
        "scoring=partial level=3",
        "level=3",
        "unknown question attribute 'level' (known: id, type, points, exam, scoring, tags)",
    ),
    (
        "01-basics.md",
        "scoring=partial",
        "scoring=partial hard",
        "hard",
        "attribute 'hard' has no value (write hard=...)",
    ),
    (
        "01-basics.md",
        "exam=false",
        "exam=false exam=true",
        "exam=false",
        "question attribute 'exam' is given twice",
    ),
    (
        "01-basics.md",
        "tags=概念,入门",
        'tags="概念',
        "tags=",
        "cannot read the question attributes: No closing quotation",
    ),
    (
        "01-basics.md",
        "type=truefalse",
        "type=yesno",
        "type=yesno",
        "unknown question type 'yesno' (known: single, multiple, truefalse, fill, numeric, essay)",
    ),
    ("01-basics.md", "points=2", "points=0", "points=0", "points must be a positive number, not '0'"),
    ("01-basics.md", "points=2", "points=abc", "points=abc", "points must be a positive number, not 'abc'"),
    ("01-basics.md", "exam=false", "exam=no", "exam=no", "exam must be true or false, not 'no'"),
    (
        "01-basics.md",
        "scoring=partial",
        "scoring=some",
        "scoring=some",
        "scoring must be all or partial, not 'some'",
    ),
    (
        "01-basics.md",
        "points=2",
        "points=2 scoring=partial",
        "id=basics-single",
        "scoring= applies only to multiple-choice questions; this one is single",
    ),
    # answers
    (
        "01-basics.md",
        "- [x] 通过科学研究",
        "- [ ] 通过科学研究",
        "id=basics-single",
        "choice question has no right option (mark one - [x])",
    ),
    (
        "02-law.md",
        "- [ ] 40 万元",
        "- [x] 40 万元",
        "id=law-045-reward",
        "type=single but 2 options are marked right; mark one or use type=multiple",
    ),
    (
        "01-basics.md",
        "- [ ] 一方\n",
        "",
        "id=basics-selfcheck",
        "single-choice question has 1 option; it needs 2 to 8",
    ),
    (
        "01-basics.md",
        "- [ ] 发表论文\n",
        "- [ ] 发表论文\n" + "- [ ] 其他\n" * 6,
        "id=basics-multiple",
        "multiple-choice question has 9 options; it needs 2 to 8",
    ),
    ("01-basics.md", "- [ ] 一方", "- [ ]", "- [ ]", "option has no text"),
    (
        "01-basics.md",
        "- [ ] 只有论文\n",
        "- [ ] 只有论文\n= 2\n",
        "= 2",
        "a single-choice question takes - [x] / - [ ] options, not = lines",
    ),
    (
        "01-basics.md",
        "- [ ] 只有论文\n",
        "- [ ] 只有论文\n附注：见教材\n",
        "附注",
        "unexpected line among the answers: '附注：见教材'",
    ),
    ("01-basics.md", "自测题：技术转移涉及几方？\n", "", "id=basics-selfcheck", "question has an empty stem"),
    (
        "01-basics.md",
        "- [ ] 一方\n- [x] 至少两方\n",
        "",
        "id=basics-selfcheck",
        "question has no answer: add - [x] / - [ ] options or = lines, or set type=essay",
    ),
    (
        "01-basics.md",
        " type=truefalse",
        "",
        "id=basics-truefalse",
        "type= is required for questions answered with = lines (truefalse, fill or numeric)",
    ),
    (
        "01-basics.md",
        "= true\n",
        "",
        "id=basics-truefalse",
        "truefalse question needs exactly one '= true' or '= false' line, found 0",
    ),
    (
        "01-basics.md",
        "= true\n",
        "= true\n= false\n",
        "id=basics-truefalse",
        "truefalse question needs exactly one '= true' or '= false' line, found 2",
    ),
    ("01-basics.md", "= true", "= yes", "= yes", "truefalse answer must be true or false, not 'yes'"),
    (
        "02-law.md",
        "= 促进科技成果转化\n= 促进科技成果转化法\n",
        "",
        "id=law-fill",
        "fill question needs at least one '= accepted answer' line",
    ),
    ("02-law.md", "= 促进科技成果转化法\n", "=\n", "=", "nothing after '='"),
    ("02-law.md", "= 50 ± 0.5", "= 五十", "= 五十", "numeric answer '五十' is not N, N ± T or [low, high]"),
    (
        "02-law.md",
        "= [50, 70]",
        "= [70, 50]",
        "= [70, 50]",
        "numeric answer '[70, 50]' is an empty range (70 > 50)",
    ),
    (
        "02-law.md",
        "= [50, 70]\n",
        "= 50\n= 70\n",
        "id=law-range",
        "numeric question needs exactly one = line, found 2",
    ),
    (
        "03-practice.md",
        "如何组织这次交易。\n",
        "如何组织这次交易。\n\n= 10\n",
        "= 10",
        "an essay question takes no answer lines",
    ),
    (
        "03-practice.md",
        "> 评分要点：\n>\n> 1. 确认权属（3 分）\n> 2. 评估作价（4 分）\n> 3. 履行公示（3 分）\n",
        "",
        "id=practice-case",
        "essay question needs a marking guide (评分要点) in a > blockquote at the end",
    ),
    (
        "01-basics.md",
        "- [x] 至少两方\n```\n",
        "- [x] 至少两方\n",
        "id=basics-selfcheck",
        "question block is not closed: no closing fence before the end of its container",
    ),
    # images
    (
        "01-basics.md",
        "media/figure.png",
        "media/missing.png",
        "missing.png",
        "image 'media/missing.png' does not exist",
    ),
    (
        "01-basics.md",
        "media/figure.png",
        "../outside.png",
        "outside.png",
        "image '../outside.png' points outside the course folder",
    ),
    (
        "02-law.md",
        "奖励金额（万元）可以是：",
        "奖励金额（万元）可以是：![图](media/图.png)",
        "id=law-range",
        "image 'media/图.png' does not exist",
    ),
]


@pytest.mark.parametrize(
    ("file", "old", "new", "marker", "message"),
    ONE_PROBLEM,
    ids=[f"{case[0]}:{case[4][:60]}" for case in ONE_PROBLEM],
)
def test_rule_reports_one_problem_at_its_line(
    break_course: BreakCourse, file: str, old: str | None, new: str, marker: str | int | None, message: str
) -> None:
    course_dir = break_course((file, old, new))
    path = course_dir / file

    course, problems = load_course(course_dir)

    assert course is None
    assert [str(problem) for problem in problems] == [f"{path}:{line_of(path, marker)}: {message}"]


def test_missing_course_yaml(break_course: BreakCourse) -> None:
    course_dir = break_course(("course.yaml", None, None))

    course, problems = load_course(course_dir)

    assert course is None
    assert [str(problem) for problem in problems] == [
        f"{course_dir / 'course.yaml'}:1: course.yaml is missing"
    ]


def test_file_that_is_not_utf8(break_course: BreakCourse) -> None:
    course_dir = break_course()
    path = course_dir / "02-law.md"
    lines = path.read_bytes().count(b"\n")
    path.write_bytes(path.read_bytes() + "\n中文".encode("gbk"))

    _, problems = load_course(course_dir)

    assert [str(problem) for problem in problems] == [f"{path}:{lines + 2}: 02-law.md is not UTF-8 text"]


def test_draw_per_module_names_each_module_that_is_short(break_course: BreakCourse) -> None:
    """01-basics has 3 exam questions (one more is exam=false), 03-practice 3 (plus an essay)."""
    course_dir = break_course(("course.yaml", "per_module: 2", "per_module: 4"))
    path = course_dir / "course.yaml"

    _, problems = load_course(course_dir)

    assert [str(problem) for problem in problems] == [
        f"{path}:20: exam draws 4 questions from module '01-basics' but it has only 3 exam questions",
        f"{path}:20: exam draws 4 questions from module '03-practice' but it has only 3 exam questions",
    ]


def test_draw_list_form(break_course: BreakCourse) -> None:
    draw = "per_module:\n      - module: 02-law\n        count: 3\n      - {module: 01-basics, count: 1}"
    course_dir = break_course(("course.yaml", "per_module: 2", draw))

    course, problems = load_course(course_dir)

    assert problems == []
    assert course is not None
    assert (course.exam.draw_per_module, course.exam.draw_modules) == (
        None,
        (("02-law", 3), ("01-basics", 1)),
    )


def test_duplicate_id_across_modules_reports_both_places(break_course: BreakCourse) -> None:
    course_dir = break_course(("02-law.md", "id=law-fill", "id=basics-single"))
    basics, law = course_dir / "01-basics.md", course_dir / "02-law.md"

    _, problems = load_course(course_dir)

    assert [str(problem) for problem in problems] == [
        f"{basics}:18: duplicate question id 'basics-single' (also at 02-law.md:24)",
        f"{law}:24: duplicate question id 'basics-single' (also at 01-basics.md:18)",
    ]


def test_problems_in_several_files_come_sorted(break_course: BreakCourse) -> None:
    course_dir = break_course(
        ("03-practice.md", "hours: 1.5", "hours: 0"),
        ("01-basics.md", "group: 公共知识", "group: 其他"),
        ("01-basics.md", "points=2", "points=0"),
        ("course.yaml", "level: junior", "level: expert"),
    )

    problems = check_courses(course_dir)

    assert [(problem.path.name, problem.line) for problem in problems] == [
        ("01-basics.md", 4),
        ("01-basics.md", 18),
        ("03-practice.md", 4),
        ("course.yaml", 4),
    ]


# ---- check_courses ----------------------------------------------------------------------------------


def test_check_courses_on_a_course_folder_and_on_a_courses_folder(sample_course: Path) -> None:
    assert check_courses(sample_course) == []
    assert check_courses(sample_course.parent) == []


def test_check_courses_walks_every_course(break_course: BreakCourse, tmp_path: Path) -> None:
    break_course(("02-law.md", "group: 政策法规", "group: 法规"))
    (tmp_path / "stray").mkdir()
    (tmp_path / "stray" / "01-a.md").write_text("---\ntitle: a\n---\n", encoding="utf-8")
    (tmp_path / "notes").mkdir()

    problems = check_courses(tmp_path)

    assert [str(problem) for problem in problems] == [
        f"{tmp_path / 'sample-course' / '02-law.md'}:4: group '法规' is not one of {'|'.join(GROUPS)}",
        f"{tmp_path / 'stray' / 'course.yaml'}:1: course.yaml is missing",
    ]


def test_check_courses_ignores_a_readme_beside_the_courses(break_course: BreakCourse, tmp_path: Path) -> None:
    break_course()
    (tmp_path / "README.md").write_text("# Courses\n", encoding="utf-8")

    assert check_courses(tmp_path) == []


def test_check_courses_on_modules_without_course_yaml(break_course: BreakCourse) -> None:
    course_dir = break_course(("course.yaml", None, None))

    assert [str(problem) for problem in check_courses(course_dir)] == [
        f"{course_dir / 'course.yaml'}:1: course.yaml is missing"
    ]


def test_check_courses_on_an_empty_or_missing_folder(tmp_path: Path) -> None:
    assert [problem.message for problem in check_courses(tmp_path)] == [
        "no course here: no course.yaml in this folder or its subfolders"
    ]
    assert [problem.message for problem in check_courses(tmp_path / "nope")] == ["no such folder"]
