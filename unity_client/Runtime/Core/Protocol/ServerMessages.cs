using System.Collections.Generic;

namespace Gf.Client.Core.Protocol
{
    /// <summary>Something the main thread is told about: a server event, an error, a connection change.</summary>
    public abstract class WorldEvent
    {
    }

    /// <summary>§5 error: <c>{type: error, seq, code, message, field?}</c>.</summary>
    public sealed class ServerError : WorldEvent
    {
        /// <summary>The refused request's seq; null when the server could not read it (or for ack_frames).</summary>
        public long? Seq { get; }
        public string Code { get; }
        public string Message { get; }
        /// <summary>The field at fault, or null.</summary>
        public string Field { get; }

        public ServerError(long? seq, string code, string message, string field)
        {
            Seq = seq;
            Code = code;
            Message = message;
            Field = field;
        }

        internal static ServerError Parse(IDictionary<string, object> map)
        {
            const string context = "error message";
            return new ServerError(
                Fields.OptionalInt(map, "seq", context),
                Fields.Str(map, "code", context),
                Fields.OptionalStr(map, "message", context) ?? "",
                Fields.OptionalStr(map, "field", context));
        }

        public override string ToString()
            => Code + (Field != null ? " (field '" + Field + "')" : "") + ": " + Message;
    }

    /// <summary>§4 a reply: <c>{type: reply, re, seq, ...fields}</c>; the fields stay readable as a map.</summary>
    public sealed class Reply
    {
        readonly Dictionary<string, object> map;

        public string Re { get; }
        public long Seq { get; }
        /// <summary>Every field of the reply, as decoded.</summary>
        public IReadOnlyDictionary<string, object> Fields => map;

        Reply(string re, long seq, Dictionary<string, object> map)
        {
            Re = re;
            Seq = seq;
            this.map = map;
        }

        internal static Reply Parse(Dictionary<string, object> map)
        {
            const string context = "reply";
            return new Reply(Protocol.Fields.Str(map, "re", context), Protocol.Fields.Int(map, "seq", context), map);
        }

        /// <summary>The <c>session</c> field, or 0.</summary>
        public long Session => Protocol.Fields.Int(map, "session", "reply to " + Re, 0);

        internal IDictionary<string, object> Map => map;
    }

    /// <summary>§8 the server's limits, from the hello reply.</summary>
    public sealed class ServerLimits
    {
        public long MaxMessageBytes { get; }
        public long MaxSessions { get; }
        public long MaxSessionsPerClient { get; }
        public long MaxPromptChars { get; }
        public long MaxOutputSide { get; }
        public long MaxWindowFrames { get; }

        ServerLimits(IDictionary<string, object> map)
        {
            const string context = "hello reply limits";
            MaxMessageBytes = Fields.Int(map, "max_message_bytes", context);
            MaxSessions = Fields.Int(map, "max_sessions", context);
            MaxSessionsPerClient = Fields.Int(map, "max_sessions_per_client", context);
            MaxPromptChars = Fields.Int(map, "max_prompt_chars", context);
            MaxOutputSide = Fields.Int(map, "max_output_side", context);
            MaxWindowFrames = Fields.Int(map, "max_window_frames", context);
        }

        internal static ServerLimits Parse(IDictionary<string, object> map) => new ServerLimits(map);
    }

    /// <summary>§3/§4 the hello reply: the negotiated version and what the server streams.</summary>
    public sealed class HelloReply
    {
        public int Version { get; }
        public string Server { get; }
        public string Model { get; }
        public int FrameWidth { get; }
        public int FrameHeight { get; }
        public double Fps { get; }
        public int ChunkFrames { get; }
        public double HeartbeatSeconds { get; }
        public double ClientTimeoutSeconds { get; }
        public ServerLimits Limits { get; }

        HelloReply(Reply reply)
        {
            const string context = "hello reply";
            var map = reply.Map;
            Version = Fields.SmallInt(map, "version", context);
            Server = Fields.OptionalStr(map, "server", context) ?? "";
            Model = Fields.OptionalStr(map, "model", context) ?? "";
            FrameWidth = Fields.SmallInt(map, "frame_width", context);
            FrameHeight = Fields.SmallInt(map, "frame_height", context);
            Fps = Fields.Number(map, "fps", context);
            ChunkFrames = Fields.SmallInt(map, "chunk_frames", context);
            HeartbeatSeconds = Fields.Number(map, "heartbeat_s", context, ProtocolConstants.DefaultHeartbeatSeconds);
            ClientTimeoutSeconds = Fields.Number(map, "client_timeout_s", context, ProtocolConstants.DefaultClientTimeoutSeconds);
            Limits = ServerLimits.Parse(Fields.Map(map, "limits", context));
            if (HeartbeatSeconds <= 0)
            {
                throw new ProtocolException(context + ": heartbeat_s must be positive, got " + HeartbeatSeconds);
            }
        }

        public static HelloReply Parse(Reply reply) => new HelloReply(reply);
    }

    /// <summary>§4 the open_session reply: the session id and the stream's actual settings.</summary>
    public sealed class OpenSessionReply
    {
        public long Session { get; }
        public string Policy { get; }
        public int Width { get; }
        public int Height { get; }
        public FrameFormat Format { get; }
        public int Window { get; }
        public Pace Pace { get; }

        OpenSessionReply(Reply reply)
        {
            const string context = "open_session reply";
            var map = reply.Map;
            Session = Fields.Int(map, "session", context);
            Policy = Fields.OptionalStr(map, "policy", context);
            Width = Fields.SmallInt(map, "width", context);
            Height = Fields.SmallInt(map, "height", context);
            Format = WireNames.ParseFormat(Fields.Str(map, "format", context), context);
            Window = Fields.SmallInt(map, "window", context);
            Pace = WireNames.ParsePace(Fields.Str(map, "pace", context), context);
        }

        public static OpenSessionReply Parse(Reply reply) => new OpenSessionReply(reply);
    }

    /// <summary>§5 the header part of a two-part video message.</summary>
    public sealed class FrameHeader
    {
        public long Session { get; }
        public long Chunk { get; }
        /// <summary>Frame index in the stream: increases, and skips frames the client was too slow for.</summary>
        public long Frame { get; }
        public int FrameInChunk { get; }
        public long PromptId { get; }
        public long PromptSeq { get; }
        public int Width { get; }
        public int Height { get; }
        public FrameFormat Format { get; }
        public double TGenerated { get; }
        public double TSent { get; }
        public long Dropped { get; }

        FrameHeader(IDictionary<string, object> map)
        {
            const string context = "frame header";
            Session = Fields.Int(map, "session", context);
            Chunk = Fields.Int(map, "chunk", context);
            Frame = Fields.Int(map, "frame", context);
            FrameInChunk = Fields.SmallInt(map, "frame_in_chunk", context);
            PromptId = Fields.Int(map, "prompt_id", context);
            PromptSeq = Fields.Int(map, "prompt_seq", context);
            Width = Fields.SmallInt(map, "width", context);
            Height = Fields.SmallInt(map, "height", context);
            Format = WireNames.ParseFormat(Fields.Str(map, "format", context), context);
            TGenerated = Fields.Number(map, "t_generated", context);
            TSent = Fields.Number(map, "t_sent", context);
            Dropped = Fields.Int(map, "dropped", context, 0);
            if (Width < 1 || Height < 1)
            {
                throw new ProtocolException(context + ": size " + Width + "x" + Height + " is not a picture");
            }
        }

        public static FrameHeader Parse(IDictionary<string, object> map) => new FrameHeader(map);

        /// <summary>Bytes a raw_rgb payload of this size must have.</summary>
        public long RawRgbBytes => (long)Width * Height * ProtocolConstants.RawRgbBytesPerPixel;
    }

    /// <summary>Which request an applied event answers.</summary>
    public enum AppliedKind
    {
        Prompt,
        SceneCut,
        SeedImage,
    }

    /// <summary>
    /// §5 prompt_applied, scene_cut_applied and seed_image_applied: the request with this <c>seq</c> took effect
    /// at <c>chunk</c> (its first frame is <c>frame</c>). Sent before that chunk's frames.
    /// </summary>
    public sealed class AppliedEvent : WorldEvent
    {
        public AppliedKind Kind { get; }
        public long Session { get; }
        public long Seq { get; }
        public long Chunk { get; }
        public long Frame { get; }
        public long PromptId { get; }
        /// <summary>Only for prompts.</summary>
        public PromptSource? Source { get; }

        AppliedEvent(AppliedKind kind, IDictionary<string, object> map, string context)
        {
            Kind = kind;
            Session = Fields.Int(map, "session", context);
            Seq = Fields.Int(map, "seq", context);
            Chunk = Fields.Int(map, "chunk", context);
            Frame = Fields.Int(map, "frame", context);
            PromptId = Fields.Int(map, "prompt_id", context);
            string source = Fields.OptionalStr(map, "source", context);
            Source = source == null ? (PromptSource?)null : WireNames.ParseSource(source, context);
        }

        internal static AppliedEvent Parse(AppliedKind kind, IDictionary<string, object> map, string type)
            => new AppliedEvent(kind, map, type + " event");
    }

    /// <summary>§5 stats, about once a second per session.</summary>
    public sealed class SessionStats : WorldEvent
    {
        public long Session { get; }
        public long Chunks { get; }
        public long FramesGenerated { get; }
        public long FramesSent { get; }
        public long FramesDropped { get; }
        /// <summary>Frames generated per second over the last interval.</summary>
        public double GeneratedFps { get; }
        public double ChunkMs { get; }
        public long InFlight { get; }
        public bool Paused { get; }
        public long MemoryFrames { get; }

        /// <summary>
        /// Client side: the newest frame index of this session received when the stats message arrived (-1: none).
        /// The server generated frames up to <c>FramesGenerated - 1</c>, so the difference is the client's lag.
        /// </summary>
        public long NewestFrameReceived { get; }

        SessionStats(IDictionary<string, object> map, long newestFrameReceived)
        {
            const string context = "stats event";
            Session = Fields.Int(map, "session", context);
            Chunks = Fields.Int(map, "chunks", context);
            FramesGenerated = Fields.Int(map, "frames_generated", context);
            FramesSent = Fields.Int(map, "frames_sent", context);
            FramesDropped = Fields.Int(map, "frames_dropped", context);
            GeneratedFps = Fields.Number(map, "generated_fps", context);
            ChunkMs = Fields.Number(map, "chunk_ms", context);
            InFlight = Fields.Int(map, "in_flight", context);
            Paused = Fields.Bool(map, "paused", context, false);
            MemoryFrames = Fields.Int(map, "memory_frames", context, 0);
            NewestFrameReceived = newestFrameReceived;
        }

        internal static SessionStats Parse(IDictionary<string, object> map, long newestFrameReceived)
            => new SessionStats(map, newestFrameReceived);

        /// <summary>Frames the client is behind the generator: newest generated index − newest received index.</summary>
        public long Lag => FramesGenerated - 1 - NewestFrameReceived;
    }
}
