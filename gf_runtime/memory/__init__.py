"""Memory policies: Dual Memory KV Cache, DR-RoPE positions, APR, and the self_forcing / longlive baselines."""

from gf_runtime.memory.anchors import AnchorAction, AnchorDecision, decide_anchor_update, frame_descriptor
from gf_runtime.memory.recache import RecachePlan, apr_alphas
from gf_runtime.memory.stream_memory import ContextPlan, FrameRecord, SlotRole, StreamMemory

__all__ = [
    "AnchorAction",
    "AnchorDecision",
    "ContextPlan",
    "FrameRecord",
    "RecachePlan",
    "SlotRole",
    "StreamMemory",
    "apr_alphas",
    "decide_anchor_update",
    "frame_descriptor",
]
