"""CausalWanDiT: Wan2.1's DiT with per-frame timesteps, block-causal attention and an explicit KV interface.

Two entry points share the same blocks:
- ``forward``: the whole sequence at once with a block-causal mask (training and the numerical reference);
- ``forward_chunk``: one chunk attending to a memory of (already rotated) keys and values, returning the
  chunk's own unrotated keys and values so that a memory policy can store them.

The model knows nothing about policies: every temporal RoPE index arrives as an explicit ``frame_pos`` tensor.
Parameter names are exactly Wan's, so Wan / Self Forcing / LongLive state dicts load unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gf_runtime.config import ModelConfig
from gf_runtime.model.attention import CrossAttention, SelfAttention
from gf_runtime.model.layers import FP32LayerNorm, gelu_tanh, sinusoidal_embedding
from gf_runtime.model.rope import Rope3D, apply_rope


@dataclass(frozen=True)
class TextContext:
    """Cross-attention keys/values of one prompt for every block; compute once per prompt."""

    k_lblhd: torch.Tensor  # (layers, B, text_len, heads, head_dim)
    v_lblhd: torch.Tensor


@dataclass(frozen=True)
class MemoryContext:
    """Self-attention memory as the model consumes it: keys already rotated to their temporal positions."""

    k_rot_lbshd: torch.Tensor  # (layers, B, S_mem, heads, head_dim)
    v_lbshd: torch.Tensor
    valid_s: torch.Tensor | None = None  # (S_mem,) bool: keys a chunk may attend to (a buffer with holes); None: all


@dataclass(frozen=True)
class ChunkKV:
    """A chunk's self-attention keys (unrotated, after q/k norm) and values for every block."""

    k_lbshd: torch.Tensor  # (layers, B, F*tokens_per_frame, heads, head_dim)
    v_lbshd: torch.Tensor


def block_causal_mask(n_frames: int, tokens_per_frame: int, chunk_frames: int, device: torch.device) -> torch.Tensor:
    """(S, S) bool: token i may attend to token j iff chunk(j) <= chunk(i). Bidirectional inside a chunk."""
    chunk_of_token = torch.arange(n_frames, device=device).repeat_interleave(tokens_per_frame) // chunk_frames
    return chunk_of_token[None, :] <= chunk_of_token[:, None]


class WanBlock(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        dim = config.dim
        self.norm1 = FP32LayerNorm(dim, eps=config.eps, elementwise_affine=False)
        self.self_attn = SelfAttention(dim, config.num_heads, config.eps)
        self.norm3 = (
            FP32LayerNorm(dim, eps=config.eps, elementwise_affine=True) if config.cross_attn_norm else nn.Identity()
        )
        self.cross_attn = CrossAttention(dim, config.num_heads, config.eps)
        self.norm2 = FP32LayerNorm(dim, eps=config.eps, elementwise_affine=False)
        self.ffn = nn.Sequential(nn.Linear(dim, config.ffn_dim), gelu_tanh(), nn.Linear(config.ffn_dim, dim))
        self.modulation = nn.Parameter(torch.zeros(1, 6, dim))

    def forward(
        self,
        x_bsd: torch.Tensor,
        e0_bf6d: torch.Tensor,
        cos_sd: torch.Tensor,
        sin_sd: torch.Tensor,
        memory_k_rot_bshd: torch.Tensor | None,
        memory_v_bshd: torch.Tensor | None,
        text_k_blhd: torch.Tensor,
        text_v_blhd: torch.Tensor,
        mask_qk: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        batch, seq, dim = x_bsd.shape
        n_frames = e0_bf6d.shape[1]
        tokens = seq // n_frames

        # 1. Modulation (fp32): six (B, F, 1, dim) vectors broadcast over each frame's tokens.
        mod_bf6d = self.modulation.float().unsqueeze(1) + e0_bf6d.float()
        shift1, scale1, gate1, shift2, scale2, gate2 = (m.unsqueeze(2) for m in mod_bf6d.unbind(dim=2))

        def modulate(normed_bsd: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
            normed_bftd = normed_bsd.float().view(batch, n_frames, tokens, dim)
            return (normed_bftd * (1 + scale) + shift).flatten(1, 2).type_as(x_bsd)

        def gated(update_bsd: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
            return (update_bsd.float().view(batch, n_frames, tokens, dim) * gate).flatten(1, 2)

        # 2. Self-attention over memory ++ chunk.
        attn_bsd, k_bshd, v_bshd = self.self_attn(
            modulate(self.norm1(x_bsd), shift1, scale1), cos_sd, sin_sd, memory_k_rot_bshd, memory_v_bshd, mask_qk
        )
        x_bsd = (x_bsd.float() + gated(attn_bsd, gate1)).type_as(x_bsd)

        # 3. Cross-attention to the prompt (no gate). With G prompts per sample (one per chunk, training), the
        #    tokens are split into G contiguous groups, each attending to its own prompt.
        groups = text_k_blhd.shape[0] // batch
        normed_bsd = self.norm3(x_bsd).reshape(batch * groups, seq // groups, dim)  # (B*G, S/G, dim)
        x_bsd = x_bsd + self.cross_attn(normed_bsd, text_k_blhd, text_v_blhd).reshape(batch, seq, dim)

        # 4. Feed-forward.
        ffn_bsd = self.ffn(modulate(self.norm2(x_bsd), shift2, scale2))
        x_bsd = (x_bsd.float() + gated(ffn_bsd, gate2)).type_as(x_bsd)
        return x_bsd, k_bshd, v_bshd


class Head(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.norm = FP32LayerNorm(config.dim, eps=config.eps, elementwise_affine=False)
        self.head = nn.Linear(config.dim, config.patch_channels)
        self.modulation = nn.Parameter(torch.zeros(1, 2, config.dim))

    def forward(self, x_bsd: torch.Tensor, e_bfd: torch.Tensor) -> torch.Tensor:
        batch, seq, dim = x_bsd.shape
        n_frames = e_bfd.shape[1]
        mod_bf2d = self.modulation.float().unsqueeze(1) + e_bfd.float().unsqueeze(2)
        shift, scale = (m.unsqueeze(2) for m in mod_bf2d.unbind(dim=2))  # (B, F, 1, dim)
        normed_bftd = self.norm(x_bsd).float().view(batch, n_frames, seq // n_frames, dim)
        return self.head(((normed_bftd * (1 + scale) + shift).flatten(1, 2)).type_as(x_bsd))


class CausalWanDiT(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.dim
        self.patch_embedding = nn.Conv3d(
            config.in_channels, dim, kernel_size=config.patch_size, stride=config.patch_size
        )
        self.text_embedding = nn.Sequential(nn.Linear(config.text_dim, dim), gelu_tanh(), nn.Linear(dim, dim))
        self.time_embedding = nn.Sequential(nn.Linear(config.freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.time_projection = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        self.blocks = nn.ModuleList(WanBlock(config) for _ in range(config.num_layers))
        self.head = Head(config)
        self.rope = Rope3D(config)

    # ----------------------------------------------------------------- pieces shared by both entry points
    def embed_text(self, text_bld: torch.Tensor) -> TextContext:
        """Text encoder states (B, L, text_dim), L <= text_len, zero-padded (unmasked, as Wan) → per-block K/V."""
        batch, length, width = text_bld.shape
        cfg = self.config
        if width != cfg.text_dim:
            raise ValueError(f"text embeddings have width {width}; this model expects text_dim={cfg.text_dim}")
        if length > cfg.text_len:
            raise ValueError(f"text has {length} tokens; this model takes at most text_len={cfg.text_len}")
        padded = text_bld.new_zeros(batch, cfg.text_len, width)
        padded[:, :length] = text_bld
        context_bld = self.text_embedding(padded.to(self.dtype))
        ks, vs = zip(*(block.cross_attn.text_kv(context_bld) for block in self.blocks))
        return TextContext(k_lblhd=torch.stack(ks), v_lblhd=torch.stack(vs))

    @property
    def dtype(self) -> torch.dtype:
        return self.patch_embedding.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.patch_embedding.weight.device

    def _time(self, t_bf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-frame timesteps (B, F) → e (B, F, dim) for the head and e0 (B, F, 6, dim) for the blocks (fp32)."""
        freq_bfk = sinusoidal_embedding(t_bf, self.config.freq_dim)
        e_bfd = self.time_embedding(freq_bfk.to(self.dtype)).float()
        e0_bf6d = self.time_projection(e_bfd.to(self.dtype)).float().unflatten(-1, (6, self.config.dim))
        return e_bfd, e0_bf6d

    def _patchify(self, x_bfchw: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        """(B, F, C, H, W) → tokens (B, F*h*w, dim) ordered (f, h, w), plus the token grid (h, w)."""
        x_bcfhw = x_bfchw.permute(0, 2, 1, 3, 4).to(self.dtype)
        tokens_bdfhw = self.patch_embedding(x_bcfhw)
        grid_h, grid_w = tokens_bdfhw.shape[-2:]
        return tokens_bdfhw.flatten(2).transpose(1, 2), grid_h, grid_w

    def _unpatchify(self, out_bsp: torch.Tensor, n_frames: int, grid_h: int, grid_w: int) -> torch.Tensor:
        """Head output (B, F*h*w, p_t*p_h*p_w*C) → (B, F, C, H, W), Wan's 'fhwpqrc->cfphqwr' per batch item."""
        p_t, p_h, p_w = self.config.patch_size
        channels = self.config.out_channels
        batch = out_bsp.shape[0]
        x = out_bsp.view(batch, n_frames, grid_h, grid_w, p_t, p_h, p_w, channels)
        x = torch.einsum("bfhwpqrc->bfpchqwr", x)  # (B, F, p_t, C, h, p_h, w, p_w)
        return x.reshape(batch, n_frames * p_t, channels, grid_h * p_h, grid_w * p_w)

    def _blocks(
        self,
        tokens_bsd: torch.Tensor,
        e0_bf6d: torch.Tensor,
        cos_sd: torch.Tensor,
        sin_sd: torch.Tensor,
        memory: MemoryContext | None,
        text: TextContext,
        mask_qk: torch.Tensor | None,
    ) -> tuple[torch.Tensor, ChunkKV]:
        ks, vs = [], []
        for layer, block in enumerate(self.blocks):
            tokens_bsd, k_bshd, v_bshd = block(
                tokens_bsd,
                e0_bf6d,
                cos_sd,
                sin_sd,
                None if memory is None else memory.k_rot_lbshd[layer],
                None if memory is None else memory.v_lbshd[layer],
                text.k_lblhd[layer],
                text.v_lblhd[layer],
                mask_qk,
            )
            ks.append(k_bshd)
            vs.append(v_bshd)
        return tokens_bsd, ChunkKV(k_lbshd=torch.stack(ks), v_lbshd=torch.stack(vs))

    # ----------------------------------------------------------------- entry points
    def rotate_memory(
        self,
        k_lbshd: torch.Tensor,
        v_lbshd: torch.Tensor,
        frame_pos_f: torch.Tensor,
        grid_h: int,
        grid_w: int,
        valid_f: torch.Tensor | None = None,
    ) -> MemoryContext:
        """Rotate stored (unrotated) memory keys to the temporal positions a policy assigns to their frames.

        valid_f: (F_mem,) bool, the frames a chunk may attend to, for a fixed-size memory buffer whose unused or
        hidden frames stay in place (the exported graph's input); None: every frame is attended to.
        """
        cos_sd, sin_sd = self.rope.cos_sin(frame_pos_f, grid_h, grid_w)
        valid_s = None if valid_f is None else valid_f.repeat_interleave(grid_h * grid_w)  # (F_mem*h*w,)
        return MemoryContext(k_rot_lbshd=apply_rope(k_lbshd, cos_sd, sin_sd), v_lbshd=v_lbshd, valid_s=valid_s)

    def forward_chunk(
        self,
        x_bfchw: torch.Tensor,
        t_bf: torch.Tensor,
        text: TextContext,
        frame_pos_f: torch.Tensor,
        memory: MemoryContext | None,
    ) -> tuple[torch.Tensor, ChunkKV]:
        """One chunk (bidirectional inside it) attending to ``memory``.

        x_bfchw: (B, F, C, H, W) noisy latents; t_bf: (B, F) raw timesteps (0–1000); frame_pos_f: (F,) temporal
        RoPE indices of the chunk's frames. Returns the flow prediction (B, F, C, H, W) in fp32 and the chunk's K/V.
        """
        n_frames = x_bfchw.shape[1]
        if t_bf.shape != x_bfchw.shape[:2]:
            raise ValueError(f"t has shape {tuple(t_bf.shape)}; expected (B, F) = {tuple(x_bfchw.shape[:2])}")
        if frame_pos_f.shape != (n_frames,):
            raise ValueError(f"frame_pos has shape {tuple(frame_pos_f.shape)}; expected ({n_frames},)")
        tokens_bsd, grid_h, grid_w = self._patchify(x_bfchw)
        e_bfd, e0_bf6d = self._time(t_bf)
        cos_sd, sin_sd = self.rope.cos_sin(frame_pos_f, grid_h, grid_w)
        mask_qk = None
        if memory is not None and memory.valid_s is not None:  # (1, S_mem + S): hidden memory keys masked out
            chunk_valid_s = memory.valid_s.new_ones(tokens_bsd.shape[1])
            mask_qk = torch.cat([memory.valid_s, chunk_valid_s])[None, :]
        tokens_bsd, chunk_kv = self._blocks(tokens_bsd, e0_bf6d, cos_sd, sin_sd, memory, text, mask_qk)
        flow = self._unpatchify(self.head(tokens_bsd, e_bfd), n_frames, grid_h, grid_w)
        return flow.float(), chunk_kv

    def forward(
        self,
        x_bfchw: torch.Tensor,
        t_bf: torch.Tensor,
        text_bld: torch.Tensor,
        chunk_frames: int,
        frame_pos_f: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The whole sequence at once with a block-causal mask over chunks of ``chunk_frames``: the reference.

        text_bld: (B, L, text_dim), one prompt for the sequence, or (B, n_chunks, L, text_dim), a prompt per chunk
        (prompt switches inside a training clip). Frames sit at temporal positions 0..F-1 unless ``frame_pos_f``
        says otherwise. Returns the flow (fp32).
        """
        batch, n_frames = x_bfchw.shape[:2]
        if text_bld.ndim == 4:
            if text_bld.shape[1] * chunk_frames != n_frames:
                raise ValueError(
                    f"{text_bld.shape[1]} prompts for {n_frames} frames; pass one per chunk of {chunk_frames} frames"
                )
            text_bld = text_bld.flatten(0, 1)  # (B*n_chunks, L, text_dim), chunk-major within each sample
        if t_bf.shape != x_bfchw.shape[:2]:
            raise ValueError(f"t has shape {tuple(t_bf.shape)}; expected (B, F) = {tuple(x_bfchw.shape[:2])}")
        if frame_pos_f is None:
            frame_pos_f = torch.arange(n_frames, device=x_bfchw.device)
        tokens_bsd, grid_h, grid_w = self._patchify(x_bfchw)
        e_bfd, e0_bf6d = self._time(t_bf)
        cos_sd, sin_sd = self.rope.cos_sin(frame_pos_f, grid_h, grid_w)
        mask_qk = block_causal_mask(n_frames, grid_h * grid_w, chunk_frames, x_bfchw.device)
        text = self.embed_text(text_bld)
        tokens_bsd, _ = self._blocks(tokens_bsd, e0_bf6d, cos_sd, sin_sd, None, text, mask_qk)
        return self._unpatchify(self.head(tokens_bsd, e_bfd), n_frames, grid_h, grid_w).float()
