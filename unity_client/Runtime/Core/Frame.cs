using Gf.Client.Core.Protocol;

namespace Gf.Client.Core
{
    /// <summary>
    /// One received video frame. Its buffer is recycled: after <see cref="LatestFrameSlot.Return"/> the frame
    /// belongs to the receive thread again and must not be read.
    /// </summary>
    public sealed class Frame
    {
        internal Frame(int payloadBytes)
        {
            Payload = new byte[payloadBytes];
        }

        public FrameHeader Header { get; internal set; }

        /// <summary>raw_rgb: height × width × 3 bytes, top row first; jpeg: the JPEG file. Exactly the payload's size.</summary>
        public byte[] Payload { get; }

        /// <summary>Client clock (seconds since the Unix epoch) when the frame arrived.</summary>
        public double ReceivedAt { get; internal set; }

        /// <summary>When the slot hands it out (its playout clock, seconds).</summary>
        internal double DueAt;
    }
}
