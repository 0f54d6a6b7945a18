"""Module markdown to safe HTML: headings with ids and a table of contents, images pointed at the media route,
each question block replaced by a placeholder that the page fills with its own quiz form, and nh3 sanitising.

The HTML of a module version is rendered once and cached in ModuleVersion.rendered_html; the table of
contents and the question order are read back from that HTML (`rendered_from_html`), so a page view never
parses markdown. Question stems, options and explanations are short fragments rendered by `render_fragment`.
"""

from __future__ import annotations

import html
import re
import shlex
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

import nh3
import yaml
from markdown_it import MarkdownIt
from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline.state_inline import Delimiter, StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.anchors.index import slugify

from backend.courses.format import split_lines

TOC_MAX_LEVEL = 3  # h2 and h3 on the page (the file's # and ##) make the table of contents
# Ids the page itself uses; a heading that slugs to one of these gets a suffix instead.
RESERVED_IDS = frozenset({"main", "flashes", "toc", "module-text", "module_complete", "selfchecks"})

# Private-use characters mark where a question block stood; they cannot survive from the source because
# they are removed from it before parsing, and they pass nh3 untouched as text.
_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"
_MARK = re.compile(f"{_MARK_OPEN}([^{_MARK_CLOSE}]*){_MARK_CLOSE}\n?")
PLACEHOLDER = re.compile(r'<div class="selfcheck" data-qid="([^"]*)"></div>')
_HEADING = re.compile(r'<h([1-6]) id="([^"]*)">(.*?)</h\1>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")

_HEADINGS = {f"h{level}" for level in range(1, 7)}
_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS)
_ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(values) for tag, values in nh3.ALLOWED_ATTRIBUTES.items()},
    **{tag: {"id"} for tag in _HEADINGS},
    "td": {*nh3.ALLOWED_ATTRIBUTES["td"], "style"},
    "th": {*nh3.ALLOWED_ATTRIBUTES["th"], "style"},
}
_ALLOWED_STYLES = {"text-align"}  # markdown-it aligns table columns with style="text-align:..."


class TocEntry(NamedTuple):
    level: int  # heading level on the page (2 = the file's #)
    anchor: str
    text: str


@dataclass(frozen=True)
class RenderedModule:
    html: str
    toc: tuple[TocEntry, ...]
    question_ids: tuple[str, ...]

    def segments(self) -> list[tuple[str, str | None]]:
        """The HTML cut at each question placeholder: (html before it, its question id); the last id is None."""
        return self._segments

    @cached_property
    def _segments(self) -> list[tuple[str, str | None]]:
        parts = PLACEHOLDER.split(self.html)
        pieces: list[tuple[str, str | None]] = []
        for index in range(0, len(parts), 2):
            qid = html.unescape(parts[index + 1]) if index + 1 < len(parts) else None
            pieces.append((parts[index], qid))
        return pieces


def render_module(text: str, *, media_url: str) -> RenderedModule:
    """A whole module file (front matter included, which is not shown) as sanitised HTML."""
    text = text.replace(_MARK_OPEN, "").replace(_MARK_CLOSE, "")
    title, body = _split_front_matter(text)
    env: dict[str, Any] = {"media_url": media_url.rstrip("/"), "title": title}
    raw = _module_markdown.render(body, env)
    clean = _sanitise(raw)
    clean = _MARK.sub(lambda match: _placeholder(html.unescape(match[1])), clean)
    return rendered_from_html(clean)


def rendered_from_html(module_html: str) -> RenderedModule:
    """Table of contents and question order read back from HTML that `render_module` produced."""
    toc = tuple(
        TocEntry(int(level), html.unescape(anchor), _plain_text(inner))
        for level, anchor, inner in _HEADING.findall(module_html)
        if int(level) <= TOC_MAX_LEVEL
    )
    qids = tuple(html.unescape(qid) for qid in PLACEHOLDER.findall(module_html))
    return RenderedModule(module_html, toc, qids)


@lru_cache(maxsize=4096)
def render_fragment(text: str, *, media_url: str = "") -> str:
    """A short piece of markdown (a course description, a question stem, option or explanation) as safe HTML.

    Cached by its text: the same stem is rendered once per process, not on every page view."""
    env: dict[str, Any] = {"media_url": media_url.rstrip("/")}
    return _sanitise(_fragment_markdown.render(text, env))


@lru_cache(maxsize=8192)
def render_inline(text: str, *, media_url: str = "") -> str:
    """One line of markdown without a wrapping paragraph (an option's text, inside a <label>)."""
    env: dict[str, Any] = {"media_url": media_url.rstrip("/")}
    return _sanitise(_fragment_markdown.renderInline(text, env))


# ---- markdown-it set-up ----------------------------------------------------------------------------------


def _split_front_matter(text: str) -> tuple[str, str]:
    """(front-matter title, body); a file without a closed front matter is all body."""
    lines = split_lines(text)
    if not lines or lines[0].lstrip("\ufeff").rstrip() != "---":
        return "", text
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if end is None:
        return "", text
    try:
        data = yaml.safe_load("".join(lines[1:end]))
    except yaml.YAMLError:
        data = None
    title = data.get("title") if isinstance(data, dict) else None
    return (title.strip() if isinstance(title, str) else ""), "".join(lines[end + 1 :])


def _heading_slug(title: str) -> str:
    slug = slugify(title.strip()).strip("-") or "section"
    if slug in RESERVED_IDS or slug.startswith("q-"):
        slug = f"{slug}-section"
    return slug


def _question_id(info: str) -> str:
    try:
        words = shlex.split(info)
    except ValueError:
        words = info.split()
    attrs = dict(word.partition("=")[::2] for word in words[1:])
    return attrs.get("id", "")


def _fence(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    words = token.info.split()
    if words and words[0] == "question":
        qid = _question_id(token.info)
        return f"{_MARK_OPEN}{html.escape(qid)}{_MARK_CLOSE}\n" if qid else ""
    return RendererHTML.fence(self, tokens, idx, options, env)


def _rewrite_media(state: StateCore) -> None:
    """`media/x.png` (and `./media/x.png`) in images and links → `{media_url}/x.png`."""
    media_url = state.env.get("media_url", "") if isinstance(state.env, dict) else ""
    if not media_url:
        return
    for token in state.tokens:
        for child in token.children or []:
            attr = "src" if child.type == "image" else "href" if child.type == "link_open" else None
            value = str(child.attrGet(attr) or "") if attr else ""
            if attr and value.startswith(("media/", "./media/")):
                child.attrSet(attr, f"{media_url}/{value.split('media/', 1)[1]}")


def _drop_title_and_shift_headings(state: StateCore) -> None:
    """The page's <h1> is the module title from the front matter, so a leading `# Title` that repeats it is
    left out, and every heading moves one level down (# → h2) to keep a single h1 on the page."""
    tokens = state.tokens
    title = _SPACE.sub(" ", str(state.env.get("title", ""))).strip() if isinstance(state.env, dict) else ""
    opens_with_h1 = len(tokens) >= 3 and tokens[0].type == "heading_open" and tokens[0].tag == "h1"
    if title and opens_with_h1 and _SPACE.sub(" ", tokens[1].content).strip() == title:
        del tokens[0:3]
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"


def _is_cjk(char: str) -> bool:
    """Wide East Asian characters: Han, kana, hangul, and the full-width punctuation written among them."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def _scan_delimiters(state: StateInline, start: int) -> tuple[bool, bool, int]:
    """CommonMark's flanking rules, relaxed next to CJK text (as the markdown-it-cjk-friendly proposal does):
    `**职务科技成果。**同样` closes its emphasis although `。` is punctuation and `同` is not, because
    Chinese puts no space after a full stop. Returns (can open, can close, run length)."""
    src, marker = state.src, state.src[start]
    end = start
    while end < state.posMax and src[end] == marker:
        end += 1
    last = src[start - 1] if start > 0 else " "
    following = src[end] if end < state.posMax else " "
    last_punct = isMdAsciiPunct(ord(last)) or isPunctChar(last)
    next_punct = isMdAsciiPunct(ord(following)) or isPunctChar(following)
    last_space, next_space = isWhiteSpace(ord(last)), isWhiteSpace(ord(following))
    left = not next_space and (not next_punct or last_space or last_punct or _is_cjk(last))
    right = not last_space and (not last_punct or next_space or next_punct or _is_cjk(following))
    if marker == "_":  # an underscore inside a word is never emphasis
        return left and (not right or last_punct), right and (not left or next_punct), end - start
    return left, right, end - start


def _emphasis(state: StateInline, silent: bool) -> bool:
    """markdown-it's emphasis tokenizer with `_scan_delimiters` in place of StateInline.scanDelims."""
    marker = state.src[state.pos]
    if silent or marker not in ("_", "*"):
        return False
    can_open, can_close, length = _scan_delimiters(state, state.pos)
    for _ in range(length):
        token = state.push("text", "", 0)
        token.content = marker
        state.delimiters.append(
            Delimiter(ord(marker), length, len(state.tokens) - 1, -1, can_open, can_close)
        )
    state.pos += length
    return True


def _make_markdown(*, module: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table")
    md.inline.ruler.at("emphasis", _emphasis)
    if module:
        md.core.ruler.push("drop_title", _drop_title_and_shift_headings)
        md.use(anchors_plugin, min_level=2, max_level=6, slug_func=_heading_slug)
    md.core.ruler.push("media_urls", _rewrite_media)
    md.add_render_rule("fence", _fence)
    return md


_module_markdown = _make_markdown(module=True)
_fragment_markdown = _make_markdown(module=False)


def _sanitise(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        allowed_classes={"code": {f"language-{name}" for name in _CODE_LANGUAGES}},
        filter_style_properties=_ALLOWED_STYLES,
        url_schemes={"http", "https", "mailto"},
    )


# Languages an author may name on a code fence (kept as a class for styling; anything else is dropped).
_CODE_LANGUAGES = ("markdown", "text", "python", "json", "yaml", "bash", "sql", "html", "csv")


def _placeholder(qid: str) -> str:
    return f'<div class="selfcheck" data-qid="{html.escape(qid, quote=True)}"></div>'


def _plain_text(fragment: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub("", fragment))).strip()
