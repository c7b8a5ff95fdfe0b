using System;

namespace Gf.Client.Core.Protocol
{
    /// <summary>
    /// A server message that is valid msgpack but not what PROTOCOL.md describes (a missing field, a wrong type).
    /// The connection reports it as an event and carries on; it never ends the receive thread.
    /// </summary>
    public sealed class ProtocolException : Exception
    {
        public ProtocolException(string message) : base(message) { }
    }

    /// <summary>The server answered a request with an <c>error</c> message (PROTOCOL.md §5).</summary>
    public sealed class ServerErrorException : Exception
    {
        public ServerError Error { get; }

        public ServerErrorException(ServerError error, string requestType)
            : base("the server refused " + requestType + ": " + error)
        {
            Error = error;
        }

        public string Code => Error.Code;
    }
}
