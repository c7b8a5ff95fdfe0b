using System;
using Gf.Client.Core.Protocol;
using Gf.Client.Core.Transport;

namespace Gf.Client.Core
{
    /// <summary>How a <see cref="WorldConnection"/> reaches the server. Immutable; checked when built.</summary>
    public sealed class ConnectionOptions
    {
        public const string DefaultEndpoint = "tcp://127.0.0.1:5555";
        public const double DefaultRequestTimeoutSeconds = 10.0;
        /// <summary>§7: the server is taken for dead after this many heartbeat intervals without a message from it.</summary>
        public const int DefaultDeadAfterHeartbeats = 3;
        /// <summary>Events kept for the main thread; beyond it the oldest are dropped (a main thread that never reads).</summary>
        public const int DefaultMaxQueuedEvents = 1024;

        public string Endpoint { get; }
        /// <summary>The <c>client</c> name sent in hello (shown in the server's log).</summary>
        public string ClientName { get; }
        /// <summary>CurveZMQ keys, or null for a server without <c>--curve-keys</c>.</summary>
        public CurveClientKeys Curve { get; }
        /// <summary>How long a request may wait for its reply (including waiting for a connection) before it fails.</summary>
        public double RequestTimeoutSeconds { get; }
        public int DeadAfterHeartbeats { get; }
        public int MaxQueuedEvents { get; }
        /// <summary>
        /// True: a chunk's frames (which arrive together) are handed out one frame interval apart, so the game shows
        /// every frame at the stream's fps (adds at most one chunk of latency to the chunk's last frames).
        /// False: the newest frame as soon as it arrives (one frame per chunk at realtime pace).
        /// </summary>
        public bool SmoothPlayback { get; }

        public ConnectionOptions(
            string endpoint = DefaultEndpoint,
            string clientName = "unity",
            CurveClientKeys curve = null,
            double requestTimeoutSeconds = DefaultRequestTimeoutSeconds,
            int deadAfterHeartbeats = DefaultDeadAfterHeartbeats,
            int maxQueuedEvents = DefaultMaxQueuedEvents,
            bool smoothPlayback = true)
        {
            if (string.IsNullOrEmpty(endpoint) || endpoint.IndexOf("://", StringComparison.Ordinal) < 0)
            {
                throw new ArgumentException("the endpoint must look like tcp://HOST:PORT (gf serve prints it), got '" +
                    endpoint + "'", nameof(endpoint));
            }
            if (string.IsNullOrEmpty(clientName) || clientName.Length > ProtocolConstants.MaxClientNameChars)
            {
                throw new ArgumentException("the client name must have 1 to " + ProtocolConstants.MaxClientNameChars +
                    " characters", nameof(clientName));
            }
            if (!(requestTimeoutSeconds > 0))
            {
                throw new ArgumentOutOfRangeException(nameof(requestTimeoutSeconds), requestTimeoutSeconds, "must be positive");
            }
            if (deadAfterHeartbeats < 2)
            {
                throw new ArgumentOutOfRangeException(nameof(deadAfterHeartbeats), deadAfterHeartbeats,
                    "at least 2 heartbeats, or a single late reply would drop the connection");
            }
            if (maxQueuedEvents < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(maxQueuedEvents), maxQueuedEvents, "must be at least 1");
            }
            Endpoint = endpoint;
            ClientName = clientName;
            Curve = curve;
            RequestTimeoutSeconds = requestTimeoutSeconds;
            DeadAfterHeartbeats = deadAfterHeartbeats;
            MaxQueuedEvents = maxQueuedEvents;
            SmoothPlayback = smoothPlayback;
        }
    }
}
