"""README.md and README_zh-CN.md cannot drift: the same sections in the same order, the same commands."""
import re

from helpers import ROOT

ENGLISH, CHINESE = ROOT / 'README.md', ROOT / 'README_zh-CN.md'


def _headings(text):
    return [len(m.group(1)) for m in re.finditer(r'^(#+) ', text, re.MULTILINE)]


def _code(text):
    """Each code block's lines without comments (those are translated) and trailing spaces."""
    blocks = re.findall(r'^```\w*\n(.*?)^```', text, re.MULTILINE | re.DOTALL)
    return [[re.sub(r'\s+#\s.*$', '', line).rstrip() for line in block.splitlines()] for block in blocks]


def _links(text):
    return sorted(set(re.findall(r'\]\(([^)]+)\)', text)))


def test_both_readmes_have_the_same_sections_commands_and_links():
    english, chinese = ENGLISH.read_text(encoding='utf-8'), CHINESE.read_text(encoding='utf-8')
    assert _headings(chinese) == _headings(english)
    assert _code(chinese) == _code(english)
    assert set(_links(english)) - {'README_zh-CN.md'} == set(_links(chinese)) - {'README.md'}


def test_each_links_to_the_other_at_the_top():
    assert '[简体中文](README_zh-CN.md)' in ENGLISH.read_text(encoding='utf-8').splitlines()[2]
    assert '[English](README.md)' in CHINESE.read_text(encoding='utf-8').splitlines()[2]
