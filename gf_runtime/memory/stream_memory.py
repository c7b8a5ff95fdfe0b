"""StreamMemory: the self-attention memory of one stream, for every policy (METHOD.md).

Keys are stored **unrotated** (after q/k norm, before RoPE) in fixed slots; each slot's temporal position is
decided by the policy only when a chunk is about to attend to it. Rotating a key at attention time with its
absolute index is exactly the rotated key that Self Forcing stores, so one storage serves every policy.

Slots are laid out as [sink | anchors | local]. Order does not matter to attention (each key carries its own
rotation), so the local window is a ring over its slots. Memory is bounded by ``MemoryConfig`` except for the
``full`` policy, whose storage grows (the unbounded baseline).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import torch

from gf_runtime.config import MemoryConfig
from gf_runtime.memory.anchors import AnchorAction, AnchorDecision, decide_anchor_update, frame_descriptor
from gf_runtime.memory.recache import RecachePlan, apr_alphas


class SlotRole(enum.Enum):
    SINK = "sink"
    ANCHOR = "anchor"
    LOCAL = "local"


@dataclass
class FrameRecord:
    """What a slot holds besides its K/V: where the frame came from and its clean latent (for recache)."""

    role: SlotRole
    frame_index: int  # absolute index in the stream
    latent_bchw: torch.Tensor  # (B, C, H, W) clean latent
    descriptor_d: torch.Tensor | None = None  # anchors only


@dataclass(frozen=True)
class ContextPlan:
    """What the next chunk attends to and where every frame sits in time."""

    slots: tuple[int, ...]
    slot_pos: tuple[int, ...]
    chunk_pos: tuple[int, ...]

    @property
    def max_position(self) -> int:
        return max(self.slot_pos + self.chunk_pos)


@dataclass
class MemoryStats:
    chunks_committed: int = 0
    anchor_decisions: list[AnchorDecision] = field(default_factory=list)


class StreamMemory:
    """Slots of K/V plus the policy that fills, evicts and positions them."""

    def __init__(self, config: MemoryConfig) -> None:
        self.config = config
        self.k_lbnthd: torch.Tensor | None = None  # (layers, B, slots, tokens, heads, head_dim), unrotated
        self.v_lbnthd: torch.Tensor | None = None
        self.records: list[FrameRecord | None] = []
        self.local_order: list[int] = []  # local slots, oldest first
        self.frames_seen = 0  # absolute index of the next frame
        self.stats = MemoryStats()

    # ----------------------------------------------------------------- layout
    @property
    def sink_slots(self) -> range:
        return range(0, self.config.sink_frames)

    @property
    def anchor_slots(self) -> range:
        start = self.config.sink_frames
        return range(start, start + (self.config.anchor_slots if self.config.uses_anchors else 0))

    @property
    def local_start(self) -> int:
        return self.anchor_slots.stop

    def _initial_slot_count(self) -> int:
        bound = self.config.max_memory_frames
        return bound if bound is not None else self.local_start + 4 * self.config.chunk_frames

    def _allocate(self, chunk_k_lbfthd: torch.Tensor) -> None:
        layers, batch, _, tokens, heads, head_dim = chunk_k_lbfthd.shape
        n_slots = self._initial_slot_count()
        shape = (layers, batch, n_slots, tokens, heads, head_dim)
        self.k_lbnthd = chunk_k_lbfthd.new_zeros(shape)
        self.v_lbnthd = chunk_k_lbfthd.new_zeros(shape)
        self.records = [None] * n_slots

    def _grow(self) -> None:
        """Double the storage (``full`` policy only)."""
        assert self.k_lbnthd is not None and self.v_lbnthd is not None
        extra = len(self.records)
        self.k_lbnthd = torch.cat([self.k_lbnthd, torch.zeros_like(self.k_lbnthd[:, :, :extra])], dim=2)
        self.v_lbnthd = torch.cat([self.v_lbnthd, torch.zeros_like(self.v_lbnthd[:, :, :extra])], dim=2)
        self.records.extend([None] * extra)

    def _free_local_slot(self) -> int | None:
        for slot in range(self.local_start, len(self.records)):
            if self.records[slot] is None:
                return slot
        return None

    # ----------------------------------------------------------------- queries
    @property
    def frames_held(self) -> int:
        return sum(r is not None for r in self.records)

    @property
    def nbytes(self) -> int:
        if self.k_lbnthd is None or self.v_lbnthd is None:
            return 0
        return self.k_lbnthd.numel() * self.k_lbnthd.element_size() * 2

    def slots_with_role(self, role: SlotRole) -> list[int]:
        slots = [s for s, r in enumerate(self.records) if r is not None and r.role is role]
        return sorted(slots, key=lambda s: self.records[s].frame_index)  # type: ignore[union-attr]

    def record(self, slot: int) -> FrameRecord:
        rec = self.records[slot]
        if rec is None:
            raise KeyError(f"memory slot {slot} is empty")
        return rec

    def anchor_frame_indices(self) -> list[int]:
        return [self.record(s).frame_index for s in self.slots_with_role(SlotRole.ANCHOR)]

    def local_frame_indices(self) -> list[int]:
        return [self.record(s).frame_index for s in self.local_order]

    # ----------------------------------------------------------------- positions (DR-RoPE or absolute)
    def _chunk_start_position(self, start_frame: int, n_frames: int) -> int:
        """DR-RoPE: absolute while the stream is inside the horizon, then pinned to [H-C, H) (our choice)."""
        if not self.config.dr_rope:
            return start_frame
        return min(start_frame, self.config.horizon_frames - n_frames)

    def _position(self, record: FrameRecord, start_frame: int, chunk_start_pos: int) -> int:
        if not self.config.dr_rope:
            return record.frame_index
        if record.role is SlotRole.ANCHOR:
            return self.config.anchor_position
        # Local (and sink) frames keep their distance to the chunk: the newest sits just below it.
        return chunk_start_pos - (start_frame - record.frame_index)

    def plan_context(self, n_frames: int) -> ContextPlan:
        """Slots and positions the next chunk of ``n_frames`` attends to, and the chunk's own positions.

        An anchor whose frame is still in the local window is not shown twice: it appears at its local position.
        """
        start = self.frames_seen
        chunk_start_pos = self._chunk_start_position(start, n_frames)
        local_frames = set(self.local_frame_indices())
        slots = self.slots_with_role(SlotRole.SINK)
        slots += [s for s in self.slots_with_role(SlotRole.ANCHOR) if self.record(s).frame_index not in local_frames]
        slots += list(self.local_order)
        slot_pos = tuple(self._position(self.record(s), start, chunk_start_pos) for s in slots)
        chunk_pos = tuple(range(chunk_start_pos, chunk_start_pos + n_frames))
        return ContextPlan(slots=tuple(slots), slot_pos=slot_pos, chunk_pos=chunk_pos)

    def gather(self, slots: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Unrotated K and V of ``slots``: (layers, B, len(slots)*tokens, heads, head_dim) each, or None if empty."""
        if not slots or self.k_lbnthd is None or self.v_lbnthd is None:
            return None
        index = torch.tensor(slots, device=self.k_lbnthd.device)
        k = self.k_lbnthd.index_select(2, index).flatten(2, 3)
        v = self.v_lbnthd.index_select(2, index).flatten(2, 3)
        return k, v

    # ----------------------------------------------------------------- updates
    def commit(self, k_lbshd: torch.Tensor, v_lbshd: torch.Tensor, clean_bfchw: torch.Tensor) -> None:
        """Store a finished chunk: its K/V from the context pass (layers, B, F*tokens, heads, head_dim) and its
        clean latents (B, F, C, H, W). Fills sinks, updates anchors, slides the local window."""
        n_frames = clean_bfchw.shape[1]
        k_lbfthd = k_lbshd.unflatten(2, (n_frames, -1))
        v_lbfthd = v_lbshd.unflatten(2, (n_frames, -1))
        if self.k_lbnthd is None:
            self._allocate(k_lbfthd)
        for f in range(n_frames):
            frame_index = self.frames_seen + f
            latent_bchw = clean_bfchw[:, f]
            self._commit_frame(frame_index, latent_bchw, k_lbfthd[:, :, f], v_lbfthd[:, :, f])
        self.frames_seen += n_frames
        self.stats.chunks_committed += 1

    def _write(self, slot: int, record: FrameRecord, k_lbthd: torch.Tensor, v_lbthd: torch.Tensor) -> None:
        assert self.k_lbnthd is not None and self.v_lbnthd is not None
        self.k_lbnthd[:, :, slot] = k_lbthd
        self.v_lbnthd[:, :, slot] = v_lbthd
        self.records[slot] = record

    def _commit_frame(
        self, frame_index: int, latent_bchw: torch.Tensor, k_lbthd: torch.Tensor, v_lbthd: torch.Tensor
    ) -> None:
        cfg = self.config
        # 1. Sink: the first frames of the stream, kept forever (longlive).
        if frame_index < cfg.sink_frames:
            self._write(frame_index, FrameRecord(SlotRole.SINK, frame_index, latent_bchw), k_lbthd, v_lbthd)
            return
        # 2. Anchors (GCM): novelty against redundancy.
        if cfg.uses_anchors and cfg.is_anchor_candidate(frame_index):
            self._update_anchors(frame_index, latent_bchw, k_lbthd, v_lbthd)
        # 3. Local window: evict the oldest when full (never for the full policy).
        if cfg.bounded and cfg.local_frames == 0:
            return
        if cfg.bounded and len(self.local_order) >= cfg.local_frames:
            evicted = self.local_order.pop(0)
            self.records[evicted] = None
        slot = self._free_local_slot()
        if slot is None:
            self._grow()
            slot = self._free_local_slot()
            assert slot is not None
        self._write(slot, FrameRecord(SlotRole.LOCAL, frame_index, latent_bchw), k_lbthd, v_lbthd)
        self.local_order.append(slot)

    def _update_anchors(
        self, frame_index: int, latent_bchw: torch.Tensor, k_lbthd: torch.Tensor, v_lbthd: torch.Tensor
    ) -> None:
        descriptor_d = frame_descriptor(latent_bchw.mean(dim=0))
        slots = list(self.anchor_slots)
        held = [s for s in slots if self.records[s] is not None]
        anchors_kd = (
            torch.stack([self.record(s).descriptor_d for s in held])  # type: ignore[misc]
            if held
            else descriptor_d.new_zeros(0, descriptor_d.shape[0])
        )
        decision = decide_anchor_update(anchors_kd, descriptor_d, capacity=len(slots))
        self.stats.anchor_decisions.append(decision)
        if decision.action is AnchorAction.KEEP:
            return
        assert decision.slot is not None
        slot = held[decision.slot] if decision.action is AnchorAction.REPLACE else slots[len(held)]
        record = FrameRecord(SlotRole.ANCHOR, frame_index, latent_bchw, descriptor_d)
        self._write(slot, record, k_lbthd, v_lbthd)

    def scene_cut(self) -> None:
        """Flush the local memory; keep anchors and sinks."""
        for slot in self.local_order:
            self.records[slot] = None
        self.local_order.clear()

    # ----------------------------------------------------------------- prompt switch
    def plan_recache(self) -> RecachePlan | None:
        """How the policy refreshes memory at a prompt switch, or None when it only swaps the text context.

        - grounded + APR: the local frames, attending to the anchors, blended by proximity (α per frame).
        - longlive: the window, attending to the sink, fully replaced (α = 1); the sink keeps the old prompt.
        """
        cfg = self.config
        if not self.local_order:
            return None
        if cfg.policy == "grounded" and cfg.apr:
            newest = self.record(self.local_order[-1]).frame_index
            distances = [newest - self.record(s).frame_index for s in self.local_order]
            alphas = apr_alphas(distances, cfg.apr_alpha_max, cfg.apr_scale)
        elif cfg.policy == "longlive" and cfg.recache_on_switch:
            alphas = [1.0] * len(self.local_order)
        else:
            return None
        context = self.plan_context(cfg.chunk_frames)
        local = set(self.local_order)
        targets = [(s, p) for s, p in zip(context.slots, context.slot_pos) if s in local]
        others = [(s, p) for s, p in zip(context.slots, context.slot_pos) if s not in local]
        return RecachePlan(
            target_slots=tuple(s for s, _ in targets),
            target_pos=tuple(p for _, p in targets),
            alphas=tuple(alphas),
            context_slots=tuple(s for s, _ in others),
            context_pos=tuple(p for _, p in others),
        )

    def target_latents(self, plan: RecachePlan) -> torch.Tensor:
        """Stored clean latents of the plan's targets: (B, n, C, H, W)."""
        return torch.stack([self.record(s).latent_bchw for s in plan.target_slots], dim=1)

    def blend(self, plan: RecachePlan, k_new_lbshd: torch.Tensor, v_new_lbshd: torch.Tensor) -> None:
        """K' = (1-α)·K_old + α·K_new per target frame (same for V)."""
        assert self.k_lbnthd is not None and self.v_lbnthd is not None
        n_targets = len(plan.target_slots)
        k_new = k_new_lbshd.unflatten(2, (n_targets, -1))  # (layers, B, n, tokens, heads, head_dim)
        v_new = v_new_lbshd.unflatten(2, (n_targets, -1))
        for i, (slot, alpha) in enumerate(zip(plan.target_slots, plan.alphas)):
            if alpha == 0.0:
                continue
            if alpha == 1.0:
                self.k_lbnthd[:, :, slot] = k_new[:, :, i]
                self.v_lbnthd[:, :, slot] = v_new[:, :, i]
                continue
            self.k_lbnthd[:, :, slot] = torch.lerp(self.k_lbnthd[:, :, slot], k_new[:, :, i], alpha)
            self.v_lbnthd[:, :, slot] = torch.lerp(self.v_lbnthd[:, :, slot], v_new[:, :, i], alpha)
