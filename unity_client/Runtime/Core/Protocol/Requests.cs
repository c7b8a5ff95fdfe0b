using System;
using System.Collections.Generic;
using Gf.Client.Core.MsgPack;

namespace Gf.Client.Core.Protocol
{
    /// <summary>
    /// A client → server request (PROTOCOL.md §4): one msgpack map <c>{type, seq, ...fields}</c> in one ZeroMQ
    /// frame. The connection assigns <c>seq</c> when it sends the request. Requests are immutable and validate their
    /// arguments when built, so a bad argument fails in the caller's code, not on the wire.
    /// </summary>
    public abstract class Request
    {
        /// <summary>The wire <c>type</c>.</summary>
        public abstract string Type { get; }

        /// <summary>The session this request is about; 0 when none.</summary>
        public virtual long Session => 0;

        /// <summary>The message bytes with the given <c>seq</c>.</summary>
        public byte[] Encode(long seq)
        {
            var fields = new List<KeyValuePair<string, object>>();
            AddFields(fields);
            var writer = new MsgPackWriter();
            writer.WriteMapHeader(2 + fields.Count);
            writer.WriteString("type");
            writer.WriteString(Type);
            writer.WriteString("seq");
            writer.WriteInt(seq);
            foreach (var field in fields)
            {
                writer.WriteString(field.Key);
                writer.WriteValue(field.Value);
            }
            return writer.ToArray();
        }

        /// <summary>The fields after <c>type</c> and <c>seq</c>, in wire order.</summary>
        protected abstract void AddFields(List<KeyValuePair<string, object>> fields);

        protected static KeyValuePair<string, object> Field(string name, object value)
            => new KeyValuePair<string, object>(name, value);

        protected static long CheckSession(long session)
        {
            if (session < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(session), session,
                    "session ids start at 1; use the id from the open_session reply");
            }
            return session;
        }

        protected static string CheckText(string text, string name)
        {
            if (text == null || text.Trim().Length == 0)
            {
                throw new ArgumentException("the " + name + " is empty; give the words that describe the world", name);
            }
            return text;
        }
    }

    /// <summary>§3: the first request; lists the versions this client speaks.</summary>
    public sealed class HelloRequest : Request
    {
        public string ClientName { get; }

        public HelloRequest(string clientName)
        {
            if (string.IsNullOrEmpty(clientName) || clientName.Length > ProtocolConstants.MaxClientNameChars)
            {
                throw new ArgumentException("the client name must have 1 to " + ProtocolConstants.MaxClientNameChars +
                    " characters, got '" + clientName + "'", nameof(clientName));
            }
            ClientName = clientName;
        }

        public override string Type => MessageTypes.Hello;

        protected override void AddFields(List<KeyValuePair<string, object>> fields)
        {
            var versions = new object[ProtocolConstants.SupportedVersions.Length];
            for (int i = 0; i < versions.Length; i++) versions[i] = (long)ProtocolConstants.SupportedVersions[i];
            fields.Add(Field("versions", versions));
            fields.Add(Field("client", ClientName));
        }
    }

    /// <summary>§4 open_session, built from <see cref="SessionOptions"/>.</summary>
    public sealed class OpenSessionRequest : Request
    {
        public SessionOptions Options { get; }

        public OpenSessionRequest(SessionOptions options)
        {
            Options = options ?? throw new ArgumentNullException(nameof(options));
        }

        public override string Type => MessageTypes.OpenSession;

        protected override void AddFields(List<KeyValuePair<string, object>> fields)
        {
            fields.Add(Field("prompt", Options.Prompt));
            fields.Add(Field("seed", Options.Seed));
            if (Options.Policy != null) fields.Add(Field("policy", Options.Policy));
            fields.Add(Field("format", WireNames.Of(Options.Format)));
            if (Options.Width > 0)
            {
                fields.Add(Field("width", Options.Width));
                fields.Add(Field("height", Options.Height));
            }
            fields.Add(Field("jpeg_quality", Options.JpegQuality));
            fields.Add(Field("window", Options.Window));
            fields.Add(Field("pace", WireNames.Of(Options.Pace)));
        }
    }

    /// <summary>§4 prompt: switch the world's prompt at the next chunk boundary.</summary>
    public sealed class PromptRequest : Request
    {
        readonly long session;

        public string Text { get; }
        public PromptSource Source { get; }
        public bool SceneCut { get; }

        public PromptRequest(long session, string text, PromptSource source = PromptSource.Player, bool sceneCut = false)
        {
            this.session = CheckSession(session);
            Text = CheckText(text, nameof(text));
            Source = source;
            SceneCut = sceneCut;
        }

        public override string Type => MessageTypes.Prompt;
        public override long Session => session;

        protected override void AddFields(List<KeyValuePair<string, object>> fields)
        {
            fields.Add(Field("session", session));
            fields.Add(Field("text", Text));
            fields.Add(Field("source", WireNames.Of(Source)));
            fields.Add(Field("scene_cut", SceneCut));
        }
    }

    /// <summary>§4 seed_image: the world continues from a JPEG or PNG of the game's view.</summary>
    public sealed class SeedImageRequest : Request
    {
        readonly long session;

        public byte[] Image { get; }

        public SeedImageRequest(long session, byte[] image)
        {
            this.session = CheckSession(session);
            if (image == null || image.Length == 0)
            {
                throw new ArgumentException("the seed image is empty; pass the bytes of a JPEG or PNG file", nameof(image));
            }
            Image = image;
        }

        public override string Type => MessageTypes.SeedImage;
        public override long Session => session;

        protected override void AddFields(List<KeyValuePair<string, object>> fields)
        {
            fields.Add(Field("session", session));
            fields.Add(Field("image", Image));
        }
    }

    /// <summary>
    /// The requests whose only field is <c>session</c>: scene_cut, pause, resume and close_session.
    /// </summary>
    public sealed class SessionRequest : Request
    {
        readonly string type;
        readonly long session;

        SessionRequest(string type, long session)
        {
            this.type = type;
            this.session = CheckSession(session);
        }

        public static SessionRequest SceneCut(long session) => new SessionRequest(MessageTypes.SceneCut, session);
        public static SessionRequest Pause(long session) => new SessionRequest(MessageTypes.Pause, session);
        public static SessionRequest Resume(long session) => new SessionRequest(MessageTypes.Resume, session);
        public static SessionRequest Close(long session) => new SessionRequest(MessageTypes.CloseSession, session);

        public override string Type => type;
        public override long Session => session;

        protected override void AddFields(List<KeyValuePair<string, object>> fields)
        {
            fields.Add(Field("session", session));
        }
    }

    /// <summary>§4 ping: the heartbeat and a round-trip probe; <c>t</c> is echoed.</summary>
    public sealed class PingRequest : Request
    {
        public double ClientTime { get; }

        public PingRequest(double clientTime)
        {
            ClientTime = clientTime;
        }

        public override string Type => MessageTypes.Ping;

        protected override void AddFields(List<KeyValuePair<string, object>> fields)
        {
            fields.Add(Field("t", ClientTime));
        }
    }

    /// <summary>§6 ack_frames: the one message with no seq and no reply.</summary>
    public static class AckFrames
    {
        public static byte[] Encode(long session, long frame)
        {
            var writer = new MsgPackWriter(64);
            writer.WriteMapHeader(3);
            writer.WriteString("type");
            writer.WriteString(MessageTypes.AckFrames);
            writer.WriteString("session");
            writer.WriteInt(session);
            writer.WriteString("frame");
            writer.WriteInt(frame);
            return writer.ToArray();
        }
    }
}
