"""Do two sound labels name the same sound?

Used by the critic (plan vs. heard) and the reviser (nearest renderable label).
Three tiers, cheapest first:

1. the same AudioSet name, or the same ``name_key`` ("dogs barking" vs "Dog barking");
2. a curated table of AudioSet families whose members a listener reports
   interchangeably (YAMNet hears a brass part as "Trumpet" and "Brass
   instrument"; a bark as "Dog", "Bark" and "Bow-wow");
3. MiniLM cosine similarity, only where the table does not know a label. The
   table wins where it knows both labels, because MiniLM alone rates
   "Brass instrument" vs "Percussion" (0.56) and "Dog" vs "Cat" (0.66) as similar.

Generic classes ("Music", "Animal", "Inside, small room") describe a scene, not an
event: a heard generic class never confirms a specific planned sound, while a
planned generic class is confirmed by any heard member of the families it covers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from functools import cache

import numpy as np

from ualm_agent.labels import audioset_names, exact_audioset_name, name_key

# Families of AudioSet names worth treating as the same sound. A name may sit in
# several families (e.g. "Percussion" covers both drums and mallets).
FAMILIES: dict[str, tuple[str, ...]] = {
    "brass": ("Brass instrument", "French horn", "Trumpet", "Trombone"),
    "drums": (
        "Percussion", "Drum kit", "Drum machine", "Drum", "Snare drum", "Rimshot", "Drum roll", "Bass drum",
        "Timpani", "Tabla", "Cymbal", "Hi-hat", "Wood block", "Tambourine", "Rattle (instrument)", "Maraca",
        "Gong", "Beatboxing",
    ),
    "mallets": (
        "Percussion", "Mallet percussion", "Marimba, xylophone", "Glockenspiel", "Vibraphone", "Steelpan",
        "Tubular bells",
    ),
    "bowed strings": (
        "Bowed string instrument", "String section", "Violin, fiddle", "Pizzicato", "Cello", "Double bass",
        "Orchestra",
    ),
    "plucked strings": (
        "Plucked string instrument", "Guitar", "Electric guitar", "Bass guitar", "Acoustic guitar",
        "Steel guitar, slide guitar", "Tapping (guitar technique)", "Strum", "Banjo", "Sitar", "Mandolin",
        "Zither", "Ukulele", "Harp",
    ),
    "keyboards": (
        "Keyboard (musical)", "Piano", "Electric piano", "Organ", "Electronic organ", "Hammond organ",
        "Synthesizer", "Sampler", "Harpsichord", "Theremin",
    ),
    "woodwinds": ("Wind instrument, woodwind instrument", "Flute", "Saxophone", "Clarinet"),
    "free reeds": ("Harmonica", "Accordion"),
    "singing": (
        "Singing", "Choir", "Yodeling", "Chant", "Mantra", "Child singing", "Synthetic singing", "Rapping",
        "Humming", "Vocal music", "A capella",
    ),
    "speech": (
        "Speech", "Child speech, kid speaking", "Conversation", "Narration, monologue", "Babbling",
        "Speech synthesizer", "Whispering", "Chatter", "Hubbub, speech noise, speech babble",
    ),
    "shouting": ("Shout", "Bellow", "Whoop", "Yell", "Children shouting", "Screaming"),
    "laughter": ("Laughter", "Baby laughter", "Giggle", "Snicker", "Belly laugh", "Chuckle, chortle"),
    "crying": ("Crying, sobbing", "Baby cry, infant cry", "Whimper", "Wail, moan"),
    "crowd": ("Crowd", "Cheering", "Applause", "Chatter", "Hubbub, speech noise, speech babble", "Children playing"),
    "clapping": ("Clapping", "Applause", "Hands", "Finger snapping"),
    "footsteps": ("Walk, footsteps", "Run", "Shuffle"),
    "breathing": ("Breathing", "Wheeze", "Snoring", "Gasp", "Pant", "Snort", "Sigh"),
    "cough": ("Cough", "Throat clearing", "Sneeze"),
    "dog": ("Dog", "Bark", "Yip", "Howl", "Bow-wow", "Growling", "Whimper (dog)", "Canidae, dogs, wolves"),
    "cat": ("Cat", "Purr", "Meow", "Hiss", "Caterwaul"),
    "horse": ("Horse", "Clip-clop", "Neigh, whinny"),
    "cattle": ("Cattle, bovinae", "Moo", "Cowbell"),
    "pig": ("Pig", "Oink"),
    "sheep and goats": ("Goat", "Sheep", "Bleat"),
    "fowl": (
        "Fowl", "Chicken, rooster", "Cluck", "Crowing, cock-a-doodle-doo", "Turkey", "Gobble", "Duck", "Quack",
        "Goose", "Honk",
    ),
    "birds": (
        "Bird", "Bird vocalization, bird call, bird song", "Chirp, tweet", "Squawk", "Pigeon, dove", "Coo",
        "Crow", "Caw", "Owl", "Hoot", "Bird flight, flapping wings",
    ),
    "big cats": ("Roaring cats (lions, tigers)", "Roar", "Growling"),
    "insects": ("Insect", "Cricket", "Mosquito", "Fly, housefly", "Buzz", "Bee, wasp, etc."),
    "frogs": ("Frog", "Croak"),
    "rodents": ("Rodents, rats, mice", "Mouse", "Patter"),
    "water": (
        "Water", "Rain", "Raindrop", "Rain on surface", "Stream", "Waterfall", "Ocean", "Waves, surf",
        "Gurgling", "Liquid", "Splash, splatter", "Slosh", "Drip", "Pour", "Trickle, dribble", "Gush",
        "Fill (with liquid)", "Water tap, faucet", "Sink (filling or washing)", "Bathtub (filling or washing)",
        "Toilet flush", "Boiling",
    ),
    # Thunderstorm bridges thunder and rain, but thunder itself is not rain.
    "storm": ("Thunderstorm", "Thunder", "Rumble", "Boom"),
    "rain": ("Thunderstorm", "Rain", "Raindrop", "Rain on surface"),
    "wind": ("Wind", "Rustling leaves", "Wind noise (microphone)", "Whoosh, swoosh, swish"),
    "fire": ("Fire", "Crackle", "Sizzle"),
    "road vehicles": (
        "Vehicle", "Motor vehicle (road)", "Car", "Car passing by", "Race car, auto racing", "Truck", "Bus",
        "Motorcycle", "Traffic noise, roadway noise", "Skidding", "Tire squeal", "Air brake",
        "Ice cream truck, ice cream van", "Power windows, electric windows",
    ),
    "engines": (
        "Engine", "Light engine (high frequency)", "Medium engine (mid frequency)", "Heavy engine (low frequency)",
        "Engine knocking", "Engine starting", "Idling", "Accelerating, revving, vroom", "Motorcycle",
        "Lawn mower", "Chainsaw", "Motorboat, speedboat", "Aircraft engine",
    ),
    "horns": ("Vehicle horn, car horn, honking", "Toot", "Air horn, truck horn", "Train horn", "Foghorn"),
    "trains": (
        "Rail transport", "Train", "Train whistle", "Train horn", "Railroad car, train wagon",
        "Train wheels squealing", "Subway, metro, underground", "Clickety-clack",
    ),
    "aircraft": (
        "Aircraft", "Aircraft engine", "Jet engine", "Propeller, airscrew", "Helicopter",
        "Fixed-wing aircraft, airplane",
    ),
    "boats": ("Boat, Water vehicle", "Sailboat, sailing ship", "Rowboat, canoe, kayak", "Motorboat, speedboat", "Ship"),
    "sirens": (
        "Siren", "Civil defense siren", "Emergency vehicle", "Police car (siren)", "Ambulance (siren)",
        "Fire engine, fire truck (siren)",
    ),
    "alarms": (
        "Alarm", "Alarm clock", "Car alarm", "Smoke detector, smoke alarm", "Fire alarm", "Buzzer",
        "Beep, bleep", "Reversing beeps", "Siren", "Civil defense siren",
    ),
    "tones": ("Beep, bleep", "Sine wave", "Chirp tone", "Dial tone", "Busy signal", "Ping", "Sidetone", "Pulse"),
    "telephone": (
        "Telephone", "Telephone bell ringing", "Ringtone", "Telephone dialing, DTMF", "Dial tone", "Busy signal",
    ),
    "bells": (
        "Bell", "Church bell", "Jingle bell", "Bicycle bell", "Tuning fork", "Chime", "Wind chime",
        "Change ringing (campanology)", "Tubular bells", "Cowbell", "Ding", "Ding-dong", "Doorbell",
        "Jingle, tinkle", "Singing bowl", "Telephone bell ringing", "Gong",
    ),
    "doors": ("Door", "Sliding door", "Slam", "Knock", "Cupboard open or close", "Drawer open or close", "Creak", "Squeak"),
    "knocks": ("Knock", "Tap", "Thump, thud", "Thunk", "Wood block", "Clicking"),
    "kitchen": ("Dishes, pots, and pans", "Cutlery, silverware", "Chink, clink", "Clatter", "Chopping (food)"),
    "cooking": ("Frying (food)", "Sizzle", "Boiling"),
    "typing": ("Typing", "Typewriter", "Computer keyboard", "Clicking"),
    "clocks": ("Clock", "Tick", "Tick-tock", "Mechanisms", "Ratchet, pawl", "Gears"),
    "power tools": (
        "Tools", "Power tool", "Drill", "Dental drill, dentist's drill", "Jackhammer", "Sawing", "Chainsaw",
        "Sanding", "Filing (rasp)", "Hammer",
    ),
    "appliances": (
        "Vacuum cleaner", "Hair dryer", "Blender", "Electric shaver, electric razor", "Electric toothbrush",
        "Microwave oven", "Sewing machine", "Mechanical fan", "Air conditioning", "Whir", "Hum", "Mains hum",
    ),
    "explosions": (
        "Explosion", "Gunshot, gunfire", "Machine gun", "Fusillade", "Artillery fire", "Cap gun", "Fireworks",
        "Firecracker", "Burst, pop", "Eruption", "Boom", "Bang",
    ),
    "glass": ("Glass", "Chink, clink", "Shatter", "Smash, crash", "Breaking"),
    "whistles": ("Whistle", "Steam whistle", "Train whistle", "Whistling"),
    "noise": ("Noise", "White noise", "Pink noise", "Static", "Environmental noise", "Hum", "Mains hum"),
    "camera": ("Camera", "Single-lens reflex camera", "Clicking"),
    "impacts": ("Thump, thud", "Thunk", "Bang", "Slap, smack", "Whack, thwack", "Smash, crash", "Bouncing"),
}

# Within a family, distinct sounds of one source: the source's own name ("Cat") confirms any of
# them, but one never confirms another (a heard "Meow" is not the planned "Purr"). Labels of a
# family not listed here stay interchangeable (a bark is heard as "Bark" and "Bow-wow").
VOICES: dict[str, tuple[tuple[str, ...], ...]] = {
    "dog": (("Bark", "Yip", "Bow-wow"), ("Howl",), ("Growling",), ("Whimper (dog)",)),
    "cat": (("Purr",), ("Meow", "Caterwaul"), ("Hiss",)),
    "horse": (("Clip-clop",), ("Neigh, whinny",)),
    "cattle": (("Moo",), ("Cowbell",)),
    "fowl": (
        ("Chicken, rooster", "Cluck", "Crowing, cock-a-doodle-doo"), ("Turkey", "Gobble"), ("Duck", "Quack"),
        ("Goose", "Honk"),
    ),
    "birds": (("Pigeon, dove", "Coo"), ("Crow", "Caw"), ("Owl", "Hoot"), ("Bird flight, flapping wings",)),
}

# Classes that describe a scene or a broad category rather than one event, with the
# families whose members confirm them when they are planned.
_MUSIC = (
    "brass", "drums", "mallets", "bowed strings", "plucked strings", "keyboards", "woodwinds", "free reeds",
    "singing", "music genres",
)
_ANIMALS = (
    "dog", "cat", "horse", "cattle", "pig", "sheep and goats", "fowl", "birds", "big cats", "insects", "frogs",
    "rodents",
)
GENERIC: dict[str, tuple[str, ...]] = {
    "Music": _MUSIC,
    "Musical instrument": _MUSIC[:-1],
    "Animal": _ANIMALS,
    "Domestic animals, pets": ("dog", "cat"),
    "Livestock, farm animals, working animals": ("horse", "cattle", "pig", "sheep and goats", "fowl"),
    "Wild animals": ("big cats", "birds", "insects", "frogs", "rodents"),
    "Vehicle": ("road vehicles", "engines", "horns", "trains", "aircraft", "boats", "sirens"),
    "Liquid": ("water",),
    "Mechanisms": ("clocks", "appliances"),
    "Tools": ("power tools",),
    "Glass": ("glass",),
    "Wood": ("knocks",),
    "Noise": ("noise",),
    "Environmental noise": ("noise", "wind", "water"),
    "Sound effect": (),
    "Silence": (),
    "Inside, small room": (),
    "Inside, large room or hall": (),
    "Inside, public space": (),
    "Outside, urban or manmade": (),
    "Outside, rural or natural": (),
    "Reverberation": (),
    "Echo": (),
    "Field recording": (),
    "Effects unit": (),
    "Chorus effect": (),
    "Distortion": (),
    "Cacophony": (),
    "Throbbing": (),
    "Vibration": (),
    "Television": (),
    "Radio": (),
    "Harmonic": (),
}

# Classes a listener reports for a rendered sound that comes near a family without being it: a
# bright, short bell is heard as "Clang", a synthetic frog as "Duck", rain as noise. Heard at a
# planned sound's time in its place, they mean that take did not sound like it.
LOOK_ALIKES: dict[str, tuple[str, ...]] = {
    "bells": ("Clang", "Chink, clink", "Ping", "Beep, bleep", "Sine wave"),
    "frogs": ("Duck", "Quack", "Burping, eructation", "Cricket", "Insect"),
    "rain": ("White noise", "Pink noise", "Static", "Frying (food)", "Sizzle", "Crackle", "Applause"),
    "water": ("White noise", "Pink noise", "Static"),
    "wind": ("White noise", "Pink noise", "Static", "Hum"),
    "fire": ("Rain", "Rain on surface", "Frying (food)", "Static"),
    "clapping": ("Rain on surface", "Crackle", "Patter"),
}


@cache
def _music_genres() -> frozenset[str]:
    """'Pop music' … 'Scary music' in class-map order: styles, not sound events."""
    names = list(audioset_names())
    try:
        first, last = names.index("Pop music"), names.index("Scary music")
    except ValueError:
        return frozenset()
    return frozenset(n for n in names[first : last + 1] if n != "Beatboxing")


@cache
def _family_index() -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for family, members in FAMILIES.items():
        for member in members:
            index.setdefault(name_key(member), set()).add(family)
    for genre in _music_genres():
        index.setdefault(name_key(genre), set()).add("music genres")
    return {k: frozenset(v) for k, v in index.items()}


@cache
def _voice_index() -> dict[tuple[str, str], int]:
    """(family, name key) -> which voice of the family the name is."""
    return {
        (family, name_key(member)): i
        for family, voices in VOICES.items()
        for i, members in enumerate(voices)
        for member in members
    }


def _same_sound_in(family: str, a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` name the same sound within a family both belong to."""
    voices = _voice_index()
    va, vb = voices.get((family, name_key(a))), voices.get((family, name_key(b)))
    return va is None or vb is None or va == vb


@cache
def _generic_index() -> dict[str, frozenset[str]]:
    table = {name_key(n): frozenset(fams) for n, fams in GENERIC.items()}
    for genre in _music_genres():
        table[name_key(genre)] = frozenset()
    return table


def canonical(label: str) -> str:
    """The AudioSet name a label spells, else the label itself."""
    return exact_audioset_name(label) or label.strip()


def families_of(label: str) -> frozenset[str]:
    return _family_index().get(name_key(canonical(label)), frozenset())


def is_generic(label: str) -> bool:
    """A scene or category class ("Music", "Silence", "Jazz") rather than one sound event."""
    return name_key(canonical(label)) in _generic_index()


def related(a: str, b: str) -> bool:
    """Whether two labels may name one sound: a shared family, or one a known look-alike of the
    other's family (rain heard as "Static"). Unknown and generic labels count as related, since
    the table cannot tell them apart."""
    if is_generic(a) or is_generic(b):
        return True
    fam_a, fam_b = families_of(a), families_of(b)
    if not fam_a or not fam_b or fam_a & fam_b:
        return True
    key_a, key_b = name_key(canonical(a)), name_key(canonical(b))
    return any(name_key(n) == key_b for f in fam_a for n in LOOK_ALIKES.get(f, ())) or any(
        name_key(n) == key_a for f in fam_b for n in LOOK_ALIKES.get(f, ())
    )


def _covered_by(label: str) -> frozenset[str]:
    return _generic_index().get(name_key(canonical(label)), frozenset())


class LabelMatcher:
    """Similarity in [0, 1] between a planned and a heard label; memoised.

    ``embedder`` is anything with ``embed(list[str])`` and ``audioset_matrix()``
    (default: the shared MiniLM, loaded only when the family table cannot decide).
    """

    def __init__(
        self,
        *,
        threshold: float = 0.55,
        family_similarity: float = 0.9,
        parent_similarity: float = 0.8,
        use_minilm: bool = True,
        embedder=None,
    ) -> None:
        self.threshold = threshold
        self.family_similarity = family_similarity
        self.parent_similarity = parent_similarity
        self.use_minilm = use_minilm
        self._embedder = embedder
        self._memo: dict[tuple[str, str], float] = {}
        self._cos_memo: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._index: dict[str, int] | None = None
        self._matrix: np.ndarray | None = None
        self._minilm_failed = False

    def similarity(self, planned: str, heard: str) -> float:
        """How well ``heard`` confirms ``planned`` (directional only for generic classes)."""
        key = (planned, heard)
        if key not in self._memo:
            self._memo[key] = self._similarity(canonical(planned), canonical(heard))
        return self._memo[key]

    def matches(self, planned: str, heard: str) -> bool:
        return self.similarity(planned, heard) >= self.threshold

    def nearest(self, label: str, candidates: Iterable[str]) -> str | None:
        """The candidate closest to ``label``: the family table first, then MiniLM, then spelling."""
        pool = list(dict.fromkeys(c for c in candidates if c.strip()))
        if not pool:
            return None

        def rank(c: str) -> tuple[float, float, str]:
            return (self.similarity(label, c), self.cosine(label, c), c)

        # Sorting on the name last keeps ties deterministic.
        return sorted(pool, key=lambda c: (-rank(c)[0], -rank(c)[1], c))[0]

    def looks_like(self, planned: str, heard: str, min_cosine: float = 0.45) -> bool:
        """Whether ``heard`` is related to ``planned`` without confirming it: a known look-alike of its
        family, a member of another family under the same broad class (a planned "Dog" heard as
        "Cat"), or, for labels the table does not know, close in MiniLM terms."""
        if self.matches(planned, heard) or is_generic(heard) or is_generic(planned):
            return False
        fam_p, fam_h = families_of(planned), families_of(heard)
        key = name_key(canonical(heard))
        if any(name_key(n) == key for f in fam_p for n in LOOK_ALIKES.get(f, ())):
            return True
        if fam_p and fam_h:
            return any(fam_p & set(covered) and fam_h & set(covered) for covered in GENERIC.values() if covered)
        return self.use_minilm and self.cosine(planned, heard) >= min_cosine

    def _similarity(self, a: str, b: str) -> float:
        if name_key(a) == name_key(b):
            return 1.0
        generic_a, generic_b = is_generic(a), is_generic(b)
        if generic_b and not generic_a:
            return 0.0  # a heard "Music" does not confirm a planned "Trumpet"
        if generic_a:
            covered = _covered_by(a)
            targets = _covered_by(b) if generic_b else families_of(b)
            return self.parent_similarity if covered & targets else 0.0
        fam_a, fam_b = families_of(a), families_of(b)
        if any(_same_sound_in(f, a, b) for f in fam_a & fam_b):
            return self.family_similarity
        if fam_a and fam_b:
            return 0.0  # both known, in different families: different sounds
        return max(0.0, self.cosine(a, b))

    def cosine(self, a: str, b: str) -> float:
        """MiniLM cosine of two labels (word overlap when MiniLM is off or unavailable)."""
        a, b = canonical(a), canonical(b)
        if name_key(a) == name_key(b):
            return 1.0
        key = (a, b) if a <= b else (b, a)
        if key not in self._cos_memo:
            value = self._minilm_cosine(a, b) if self.use_minilm and not self._minilm_failed else None
            self._cos_memo[key] = _word_overlap(a, b) if value is None else value
        return self._cos_memo[key]

    def _minilm_cosine(self, a: str, b: str) -> float | None:
        try:
            va, vb = self._vector(a), self._vector(b)
        except Exception:  # noqa: BLE001 - no model: fall back to spelling rather than fail a critique
            self._minilm_failed = True
            return None
        return float(np.clip(np.dot(va, vb), -1.0, 1.0))

    def _vector(self, text: str) -> np.ndarray:
        with self._lock:
            if self._embedder is None:
                from ualm_agent.components.text.minilm import shared_minilm

                self._embedder = shared_minilm()
            if self._index is None:
                self._matrix = np.asarray(self._embedder.audioset_matrix())
                self._index = {n: i for i, n in enumerate(audioset_names())}
        row = self._index.get(text)
        if row is not None:
            return self._matrix[row]
        return np.asarray(self._embedder.embed([text]))[0]


def _word_overlap(a: str, b: str) -> float:
    wa, wb = set(name_key(a).split()), set(name_key(b).split())
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


@cache
def shared_matcher(threshold: float = 0.55, use_minilm: bool = True) -> LabelMatcher:
    """One memoising matcher per setting, shared by critic and reviser."""
    return LabelMatcher(threshold=threshold, use_minilm=use_minilm)


def labels_in(names: Sequence[str], label: str) -> bool:
    """Whether ``label`` is among ``names`` up to spelling (``name_key``/AudioSet name)."""
    target = name_key(canonical(label))
    return any(name_key(canonical(n)) == target for n in names)

