"""Which sound the composer makes for a label: AudioSet name -> recipe.

A recipe is either a General MIDI program (or the GM drum kit) with a pattern
of notes, or a DSP recipe from :mod:`.dsp`. Labels are matched by exact AudioSet
name first, then by keyword rules for free-form labels ("dog barking").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from ualm_agent.labels import exact_audioset_name


@dataclass(frozen=True)
class Recipe:
    kind: Literal["gm", "drums", "dsp"]
    # GM program numbers (0-based) or drum-kit presets; one is picked per render.
    programs: tuple[int, ...] = (0,)
    pattern: str = "melody"
    # Base keys for tuned patterns, or the drum keys struck.
    keys: tuple[int, ...] = (60,)
    dsp: str = ""
    # A DSP recipe for one counted occurrence, where the pattern above is heard less
    # surely alone (a lone General MIDI gunshot grows tails YAMNet calls "Groan").
    counted: str = ""


def gm(programs: int | tuple[int, ...], pattern: str, *keys: int) -> Recipe:
    progs = programs if isinstance(programs, tuple) else (programs,)
    return Recipe("gm", progs, pattern, keys or (60,))


def drums(pattern: str, *keys: int, kit: tuple[int, ...] = (0,)) -> Recipe:
    return Recipe("drums", kit, pattern, keys or (38,))


def dsp(name: str) -> Recipe:
    return Recipe("dsp", dsp=name)


# Where several (program, pattern, register) choices were plausible, the one kept is the one
# YAMNet recognised best across seeds in 3 s renders; DSP recipes were tuned the same way.
# Tuned on FluidR3 GM (the font installed by default); Piano, Applause, Sitar, Electronic organ
# and Vibraphone were retuned when it replaced TimGM6mb.
# GM programs are 0-based: 0 piano, 24 nylon guitar, 40 violin, 56 trumpet, ... 127 gunshot.
# GM drum keys: 36 kick, 38 snare, 42 closed hat, 49 crash, 54 tambourine, 56 cowbell ...
CATALOGUE: dict[str, Recipe] = {
    # Music and instruments
    "Music": gm(4, "arpeggio", 48, 50),
    "Musical instrument": gm(73, "melody", 72),
    "Plucked string instrument": gm(24, "melody", 40, 43),
    "Guitar": gm(25, "strum", 64, 62),
    "Acoustic guitar": gm(25, "arpeggio", 52, 55),
    "Electric guitar": gm((27, 29, 30), "strum", 52, 55),
    "Bass guitar": gm((33, 34), "melody", 36, 38),
    "Steel guitar, slide guitar": gm(26, "melody", 60),
    "Strum": gm((25, 24), "strum", 52, 55),
    "Banjo": gm(105, "melody", 55, 57),
    "Sitar": gm(104, "melody", 48, 50),
    "Mandolin": gm(105, "strum", 67),
    "Zither": gm(107, "strum", 55, 60),  # koto, a long zither
    "Ukulele": gm(24, "strum", 62, 64),
    "Keyboard (musical)": gm(4, "strikes", 48, 50),
    "Piano": gm(0, "chords", 55, 60),
    "Electric piano": gm(4, "strum", 55, 57),
    "Organ": gm(19, "strum", 55, 57),
    "Electronic organ": gm(17, "chords", 55, 57),
    "Hammond organ": gm((16, 17), "chords", 60),
    "Synthesizer": gm(80, "strikes", 60, 62),
    "Harpsichord": gm(6, "chords", 48, 50),
    "Percussion": drums("beat", kit=(0, 8)),
    "Drum kit": drums("beat", kit=(0, 8, 16)),
    "Drum machine": drums("beat", kit=(25, 24)),
    "Drum": drums("drum_hits", 36, 45, 38, 43),
    "Snare drum": drums("drum_hits", 38, 40),
    "Rimshot": drums("drum_hits", 37),
    "Drum roll": drums("rapid", 38, 40, kit=(48,)),  # an orchestral snare roll
    "Bass drum": drums("drum_hits", 36, 35),
    "Timpani": gm(47, "strikes", 29, 31),
    "Tabla": drums("eighths", 60, 62, 61, 63),
    "Cymbal": drums("strikes", 49, 57, 55),
    "Hi-hat": drums("drum_hits", 46, 42),  # open then closed: the open hat's sizzle names it
    "Wood block": drums("eighths", 76, 77),
    "Tambourine": drums("eighths", 54),
    "Rattle (instrument)": drums("eighths", 69, 70),
    "Maraca": drums("eighths", 70),
    "Cowbell": drums("eighths", 56),
    "Gong": dsp("clang"),
    "Tubular bells": gm(14, "chords", 60),
    "Mallet percussion": gm(12, "arpeggio", 72),
    "Marimba, xylophone": gm(12, "strikes", 55, 57),
    "Glockenspiel": gm(9, "arpeggio", 91, 89),
    "Vibraphone": gm(11, "strum", 55, 57),
    "Steelpan": gm(114, "arpeggio", 55, 57),
    "Orchestra": gm((48, 49), "chords", 55, 60),
    "Brass instrument": gm((61, 56), "fanfare", 60, 62),
    "French horn": gm(60, "fanfare", 53, 55),
    "Trumpet": gm(56, "fanfare", 65, 67),
    "Trombone": gm(57, "arpeggio", 48, 50),
    "Bowed string instrument": gm(48, "legato", 67, 69),
    "String section": gm(48, "legato", 48, 50),
    "Violin, fiddle": gm(110, "legato", 67, 69),
    "Pizzicato": gm(45, "arpeggio", 60),
    "Cello": gm(42, "melody", 48, 50),
    "Double bass": gm(43, "melody", 36, 38),
    "Wind instrument, woodwind instrument": gm(73, "strikes", 79, 77),
    "Flute": gm(73, "strikes", 84, 79),
    "Saxophone": gm(65, "fanfare", 48, 50),
    "Clarinet": gm(71, "melody", 55, 57),
    "Harp": gm(46, "arpeggio", 60, 64),
    "Bell": gm(14, "strikes", 84, 79),
    "Church bell": gm(14, "strum", 60, 58),
    "Change ringing (campanology)": gm(14, "strum", 72, 70),
    "Jingle bell": drums("drum_hits", 83),  # the kit's jingle bells (GS key 83, in FluidR3)
    "Bicycle bell": dsp("ding"),
    "Chime": gm(14, "strikes", 84),  # high tubular bells: orchestral chimes
    "Wind chime": gm((9, 8, 14), "sparkle", 79, 84),
    "Ding-dong": gm((14, 11), "ding_dong", 67, 72),
    "Doorbell": gm((14, 11), "ding_dong", 67, 72),
    "Tuning fork": dsp("sine_wave"),
    "Harmonica": gm(22, "melody", 60, 67),
    "Accordion": gm(21, "strum", 60, 62),
    "Bagpipes": gm(109, "chords", 67),
    "Theremin": dsp("theremin"),
    "Singing bowl": dsp("singing_bowl"),
    "Choir": dsp("choir"),
    # GM choir aahs: sung voices heard as singing on more seeds than the formant choir.
    "A capella": gm(52, "legato", 48),
    "Singing": gm(52, "legato", 60, 62),
    "Vocal music": gm(52, "chords", 55, 60),
    "Humming": gm(53, "melody", 52, 55),
    "Synthetic singing": gm(54, "melody", 60),
    "Whistling": dsp("whistling"),
    # Genres: a typical instrument for each
    "Pop music": gm((0, 4), "melody", 60, 62),
    "Rock music": gm((29, 30), "strum", 52, 55),
    "Heavy metal": gm(30, "strum", 40, 45),
    "Jazz": gm((0, 65, 26), "melody", 58, 60),
    "Classical music": gm((48, 40, 0), "chords", 55, 60),
    "House music": gm(81, "eighths", 48, 55),
    "Electronic dance music": gm((81, 80), "eighths", 48, 55),
    "Dance music": gm(81, "melody", 60),
    "New-age music": gm((88, 89), "chords", 60),
    "Lullaby": gm(10, "melody", 72, 77),
    "Christmas music": gm((10, 112), "melody", 72),
    "Folk music": gm(25, "strum", 52, 55),
    "Blues": gm((26, 22), "melody", 52, 55),
    "Gospel music": gm(19, "chords", 55),
    "Christian music": gm(19, "chords", 55),
    "Background music": gm((0, 48), "chords", 60),
    "Happy music": gm((0, 9), "melody", 67),
    "Sad music": gm((48, 42), "chords", 50),
    "Tender music": gm((0, 46), "arpeggio", 60),
    "Song": gm((53, 0), "melody", 60),
    # Bands (phrases.Band): the lead program first, the genre's band around it.
    "Electronic music": gm(81, "techno", 48, 50),
    "Techno": gm(81, "techno", 48, 50),
    "Dubstep": gm(81, "techno", 43, 45),
    "Drum and bass": gm(81, "techno", 48, 50),
    "Electronica": gm(81, "techno", 48, 50),
    "Ambient music": gm(81, "techno", 48, 50),
    "Tapping (guitar technique)": gm(30, "rock_solo", 52, 55),
    "Soul music": gm(48, "drive_165", 50, 52),
    "Swing music": gm(56, "drive_185", 50, 52),
    "Country": gm(48, "drive_trumpets", 50, 52),
    "Bluegrass": gm(48, "drive_trumpets", 50, 52),
    "Jingle (music)": gm(48, "march", 50, 52),
    "Video game music": gm(48, "anthem", 55, 57),
    "Soundtrack music": gm(48, "anthem", 55, 57),
    "Theme music": gm(40, "lament", 55, 57),
    "Music for children": gm(70, "oompah", 48, 50),
    # General MIDI sound effects
    "Bird": dsp("bird"),
    "Bird vocalization, bird call, bird song": dsp("bird"),
    "Chirp, tweet": dsp("bird"),
    "Helicopter": dsp("helicopter"),
    # A rotorcraft's engine and rotor: heard as an aircraft on every seed (a plain engine: a road vehicle).
    "Aircraft engine": dsp("helicopter"),
    "Applause": gm(126, "hold", 60),
    "Gunshot, gunfire": Recipe("gm", (127,), "strikes", (60, 55, 48), counted="gunshot"),
    "Machine gun": gm(127, "rapid", 55, 60),
    "Fusillade": gm(127, "rapid", 48, 55, 60),
    "Cap gun": gm(127, "strikes", 72, 76),
    "Firecracker": gm(127, "rapid", 72, 76),
    "Fireworks": gm(127, "strikes", 36, 41),
    "Artillery fire": gm(127, "strikes", 30, 36),
    "Ocean": gm(122, "chords", 72),
    "Waves, surf": gm(122, "chords", 72, 70),
    "Telephone bell ringing": dsp("telephone_bell"),
    "Telephone": dsp("telephone_bell"),
    "Ringtone": gm(124, "hold", 60),  # GM telephone ring
    "Breathing": gm(121, "strikes", 60),
    "Clapping": dsp("clap_single"),
    # DSP recipes
    "Beep, bleep": dsp("beep"),
    "Ping": dsp("ding"),
    "Ding": dsp("ding"),
    "Clang": dsp("clang"),
    "Reversing beeps": dsp("reversing_beeps"),
    "Smoke detector, smoke alarm": dsp("smoke_alarm"),
    "Fire alarm": dsp("fire_alarm"),
    "Alarm clock": dsp("alarm_clock"),
    "Alarm": dsp("alarm"),
    "Car alarm": dsp("yelp_siren"),
    "Buzzer": dsp("buzzer"),
    "Siren": dsp("siren"),
    "Civil defense siren": dsp("civil_defense_siren"),
    "Police car (siren)": dsp("yelp_siren"),
    "Ambulance (siren)": dsp("siren"),
    "Fire engine, fire truck (siren)": dsp("siren"),
    "Emergency vehicle": dsp("siren"),
    "Foghorn": dsp("air_horn"),
    "Train horn": dsp("air_horn"),
    "Air horn, truck horn": dsp("truck_air_horn"),
    "Vehicle horn, car horn, honking": dsp("car_horn"),
    "Toot": dsp("car_horn"),
    "Dial tone": dsp("dial_tone"),
    "Busy signal": dsp("busy_signal"),
    "Telephone dialing, DTMF": dsp("dtmf"),
    "Sine wave": dsp("sine_wave"),
    "Chirp tone": dsp("chirp_tone"),
    "Mains hum": dsp("mains_hum"),
    "Hum": dsp("mains_hum"),
    "Buzz": dsp("buzz"),
    "Bee, wasp, etc.": dsp("insect"),
    "Insect": dsp("insect"),
    "Fly, housefly": dsp("insect"),
    "Mosquito": dsp("insect"),
    "White noise": dsp("white_noise"),
    "Pink noise": dsp("pink_noise"),
    "Noise": dsp("pink_noise"),
    "Static": dsp("static"),
    "Rain": dsp("rain"),
    "Rain on surface": dsp("rain"),
    "Raindrop": dsp("raindrop"),
    "Thunder": dsp("thunder"),
    "Thunderstorm": dsp("thunder"),
    "Wind": dsp("wind"),
    "Wind noise (microphone)": dsp("wind"),
    "Rustling leaves": dsp("rustle"),
    "Rustle": dsp("rustle"),
    "Water": dsp("stream"),
    "Stream": dsp("stream"),
    "Gurgling": dsp("stream"),
    "Waterfall": dsp("waterfall"),
    "Water tap, faucet": dsp("waterfall"),
    "Sink (filling or washing)": dsp("waterfall"),
    "Bathtub (filling or washing)": dsp("waterfall"),
    "Toilet flush": dsp("waterfall"),
    "Pour": dsp("pour"),
    "Fill (with liquid)": dsp("pour"),
    "Drip": dsp("drip"),
    "Trickle, dribble": dsp("drip"),
    "Fire": dsp("fire"),
    "Crackle": dsp("fire"),
    "Frying (food)": dsp("sizzle"),
    "Sizzle": dsp("sizzle"),
    "Explosion": dsp("explosion"),
    "Boom": dsp("explosion"),
    "Whoosh, swoosh, swish": dsp("whoosh"),
    "Engine": dsp("engine"),
    "Medium engine (mid frequency)": dsp("engine"),
    "Light engine (high frequency)": dsp("motorcycle"),
    "Heavy engine (low frequency)": dsp("heavy_engine"),
    "Idling": dsp("engine"),
    "Engine starting": dsp("accelerating"),
    "Accelerating, revving, vroom": dsp("accelerating"),
    "Race car, auto racing": dsp("accelerating"),
    "Vehicle": dsp("engine"),
    "Motor vehicle (road)": dsp("engine"),
    "Car": dsp("engine"),
    "Truck": dsp("engine"),
    "Bus": dsp("engine"),
    "Motorcycle": dsp("motorcycle"),
    "Lawn mower": dsp("motorcycle"),
    "Motorboat, speedboat": dsp("engine"),
    # A boat as most are heard: its motor chugging.
    "Boat, Water vehicle": dsp("engine"),
    "Car passing by": dsp("engine"),
    "Traffic noise, roadway noise": dsp("engine"),
    "Train": dsp("train"),
    "Rail transport": dsp("train"),
    "Railroad car, train wagon": dsp("train"),
    "Clickety-clack": dsp("train"),
    "Mechanical fan": dsp("mechanical_fan"),
    "Air conditioning": dsp("mechanical_fan"),
    "Vacuum cleaner": dsp("vacuum_cleaner"),
    "Hair dryer": dsp("hair_dryer"),
    "Blender": dsp("drill"),
    "Drill": dsp("drill"),
    "Power tool": dsp("drill"),
    "Tools": dsp("drill"),
    "Dental drill, dentist's drill": dsp("drill"),
    "Electric shaver, electric razor": dsp("electric_shaver"),
    "Electric toothbrush": dsp("electric_shaver"),
    "Chainsaw": dsp("chainsaw"),
    "Jackhammer": dsp("jackhammer"),
    "Heart sounds, heartbeat": dsp("heartbeat"),
    "Knock": dsp("knock"),
    "Door": dsp("knock"),
    "Tap": dsp("tap"),
    "Thump, thud": dsp("thud"),
    "Thunk": dsp("thump"),
    "Slam": dsp("slam"),
    "Bang": dsp("bang"),
    "Clicking": dsp("click"),
    "Tick": dsp("tick"),
    "Tick-tock": dsp("tick_tock"),
    "Clock": dsp("tick_tock"),
    "Typing": dsp("typing"),
    "Computer keyboard": dsp("typing"),
    "Typewriter": dsp("typing"),
    "Walk, footsteps": dsp("footsteps"),
    "Hammer": dsp("hammer"),
    "Finger snapping": dsp("snap_single"),
    "Glass": dsp("glass_clink"),
    "Chink, clink": dsp("glass_clink"),
    "Creak": dsp("creak"),
    "Squeak": dsp("creak"),
    # Voices by formant synthesis
    "Dog": dsp("bark"),
    "Bark": dsp("bark"),
    "Bow-wow": dsp("bark"),
    "Yip": dsp("bark"),
    "Domestic animals, pets": dsp("bark"),
    "Canidae, dogs, wolves": dsp("bark"),
    "Baby cry, infant cry": dsp("crying"),
    "Crying, sobbing": dsp("crying"),
    "Cat": dsp("meow"),
    "Meow": dsp("meow"),
    "Speech": dsp("speech"),
    "Conversation": dsp("speech"),
    "Narration, monologue": dsp("speech"),
    "Child speech, kid speaking": dsp("speech"),
    "Babbling": dsp("speech"),
}

# Free-form words -> AudioSet name, tried in order when the label is not an AudioSet name.
KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"\b(dog|dogs|puppy|woof|barks?|barking)\b", "Bark"),
    (r"\b(cat|cats|kitten|meows?|meowing)\b", "Meow"),
    (r"\b(baby|babies|infant)s? (cr(y|ies|ying)|wail)", "Baby cry, infant cry"),
    (r"\b(cry|cries|crying|sobbing|sobs?)\b", "Crying, sobbing"),
    (r"\bsiren", "Siren"),
    (r"\bsmoke (alarm|detector)", "Smoke detector, smoke alarm"),
    (r"\balarm clock", "Alarm clock"),
    (r"\balarm", "Alarm"),
    (r"\bbeep", "Beep, bleep"),
    (r"\bbuzz(er|ing)?\b", "Buzzer"),
    (r"\b(phone|telephone)s? ring", "Telephone bell ringing"),
    (r"\bring ?tone", "Ringtone"),
    (r"\b(phone|telephone)", "Telephone"),
    (r"\bdial", "Dial tone"),
    (r"\b(door ?bell|ding ?dong)", "Doorbell"),
    (r"\bchurch bell", "Church bell"),
    (r"\bbells?\b", "Bell"),
    (r"\bslam", "Slam"),
    (r"\bknock", "Knock"),
    (r"\btick", "Tick-tock"),
    (r"\bclock", "Clock"),
    (r"\bclick", "Clicking"),
    (r"\b(typing|keyboard|keystroke)", "Typing"),
    (r"\b(footstep|steps|walking|walk)", "Walk, footsteps"),
    (r"\bapplau", "Applause"),
    (r"\bclap", "Clapping"),
    (r"\bthunder", "Thunder"),
    (r"\brain", "Rain"),
    (r"\bwind\b|\bbreeze|\bgust", "Wind"),
    (r"\b(ocean|sea|surf|waves?)\b", "Waves, surf"),
    (r"\b(stream|brook|river|creek|babbl)", "Stream"),
    (r"\b(water|faucet|tap water)", "Water"),
    (r"\bdrip", "Drip"),
    (r"\b(fire|crackl|campfire)", "Fire"),
    (r"\b(explosion|explode|blast)", "Explosion"),
    (r"\b(gunshot|gun|shots?|gunfire)\b", "Gunshot, gunfire"),
    (r"\bhelicopter", "Helicopter"),
    (r"\b(motorcycle|motorbike)", "Motorcycle"),
    (r"\b(engine|motor|idling)", "Engine"),
    (r"\b(car|cars|vehicle|traffic)\b", "Car"),
    (r"\b(truck|lorry|bus)\b", "Truck"),
    (r"\btrain", "Train"),
    (r"\bhorn\b", "Vehicle horn, car horn, honking"),
    (r"\b(bird|birds|chirp|tweet|songbird)", "Bird"),
    (r"\b(bee|bees|wasp|insect|fly|flies)\b", "Insect"),
    (r"\b(speech|speak|speaking|talk|talking|voice|narrat|conversation|man says|woman says)", "Speech"),
    (r"\b(choir|chorus)", "Choir"),
    (r"\b(sing|singing|singer|vocal)", "Singing"),
    (r"\bwhistl", "Whistling"),
    (r"\b(trumpet|bugle|cornet)", "Trumpet"),
    (r"\bbrass", "Brass instrument"),
    (r"\bhorn", "French horn"),
    (r"\btrombone", "Trombone"),
    (r"\bpiano", "Piano"),
    (r"\borgan", "Organ"),
    (r"\bguitar", "Guitar"),
    (r"\b(violin|fiddle)", "Violin, fiddle"),
    (r"\bcello", "Cello"),
    (r"\b(strings|string section|orchestra)", "Orchestra"),
    (r"\bflute", "Flute"),
    (r"\bsax", "Saxophone"),
    (r"\bharp\b", "Harp"),
    (r"\bsnare", "Snare drum"),
    (r"\b(kick drum|bass drum)", "Bass drum"),
    (r"\bcymbal", "Cymbal"),
    (r"\bhi-?hat", "Hi-hat"),
    (r"\b(drum ?kit|drums|drumming|beat)\b", "Drum kit"),
    (r"\bdrum", "Drum"),
    (r"\bpercussion", "Percussion"),
    (r"\bsynth", "Synthesizer"),
    (r"\b(music|song|melody|tune|jingle)", "Music"),
    (r"\b(hammer|hammering)", "Hammer"),
    (r"\bdrill", "Drill"),
    (r"\b(vacuum|hoover)", "Vacuum cleaner"),
    (r"\bfan\b", "Mechanical fan"),
    (r"\b(whoosh|swoosh|swish)", "Whoosh, swoosh, swish"),
    (r"\b(thud|thump)", "Thump, thud"),
    (r"\bcreak", "Creak"),
    (r"\b(glass|clink)", "Chink, clink"),
    (r"\bheart ?beat", "Heart sounds, heartbeat"),
    (r"\b(static|white noise)", "Static"),
    (r"\bhum\b", "Hum"),
)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), name) for p, name in KEYWORDS)


@cache
def catalogue_name(label: str) -> str | None:
    """The catalogue entry (an AudioSet name) that renders ``label``, if any."""
    exact = exact_audioset_name(label)
    if exact in CATALOGUE:
        return exact
    for rx, name in _COMPILED:
        if rx.search(label):
            return name
    return None


def recipe_for(label: str) -> Recipe | None:
    name = catalogue_name(label)
    return CATALOGUE[name] if name else None
