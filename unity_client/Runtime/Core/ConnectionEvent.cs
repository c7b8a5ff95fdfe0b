using Gf.Client.Core.Protocol;

namespace Gf.Client.Core
{
    public enum ConnectionState
    {
        /// <summary>Sending hello until the server answers.</summary>
        Connecting,
        /// <summary>hello answered; requests flow.</summary>
        Connected,
        /// <summary>No message from the server for a few heartbeats; sending hello until it answers again.</summary>
        Lost,
        /// <summary>The server refused hello (no common protocol version) or the transport failed; see the event.</summary>
        Failed,
        /// <summary>Disposed.</summary>
        Stopped,
    }

    public enum ConnectionEventKind
    {
        /// <summary>The first hello was answered.</summary>
        Connected,
        /// <summary>hello was answered again after a loss or after the server forgot us (no_hello). The server may
        /// have restarted: sessions may be gone (<see cref="WorldStream"/> checks and reopens its own).</summary>
        Reconnected,
        /// <summary>No message from the server for <c>DeadAfterHeartbeats</c> heartbeats.</summary>
        Lost,
        /// <summary>A server message the client could not read (reported, skipped).</summary>
        BadServerMessage,
        /// <summary>The connection cannot go on (see <see cref="ConnectionEvent.Detail"/>).</summary>
        Failed,
    }

    /// <summary>A change of the connection, delivered in order with the server's events.</summary>
    public sealed class ConnectionEvent : WorldEvent
    {
        public ConnectionEventKind Kind { get; }
        public string Detail { get; }
        /// <summary>The hello reply for Connected and Reconnected; otherwise null.</summary>
        public HelloReply Hello { get; }

        public ConnectionEvent(ConnectionEventKind kind, string detail, HelloReply hello = null)
        {
            Kind = kind;
            Detail = detail;
            Hello = hello;
        }

        public override string ToString() => Kind + ": " + Detail;
    }

    /// <summary>A request failed because the server stopped answering (its reply may never come).</summary>
    public sealed class ConnectionLostException : System.Exception
    {
        public ConnectionLostException(string message) : base(message) { }
    }
}
