"""WorldTextEncoder: the world's words → attribute tokens → learned embeddings (trained with the world model).

Free sentences are parsed by ``parse_prompt``; every understood word becomes one attribute token (synonyms
share a token). Unknown words are reported with a warning and ignored.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from gf_runtime.model.checkpoint import load_weights, read_tagged, save_tagged

from gf_runtime.world.prompt import ALL_TOKENS, WorldPrompt, parse_prompt

logger = logging.getLogger(__name__)

TEXT_FORMAT = "gf-world-text-1"


def _parse_warning_unknown(prompt: str) -> WorldPrompt:
    parsed = parse_prompt(prompt)
    if parsed.unknown_words:
        logger.warning(
            "prompt %r: the default world does not know %s; it understands biomes, day/night, shapes, colours, "
            "motions and camera pans (see README)", prompt, ", ".join(sorted(set(parsed.unknown_words)))
        )
    return parsed


class WorldTextEncoder(nn.Module):
    def __init__(self, text_dim: int, tokens: tuple[str, ...] = ALL_TOKENS) -> None:
        super().__init__()
        self.text_dim = text_dim
        self.tokens = tokens
        self.index = {tok: i for i, tok in enumerate(tokens)}
        self.embedding = nn.Embedding(len(tokens), text_dim)

    def compose(self, previous: str, new: str) -> str:
        """``new``'s named attributes over ``previous``'s, as one sentence: after "a red ball bouncing in the
        grassland", "the desert" becomes "a red ball bounces in the desert"."""
        named = _parse_warning_unknown(new)  # the composed sentence drops unknown words: warn about them here
        return named.merged_over(parse_prompt(previous)).text()

    def token_ids(self, prompt: str) -> list[int]:
        return [self.index[t] for t in _parse_warning_unknown(prompt).canonical_tokens()]

    def embed_ids(self, ids: list[int]) -> torch.Tensor:
        """Token ids → (1, L, text_dim) (differentiable, for training)."""
        ids_t = torch.tensor(ids, dtype=torch.long, device=self.embedding.weight.device)
        return self.embedding(ids_t).unsqueeze(0)

    @torch.no_grad()
    def encode(self, prompt: str) -> torch.Tensor:
        return self.embed_ids(self.token_ids(prompt))

    def save(self, path: str | Path) -> None:
        save_tagged(path, self, TEXT_FORMAT, {"text_dim": self.text_dim, "tokens": list(self.tokens)})

    @classmethod
    def load(cls, path: str | Path) -> "WorldTextEncoder":
        tensors, config = read_tagged(path, TEXT_FORMAT, "gf world text encoder")
        encoder = cls(int(config["text_dim"]), tuple(config["tokens"]))  # type: ignore[arg-type, call-overload]
        load_weights(encoder, tensors, source=str(path))
        return encoder.eval().requires_grad_(False)
