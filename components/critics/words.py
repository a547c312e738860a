"""Were the planned words said? Words a plan asks for, matched against a transcript.

A planned speech event carries its words in its phrase: quoted (``a man says
"hello there"``), or after a verb of saying when the quotes were dropped
(``a man says hello there``). A transcript matches when most of the expected
content words are in it; a word counts when spelled nearly the same, since
speech recognition mishears (``brown`` as ``round``) and inflects.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from ualm_agent.labels import name_key

_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|(?<![\w])\'([^\']+)\'(?![\w])')
_SAYING = re.compile(
    r"\b(?:says?|said|saying|shouts?|shouted|shouting|yells?|yelled|yelling|whispers?|whispered|whispering|"
    r"exclaims?|exclaimed|exclaiming|calls? out|called out|calling out|announces?|announced|announcing|"
    r"repeats?|repeated|repeating)\b[\s,:]+(?P<words>.+)$"
)
# After a verb of saying these begin a report of speech, not the words themselves.
_NOT_WORDS_START = frozenset(
    "that something anything nothing a an some few words it to about if whether how what loudly softly quietly".split()
)
# A manner or channel after the words ("hello there in a deep voice", "... over the radio").
_TAIL = re.compile(
    r"\s+(?:in an? [\w\s-]*?(?:voice|tone|whisper|accent)|with an? [\w\s-]*?(?:voice|tone|accent)"
    r"|(?:over|on|through) the (?:radio|phone|telephone|intercom|loudspeaker|speaker|pa)|to (?:his|her|their) \w+)$"
)
_STOP = frozenset(
    "a an the and or but to of in on at for with is are was were be been it its this that these those i you he she "
    "we they me him her us them my your our their there here so oh uh um".split()
)
_NUMBERS = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
    "8": "eight", "9": "nine", "10": "ten", "11": "eleven", "12": "twelve", "20": "twenty", "100": "hundred",
}


# Classes that speak besides the "speech" family: the speech source says their words, so the
# listening and the critic must check them too (one rule for all three).
_SPEAKING_KEYS = frozenset(name_key(n) for n in (
    "Male speech", "man speaking", "Female speech", "woman speaking", "Shout", "Yell", "Children shouting",
))


def speaks(label: str) -> bool:
    """Whether events of ``label`` say words: the speech family, or a shouting or speaking class."""
    from .matching import families_of

    parts = (label, *label.split(","))
    return "speech" in families_of(label) or any(name_key(part) in _SPEAKING_KEYS for part in parts)


def words_to_say(label: str, phrase: str) -> str | None:
    """The words an event of ``label`` described by ``phrase`` must say, or None."""
    return expected_words(phrase) if speaks(label) else None


def expected_words(phrase: str) -> str | None:
    """The words a planned phrase asks to be said, or None when it names none."""
    m = _QUOTED.search(phrase)
    if m:
        words = next(g for g in m.groups() if g is not None).strip()
        return words or None
    m = _SAYING.search(phrase.lower())
    if not m:
        return None
    words = _TAIL.sub("", m["words"]).strip(" ,.;:!?")
    tokens = words.split()
    while tokens and tokens[-1].endswith("ly"):
        tokens.pop()  # "hello there loudly"
    if not tokens or tokens[0] in _NOT_WORDS_START:
        return None
    return " ".join(tokens)


def tokens(text: str) -> list[str]:
    """Lower-case words without punctuation; digits spelled out as a transcript may write them."""
    words = re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))
    return [_NUMBERS.get(w, w).replace("'", "") for w in words if w.strip("'")]


def content_words(text: str) -> list[str]:
    words = tokens(text)
    content = [w for w in words if w not in _STOP]
    return content or words


def same_word(a: str, b: str, ratio: float = 0.75) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < 3:
        return False
    return SequenceMatcher(None, a, b).ratio() >= ratio


def missing_words(expected: str, heard: str) -> list[str]:
    """Expected content words with no near match in ``heard``."""
    said = tokens(heard)
    return [w for w in content_words(expected) if not any(same_word(w, h) for h in said)]


def said_share(expected: str, heard: str) -> float:
    """Share of the expected content words found in ``heard`` (1.0 when nothing is expected)."""
    wanted = content_words(expected)
    if not wanted:
        return 1.0
    return 1.0 - len(missing_words(expected, heard)) / len(wanted)
