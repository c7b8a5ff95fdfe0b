using System;

namespace Gf.Client.Core.Protocol
{
    /// <summary>
    /// What an <c>open_session</c> asks for (PROTOCOL.md §4). Immutable; checked when built, so a bad value fails
    /// here with a message saying what to pass instead of coming back as a server error.
    /// </summary>
    public sealed class SessionOptions
    {
        /// <summary>
        /// Frames sent and not yet acknowledged. Small, because the client only wants the newest picture (§6: 1-3);
        /// 3 keeps the stream flowing while an acknowledgement is on its way.
        /// </summary>
        public const int DefaultClientWindow = 3;

        public string Prompt { get; }
        public long Seed { get; }
        /// <summary>grounded, self_forcing, longlive or full; null = the server's default.</summary>
        public string Policy { get; }
        public FrameFormat Format { get; }
        /// <summary>Output size in pixels; 0 and 0 = the model's own size.</summary>
        public int Width { get; }
        public int Height { get; }
        public int JpegQuality { get; }
        public int Window { get; }
        public Pace Pace { get; }

        public SessionOptions(
            string prompt,
            long seed = 0,
            string policy = null,
            FrameFormat format = FrameFormat.RawRgb,
            int width = 0,
            int height = 0,
            int jpegQuality = ProtocolConstants.DefaultJpegQuality,
            int window = DefaultClientWindow,
            Pace pace = Pace.Realtime)
        {
            if (prompt == null || prompt.Trim().Length == 0)
            {
                throw new ArgumentException("the opening prompt is empty; describe the world to start from", nameof(prompt));
            }
            if (seed < 0) throw new ArgumentOutOfRangeException(nameof(seed), seed, "the seed must be 0 or more");
            if ((width == 0) != (height == 0) || width < 0 || height < 0)
            {
                throw new ArgumentException("give both width and height (at least 1), or 0 and 0 for the model's size; got " +
                    width + "x" + height, nameof(width));
            }
            if (jpegQuality < 1 || jpegQuality > 100)
            {
                throw new ArgumentOutOfRangeException(nameof(jpegQuality), jpegQuality, "the JPEG quality is 1 to 100");
            }
            if (window < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(window), window, "the window is at least 1 frame (1-3 for a game)");
            }
            Prompt = prompt;
            Seed = seed;
            Policy = string.IsNullOrEmpty(policy) ? null : policy;
            Format = format;
            Width = width;
            Height = height;
            JpegQuality = jpegQuality;
            Window = window;
            Pace = pace;
        }

        /// <summary>The same options with another opening prompt (used to reopen a session after a server restart).</summary>
        public SessionOptions WithPrompt(string prompt)
            => new SessionOptions(prompt, Seed, Policy, Format, Width, Height, JpegQuality, Window, Pace);
    }
}
