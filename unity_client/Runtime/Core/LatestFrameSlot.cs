using System.Collections.Generic;
using System.Diagnostics;
using Gf.Client.Core.Transport;

namespace Gf.Client.Core
{
    /// <summary>
    /// The newest received frames of one session, handed to the main thread one at a time: a slot, not a queue.
    ///
    /// The server sends a chunk's frames together (3 at once for a 3-frame chunk), one chunk per chunk duration.
    /// Taking only "the newest frame" would show one frame per chunk. So each frame gets a due time on a playout
    /// clock: a chunk's first frame is due when it arrives, the next ones one frame interval apart, continuing the
    /// previous chunk's schedule when it arrives early. <see cref="TryTake"/> returns the newest frame that is due and
    /// drops the older ones. The schedule never runs more than <c>maxDelay</c> (one chunk) behind the newest
    /// arrival: a client that falls behind, or a session generating faster than its fps, skips to the newest frame,
    /// so no backlog ever builds up. With a frame interval of 0 every frame is due on arrival (plain newest-frame).
    ///
    /// Threading: one producer (the receive thread: Rent, Publish) and one consumer (the main thread: TryTake,
    /// Return); all state is behind one lock held for a few assignments. Buffers are reused while the payload size
    /// stays the same (raw_rgb).
    /// </summary>
    public sealed class LatestFrameSlot
    {
        /// <summary>Frames waiting for their due time; beyond this the oldest is dropped.</summary>
        const int MaxWaiting = 16;
        /// <summary>Recycled buffers kept for reuse.</summary>
        const int MaxSpares = 3;

        readonly object gate = new object();
        readonly List<Frame> waiting = new List<Frame>(MaxWaiting); // in arrival (= index) order
        readonly Stack<Frame> spares = new Stack<Frame>(MaxSpares);
        double lastDue = double.NegativeInfinity;
        long published;
        long superseded;
        long newestIndex = -1;

        /// <summary>Frames published so far.</summary>
        public long Published { get { lock (gate) return published; } }

        /// <summary>Frames dropped for a newer one before the consumer took them.</summary>
        public long Superseded { get { lock (gate) return superseded; } }

        /// <summary>Index of the newest frame published; -1 before the first.</summary>
        public long NewestIndex { get { lock (gate) return newestIndex; } }

        /// <summary>Consumer: the newest frame that is due, if one became due since the last take.</summary>
        public bool TryTake(out Frame frame) => TryTake(out frame, Clock());

        internal bool TryTake(out Frame frame, double now)
        {
            frame = null;
            lock (gate)
            {
                int newestDue = -1;
                for (int i = 0; i < waiting.Count; i++)
                {
                    if (waiting[i].DueAt <= now) newestDue = i; // after a jump, a newer frame can be due before older ones
                }
                if (newestDue < 0) return false;
                frame = waiting[newestDue];
                for (int i = 0; i < newestDue; i++)
                {
                    superseded++;
                    Recycle(waiting[i]);
                }
                waiting.RemoveRange(0, newestDue + 1);
            }
            return true;
        }

        /// <summary>Consumer: hand a taken frame back for reuse once it is no longer read.</summary>
        public void Return(Frame frame)
        {
            if (frame == null) return;
            lock (gate) Recycle(frame);
        }

        /// <summary>Producer: a frame whose payload has exactly <paramref name="payloadBytes"/> bytes.</summary>
        internal Frame Rent(int payloadBytes)
        {
            lock (gate)
            {
                while (spares.Count > 0)
                {
                    Frame spare = spares.Pop();
                    if (spare.Payload.Length == payloadBytes) return spare;
                }
            }
            return new Frame(payloadBytes);
        }

        /// <summary>
        /// Producer: add a filled frame, due one <paramref name="frameInterval"/> after the previous one, but never
        /// more than <paramref name="maxDelay"/> after now (seconds).
        /// </summary>
        internal void Publish(Frame frame, double frameInterval, double maxDelay) => Publish(frame, frameInterval, maxDelay, Clock());

        internal void Publish(Frame frame, double frameInterval, double maxDelay, double now)
        {
            lock (gate)
            {
                double due = frameInterval > 0 ? System.Math.Max(now, lastDue + frameInterval) : now;
                if (due - now > maxDelay) due = now; // behind the newest arrival: jump to it
                lastDue = due;
                frame.DueAt = due;
                waiting.Add(frame);
                published++;
                if (frame.Header.Frame > newestIndex) newestIndex = frame.Header.Frame;
                if (waiting.Count > MaxWaiting)
                {
                    superseded++;
                    Recycle(waiting[0]);
                    waiting.RemoveAt(0);
                }
            }
        }

        /// <summary>Producer: give back a rented frame that will not be published (a bad payload).</summary>
        internal void Discard(Frame frame) => Return(frame);

        void Recycle(Frame frame)
        {
            if (spares.Count < MaxSpares) spares.Push(frame);
        }

        static double Clock() => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
    }

    /// <summary>Receive-thread helper: rents the destination of a frame's payload from a slot.</summary>
    internal sealed class PayloadSink : IPartBuffers
    {
        public LatestFrameSlot Slot;
        public Frame Rented;

        public byte[] ForPart(int size)
        {
            Rented = Slot.Rent(size);
            return Rented.Payload;
        }
    }

    /// <summary>Receive-thread helper: a fresh array for a small message part (headers, replies, events).</summary>
    internal sealed class FreshBuffers : IPartBuffers
    {
        public static readonly FreshBuffers Instance = new FreshBuffers();

        public byte[] ForPart(int size) => new byte[size];
    }
}
