"""The preset regular expressions of rule mode: which lines are questions, and where an answer ends.

Every preset is one regular expression (MULTILINE) with the named groups `question` and `answer`, so the
page can show it as the starting point of a custom rule. This module only builds the text of those
patterns (and tells question headings from others); `rules` runs them.

Where an answer ends (qa_colon and numbered; an FAQ heading's answer is its whole section):
- answer_until="paragraph": at a blank line, except where the text says more follows: after a paragraph
  ending with a colon (：or :), before a list item ("1.", "1、", "（1）", "-", "•", "一、"…) and after one, so
  "方式如下：" keeps its list and the list its closing paragraph. It never runs into another question.
- answer_until="next_question": at the next question, whatever lies between.
- always: at a Markdown heading or a horizontal rule (---, ***, ___), which is where page footers start,
  and at a page footer without one (see below).

Page footers. A line that is never answer text ends an answer wherever it stands: a copyright line
("版权所有 © 2024 …", "Copyright © …", "… All rights reserved.") or a page number ("第 3 页", "- 3 -",
"Page 3 of 9"). A contact line ("联系电话：…", "地址：…", "Email: …") or a disclaimer ("免责声明…",
"本文仅供参考，不构成法律意见。", "… does not constitute legal advice") ends an answer when it starts a
paragraph, unless the paragraph before ends with a colon ("联系方式如下：" announces it). Inside a paragraph
those words are answer text ("请拨打客服电话：400…" stays whole).
"""
from __future__ import annotations

import re
from functools import lru_cache

# --- line classes ------------------------------------------------------------------------------------
_PREFIX = r"[ \t]*(?:[-*+>][ \t]+)?(?:\*\*|__)?"                        # list bullet, quote, bold
_COLON = r"[ \t]*(?:\*\*|__)?[ \t]*[:：][ \t]*(?:\*\*|__)?[ \t]*"
_Q_WORD = r"(?:问题?|提问|(?i:q(?:uestion)?))[ \t]*\d{0,4}"
_A_WORD = r"(?:答案?|回答|解答|(?i:a(?:nswer)?))[ \t]*\d{0,4}"
_Q_LINE = rf"^{_PREFIX}{_Q_WORD}{_COLON}"
_A_LINE = rf"^{_PREFIX}{_A_WORD}{_COLON}"
_HEADING = r"^[ \t]{0,3}#{1,6}[ \t]"
_RULE_LINE = r"^[ \t]{0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$"   # a Markdown horizontal rule
_LIST_ITEM = (r"[ \t]*(?:[-*+•·▪][ \t]|\d{1,3}[.．、)）](?!\d)|[（(]\d{1,3}[）)]|[①-⑳]|[a-z][.)][ \t]|"
              r"[一二三四五六七八九十]{1,3}[、．])")
_ENDS_WITH_COLON = r"(?:(?<=[:：])|(?<=[:：][ \t*])|(?<=[:：][ \t*][ \t*]))"  # "如下：", "如下： ", "**如下：**"
_NUMBER = (r"(?:\d{1,3}[.．、)）](?!\d)|[（(]\d{1,3}[）)]|(?i:q)\d{1,3}[.．:：、)）]?|"
           r"第[一二三四五六七八九十百\d]{1,4}[题问][.．:：、]?|[一二三四五六七八九十]{1,3}[、.．])")
_NUMBERED_Q = rf"^[ \t]*(?:\*\*)?{_NUMBER}[ \t]*(?:\*\*)?[ \t]*"
_QUOTE_CLOSE = r"[”\"’'」』]"
_ANOTHER_QUESTION = rf"{_Q_LINE}|{_NUMBERED_Q}[^\n]*[?？](?!{_QUOTE_CLOSE})"  # ends an FAQ section's answer too

# --- page footers (see the module docstring) ----------------------------------------------------------
_COPYRIGHT = (r"[ \t]*(?:©|[(（][cC][)）][ \t]*\d{4}|(?i:copyright)[ \t]*(?:©|\([cC]\)|\d{4})"
              r"|(?:本站|本网站?|本文|本页|本平台)?版权所有(?![人者权归])"
              r"|[^\n]*(?:(?i:all rights reserved)|保留所有权利|©[ \t]*\d{4}))")
_PAGE_NUMBER = (r"[ \t]*(?:(?:共[ \t]*\d{1,4}[ \t]*页[ \t]*[,，]?[ \t]*)?第[ \t]*\d{1,4}[ \t]*页"
                r"(?:[ \t]*[,，/]?[ \t]*共[ \t]*\d{1,4}[ \t]*页)?|[-—–][ \t]*\d{1,4}[ \t]*[-—–]"
                r"|(?i:page)[ \t]+\d{1,4}(?:[ \t]*(?:of|/)[ \t]*\d{1,4})?)[ \t]*$")
_FOOTER_LINE = rf"(?:{_COPYRIGHT}|{_PAGE_NUMBER})"     # never answer text
_CONTACT = (r"[ \t]*(?:(?:联系|咨询|服务|客服|投诉|举报|办公|公司|单位)?(?:电话|热线|手机|传真|座机|地址|邮箱|电子邮箱|"
            r"电子邮件|邮件|邮编|网址|官网|微信|QQ)(?:号码|号)?|(?i:tel|telephone|phone|fax|e-?mail|address|"
            r"website|contact(?: us)?))[ \t]*[:：]")
_DISCLAIMER = (r"[ \t]*(?:(?:免责声明|(?i:disclaimer)\b)|[^\n]{0,30}?(?:仅供参考|不构成[^\n]{0,8}?(?:意见|建议)|"
               r"(?i:for (?:general )?(?:reference|information(?:al)?) (?:only|purposes)|"
               r"(?:does not|do not|doesn't) constitute [a-z ]{0,20}advice)))")
_FOOTER_PARAGRAPH = rf"(?:{_CONTACT}|{_DISCLAIMER})"  # a footer when it starts a paragraph


def _continues(stops: str | None, blank_lines: bool) -> str:
    """Further lines of an answer, up to a heading, a horizontal rule, a page footer or a line of `stops`;
    without `blank_lines` also up to a blank line that neither a colon nor a list bridges (see the docstring)."""
    stop = f"(?!{stops})" if stops else ""
    goes_on = rf"(?![ \t]*$)(?!{_HEADING})(?!{_RULE_LINE})(?!{_FOOTER_LINE}){stop}"  # this line belongs to the answer
    blanks = r"(?:\n[ \t]*(?=\n))+"
    if blank_lines:
        # Blank lines are kept (a section runs on) unless a footer paragraph follows them.
        trailing = r"(?:\n[ \t]*$)+"
        return (rf"(?:\n{goes_on}[^\n]*|{_ENDS_WITH_COLON}{trailing}"
                rf"|{trailing}(?!\n{_FOOTER_PARAGRAPH}))*")
    line = rf"\n{goes_on}[^\n]*"
    announced = rf"{blanks}(?=\n{goes_on}(?!{_ANOTHER_QUESTION}))"  # blank lines after a colon, then more answer
    gap = rf"{blanks}(?=\n{goes_on}(?!{_ANOTHER_QUESTION})(?!{_FOOTER_PARAGRAPH}))"  # blank lines, then more answer
    item = rf"\n{goes_on}(?={_LIST_ITEM})[^\n]*(?:\n{goes_on}(?!{_LIST_ITEM})[^\n]*)*(?:{gap})?"  # + what closes it
    return rf"(?:{item}|{line}|{_ENDS_WITH_COLON}{announced}|{gap}(?=\n{_LIST_ITEM}))*"


@lru_cache(maxsize=None)
def preset_pattern(preset: str, answer_until: str = "paragraph") -> str:
    """The regular expression of a preset (MULTILINE), with the named groups `question` and `answer`."""
    whole = answer_until == "next_question"
    if preset == "qa_colon":
        question_more = rf"(?:\n(?![ \t]*\n)(?!{_A_LINE})(?!{_Q_LINE})(?!{_HEADING})[^\n]*)*?"
        # an answer on the question's own line needs the question to end first ("…？ 答：…", "…? A: …")
        same_line = rf"(?<=[？?。！!.；;）)])[ \t]*(?:\*\*|__)?{_A_WORD}{_COLON}"
        next_line = rf"[ \t]*(?:\*\*)?[ \t]*\n(?:[ \t]*\n)?{_A_LINE}"
        return (rf"{_Q_LINE}(?P<question>\S[^\n]*?{question_more})(?:{same_line}|{next_line})"
                rf"[ \t]*(?:\n[ \t]*)?(?P<answer>(?!{_Q_LINE})\S[^\n]*{_continues(_Q_LINE, whole)})")
    if preset == "faq_headings":
        label = rf"(?:{_Q_WORD}[ \t]*[:：.．、][ \t]*|{_NUMBER}[ \t]*)?"
        return (rf"^[ \t]{{0,3}}#{{2,3}}[ \t]+{label}(?P<question>[^\n]*?\S)(?:[ \t]+#+)?[ \t]*\n\s*"
                rf"(?P<answer>(?!{_HEADING})(?!{_RULE_LINE})(?!{_FOOTER_LINE})(?!{_ANOTHER_QUESTION})\S[^\n]*"
                rf"{_continues(_ANOTHER_QUESTION, True)})")
    if preset == "numbered":
        next_question = rf"{_NUMBERED_Q}[^\n]*[?？](?!{_QUOTE_CLOSE})"
        # the question ends at its line's last ?/？ that does not close a quote (“确认升级？”对话框 is no question)
        return (rf"{_NUMBERED_Q}(?P<question>[^\n]*[?？])(?!{_QUOTE_CLOSE})(?:\*\*)?[ \t]*(?:\n[ \t]*)*"
                rf"(?P<answer>(?!{next_question})(?!{_HEADING})(?!{_RULE_LINE})(?!{_FOOTER_LINE})\S[^\n]*"
                rf"{_continues(next_question, whole)})")
    raise ValueError(f"unknown preset '{preset}' / 未知的预设“{preset}”")


QUESTION_WORDS_ZH = re.compile(r"什么|怎么|怎样|如何|为什么|为何|哪|是否|能否|可否|有没有|是不是|能不能|可不可以|多少|"
                               r"多久|多长|几[个天次种年月岁点号分小]|[吗呢][\s。]*$")
QUESTION_WORDS_EN = re.compile(r"^(?:how|what|why|when|where|who|whom|whose|which|can|could|do|does|did|is|are|was|"
                               r"were|will|would|should|shall|may|might|must|have|has|am)\b", re.I)


def looks_like_question(text: str) -> bool:
    """A heading that asks something: ends with ?/？, starts with an English question word, or uses a Chinese one."""
    text = text.strip()
    return (text.endswith(("?", "？")) or bool(QUESTION_WORDS_EN.match(text))
            or bool(QUESTION_WORDS_ZH.search(text)))
