"""Split an English sound prompt into clauses, one per sound event.

Each clause carries what the words say about its event: when (timestamps,
durations), how often (counts), where (left/right), how loud, and how it
relates to the clause before it (after it, at the same time, or before it).
Naming the sound is left to :mod:`.labelling`.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Literal

from .lexicon import NUMBER_WORDS, SOURCE_NOUNS

# How a clause relates to the one before it:
#   seq  after it ("then", "followed by", commas); pre  before it ("X after Y");
#   par  at the same time ("while", "as", "with"); and  unspecified ("and").
Relation = Literal["first", "seq", "pre", "par", "and"]

_NUMW = "|".join(sorted((w for w in NUMBER_WORDS if " " not in w), key=len, reverse=True))
# A leading minus is read, so a negative time is stated rather than left in the sound's words.
_NUM = rf"((?:\d+|{_NUMW}|a|an|one)\s+and\s+a\s+half|-?\d+(?:\.\d+)?|-?\.\d+|half\s+a|a\s+half|{_NUMW}|a|an|one)"
_UNIT = r"(s|secs?|seconds?|ms|milliseconds?|mins?|minutes?|h|hrs?|hours?)\b\.?"
_APPROX = r"(?:(?:about|around|roughly|approximately|nearly|almost|just|over|under|exactly)\s+)?"


def to_number(word: str) -> float | None:
    word = re.sub(r"\s+", " ", word.strip().lower())
    word = re.sub(r"^-\s*", "-", word)
    if word in ("half a", "a half"):
        return 0.5
    whole = re.fullmatch(r"(.+?) and a half", word)
    if whole:  # "two and a half seconds"
        base = to_number(whole.group(1))
        return None if base is None else base + 0.5
    if word in ("a", "an"):
        return 1.0
    if word in NUMBER_WORDS:
        return float(NUMBER_WORDS[word])
    try:
        return float(word)
    except ValueError:
        return None


def _seconds(value: str, unit: str | None) -> float | None:
    number = to_number(value)
    if number is None:
        return None
    unit = (unit or "s").rstrip(".")
    if unit.startswith("ms") or unit.startswith("milli"):
        return number / 1000.0
    if unit.startswith("min"):
        return number * 60.0
    if unit.startswith("h"):
        return number * 3600.0
    return number


@dataclass
class Timing:
    """A time expression: its kind and seconds, the user's words, and how it was read when it
    could not be taken as written ("from 5 s to 2 s" ends before it starts)."""

    kind: Literal["range", "start", "end", "dur", "clip", "none"]  # none: left out, only ``change`` remains
    a: float
    b: float | None = None
    words: str = ""
    change: str = ""
    # "5 seconds of rain": a length that is the clip's too when the sound is all the prompt asks for.
    fills: bool = False


# "at minute 3", "from second 2": the unit before the number, turned around so the patterns below read it.
_UNIT_FIRST = re.compile(
    r"\b(at|from|to|until|till|after|between|and|by)\s+(?:the\s+)?(second|minute|hour)\s+(-?\d+(?:\.\d+)?)\b"
)

# "the 4-second mark" and "the 3- and 5-second marks" name times, not lengths ("a 3-second beep"):
# read as "4 seconds" by the patterns below.
_MARK_UNIT = r"\s*-?\s*(second|minute)s?"
_MARK_PAIR = re.compile(rf"\b{_NUM}(?:{_MARK_UNIT})?(\s+(?:and|to|until|till|through)\s+(?:the\s+)?){_NUM}{_MARK_UNIT}\s+marks\b")
_MARK = re.compile(rf"\b{_NUM}{_MARK_UNIT}\s+mark\b")


def _unmark(text: str) -> str:
    text = _MARK_PAIR.sub(lambda m: f"{m.group(1)} {m.group(5)}s{m.group(3)}{m.group(4)} {m.group(5)}s", text)
    return _MARK.sub(lambda m: f"{m.group(1)} {m.group(2)}s", text)


# Order matters: ranges before starts ("from 1 to 2 s" is not "from 1 s").
_TIMING_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "range",
        re.compile(
            rf"\b(?:from|between)\s+(?:the\s+)?(?:second\s+)?{_APPROX}{_NUM}\s*(?:{_UNIT})?\s*"
            rf"(?:to|until|till|and|through|-|–|~)\s*(?:the\s+)?(?:second\s+)?{_NUM}\s*(?:{_UNIT})?(?:\s+marks?)?"
        ),
    ),
    ("range", re.compile(rf"\b(?:at\s+)?(\d+(?:\.\d+)?)\s*(?:{_UNIT})?\s*(?:-|–|to)\s*(\d+(?:\.\d+)?)\s*{_UNIT}")),
    (
        "clip",
        re.compile(
            rf"\b(?:a\s+|an\s+)?{_NUM}\s*-?\s*{_UNIT}\s*(?:long\s+)?(?:clip|audio|recording|soundscape|"
            rf"sound\s*track|track|sample|scene|piece|sound\s+clip|audio\s+clip)\b"
        ),
    ),
    ("clip", re.compile(rf"\b(?:clip|audio|recording|soundscape)\s+(?:of|lasting|that lasts|which lasts)\s+{_APPROX}{_NUM}\s*{_UNIT}")),
    # "in the first 3 seconds": from the clip's start.
    ("first", re.compile(rf"\b(?:in|during|within|for|over|throughout)\s+the\s+first\s+{_APPROX}{_NUM}\s*{_UNIT}")),
    (
        "dur",
        re.compile(
            rf"\b(?:for|lasting|lasts|last|lasted|lasting for|that lasts|which lasts|over)\s+"
            rf"(?:the\s+next\s+|a\s+(?:total\s+)?(?:duration|period|total|length)\s+of\s+)?{_APPROX}{_NUM}\s*{_UNIT}"
        ),
    ),
    # "within 2 seconds"; "in 2 seconds" only after a count ("3 times in 2 s"), else it may mean "after".
    ("dur", re.compile(rf"(?:\bwithin|(?:(?<=times\s)|(?<=twice\s)|(?<=thrice\s))in)\s+{_APPROX}{_NUM}\s*{_UNIT}")),
    ("dur", re.compile(rf"\b(?:a\s+|an\s+)?{_NUM}\s*-\s*{_UNIT}(?:\s+long)?")),
    ("dur", re.compile(rf"\b{_NUM}\s*{_UNIT}\s+long\b")),
    ("fill", re.compile(rf"\b{_NUM}\s*{_UNIT}\s+of\b")),
    # Before starts: the "at" of "ends at 8 seconds" is the end's.
    (
        "end",
        re.compile(
            r"\b(?:until|till|up to|ending at|ends at|ended at|end at|stopping at|stops at|stopped at|finishing at|"
            rf"finishes at|ending)\s+(?:the\s+)?{_APPROX}{_NUM}\s*{_UNIT}"
        ),
    ),
    (
        "start",
        re.compile(
            rf"\b(?:at|starting at|starts at|start at|begins at|beginning at|begin at|starting|after|from)\s+"
            rf"(?:the\s+)?(?:time\s+)?(?:t\s*=\s*)?{_APPROX}{_NUM}\s*{_UNIT}(?:\s+marks?)?(?:\s+in\b)?"
        ),
    ),
    ("start", re.compile(r"\bat\s+t\s*=\s*(\d+(?:\.\d+)?)()")),
]

_PLACEHOLDER = re.compile(r"⟦(\d+)⟧")


def extract_timings(text: str) -> tuple[str, list[Timing]]:
    """Replace each time expression with a ``⟦i⟧`` marker; return the text and the timings."""
    found: list[Timing] = []

    def replace(kind: str):
        def sub(m: re.Match[str]) -> str:
            groups = m.groups()
            # A unit's full stop ("at 2 s.") may end the sentence: statements quote the words without it.
            words = " ".join(m.group(0).split()).rstrip(".")
            if kind == "first":
                value = _seconds(groups[0], groups[1])
                if value is None:
                    return m.group(0)
                found.append(_range(0.0, value, words))
            elif kind == "range":
                a = _seconds(groups[0], groups[1] or groups[3])
                b = _seconds(groups[2], groups[3] or groups[1])
                if a is None or b is None or (groups[0] in ("a", "an", "one") and not (groups[1] or groups[3])):
                    return m.group(0)
                found.append(_range(a, b, words))
            else:
                value = _seconds(groups[0], groups[1] or None)
                if value is None:
                    return m.group(0)
                if kind == "start" and groups[0] in ("a", "an"):
                    return m.group(0)
                found.append(_single(kind, value, words))
            return f" ⟦{len(found) - 1}⟧ "

        return sub

    text = _UNIT_FIRST.sub(_number_first, text)
    text = _unmark(text)
    for kind, pattern in _TIMING_PATTERNS:
        text = pattern.sub(replace(kind), text)
    return text, found


def _number_first(m: re.Match[str]) -> str:
    """"at minute 3" -> "at 3 minutes"."""
    number = m.group(3)
    return f"{m.group(1)} {number} {m.group(2)}{'' if number == '1' else 's'}"


def _range(a: float, b: float, words: str) -> Timing:
    """A span as the user wrote it, or the nearest one that can be planned, with what was changed."""
    if b == a:
        start = max(0.0, a)
        return Timing("start", start, words=words, change=f"it has no length, so it is read as starting at {start:g} s")
    problem = ""
    if b < a:
        a, b = b, a
        problem = "it ends before it starts"
    if b <= 0:
        return Timing("none", 0.0, words=words, change="it is before the clip starts, so the time is left out")
    if a < 0:
        a = 0.0
        problem = problem or "it starts before the clip"
    change = f"{problem}, so it is read as {a:g}-{b:g} s" if problem else ""
    return Timing("range", a, b, words=words, change=change)


def _single(kind: str, value: float, words: str) -> Timing:
    if kind == "fill":
        timing = _single("dur", value, words)
        timing.fills = timing.kind == "dur"
        return timing
    if kind == "start" and value < 0:
        return Timing("start", 0.0, words=words, change="it is before the clip starts, so it is read as 0 s")
    if kind == "end" and value <= 0:
        return Timing("none", 0.0, words=words, change="it is before the clip starts, so the time is left out")
    if kind == "dur" and value <= 0:
        return Timing("none", 0.0, words=words, change="it is no length, so the time is left out")
    return Timing(kind, value, words=words)  # type: ignore[arg-type]


# Two-word pairs joined by "and" that name one thing, not two events.
_BINOMIALS = re.compile(
    r"\b(back|on|up|in|over|again|now|here|to|pots|rock|rhythm|drum|knives|hide|cats|bread|black|loud|"
    r"huff|puff|stop|start|off|round)\s+(and|n)\s+(forth|off|down|out|over|again|then|there|fro|pans|roll|blues|"
    r"bass|forks|seek|dogs|butter|white|clear|puff|go|start|on|round)\b"
)

_ONE_AFTER_ANOTHER = re.compile(r"\bone\s+(?:right\s+)?after\s+(?:the\s+other|another)\b")

_CONNECTIVE = re.compile(
    r"(?P<comma_and>,\s*and\s+then\b|,\s*then\b)"
    r"|(?P<seq>,?\s*\b(?:and\s+then|and\s+afterwards?|and\s+later|and\s+finally|then\s+later|after\s+(?:that|which|this|a\s+while|"
    r"a\s+moment|a\s+pause|a\s+short\s+pause|a\s+few\s+seconds)|(?:and\s+)?(?:is\s+|are\s+)?(?:then\s+)?(?:closely\s+|shortly\s+|quickly\s+|"
    r"soon\s+|immediately\s+|later\s+)?followed\s+(?:closely\s+|shortly\s+|quickly\s+|soon\s+|immediately\s+)?by|(?:and\s+)?(?:just\s+|right\s+|shortly\s+|"
    r"soon\s+|immediately\s+|long\s+)?before|(?:and\s+)?then|(?:and\s+)?(?:afterwards?|subsequently|eventually|finally|lastly)|"
    r"and\s+(?:next|later)|as\s+soon\s+as|until|"
    # "and shortly after, Y", "and a moment later Y": Y comes next (a bare "X after Y" puts Y first).
    r"and\s+(?:just|right|shortly|soon|immediately|not\s+long)\s+after(?:wards?)?|"
    r"and\s+(?:a\s+(?:moment|second|few\s+seconds)|moments|seconds|soon)\s+(?:later|after(?:wards?)?))\b,?)"
    r"|(?P<pre>,?\s*\b(?:just\s+|right\s+|shortly\s+|soon\s+|immediately\s+|long\s+)?after\b)"
    r"|(?P<par>,?\s*\b(?:(?<!\ba\s)(?<!\blittle\s)while|whilst|during|amid|amidst|meanwhile|simultaneously\s+with|at\s+the\s+same\s+time\s+as|"
    r"at\s+the\s+same\s+time\s+with|along\s+with|together\s+with|accompanied\s+by|alongside|over\s+the\s+sound\s+of|"
    r"against\s+a\s+background\s+of|with|over(?!\s+(?:a|an|the|his|her|their)\s+(?:\w+\s+)?(?:intercom|radio|microphone|mic|"
    r"loudspeaker|speaker|speakers|phone|telephone|television|tv|walkie|megaphone|pa|speakerphone|headset|bullhorn|"
    r"machine|cb|radios|phones|line)\b)(?=\s+(?:a|an|the|some|his|her|their)\b)|(?<!such\s)(?<!same\stime\s)as(?!\s+(?:well|if|though|long|much|many|loud|soft|quiet|"
    r"fast|slow|it\s+gets|before|usual|a\s+result|such)\b))\b)"
    r"|(?P<and>,?\s*\b(?:and|plus|as\s+well\s+as|along\s+with)\b)"
    r"|(?P<comma>,)"
)

_LEADING_SUBORDINATE = re.compile(
    r"^\s*(?P<word>after|before|while|whilst|as\s+soon\s+as|as|when|whenever|once|during|following)\s+"
)
_LEADING_ORDER_WORDS = re.compile(
    r"^\s*(?:(?:and|then|next|first|firstly|at\s+first|initially|finally|lastly|later|afterwards?|subsequently|"
    r"eventually|also|suddenly|meanwhile|soon|shortly)\b[\s,]*)+"
)
_TOGETHER = re.compile(r"\b(?:together|at\s+the\s+same\s+time|simultaneously|in\s+unison|all\s+at\s+once)\b")
# Words about a sound's timing that name no sound and are left out of its words.
_A_WHILE = re.compile(r"\b(?:for\s+)?a\s+(?:little\s+)?while\b|\bone after another\b")
_AGAIN = re.compile(r"\b(?:another|again|once\s+more|once\s+again)\b")


def again_in(text: str) -> bool:
    """Whether ``text`` says a sound comes once more ("again", "another")."""
    return bool(_AGAIN.search(text))

_SILENCE_WORDS = frozenset(
    "silence silent pause pauses gap break stillness quiet quietness nothing".split()
)
_SILENCE_FILLER = frozenset(
    "a an the some short brief long little small slight quick moment moments of few bit then there is a of period "
    "complete total dead followed by with after second seconds several couple".split()
)

_LEVEL_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "distant",
        re.compile(
            r"\b(?:(?:off\s+)?in\s+the\s+(?:far\s+)?distance|from\s+(?:a\s+|the\s+)?(?:far\s+)?distance|distant(?:ly)?|"
            r"far\s+away|far\s+off|far-off|faraway|from\s+afar|from\s+far\s+away|a\s+long\s+way\s+off)\b"
        ),
    ),
    (
        "loud",
        re.compile(
            r"\b(?:(?:very|really|extremely|quite)\s+)?(?:loud|loudly|louder|loudest|booming|blaring|deafening|"
            r"at\s+(?:a\s+)?high\s+volume)\b"
        ),
    ),
    (
        "soft",
        re.compile(
            r"\b(?:(?:very|really|extremely|quite)\s+)?(?:soft|softly|softer|quiet|quietly|quieter|faint|faintly|"
            r"gentle|gently|muffled|muted|hushed|barely\s+audible|subtle|subtly|at\s+(?:a\s+)?low\s+volume)\b"
        ),
    ),
]

_POSITION_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        side,
        re.compile(
            rf"\b(?:(?:on|from|to|at|in|toward|towards)\s+(?:the\s+)?(?:(?:far|extreme|hard)\s+)?{side}"
            rf"(?:\s+(?:side|channel|ear|speaker))?(?:\s+of\s+the\s+(?:stereo\s+)?(?:field|image|mix))?|"
            rf"{side}(?:\s+|-)(?:side|channel|ear|speaker)|panned\s+(?:hard\s+|fully\s+)?{side}|"
            rf"(?:far|hard)\s+{side})\b"
        ),
    )
    for side in ("left", "right")
]
_MOVES_ACROSS = re.compile(r"\bfrom\s+(?:the\s+)?(?:left|right)\s+to\s+(?:the\s+)?(?:left|right)\b")

# Negative and fractional numbers are read too, so "2.5 times" is not taken for "5 times".
_COUNT_TIMES = re.compile(
    rf"(?<![\w.-])(?:repeat(?:ing|s|ed)?\s+|repeated\s+)?({_NUMW}|-?\d+(?:\.\d+)?)\s*(?:more\s+)?(?:times|x)\b"
)
# "3-4 times", "two or three times": a range of counts, planned at its upper end and stated.
_COUNT_RANGE = re.compile(
    rf"(?<![\w.])({_NUMW}|\d+)\s*(?:-|–|to|or)\s*({_NUMW}|\d+)\s*(?:more\s+)?(?:times|x)\b"
)
# The most repeats one layout event holds (``LayoutEvent.count``).
MAX_COUNT = 100
_COUNT_WORDS = re.compile(r"\b(twice|thrice|once)\b(?!\s+(?:again|more|before|it|the))")
_COUNT_VAGUE = re.compile(
    r"\b(?:(?:several|multiple|a\s+few|many|numerous|repeated|a\s+number\s+of)\s+times|repeatedly|over[\s_]+and[\s_]+over|"
    r"a\s+(?:rapid\s+|quick\s+|short\s+|long\s+)?(?:series|succession|sequence|string|burst)\s+of|"
    r"again[\s_]+and[\s_]+again|a\s+few\s+times|intermittently|several|multiple)\b"
)
_COUNT_QUANTITY = re.compile(
    rf"^(?:(?:there\s+(?:is|are|was|were|come|comes)|we\s+hear|you\s+hear|i\s+hear)\s+)?"
    rf"(?:(?:the|a|an|then|and|with)\s+)?(?:series\s+of\s+)?(a\s+couple\s+of|a\s+pair\s+of|a\s+single|single|{_NUMW}|\d+)\s+"
    r"(?!times\b|seconds?\b|s\b|minutes?\b)((?:(?:loud|soft|quick|short|sharp|distinct|small|large|big|faint|quiet|rapid|"
    r"consecutive|separate|successive|brief|gentle|distant|heavy|light|more|metallic|wooden|hard|little|"
    r"high|low|muffled|electronic|clear)\s+)*)([a-z'-]+)"
)
_REPEAT_WORD = re.compile(r"\b(?:repeating|repeats|repeated)\b")

_FILLERS = re.compile(
    r"\b(?:occur(?:s|ring|red)?|happen(?:s|ing|ed)?|(?:is|are|can\s+be|could\s+be)\s+heard|heard|audible|"
    r"there\s+(?:is|are|was|were)|we\s+hear|you\s+hear|i\s+hear|(?:the\s+)?sounds?\s+of|(?:the\s+)?noises?\s+of|"
    r"please|generate|create|produce|make|give\s+me|i\s+want|add|audio\s+of|recording\s+of|clip\s+of)\b"
)
_LEADING_IMPERATIVE = re.compile(r"^\s*(?:play|render|put|insert|include)\s+(?=a\b|an\b|the\b|some\b|\w+\s)")
_PRONOUN_START = re.compile(r"^\s*(?:it|he|she|they|them|this|that|its|his|her|their|which|who|one)\b")
_VERB_LIKE_START = re.compile(r"^\s*(?:[a-z]+(?:s|ing|ed)|stops?|ends?|continues?|fades?|goes|go|comes?|takes?|drives?|moves?)\b")
_DETERMINER_START = re.compile(r"^\s*(?:a|an|the|some|several|many|two|three|four|\d+)\b")


# Where words were written: (the clause's number in the prompt, the offset in its text). Marks sort
# in the order written, so statements can name the user's words in that order.
Mark = tuple[int, int]


@dataclass
class Clause:
    """One stretch of the prompt about one sound (or a silence)."""

    words: str  # the user's words for the sound, without timing/count/place modifiers
    relation: Relation = "first"
    sentence: int = 0
    number: int = 0  # its place among the prompt's clauses
    start: float | None = None
    end: float | None = None
    dur: float | None = None
    count: int | None = None
    count_vague: bool = False
    position: str = "center"
    level: str = "normal"
    silence: bool = False
    background: bool = False
    raw: str = ""  # the clause text as split, for merging
    after_comma: bool = False  # split off by a bare comma ("a short, sharp beep")
    joiner: str = ""  # the connective before the clause ("while", "followed by")
    notes: list[str] = field(default_factory=list)
    time_words: list[str] = field(default_factory=list)  # the user's words for when and how long
    count_words: str = ""  # the user's words for how often, when they are not part of ``words``
    fills: bool = False  # its length was written "N seconds of ..."
    clip: Timing | None = None  # the clip length it states ("a 5 second clip")
    # The words that set its relation to the clause before ("then", "followed by"); none for a comma,
    # a new sentence or "and", which list sounds without ordering them. ``order_leads``: they open the
    # sentence, before the clause they relate to ("after a bell, ...").
    order_words: str = ""
    order_leads: bool = False
    at: Mark = (0, 0)  # where the sound's words start
    marks: dict[str, Mark] = field(default_factory=dict)  # where its time and count words were written
    # What could not be taken as written: (the user's words, what was done instead).
    changes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def timed(self) -> bool:
        return self.start is not None or self.end is not None

    def core(self) -> str:
        """The words with filler removed: what names the sound."""
        text = _FILLERS.sub(" ", self.words)
        text = _LEADING_IMPERATIVE.sub(" ", text)
        text = re.sub(r"(?:\s+(?:is|are|was|were|being|been|can|could|be))+\s*$", "", text)
        return _squash(text)

    def mark(self, words: str, offset: int) -> None:
        """Note where ``words`` were written in this clause."""
        self.marks.setdefault(words, (self.number, offset))

    def written(self, phrase: str, *words: str) -> str:
        """The quoted phrase and the given time or count words, in the order the user wrote them."""
        parts = [(self.at, f'"{phrase}"')]
        # Words with no known place go after the phrase.
        parts += [(self.marks.get(w, (self.at[0], 1 << 30)), w) for w in dict.fromkeys(words) if w]
        return " ".join(text for _, text in sorted(parts, key=lambda part: part[0]))

    def subjectless(self) -> bool:
        """Starts with a pronoun or verb, as in "... and drives away": continues the previous clause."""
        text = self.words
        if _PRONOUN_START.match(text):
            return True
        return bool(_VERB_LIKE_START.match(text)) and not _DETERMINER_START.match(text)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" ,.;:-")


# Quoted words are what someone says: they are kept whole, never split into clauses or read as
# sound names, by standing in for them with one placeholder word until the phrase is written.
_QUOTED_SPAN = re.compile(r'"([^"]+)"|“([^”]+)”')
_QUOTE_WORD = "quotedwords"
_QUOTE_REF = re.compile(rf"\b{_QUOTE_WORD}([a-z]+)\b")


def _quote_key(index: int) -> str:
    key = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        key = chr(ord("a") + rest) + key
    return key


def protect_quotes(prompt: str) -> tuple[str, list[str]]:
    """The prompt with each quoted span replaced by a placeholder word, and the spans in order."""
    quotes: list[str] = []

    def stand_in(m: re.Match[str]) -> str:
        quotes.append(" ".join((m.group(1) or m.group(2)).split()))
        return f" {_QUOTE_WORD}{_quote_key(len(quotes) - 1)} "

    return _QUOTED_SPAN.sub(stand_in, prompt), quotes


def restore_quotes(text: str, quotes: list[str]) -> str:
    """Put the quoted words back, in curly quotes (straight ones delimit phrases in the caption's text form)."""
    keys = {_quote_key(i): q for i, q in enumerate(quotes)}
    return _QUOTE_REF.sub(lambda m: f"“{keys[m.group(1)]}”" if m.group(1) in keys else m.group(0), text)


def normalise(prompt: str) -> str:
    text = prompt.lower()
    text = text.replace("’", "'").replace("‘", "'").replace("“", " ").replace("”", " ").replace('"', " ")
    text = text.replace("—", ", ").replace("–", "-").replace("…", ". ")
    text = re.sub(r"[()\[\]{}<>|*_#;]", " , ", text)
    text = re.sub(r"\b(?:with|to)\s+(?:each\s+other|one\s+another)\b", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<!\d)[.!?]+(?!\d)|[.!?](?=\s|$)|\n", text)
    return [p.strip(" ,") for p in parts if p and p.strip(" ,")]


def split_clauses(prompt: str) -> tuple[list[Clause], Timing | None]:
    """Clauses in the order written, and the clip length the prompt states (if any)."""
    text, timings = extract_timings(normalise(protect_quotes(prompt)[0]))
    text = _BINOMIALS.sub(lambda m: f"{m.group(1)}_{m.group(2)}_{m.group(3)}", text)
    text = _ONE_AFTER_ANOTHER.sub("one_after_another", text)
    clip: Timing | None = None
    clauses: list[Clause] = []
    numbers = itertools.count()
    for index, sentence in enumerate(_sentences(text)):
        lead = _LEADING_SUBORDINATE.match(sentence)
        lead_word = re.sub(r"\s+", " ", lead.group("word")) if lead else ""
        if lead:
            sentence = sentence[lead.end():]
        pieces: list[tuple[str, str]] = []
        joiners: list[str] = []  # the connective words before each piece
        orders: list[str] = []  # the order words before each piece
        joiner = order = ""
        last = 0
        relation = "first" if index == 0 else "seq"
        saw_comma = False
        for m in _CONNECTIVE.finditer(sentence):
            kind = m.lastgroup or "comma"
            piece = sentence[last:m.start()]
            ordering = kind not in ("comma", "and")
            if not piece.strip(" ,"):
                # Two connectives in a row (", then"): keep the stronger one.
                if ordering:
                    relation = kind
                    order = _order_words(m.group(0))
                last = m.end()
                continue
            pieces.append((relation, piece))
            joiners.append(joiner)
            orders.append(order)
            joiner = re.sub(r"\s+", " ", m.group(0).strip(" ,"))
            order = _order_words(m.group(0)) if ordering else ""
            last = m.end()
            if kind == "comma_and":
                relation = "seq"
            elif kind == "comma":
                relation = "comma"
                saw_comma = True
            elif kind == "and" and m.group(0).lstrip().startswith(",") and saw_comma:
                relation = "seq"  # "A, B, and C": a list in order
            else:
                relation = kind
        pieces.append((relation, sentence[last:]))
        joiners.append(joiner)
        orders.append(order)
        leads = [False] * len(pieces)
        led = _apply_leading(pieces, lead_word) if lead_word else None
        if led is not None:
            orders[led], leads[led] = lead_word, True
        if _TOGETHER.search(sentence):
            pieces = [("par" if rel == "and" else rel, piece) for rel, piece in pieces]
        for (relation, piece), joiner, order, leading in zip(pieces, joiners, orders, leads):
            clause = _make_clause(piece, "seq" if relation == "comma" else relation, index, timings, next(numbers))
            if clause is None:
                continue
            clause.after_comma = relation == "comma"
            clause.joiner = joiner
            clause.order_words, clause.order_leads = order, leading
            if clause.clip is not None:
                clip = clause.clip
                if not clause.words:
                    continue
            clauses.append(clause)
    if clauses and clauses[0].relation != "first" and clauses[0].relation != "pre":
        clauses[0].relation = "first"
    return clauses, clip


def _order_words(connective: str) -> str:
    """A connective as the user wrote it, spaced plainly (", then", "followed by")."""
    return re.sub(r"\s*,\s*", ", ", " ".join(connective.split())).strip().rstrip(",")


def _apply_leading(pieces: list[tuple[str, str]], word: str) -> int | None:
    """"After X, Y": X first; "before X, Y": Y first; "while X, Y": together. Returns the piece it relates."""
    if len(pieces) < 2:
        return None
    mapping = {"after": "seq", "following": "seq", "when": "seq", "whenever": "seq", "once": "seq",
               "as soon as": "seq", "before": "pre", "while": "par", "whilst": "par", "as": "par", "during": "par"}
    rel = mapping.get(word, "seq")
    # The boundary is the first comma; without one, the first connective.
    for i in range(1, len(pieces)):
        if pieces[i][0] == "comma":
            pieces[i] = (rel, pieces[i][1])
            return i
    pieces[1] = (rel, pieces[1][1])
    return 1


def _make_clause(piece: str, relation: str, sentence: int, timings: list[Timing], number: int) -> Clause | None:
    clause = Clause(words="", relation=relation, sentence=sentence, number=number, raw=piece)  # type: ignore[arg-type]
    # Each modifier read below is blanked out, not cut, so offsets stay where the user wrote them.
    text = " " + piece + " "
    for m in _PLACEHOLDER.finditer(text):
        t = timings[int(m.group(1))]
        if t.kind != "clip":
            clause.time_words.append(t.words)
            clause.mark(t.words, m.start())
        if t.change:
            clause.changes.append((t.words, t.change))
        if t.kind == "range":
            clause.start, clause.end = t.a, t.b
        elif t.kind == "start":
            clause.start = t.a
        elif t.kind == "end":
            clause.end = t.a
        elif t.kind == "dur":
            clause.dur, clause.fills = t.a, t.fills
        elif t.kind == "clip":
            clause.clip = t
    text = _blank(_PLACEHOLDER, text)

    for level, pattern in _LEVEL_PATTERNS:
        if pattern.search(text):
            clause.level = level
            text = _blank(pattern, text)
            break
    if not _MOVES_ACROSS.search(text):
        for side, pattern in _POSITION_PATTERNS:
            if pattern.search(text):
                clause.position = side
                text = _blank(pattern, text)
                break
    text = _count(clause, text)
    text = text.replace("_", " ")
    for words in (_LEADING_ORDER_WORDS, _A_WHILE, _AGAIN, _TOGETHER):
        text = _blank(words, text)
    clause.at = (number, _first_word(text))
    text = re.sub(r"\ba(?=\s+[aeiou])", "an", text)
    words = _squash(text)
    words = re.sub(r"\s+(?:and|then|with|while|as|of|is|are|it|that|which)$", "", words)
    words = re.sub(r"^(?:and|with|while|as|of|by|it)\s+", "", words)
    clause.words = _squash(words)
    clause.background = bool(re.search(r"\bbackground\b", clause.words))
    clause.silence = _is_silence(clause.words)
    if not clause.words and not clause.timed and clause.dur is None and clause.clip is None:
        return None
    return clause


def _blank(pattern: re.Pattern[str], text: str) -> str:
    """``text`` with each match of ``pattern`` replaced by as many spaces."""
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def _first_word(text: str) -> int:
    """Where the first word of ``text`` starts. A clause with none ("and again at 4 s") borrows the
    sound before it, named first as the word it stands for ("again") was."""
    word = re.search(r"\w", text)
    return word.start() if word else 0


def _count(clause: Clause, text: str) -> str:
    m = _COUNT_RANGE.search(text)
    if m:
        first, second = to_number(m.group(1)), to_number(m.group(2))
        if first is not None and second is not None:
            words, high = " ".join(m.group(0).split()), max(first, second)
            _set_count(clause, high, words, m.start())
            if high <= MAX_COUNT:
                clause.changes.append((words, f"a range of counts, so it is planned at its upper end, {clause.count} times"))
            return _cut(text, m.start(), m.end())
    m = _COUNT_TIMES.search(text)
    if m:
        number = to_number(m.group(1))
        if number is not None:
            _set_count(clause, number, " ".join(m.group(0).split()), m.start())
            return _cut(text, m.start(), m.end())
    m = _COUNT_WORDS.search(text)
    if m:
        _set_count(clause, {"once": 1, "twice": 2, "thrice": 3}[m.group(1)], m.group(1), m.start())
        return _cut(text, m.start(), m.end())
    indent = len(text) - len(text.lstrip())
    m = _COUNT_QUANTITY.match(text.strip())
    if m and not SOURCE_NOUNS.match(m.group(3)):
        word = m.group(1)
        number = {"a couple of": 2, "a pair of": 2, "a single": 1, "single": 1}.get(word)
        if number is None:
            number = to_number(word)
        if number is not None and number >= 1:
            # "three gunshots": the count is the user's number word, written before the sound.
            _set_count(clause, number, " ".join(word.split()), indent + m.start(1))
            return _cut(text, indent + m.start(1), indent + m.start(2))
    m = _COUNT_VAGUE.search(text)
    if m and m.group(0) in ("several", "multiple") and SOURCE_NOUNS.match(text[m.end():].strip()):
        m = None  # "several birds": how many sources, not how many repeats
    if m:
        clause.count = 3
        clause.count_vague = True
        words = _squash(m.group(0).replace("_", " "))  # "over and over" was joined up as one binomial
        clause.notes.append(f'"{words}"')
        if "times" in m.group(0) or m.group(0).startswith(("repeatedly", "over", "again", "a ")):
            clause.count_words = words
            clause.mark(words, m.start())
            return _cut(text, m.start(), m.end())
    return _blank(_REPEAT_WORD, text) if clause.count else text


def _cut(text: str, start: int, end: int) -> str:
    """``text`` with ``text[start:end]`` blanked out."""
    return text[:start] + " " * (end - start) + text[end:]


def _set_count(clause: Clause, number: float, words: str, offset: int) -> None:
    """The count as asked, or the nearest one a layout event holds, with what was changed."""
    whole = max(1, min(MAX_COUNT, math.floor(number + 0.5)))
    clause.count = whole
    clause.count_words = words
    clause.mark(words, offset)
    planned = {1: "once", 2: "twice"}.get(whole, f"{whole} times")
    if number < 1:
        clause.changes.append((words, "a sound plays at least once, so it is planned once"))
    elif number > MAX_COUNT:
        clause.changes.append((words, f"one event holds at most {MAX_COUNT} repeats, so it is planned {planned}"))
    elif whole != number:
        clause.changes.append((words, f"repeats are whole, so it is planned {planned}"))


def _is_silence(words: str) -> bool:
    tokens = re.findall(r"[a-z]+", words)
    if not tokens or not any(t in _SILENCE_WORDS for t in tokens):
        return False
    return all(t in _SILENCE_WORDS or t in _SILENCE_FILLER for t in tokens)
