namespace Gf.Client.Core.Protocol
{
    /// <summary>
    /// The protocol numbers, copied from <c>bridge/protocol.py</c> (PROTOCOL.md §3, §6, §7, §8). The C# side keeps
    /// them here and nowhere else; the tests check them against the live server's hello reply.
    /// </summary>
    public static class ProtocolConstants
    {
        /// <summary>The protocol version this client speaks (PROTOCOL.md is version 1).</summary>
        public const int Version = 1;

        /// <summary>Versions listed in <c>hello</c>.</summary>
        public static readonly int[] SupportedVersions = { Version };

        /// <summary>§7: send something at least this often (the hello reply's <c>heartbeat_s</c> overrides it).</summary>
        public const double DefaultHeartbeatSeconds = 1.0;

        /// <summary>§7: the server's default silence before it reaps a client.</summary>
        public const double DefaultClientTimeoutSeconds = 10.0;

        /// <summary>§6: the server's default credit window.</summary>
        public const int DefaultWindowFrames = 8;

        /// <summary>§4: the default <c>jpeg_quality</c>.</summary>
        public const int DefaultJpegQuality = 90;

        /// <summary>§4: <c>client</c> in hello is at most this many characters.</summary>
        public const int MaxClientNameChars = 64;

        /// <summary>§5: ZMQ_MAXMSGSIZE; the client refuses larger incoming messages too.</summary>
        public const long HardMaxMessageBytes = 64L * 1024 * 1024;

        /// <summary>§5 frames: bytes per pixel of a raw_rgb payload.</summary>
        public const int RawRgbBytesPerPixel = 3;

        /// <summary>§1: the routing id is 8-32 bytes; ours is this prefix plus random bytes, like the Python client.</summary>
        public const string RoutingIdPrefix = "gf-";
        public const int RoutingIdRandomBytes = 12;
    }

    /// <summary>The <c>type</c> strings of PROTOCOL.md §4 and §5.</summary>
    public static class MessageTypes
    {
        // Requests (client → server).
        public const string Hello = "hello";
        public const string OpenSession = "open_session";
        public const string Prompt = "prompt";
        public const string SceneCut = "scene_cut";
        public const string SeedImage = "seed_image";
        public const string Pause = "pause";
        public const string Resume = "resume";
        public const string CloseSession = "close_session";
        public const string Ping = "ping";
        public const string AckFrames = "ack_frames";

        // Server → client.
        public const string Reply = "reply";
        public const string Error = "error";
        public const string Frame = "frame";
        public const string PromptApplied = "prompt_applied";
        public const string SceneCutApplied = "scene_cut_applied";
        public const string SeedImageApplied = "seed_image_applied";
        public const string Stats = "stats";
    }

    /// <summary>The <c>code</c> strings of error messages (PROTOCOL.md §5).</summary>
    public static class ErrorCodes
    {
        public const string BadMessage = "bad_message";
        public const string UnknownType = "unknown_type";
        public const string BadField = "bad_field";
        public const string UnsupportedVersion = "unsupported_version";
        public const string NoHello = "no_hello";
        public const string TooLarge = "too_large";
        public const string PromptTooLong = "prompt_too_long";
        public const string SessionLimit = "session_limit";
        public const string UnknownSession = "unknown_session";
        public const string BadImage = "bad_image";
        public const string Internal = "internal";
    }
}
