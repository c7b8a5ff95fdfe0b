using System;

namespace Gf.Client.Core.MsgPack
{
    /// <summary>
    /// Bytes that are not one well-formed msgpack value of the kinds the gf protocol uses, or a value the writer
    /// cannot encode. The decoder raises only this type, whatever the input.
    /// </summary>
    public sealed class MsgPackException : Exception
    {
        /// <summary>Byte offset in the input where the problem was found; -1 for encoding errors.</summary>
        public int Offset { get; }

        public MsgPackException(string message, int offset = -1)
            : base(offset >= 0 ? "msgpack: " + message + " (at byte " + offset + ")" : "msgpack: " + message)
        {
            Offset = offset;
        }
    }
}
