using System;

namespace Gf.Client.Core.Protocol
{
    /// <summary>How frames are encoded on the wire (§4 open_session <c>format</c>).</summary>
    public enum FrameFormat
    {
        /// <summary>height × width × 3 bytes, RGB, row-major, top row first.</summary>
        RawRgb,
        /// <summary>A baseline JPEG file.</summary>
        Jpeg,
    }

    /// <summary>How fast a session generates (§4 open_session <c>pace</c>).</summary>
    public enum Pace
    {
        /// <summary>No faster than the stream's fps: what a game wants.</summary>
        Realtime,
        /// <summary>As fast as the server can (benchmarks, capture).</summary>
        Max,
    }

    /// <summary>Who asked for a prompt (§4 prompt <c>source</c>).</summary>
    public enum PromptSource
    {
        Player,
        Npc,
        Script,
    }

    /// <summary>The one mapping between the enums and their wire strings.</summary>
    public static class WireNames
    {
        public static string Of(FrameFormat format)
        {
            switch (format)
            {
                case FrameFormat.RawRgb: return "raw_rgb";
                case FrameFormat.Jpeg: return "jpeg";
            }
            throw new ArgumentOutOfRangeException(nameof(format), format, "unknown frame format");
        }

        public static string Of(Pace pace)
        {
            switch (pace)
            {
                case Pace.Realtime: return "realtime";
                case Pace.Max: return "max";
            }
            throw new ArgumentOutOfRangeException(nameof(pace), pace, "unknown pace");
        }

        public static string Of(PromptSource source)
        {
            switch (source)
            {
                case PromptSource.Player: return "player";
                case PromptSource.Npc: return "npc";
                case PromptSource.Script: return "script";
            }
            throw new ArgumentOutOfRangeException(nameof(source), source, "unknown prompt source");
        }

        public static FrameFormat ParseFormat(string wire, string context)
        {
            switch (wire)
            {
                case "raw_rgb": return FrameFormat.RawRgb;
                case "jpeg": return FrameFormat.Jpeg;
            }
            throw new ProtocolException(context + ": field 'format' must be raw_rgb or jpeg, got '" + wire + "'");
        }

        public static Pace ParsePace(string wire, string context)
        {
            switch (wire)
            {
                case "realtime": return Pace.Realtime;
                case "max": return Pace.Max;
            }
            throw new ProtocolException(context + ": field 'pace' must be realtime or max, got '" + wire + "'");
        }

        public static PromptSource ParseSource(string wire, string context)
        {
            switch (wire)
            {
                case "player": return PromptSource.Player;
                case "npc": return PromptSource.Npc;
                case "script": return PromptSource.Script;
            }
            throw new ProtocolException(context + ": field 'source' must be player, npc or script, got '" + wire + "'");
        }
    }
}
