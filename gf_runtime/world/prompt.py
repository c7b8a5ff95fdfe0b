"""The world's language: which words it understands, and a parser from free sentences to attributes.

Standard library only. A prompt names any subset of the attributes; what it leaves out is ``None`` here and
is carried over (or chosen by the seed) by the world.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

BIOMES = ("grassland", "desert", "snow", "ocean", "lava", "city")
SHAPES = ("ball", "cube", "star", "triangle")
COLORS = ("red", "blue", "yellow", "green")
MOTIONS = ("left", "right", "bounces", "still")
PANS = ("none", "left", "right")  # camera pan direction

WORD_PATTERN = re.compile(r"[a-z]+")

BIOME_WORDS = {
    "grassland": "grassland", "grass": "grassland", "grassy": "grassland", "meadow": "grassland",
    "prairie": "grassland",
    "desert": "desert", "sand": "desert", "sandy": "desert", "dunes": "desert", "dune": "desert",
    "snow": "snow", "snowy": "snow", "snowing": "snow", "snows": "snow", "snowfall": "snow", "winter": "snow",
    "ocean": "ocean", "sea": "ocean", "water": "ocean", "waves": "ocean", "beach": "ocean",
    "lava": "lava", "volcano": "lava", "volcanic": "lava", "magma": "lava",
    "city": "city", "street": "city", "streets": "city", "town": "city", "urban": "city", "downtown": "city",
}
NIGHT_WORDS = {"night": True, "nighttime": True, "dark": True, "midnight": True,
               "day": False, "daytime": False, "daylight": False, "sunny": False, "noon": False}
SHAPE_WORDS = {
    "ball": "ball", "sphere": "ball", "orb": "ball", "circle": "ball",
    "cube": "cube", "box": "cube", "square": "cube", "block": "cube",
    "star": "star",
    "triangle": "triangle", "pyramid": "triangle",
}
COLOR_WORDS = {c: c for c in COLORS}
MOTION_WORDS = {
    "bounces": "bounces", "bounce": "bounces", "bouncing": "bounces", "bounced": "bounces",
    "jumps": "bounces", "jumping": "bounces", "hops": "bounces", "hopping": "bounces",
    "still": "still", "stops": "still", "stop": "still", "stationary": "still", "rests": "still",
    "resting": "still", "stands": "still", "standing": "still", "waits": "still",
}
DIRECTION_WORDS = {"left": "left", "leftward": "left", "leftwards": "left", "west": "left",
                   "right": "right", "rightward": "right", "rightwards": "right", "east": "right"}
PAN_WORDS = {"pan", "pans", "panning", "panned", "scrolls", "scrolling", "tracking"}
STATIC_CAMERA_WORDS = {"static", "fixed", "locked"}
WEAK_BIOME_WORDS = {"field": "grassland", "fields": "grassland"}  # a biome only when no other word names one
FILLER_WORDS = {
    "a", "an", "the", "in", "on", "at", "of", "to", "and", "with", "through", "across", "over", "into", "is",
    "are", "it", "its", "now", "then", "while", "as", "camera", "moves", "moving", "move", "rolls", "rolling",
    "roll", "goes", "going", "travels", "slowly", "quickly", "fast", "big", "small", "little", "shape",
    "falls", "falling", "starts", "begins", "keeps", "there", "by", "from", "under", "sky", "world", "scene",
    "turns", "becomes", "changes", "to", "toward", "towards", "around", "up", "down", "again", "time",
}


@dataclass(frozen=True)
class WorldPrompt:
    """Attributes a prompt names; None = not named (carried over)."""

    biome: str | None = None
    night: bool | None = None
    shape: str | None = None
    color: str | None = None
    motion: str | None = None
    pan: str | None = None
    unknown_words: tuple[str, ...] = ()

    def merged_over(self, base: "WorldPrompt") -> "WorldPrompt":
        """This prompt's named attributes on top of ``base``'s."""
        return replace(
            base,
            **{k: getattr(self, k) for k in ("biome", "night", "shape", "color", "motion", "pan")
               if getattr(self, k) is not None},
            unknown_words=self.unknown_words,
        )

    def canonical_tokens(self) -> list[str]:
        """Attribute tokens, e.g. ['biome:desert', 'shape:ball', …], in a fixed order (the text encoder's input)."""
        tokens = []
        if self.biome is not None:
            tokens.append(f"biome:{self.biome}")
        if self.night is not None:
            tokens.append("time:night" if self.night else "time:day")
        if self.shape is not None:
            tokens.append(f"shape:{self.shape}")
        if self.color is not None:
            tokens.append(f"color:{self.color}")
        if self.motion is not None:
            tokens.append(f"motion:{self.motion}")
        if self.pan is not None:
            tokens.append(f"pan:{self.pan}")
        return tokens

    def text(self) -> str:
        """A sentence that parses back to this prompt."""
        words = []
        if self.night is not None:
            words.append("at night" if self.night else "by day")
        if self.color is not None:
            words.append(f"a {self.color}")
        if self.shape is not None:
            words.append(self.shape if self.color is not None else f"a {self.shape}")
        if self.motion is not None:
            words.append({"left": "moving left", "right": "moving right"}.get(self.motion, self.motion))
        if self.biome is not None:
            words.append(f"in the {self.biome}")
        if self.pan is not None:
            words.append("with a static camera" if self.pan == "none" else f"camera pans {self.pan}")
        return " ".join(words)


ALL_TOKENS: tuple[str, ...] = (
    *(f"biome:{b}" for b in BIOMES),
    "time:day",
    "time:night",
    *(f"shape:{s}" for s in SHAPES),
    *(f"color:{c}" for c in COLORS),
    *(f"motion:{m}" for m in MOTIONS),
    *(f"pan:{p}" for p in PANS),
)


def parse_prompt(text: str) -> WorldPrompt:
    """Free sentence → attributes. A direction right after a pan word is the camera's, otherwise the subject's."""
    words = WORD_PATTERN.findall(text.lower())
    found: dict[str, object] = {}
    unknown: list[str] = []
    previous = ""
    for word in words:
        if word in BIOME_WORDS:
            found["biome"] = BIOME_WORDS[word]
        elif word in NIGHT_WORDS:
            found["night"] = NIGHT_WORDS[word]
        elif word in SHAPE_WORDS:
            found["shape"] = SHAPE_WORDS[word]
        elif word in COLOR_WORDS:
            found["color"] = COLOR_WORDS[word]
        elif word in MOTION_WORDS:
            found["motion"] = MOTION_WORDS[word]
        elif word in DIRECTION_WORDS:
            if previous in PAN_WORDS:
                found["pan"] = DIRECTION_WORDS[word]
            else:
                found["motion"] = DIRECTION_WORDS[word]
        elif word in PAN_WORDS:
            found.setdefault("pan", "right")
        elif word in STATIC_CAMERA_WORDS:
            found["pan"] = "none"
        elif word in WEAK_BIOME_WORDS:
            found.setdefault("biome", WEAK_BIOME_WORDS[word])
        elif word in FILLER_WORDS:
            continue  # "pans slowly left": fillers do not separate a pan word from its direction
        else:
            unknown.append(word)
        previous = word
    return WorldPrompt(**found, unknown_words=tuple(unknown))  # type: ignore[arg-type]
