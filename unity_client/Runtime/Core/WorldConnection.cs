using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Gf.Client.Core.MsgPack;
using Gf.Client.Core.Protocol;
using Gf.Client.Core.Transport;

namespace Gf.Client.Core
{
    /// <summary>
    /// The client's connection to <c>gf serve</c>: one DEALER socket driven by one background receive thread.
    ///
    /// The receive thread does all the socket work: it sends hello (again after a loss), sends queued requests and
    /// matches their replies by seq, acknowledges frames after each batch it reads (flow control, PROTOCOL.md §6),
    /// sends a ping whenever nothing was sent for a heartbeat (§7), and notices a silent server.
    ///
    /// Threading: only the receive thread touches the socket. Other threads talk to it through
    ///  - the outbox (requests, ConcurrentQueue) — <see cref="Request{T}"/> may be called from any thread;
    ///  - the event queue (ConcurrentQueue) — <see cref="TryGetEvent"/>, normally from the main thread;
    ///  - one <see cref="LatestFrameSlot"/> per session — <see cref="FrameSlot"/>;
    ///  - a few fields written with Volatile/Interlocked (state, hello reply, counters).
    /// Fields marked "receive thread" below are never touched by any other thread.
    /// </summary>
    public sealed class WorldConnection : IDisposable
    {
        /// <summary>Longest wait for a message before the thread looks at its outbox and timers again.</summary>
        const int PollMs = 5;
        /// <summary>Messages read in one batch before acknowledging and sending (so a flood cannot starve sends).</summary>
        const int MaxMessagesPerBatch = 256;
        /// <summary>Dispose waits this long for the receive thread to end.</summary>
        public static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(1);
        /// <summary>
        /// A session whose frames stopped while the server still counts frames in flight has lost them with a
        /// broken connection (ZeroMQ drops queued messages when a TCP connection breaks); after this long the
        /// client gives the credit back (see <see cref="ForgetInFlight"/>).
        /// </summary>
        const double StalledCreditSeconds = 2.0;
        /// <summary>
        /// ack_frames value that acknowledges everything the server has in flight for a session. Frames lost with a
        /// broken connection are never acknowledged otherwise, and the session's window would stay full for good.
        /// </summary>
        const long ForgetInFlight = long.MaxValue;

        readonly ConnectionOptions options;
        readonly byte[] routingId;
        readonly ConcurrentQueue<PendingRequest> outbox = new ConcurrentQueue<PendingRequest>();
        readonly ConcurrentQueue<WorldEvent> events = new ConcurrentQueue<WorldEvent>();
        readonly ConcurrentDictionary<long, LatestFrameSlot> frameSlots = new ConcurrentDictionary<long, LatestFrameSlot>();
        readonly ManualResetEventSlim connectedSignal = new ManualResetEventSlim(false);
        readonly long clockStart = Stopwatch.GetTimestamp(); // Now() is read by several threads: no Stopwatch instance

        ZmqDealer dealer;  // created in Start, then used by the receive thread only
        Thread thread;
        volatile bool stopRequested;
        int state = (int)ConnectionState.Connecting;
        HelloReply hello;  // Volatile
        long nextSeq;      // Interlocked
        long framesReceived, messagesReceived, badMessages, droppedEvents, roundTripMicros = -1; // Interlocked
        long stallMilliseconds; // Interlocked; test hook

        // Receive thread only.
        readonly List<PendingRequest> unsent = new List<PendingRequest>();
        readonly Dictionary<long, PendingRequest> awaitingReply = new Dictionary<long, PendingRequest>();
        readonly Dictionary<long, double> pingsSent = new Dictionary<long, double>();
        readonly Dictionary<long, long> newestFrame = new Dictionary<long, long>();     // session → frame index
        readonly Dictionary<long, double> lastProgress = new Dictionary<long, double>(); // session → clock
        readonly Dictionary<long, long> toAck = new Dictionary<long, long>();           // this batch
        readonly List<long> scratchKeys = new List<long>();
        readonly PayloadSink payloadSink = new PayloadSink();
        long helloSeq = -1;       // seq of the newest hello sent
        byte[] helloBytes;        // a hello not yet accepted by the socket
        bool everConnected;
        double lastSent = double.NegativeInfinity, lastReceived, lastHelloSent = double.NegativeInfinity;
        double lastPingSent = double.NegativeInfinity;

        public WorldConnection(ConnectionOptions options)
        {
            this.options = options ?? throw new ArgumentNullException(nameof(options));
            routingId = NewRoutingId();
        }

        // ------------------------------------------------------------------------------------------ public API
        public ConnectionOptions Options => options;
        public ConnectionState State => (ConnectionState)Volatile.Read(ref state);
        /// <summary>The newest hello reply (null before the first).</summary>
        public HelloReply Hello => Volatile.Read(ref hello);
        /// <summary>Frames read from the socket (all sessions).</summary>
        public long FramesReceived => Interlocked.Read(ref framesReceived);
        public long MessagesReceived => Interlocked.Read(ref messagesReceived);
        /// <summary>Server messages that could not be read (each also reported as a BadServerMessage event).</summary>
        public long BadMessages => Interlocked.Read(ref badMessages);
        /// <summary>Events dropped because nobody read the queue.</summary>
        public long DroppedEvents => Interlocked.Read(ref droppedEvents);
        /// <summary>The last ping's round-trip time in milliseconds; -1 before the first.</summary>
        public double RoundTripMs { get { long us = Interlocked.Read(ref roundTripMicros); return us < 0 ? -1 : us / 1000.0; } }
        /// <summary>True while the receive thread runs.</summary>
        public bool IsRunning => thread != null && thread.IsAlive;

        /// <summary>
        /// Create the socket, connect it (ZeroMQ connects in the background and keeps reconnecting) and start the
        /// receive thread, which sends hello. Throws at once when libzmq is missing or the endpoint is malformed.
        /// </summary>
        public void Start()
        {
            if (thread != null) throw new InvalidOperationException("the connection was already started");
            dealer = new ZmqDealer(options.Endpoint, routingId, options.Curve);
            thread = new Thread(Run) { Name = "gf-receive", IsBackground = true };
            thread.Start(); // a full fence: from here on only the receive thread uses the socket
        }

        /// <summary>Block until hello is answered (for tools and tests; a game polls <see cref="State"/>).</summary>
        public bool WaitUntilConnected(TimeSpan timeout) => connectedSignal.Wait(timeout);

        /// <summary>
        /// Queue a request; the receive thread sends it once connected. The task completes on another thread with the
        /// parsed reply, or fails with <see cref="ServerErrorException"/>, <see cref="TimeoutException"/> or
        /// <see cref="ConnectionLostException"/>. Any thread.
        /// </summary>
        public Task<T> Request<T>(Request request, Func<Reply, T> parseReply)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            long seq = Interlocked.Increment(ref nextSeq);
            var pending = new PendingRequest<T>(request.Type, seq, request.Encode(seq),
                Now() + options.RequestTimeoutSeconds, parseReply);
            ConnectionState now = State;
            if (now == ConnectionState.Stopped || now == ConnectionState.Failed || thread == null)
            {
                pending.Fail(new InvalidOperationException("cannot send " + request.Type + ": the connection is " +
                    (thread == null ? "not started; call Start()" : now.ToString().ToLowerInvariant())));
                return pending.Task;
            }
            outbox.Enqueue(pending);
            if (!IsRunning) FailQueued(); // the receive thread ended meanwhile: nobody else will
            return pending.Task;
        }

        public Task<Reply> Request(Request request) => Request(request, reply => reply);

        /// <summary>The next event for the main thread, in arrival order.</summary>
        public bool TryGetEvent(out WorldEvent worldEvent) => events.TryDequeue(out worldEvent);

        /// <summary>The newest-frame slot of a session (created on first use; frames of any session land in theirs).</summary>
        public LatestFrameSlot FrameSlot(long session) => frameSlots.GetOrAdd(session, _ => new LatestFrameSlot());

        /// <summary>Forget a closed session's slot.</summary>
        public void ReleaseFrameSlot(long session) => frameSlots.TryRemove(session, out _);

        /// <summary>Stop the receive thread, close the socket; returns whether the thread ended within <see cref="JoinTimeout"/>.</summary>
        public bool Stop()
        {
            stopRequested = true; // the receive thread sees it within one poll (PollMs) and closes the socket itself
            bool joined = thread == null || thread.Join(JoinTimeout);
            if (State != ConnectionState.Failed) Volatile.Write(ref state, (int)ConnectionState.Stopped);
            return joined;
        }

        public void Dispose() => Stop();

        // ------------------------------------------------------------------------------------------ receive thread
        void Run()
        {
            string failure = null;
            try
            {
                lastReceived = Now();
                while (!stopRequested)
                {
                    Turn();
                }
            }
            catch (Exception ex) // a transport failure: report it, fail what waits, end the thread
            {
                failure = ex.GetType().Name + ": " + ex.Message;
            }
            finally
            {
                // The state first, so that Request (any thread) refuses new work before the queue is drained.
                if (failure != null || State == ConnectionState.Failed)
                {
                    Volatile.Write(ref state, (int)ConnectionState.Failed);
                }
                else
                {
                    Volatile.Write(ref state, (int)ConnectionState.Stopped);
                }
                connectedSignal.Reset();
                FailAll(failure == null
                    ? (Exception)new ObjectDisposedException(nameof(WorldConnection), "the connection was closed")
                    : new ConnectionLostException("the connection failed: " + failure));
                dealer.Dispose();
                if (failure != null) Publish(new ConnectionEvent(ConnectionEventKind.Failed, failure));
            }
        }

        /// <summary>
        /// Test hook: the receive thread stops reading and sending for this long, as when the game's process is
        /// suspended (a laptop sleeping, a debugger break). Lets the tests exercise the server's reaping.
        /// </summary>
        internal void SimulateStall(TimeSpan duration) => Interlocked.Exchange(ref stallMilliseconds, (long)duration.TotalMilliseconds);

        /// <summary>One turn: read a batch, acknowledge it, keep the connection alive, send requests, expire them.</summary>
        void Turn()
        {
            long stall = Interlocked.Exchange(ref stallMilliseconds, 0);
            if (stall > 0) Thread.Sleep((int)stall);
            ReceiveBatch();
            double now = Now();
            SendAcks(now);
            KeepAlive(now);
            SendRequests(now);
            ExpireRequests(now);
        }

        void ReceiveBatch()
        {
            for (int i = 0; i < MaxMessagesPerBatch && !stopRequested; i++)
            {
                byte[] first = dealer.Receive(i == 0 ? PollMs : 0, FreshBuffers.Instance, out bool more);
                if (first == null) return;
                lastReceived = Now();
                Interlocked.Increment(ref messagesReceived);
                HandleMessage(first, more);
            }
        }

        void HandleMessage(byte[] first, bool more)
        {
            Dictionary<string, object> map;
            try
            {
                map = MsgPackReader.DecodeMap(first);
            }
            catch (MsgPackException ex)
            {
                DiscardParts(more);
                ReportBadMessage("undecodable server message: " + ex.Message);
                return;
            }
            map.TryGetValue("type", out object typeValue);
            string type = typeValue as string;
            try
            {
                if (type == MessageTypes.Frame && more)
                {
                    HandleFrame(map);
                    return;
                }
                DiscardParts(more);
                switch (type)
                {
                    case MessageTypes.Reply:
                        HandleReply(Reply.Parse(map));
                        break;
                    case MessageTypes.Error:
                        HandleError(ServerError.Parse(map));
                        break;
                    case MessageTypes.PromptApplied:
                        Publish(AppliedEvent.Parse(AppliedKind.Prompt, map, type));
                        break;
                    case MessageTypes.SceneCutApplied:
                        Publish(AppliedEvent.Parse(AppliedKind.SceneCut, map, type));
                        break;
                    case MessageTypes.SeedImageApplied:
                        Publish(AppliedEvent.Parse(AppliedKind.SeedImage, map, type));
                        break;
                    case MessageTypes.Stats:
                        HandleStats(map);
                        break;
                    case MessageTypes.Frame:
                        throw new ProtocolException("a frame header arrived without its payload part");
                    default:
                        // §2: unknown message types are for newer protocol versions; skip them.
                        break;
                }
            }
            catch (ProtocolException ex)
            {
                ReportBadMessage(ex.Message);
            }
        }

        void HandleFrame(Dictionary<string, object> map)
        {
            FrameHeader header;
            try
            {
                header = FrameHeader.Parse(map);
            }
            catch (ProtocolException)
            {
                DiscardParts(true);
                throw;
            }
            LatestFrameSlot slot = FrameSlot(header.Session);
            payloadSink.Slot = slot;
            dealer.Receive(0, payloadSink, out bool more);
            Frame frame = payloadSink.Rented;
            payloadSink.Slot = null;
            payloadSink.Rented = null;
            DiscardParts(more);
            Interlocked.Increment(ref framesReceived);
            NoteFrameArrived(header.Session, header.Frame); // acknowledged even when its payload is bad: it arrived

            if (header.Format == FrameFormat.RawRgb && frame.Payload.Length != header.RawRgbBytes)
            {
                slot.Discard(frame);
                throw new ProtocolException("frame " + header.Frame + ": a " + header.Width + "x" + header.Height +
                    " raw_rgb payload has " + header.RawRgbBytes + " bytes, got " + frame.Payload.Length);
            }
            frame.Header = header;
            frame.ReceivedAt = UnixNow();
            HelloReply current = Hello;
            double interval = options.SmoothPlayback && current != null && current.Fps > 0 ? 1.0 / current.Fps : 0;
            slot.Publish(frame, interval, current != null ? current.ChunkFrames * interval : 0);
        }

        void NoteFrameArrived(long session, long frame)
        {
            if (!newestFrame.TryGetValue(session, out long newest) || frame > newest)
            {
                newestFrame[session] = frame;
                lastProgress[session] = Now();
            }
            if (!toAck.TryGetValue(session, out long pending) || frame > pending) toAck[session] = frame;
        }

        void HandleReply(Reply reply)
        {
            bool handshaking = State == ConnectionState.Connecting || State == ConnectionState.Lost;
            if (reply.Seq == helloSeq || (handshaking && reply.Re == MessageTypes.Hello && !awaitingReply.ContainsKey(reply.Seq)))
            {
                HandleHelloReply(reply);
            }
            else if (pingsSent.TryGetValue(reply.Seq, out double sentAt))
            {
                pingsSent.Remove(reply.Seq);
                Interlocked.Exchange(ref roundTripMicros, (long)((Now() - sentAt) * 1e6));
            }
            else if (awaitingReply.TryGetValue(reply.Seq, out PendingRequest pending))
            {
                awaitingReply.Remove(reply.Seq);
                pending.Complete(reply);
            }
            // Otherwise a late reply to a request that already timed out: nothing waits for it.
        }

        void HandleHelloReply(Reply reply)
        {
            HelloReply parsed = HelloReply.Parse(reply); // a ProtocolException is reported; hello is sent again
            helloSeq = -1;
            Volatile.Write(ref hello, parsed);
            Volatile.Write(ref state, (int)ConnectionState.Connected);
            bool again = everConnected;
            everConnected = true;
            lastReceived = Now();
            if (again) ReleaseCreditAfterReconnect();
            Publish(new ConnectionEvent(again ? ConnectionEventKind.Reconnected : ConnectionEventKind.Connected,
                "protocol " + parsed.Version + " with " + parsed.Server + " (model " + parsed.Model + ", " +
                parsed.FrameWidth + "x" + parsed.FrameHeight + " at " + parsed.Fps + " fps) on " + options.Endpoint, parsed));
            connectedSignal.Set(); // after the event: a waiter finds it queued
        }

        void HandleError(ServerError error)
        {
            long seq = error.Seq ?? -1;
            if (error.Code == ErrorCodes.UnsupportedVersion && !awaitingReply.ContainsKey(seq))
            {
                // §3: no common version. Retrying cannot help; say what each side speaks.
                Volatile.Write(ref state, (int)ConnectionState.Failed);
                string detail = "the server refused hello: " + error + " (this client speaks protocol " +
                    ProtocolConstants.Version + "; update the package or the server)";
                FailAll(new ServerErrorException(error, MessageTypes.Hello));
                Publish(new ConnectionEvent(ConnectionEventKind.Failed, detail));
                stopRequested = true;
                return;
            }
            if (error.Code == ErrorCodes.NoHello)
            {
                // The server does not know us: it reaped us after a silence or it restarted. Say hello again and
                // send the refused request once more after it.
                BeginHandshake();
                if (awaitingReply.TryGetValue(seq, out PendingRequest refused) && !refused.Resent)
                {
                    awaitingReply.Remove(seq);
                    refused.Resent = true;
                    unsent.Insert(0, refused);
                    return;
                }
                pingsSent.Remove(seq);
                return;
            }
            if (awaitingReply.TryGetValue(seq, out PendingRequest pending))
            {
                awaitingReply.Remove(seq);
                pending.Fail(new ServerErrorException(error, pending.Type));
                return;
            }
            if (pingsSent.Remove(seq)) return;
            Publish(error); // not tied to a waiting request (seq nil, or it timed out)
        }

        void HandleStats(Dictionary<string, object> map)
        {
            long session = Fields.Int(map, "session", "stats event");
            long newest = newestFrame.TryGetValue(session, out long n) ? n : -1;
            SessionStats stats = SessionStats.Parse(map, newest);
            double now = Now();
            if (!lastProgress.TryGetValue(session, out double progress))
            {
                lastProgress[session] = progress = now; // a session whose first frames were lost
            }
            if (!stats.Paused && stats.InFlight > 0 && now - progress > StalledCreditSeconds)
            {
                // Frames in flight that never arrive (lost with a broken TCP connection) hold the window full for
                // good; the server then drops every new frame. Give the credit back.
                SendAck(session, ForgetInFlight, now);
                lastProgress[session] = now;
            }
            Publish(stats);
        }

        void SendAcks(double now)
        {
            if (toAck.Count == 0) return;
            foreach (var entry in toAck)
            {
                SendAck(entry.Key, entry.Value, now);
            }
            toAck.Clear();
        }

        void SendAck(long session, long frame, double now)
        {
            if (State != ConnectionState.Connected) return;
            if (dealer.TrySend(AckFrames.Encode(session, frame))) lastSent = now;
        }

        /// <summary>After a reconnect, frames in flight on the broken connection are gone: give their credit back.</summary>
        void ReleaseCreditAfterReconnect()
        {
            double now = Now();
            foreach (long session in lastProgress.Keys)
            {
                SendAck(session, ForgetInFlight, now);
            }
        }

        void KeepAlive(double now)
        {
            HelloReply current = Hello;
            double heartbeat = current != null ? current.HeartbeatSeconds : ProtocolConstants.DefaultHeartbeatSeconds;
            ConnectionState currentState = State;
            if (currentState == ConnectionState.Connecting || currentState == ConnectionState.Lost)
            {
                if (now - lastHelloSent >= heartbeat)
                {
                    // One seq per hello actually sent. ZMQ_IMMEDIATE refuses to queue it until the TCP connection is
                    // up; then the same bytes are tried again on the next turn.
                    if (helloBytes == null)
                    {
                        helloSeq = Interlocked.Increment(ref nextSeq);
                        helloBytes = new HelloRequest(options.ClientName).Encode(helloSeq);
                    }
                    if (dealer.TrySend(helloBytes))
                    {
                        helloBytes = null;
                        lastHelloSent = now;
                        lastSent = now;
                    }
                }
                return;
            }
            if (currentState != ConnectionState.Connected) return;
            if (now - lastReceived > options.DeadAfterHeartbeats * heartbeat)
            {
                Volatile.Write(ref state, (int)ConnectionState.Lost);
                connectedSignal.Reset();
                string detail = "no message from " + options.Endpoint + " for " + (now - lastReceived).ToString("0.0") +
                    " s; reconnecting (is gf serve still running?)";
                FailAwaiting(new ConnectionLostException(detail));
                pingsSent.Clear();
                lastHelloSent = double.NegativeInfinity;
                Publish(new ConnectionEvent(ConnectionEventKind.Lost, detail));
                return;
            }
            // §7: send something every heartbeat; and probe a quiet server so that silence means it is gone.
            bool quietLink = now - lastReceived >= heartbeat && now - lastPingSent >= heartbeat;
            if (now - lastSent >= heartbeat || quietLink)
            {
                long seq = Interlocked.Increment(ref nextSeq);
                if (dealer.TrySend(new PingRequest(UnixNow()).Encode(seq)))
                {
                    pingsSent[seq] = now;
                    lastPingSent = now;
                    lastSent = now;
                }
                PrunePings(now, heartbeat);
            }
        }

        void PrunePings(double now, double heartbeat)
        {
            scratchKeys.Clear();
            foreach (var entry in pingsSent)
            {
                if (now - entry.Value > options.DeadAfterHeartbeats * heartbeat) scratchKeys.Add(entry.Key);
            }
            foreach (long seq in scratchKeys) pingsSent.Remove(seq);
        }

        void BeginHandshake()
        {
            if (State == ConnectionState.Connected)
            {
                Volatile.Write(ref state, (int)ConnectionState.Lost);
                connectedSignal.Reset();
            }
            lastHelloSent = double.NegativeInfinity;
        }

        void SendRequests(double now)
        {
            while (outbox.TryDequeue(out PendingRequest queued))
            {
                unsent.Add(queued);
            }
            if (State != ConnectionState.Connected) return; // requests wait for hello (until their deadline)
            long maxBytes = Hello.Limits.MaxMessageBytes;
            while (unsent.Count > 0)
            {
                PendingRequest next = unsent[0];
                if (next.Bytes.Length > maxBytes)
                {
                    unsent.RemoveAt(0);
                    next.Fail(new ArgumentException("the " + next.Type + " request has " + next.Bytes.Length +
                        " bytes; the server accepts at most " + maxBytes + " (limits.max_message_bytes): send less" +
                        (next.Type == MessageTypes.SeedImage ? ", e.g. a smaller or more compressed JPEG" : "")));
                    continue;
                }
                if (!dealer.TrySend(next.Bytes)) return; // the send queue is full: next turn
                unsent.RemoveAt(0);
                awaitingReply[next.Seq] = next;
                lastSent = now;
            }
        }

        void ExpireRequests(double now)
        {
            for (int i = unsent.Count - 1; i >= 0; i--)
            {
                PendingRequest request = unsent[i];
                if (now < request.Deadline) continue;
                unsent.RemoveAt(i);
                request.Fail(new TimeoutException("could not send " + request.Type + ": no connection to " +
                    options.Endpoint + " within " + options.RequestTimeoutSeconds + " s; is gf serve running there?"));
            }
            if (awaitingReply.Count == 0) return;
            scratchKeys.Clear();
            foreach (var entry in awaitingReply)
            {
                if (now >= entry.Value.Deadline) scratchKeys.Add(entry.Key);
            }
            foreach (long seq in scratchKeys)
            {
                PendingRequest request = awaitingReply[seq];
                awaitingReply.Remove(seq);
                request.Fail(new TimeoutException("no reply to " + request.Type + " (seq " + seq + ") from " +
                    options.Endpoint + " within " + options.RequestTimeoutSeconds + " s"));
            }
        }

        void FailAwaiting(Exception reason)
        {
            foreach (PendingRequest request in awaitingReply.Values) request.Fail(reason);
            awaitingReply.Clear();
        }

        /// <summary>Fail requests queued after the receive thread ended (called by the requesting thread).</summary>
        void FailQueued()
        {
            while (outbox.TryDequeue(out PendingRequest queued))
            {
                queued.Fail(new InvalidOperationException("cannot send " + queued.Type + ": the connection is " +
                    State.ToString().ToLowerInvariant()));
            }
        }

        void FailAll(Exception reason)
        {
            FailAwaiting(reason);
            while (outbox.TryDequeue(out PendingRequest queued)) unsent.Add(queued);
            foreach (PendingRequest request in unsent) request.Fail(reason);
            unsent.Clear();
        }

        void DiscardParts(bool more)
        {
            while (more)
            {
                if (dealer.Receive(0, FreshBuffers.Instance, out more) == null) return;
            }
        }

        void ReportBadMessage(string detail)
        {
            Interlocked.Increment(ref badMessages);
            Publish(new ConnectionEvent(ConnectionEventKind.BadServerMessage, detail));
        }

        void Publish(WorldEvent worldEvent)
        {
            events.Enqueue(worldEvent);
            while (events.Count > options.MaxQueuedEvents && events.TryDequeue(out _))
            {
                Interlocked.Increment(ref droppedEvents);
            }
        }

        // ------------------------------------------------------------------------------------------ helpers
        /// <summary>Monotonic seconds since the connection was built.</summary>
        double Now() => (Stopwatch.GetTimestamp() - clockStart) / (double)Stopwatch.Frequency;

        static double UnixNow() => (DateTime.UtcNow - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalSeconds;

        static byte[] NewRoutingId()
        {
            byte[] prefix = Encoding.ASCII.GetBytes(ProtocolConstants.RoutingIdPrefix);
            var id = new byte[prefix.Length + ProtocolConstants.RoutingIdRandomBytes];
            Buffer.BlockCopy(prefix, 0, id, 0, prefix.Length);
            var random = new byte[ProtocolConstants.RoutingIdRandomBytes];
            using (var generator = RandomNumberGenerator.Create())
            {
                generator.GetBytes(random);
            }
            Buffer.BlockCopy(random, 0, id, prefix.Length, random.Length);
            return id;
        }
    }
}
