"""Module rendering: sanitising, heading anchors and the table of contents, question placeholders, media
URLs, the media route, and the per-version HTML cache."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.courses.reading import clear_caches
from backend.courses.render import render_fragment, render_module, rendered_from_html
from backend.courses.service import RENDER_STAMP
from backend.models import CourseModule, ModuleVersion
from tests.courses.reading_support import SAMPLE_COURSE, load_sample_course
from tests.support import visible_text

MEDIA = "/courses/demo/media"
FRONT = "---\ntitle: 示例模块\ngroup: 公共知识\nhours: 1\n---\n"

HOSTILE = (
    FRONT
    + """
# 示例模块

<script>alert("x")</script>

<img src="x.png" onerror="alert(1)">

[点我](javascript:alert(1)) <a href="javascript:alert(2)" onclick="steal()">再点</a>
<p style="background:url(javascript:alert(3))" onmouseover="alert(4)">悬停</p>

<div class="selfcheck" data-qid="forged"></div>

<iframe src="https://evil.example"></iframe>
"""
)


def test_scripts_handlers_and_javascript_urls_are_removed() -> None:
    html = render_module(HOSTILE, media_url=MEDIA).html
    lowered = html.lower()
    for bad in ("<script", 'alert("x")', "onerror", "onclick", "onmouseover", "<iframe", "style="):
        assert bad not in lowered, bad
    assert not re.search(r"(href|src)=\"?javascript", lowered)
    assert "悬停" in html and "再点" in html  # the text stays, only the danger goes
    assert '<img src="x.png">' in html


def test_raw_html_cannot_forge_a_question_placeholder() -> None:
    rendered = render_module(HOSTILE, media_url=MEDIA)
    assert rendered.question_ids == ()
    assert 'data-qid="forged"' not in rendered.html


def test_front_matter_is_not_rendered_and_a_repeated_title_heading_is_dropped() -> None:
    rendered = render_module(FRONT + "# 示例模块\n\n正文。\n", media_url=MEDIA)
    assert "group" not in rendered.html and "hours" not in rendered.html
    assert "示例模块" not in rendered.html  # the page's own <h1> shows the title
    assert visible_text(rendered.html) == "正文。"


def test_chinese_headings_get_anchors_and_make_the_table_of_contents() -> None:
    text = FRONT + (
        "# 正文\n\n## 一、自主处置与定价（第十八条）\n\n文字\n\n### 算例\n\n#### 细节\n\n"
        "## 一、自主处置与定价（第十八条）\n\n## Main\n\n## !!!\n"
    )
    rendered = render_module(text, media_url=MEDIA)
    assert [(entry.level, entry.anchor, entry.text) for entry in rendered.toc] == [
        (2, "正文", "正文"),
        (3, "一自主处置与定价第十八条", "一、自主处置与定价（第十八条）"),
        (3, "一自主处置与定价第十八条-1", "一、自主处置与定价（第十八条）"),  # duplicates stay unique
        (3, "main-section", "Main"),  # would clash with the page's <main id="main">
        (3, "section", "!!!"),
    ]  # h4 (算例) and deeper are anchored but left out of the table of contents
    assert '<h2 id="正文">正文</h2>' in rendered.html  # `#` becomes h2: the page keeps one h1
    assert '<h4 id="算例">算例</h4>' in rendered.html
    assert '<h5 id="细节">细节</h5>' in rendered.html


def test_question_blocks_become_placeholders_in_text_order() -> None:
    text = (SAMPLE_COURSE / "03-practice.md").read_text(encoding="utf-8")
    rendered = render_module(text, media_url=MEDIA)
    assert rendered.question_ids == ("practice-multiple", "practice-exact", "practice-false", "practice-case")
    assert "技术合同包括" not in rendered.html  # the stem is the quiz form's, not the text's
    assert "```question id=not-a-question" in rendered.html  # an example inside a longer fence stays code
    segments = rendered.segments()
    assert [qid for _html, qid in segments] == [*rendered.question_ids, None]
    assert "".join(html for html, _qid in segments) == rendered.html.replace(
        "".join(f'<div class="selfcheck" data-qid="{qid}"></div>' for qid in rendered.question_ids), ""
    )


def test_question_nested_in_a_blockquote_is_found() -> None:
    text = FRONT + "> 引文\n>\n> ```question id=deep\n> 题干\n>\n> - [x] 是\n> - [ ] 否\n> ```\n"
    assert render_module(text, media_url=MEDIA).question_ids == ("deep",)


def test_relative_media_paths_point_at_the_media_route() -> None:
    text = (
        FRONT
        + "![流程图](media/figure.png)\n\n![b](./media/sub/b.png)\n\n[下载](media/form.pdf)\n\n![外](https://example.com/x.png)\n"
    )
    html = render_module(text, media_url=MEDIA).html
    assert f'src="{MEDIA}/figure.png" alt="流程图"' in html
    assert f'src="{MEDIA}/sub/b.png"' in html
    assert f'href="{MEDIA}/form.pdf"' in html
    assert 'src="https://example.com/x.png"' in html


def test_cached_html_gives_back_the_same_toc_and_questions() -> None:
    text = (SAMPLE_COURSE / "01-basics.md").read_text(encoding="utf-8") + "\n## 小结\n"
    rendered = render_module(text, media_url=MEDIA)
    assert rendered_from_html(rendered.html) == rendered
    assert rendered.toc[-1].text == "小结"


def test_fragments_are_sanitised_too() -> None:
    html = render_fragment(
        "**粗体** <script>x()</script>[a](javascript:alert(1)) ![i](media/i.png)", media_url=MEDIA
    )
    assert "<strong>粗体</strong>" in html
    assert "<script" not in html and 'href="javascript' not in html
    assert f'src="{MEDIA}/i.png"' in html


# ---- over HTTP -----------------------------------------------------------------------------------------


def test_module_page_does_not_carry_hostile_markup(client: TestClient, db: Session) -> None:
    load_sample_course(db)
    version = _current_version(db, "01-basics")
    version.text = HOSTILE.replace("示例模块", "技术转移基础")
    version.rendered_html = None
    db.add(version)
    db.commit()
    clear_caches()  # the text of a version never changes in the app; this test changes it behind its back
    page = client.get("/courses/sample-course/modules/01-basics").text.lower()
    assert "onerror" not in page and "onclick" not in page and 'alert("x")' not in page
    assert not re.search(r"(href|src)=\"?javascript", page)


def test_media_route_serves_course_images(client: TestClient) -> None:
    response = client.get("/courses/sample-course/media/figure.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == (SAMPLE_COURSE / "media" / "figure.png").read_bytes()
    assert client.get("/courses/sample-course/media/missing.png").status_code == 404


def test_media_route_refuses_path_traversal(client: TestClient) -> None:
    for url in (
        "/courses/sample-course/media/..%2fcourse.yaml",
        "/courses/sample-course/media/%2e%2e/course.yaml",
        "/courses/sample-course/media/..%2f..%2fsample-course%2fcourse.yaml",
        "/courses/%2e%2e/media/sample-course/course.yaml",
        "/courses/sample-course/media/%2fetc%2fpasswd",
        "/courses/sample-course/media/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "slug:" not in response.text


def test_rendered_html_is_cached_per_module_version(client: TestClient, db: Session) -> None:
    load_sample_course(db)
    assert _current_version(db, "01-basics").rendered_html is None
    page = client.get("/courses/sample-course/modules/01-basics")
    assert "技术转移是把科技成果" in page.text
    _fresh(db)
    cached = _current_version(db, "01-basics").rendered_html
    assert cached is not None and cached.startswith(RENDER_STAMP)

    # The cache is what is shown: prove it by planting a marker in it.
    version = _current_version(db, "01-basics")
    version.rendered_html = cached.replace("技术转移是把", "缓存中的文字：技术转移是把")
    db.add(version)
    db.commit()
    clear_caches()  # this worker's own copy, in front of the database's
    assert "缓存中的文字" in client.get("/courses/sample-course/modules/01-basics").text

    # A new version is a new cache key: it renders anew.
    module = db.exec(select(CourseModule).where(CourseModule.name == "01-basics")).one()
    new = ModuleVersion(
        module_id=module.id or 0,
        number=module.current_version + 1,
        text=version.text.replace("技术转移是把", "第二版：技术转移是把"),
        content_hash="0" * 64,
        title=version.title,
        group=version.group,
        hours=version.hours,
    )
    module.current_version = new.number
    db.add(new)
    db.add(module)
    db.commit()
    text = client.get("/courses/sample-course/modules/01-basics").text
    assert "第二版：技术转移是把" in text and "缓存中的文字" not in text
    _fresh(db)
    assert (_current_version(db, "01-basics").rendered_html or "").count("第二版") == 1


def test_a_stale_render_format_is_rendered_again(client: TestClient, db: Session) -> None:
    load_sample_course(db)
    version = _current_version(db, "01-basics")
    version.rendered_html = "<p>rendered by an older release</p>"
    db.add(version)
    db.commit()
    clear_caches()
    text = client.get("/courses/sample-course/modules/01-basics").text
    assert "older release" not in text and "技术转移是把科技成果" in text


def _current_version(db: Session, name: str) -> ModuleVersion:
    module = db.exec(select(CourseModule).where(CourseModule.name == name)).one()
    return db.exec(
        select(ModuleVersion).where(
            ModuleVersion.module_id == module.id, ModuleVersion.number == module.current_version
        )
    ).one()


def _fresh(db: Session) -> None:
    """See what the app committed: end this session's snapshot and forget its loaded rows."""
    db.rollback()
    db.expire_all()


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("**职务科技成果。**同样依照", "<strong>职务科技成果。</strong>同样依照"),
        ('和**"我们用这项技术吗？"**（自由实施）', '和<strong>"我们用这项技术吗？"</strong>（自由实施）'),
        ("这是**重要**的", "这是<strong>重要</strong>的"),
        ("**Bold** text and *em*", "<strong>Bold</strong> text and <em>em</em>"),
        ("snake_case_name", "snake_case_name"),  # still no emphasis inside a word
    ],
)
def test_emphasis_next_to_chinese_punctuation(markdown: str, html: str) -> None:
    assert render_fragment(markdown) == f"<p>{html}</p>\n"


def test_shipped_curriculum_renders_without_stray_markup() -> None:
    for path in sorted(SAMPLE_COURSE.parents[3].joinpath("courses").glob("*/*.md")):
        text = visible_text(render_module(path.read_text(encoding="utf-8"), media_url=MEDIA).html)
        assert "**" not in text, path
