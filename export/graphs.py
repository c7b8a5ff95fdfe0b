"""The exported graphs as torch modules, and the names their ONNX inputs and outputs carry.

Five graphs make a pipeline:

- ``dit_step``: one chunk against the memory. Policy-agnostic: it takes the **unrotated** memory K/V of all
  layers as a fixed-size buffer of frames (the StreamMemory's own slot storage, in slot order) with a per-frame
  validity mask and per-frame temporal positions, rotates the keys to those positions itself, and returns the
  flow prediction and the chunk's unrotated K/V. Which frames are visible, where they sit in time (DR-RoPE or
  absolute), anchor updates and APR blending all stay in the runtime around it.
- ``dit_text``: text encoder states → the per-block cross-attention K/V (once per prompt).
- ``text_encoder``: token ids → text encoder states (the learned table). The words → ids step is a tokenizer, as
  for any text model; it stays in the runtime and the manifest describes it.
- ``vae_decoder`` / ``vae_encoder``: latents ↔ frames.

Batch is 1 (a session is one stream). Frame counts and the memory size are dynamic axes: the same graph serves
every policy (a ``full`` memory grows) and the recache pass (all local frames at once).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gf_runtime.codecs.random_codecs import RandomLinearVae
from gf_runtime.model.dit import CausalWanDiT, TextContext
from gf_runtime.world.vae import TinyVae

DIT_STEP = "dit_step"
DIT_TEXT = "dit_text"
TEXT_ENCODER = "text_encoder"
VAE_DECODER = "vae_decoder"
VAE_ENCODER = "vae_encoder"
GRAPH_NAMES = (DIT_STEP, DIT_TEXT, TEXT_ENCODER, VAE_DECODER, VAE_ENCODER)

# Dynamic axes, as named in the ONNX files and the manifest.
FRAMES_AXIS = "frames"  # latent frames of the chunk (chunk_frames; the local frames in a recache)
MEMORY_AXIS = "memory_frames"  # frames in the memory buffer (the policy's slot count; grows for ``full``)
TOKENS_AXIS = "tokens"  # text tokens of a prompt (at most text_len)


@dataclass(frozen=True)
class GraphIO:
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


GRAPH_IO: dict[str, GraphIO] = {
    DIT_STEP: GraphIO(
        inputs=(
            "x_bfchw",  # float32 (1, F, C, H, W) noisy (or clean, t=0) latents
            "t_bf",  # float32 (1, F) raw timesteps 0–1000
            "frame_pos_f",  # float32 (F,) temporal RoPE index of each chunk frame
            "text_k_lblhd",  # float32 (layers, 1, text_len, heads, head_dim) from dit_text
            "text_v_lblhd",
            "memory_k_lbnthd",  # float32 (layers, 1, N, tokens_per_frame, heads, head_dim), unrotated
            "memory_v_lbnthd",
            "memory_pos_n",  # float32 (N,) temporal RoPE index of each memory frame (ignored where invalid)
            "memory_valid_n",  # bool (N,) frames the chunk attends to
        ),
        outputs=("flow_bfchw", "chunk_k_lbshd", "chunk_v_lbshd"),  # (1, F, C, H, W); (layers, 1, F*tokens, heads, hd)
    ),
    DIT_TEXT: GraphIO(inputs=("text_bld",), outputs=("text_k_lblhd", "text_v_lblhd")),  # text_bld zero-padded
    TEXT_ENCODER: GraphIO(inputs=("token_ids_l",), outputs=("text_bld",)),  # int64 (L,) → (1, L, text_dim)
    VAE_DECODER: GraphIO(inputs=("latents_bfchw",), outputs=("frames_bfhw3",)),  # → uint8 (1, F, H, W, 3)
    VAE_ENCODER: GraphIO(inputs=("pixels_bfhw3",), outputs=("latents_bfchw",)),  # float32 in [-1, 1] → latents
}


class DitStepGraph(nn.Module):
    """``CausalWanDiT.forward_chunk`` against a fixed-size, masked memory buffer whose keys it rotates itself."""

    def __init__(self, model: CausalWanDiT, grid_h: int, grid_w: int) -> None:
        super().__init__()
        self.model = model
        self.grid_h = grid_h
        self.grid_w = grid_w

    def forward(
        self,
        x_bfchw: torch.Tensor,
        t_bf: torch.Tensor,
        frame_pos_f: torch.Tensor,
        text_k_lblhd: torch.Tensor,
        text_v_lblhd: torch.Tensor,
        memory_k_lbnthd: torch.Tensor,
        memory_v_lbnthd: torch.Tensor,
        memory_pos_n: torch.Tensor,
        memory_valid_n: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # 1. Memory: (layers, 1, N, tokens, heads, hd) → (layers, 1, N*tokens, heads, hd), keys rotated, masked.
        memory = self.model.rotate_memory(
            memory_k_lbnthd.flatten(2, 3),
            memory_v_lbnthd.flatten(2, 3),
            memory_pos_n,
            self.grid_h,
            self.grid_w,
            valid_f=memory_valid_n,
        )
        # 2. The chunk.
        text = TextContext(k_lblhd=text_k_lblhd, v_lblhd=text_v_lblhd)
        flow_bfchw, chunk_kv = self.model.forward_chunk(x_bfchw, t_bf, text, frame_pos_f, memory)
        return flow_bfchw, chunk_kv.k_lbshd, chunk_kv.v_lbshd


class DitTextGraph(nn.Module):
    """``CausalWanDiT.embed_text`` for text states already zero-padded to text_len (as embed_text pads them)."""

    def __init__(self, model: CausalWanDiT) -> None:
        super().__init__()
        self.model = model

    def forward(self, text_bld: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        context = self.model.embed_text(text_bld)
        return context.k_lblhd, context.v_lblhd


class TokenTableGraph(nn.Module):
    """Token ids → their rows of the text encoder's learned table: (L,) → (1, L, text_dim)."""

    def __init__(self, table_vd: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("table_vd", table_vd.detach().float().clone())

    def forward(self, token_ids_l: torch.Tensor) -> torch.Tensor:
        return self.table_vd[token_ids_l].unsqueeze(0)


# ----------------------------------------------------------------------------------------------- VAEs
# The tensor halves of each FrameCodec's decode / encode_pixels (those methods also convert to and from NumPy);
# the parity tests hold the two in step.
class TinyVaeDecoderGraph(nn.Module):
    """TinyVae.decode: normalised latents (1, F, C, h, w) → uint8 frames (1, F, 8h, 8w, 3)."""

    def __init__(self, vae: TinyVae) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, latents_bfchw: torch.Tensor) -> torch.Tensor:
        batch, n_frames = latents_bfchw.shape[:2]
        z_nchw = self.vae.denormalise(latents_bfchw.flatten(0, 1))
        pixels_n3hw = self.vae.decode_raw(z_nchw)
        frames_n3hw = ((pixels_n3hw.clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
        frames_nhw3 = frames_n3hw.permute(0, 2, 3, 1)
        return frames_nhw3.reshape(batch, n_frames, *frames_nhw3.shape[1:])  # (B, F, H, W, 3)


class TinyVaeEncoderGraph(nn.Module):
    """TinyVae.encode_pixels: frames (1, F, H, W, 3) in [-1, 1] → normalised latents (1, F, C, H/8, W/8)."""

    def __init__(self, vae: TinyVae) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, pixels_bfhw3: torch.Tensor) -> torch.Tensor:
        batch, n_frames, height, width, _ = pixels_bfhw3.shape
        pixels_n3hw = pixels_bfhw3.reshape(batch * n_frames, height, width, 3).permute(0, 3, 1, 2)
        latents_nchw = self.vae.normalise(self.vae.encode_raw(pixels_n3hw))
        return latents_nchw.reshape(batch, n_frames, *latents_nchw.shape[1:])


class LinearVaeDecoderGraph(nn.Module):
    """RandomLinearVae.decode: each latent cell → a scale×scale RGB patch, sigmoid → uint8."""

    def __init__(self, vae: RandomLinearVae) -> None:
        super().__init__()
        self.scale = vae.scale
        self.register_buffer("decode_cp", vae.decode_cp.clone())

    def forward(self, latents_bfchw: torch.Tensor) -> torch.Tensor:
        batch, n_frames, _, height, width = latents_bfchw.shape
        s = self.scale
        logits_bfhwp = torch.einsum("bfchw,cp->bfhwp", latents_bfchw, self.decode_cp)
        pixels = torch.sigmoid(logits_bfhwp).reshape(batch, n_frames, height, width, 3, s, s)
        pixels = pixels.permute(0, 1, 2, 5, 3, 6, 4).reshape(batch, n_frames, height * s, width * s, 3)
        return (pixels * 255.0).round().clamp(0, 255).to(torch.uint8)


class LinearVaeEncoderGraph(nn.Module):
    """RandomLinearVae.encode_pixels: log-odds of each patch through the decoder's pseudo-inverse."""

    def __init__(self, vae: RandomLinearVae) -> None:
        super().__init__()
        self.scale = vae.scale
        self.register_buffer("encode_pc", vae.encode_pc.clone())

    def forward(self, pixels_bfhw3: torch.Tensor) -> torch.Tensor:
        batch, n_frames, height, width, _ = pixels_bfhw3.shape
        s = self.scale
        pixels = ((pixels_bfhw3 + 1.0) / 2.0).clamp(1e-3, 1 - 1e-3)
        logits = torch.log(pixels / (1 - pixels)).reshape(batch, n_frames, height // s, s, width // s, s, 3)
        logits = logits.permute(0, 1, 2, 4, 6, 3, 5).reshape(batch, n_frames, height // s, width // s, 3 * s * s)
        return torch.einsum("bfhwp,pc->bfchw", logits, self.encode_pc)
