using System;
using System.Threading.Tasks;
using Gf.Client.Core.Protocol;

namespace Gf.Client.Core
{
    public enum StreamState
    {
        /// <summary>No session (not opened yet, or closed).</summary>
        Idle,
        /// <summary>open_session sent, waiting for the reply.</summary>
        Opening,
        /// <summary>The session is open; frames arrive.</summary>
        Streaming,
        /// <summary>After a reconnect: checking that the server still has the session.</summary>
        Checking,
    }

    /// <summary>
    /// One world session over a <see cref="WorldConnection"/>: opens it, sends prompts and cuts, hands out the
    /// newest frame, and reopens the session (with the newest prompt) when a restarted server no longer knows it.
    ///
    /// Threading: a main-thread object, not thread-safe. Call <see cref="Update"/> once per game frame: it reads the
    /// connection's events and raises this object's C# events synchronously on the calling thread. Use one
    /// WorldStream per connection (it consumes the connection's event queue).
    /// </summary>
    public sealed class WorldStream : IDisposable
    {
        /// <summary>How long Dispose waits for the close_session reply (so the server frees the session at once).</summary>
        static readonly TimeSpan CloseWait = TimeSpan.FromMilliseconds(250);

        readonly WorldConnection connection;
        SessionOptions options;
        Task<OpenSessionReply> opening;
        Task<Reply> checking;
        bool paused;
        bool wanted; // Open was called and not Close: reopen after transport failures

        public WorldStream(WorldConnection connection, SessionOptions options)
        {
            this.connection = connection ?? throw new ArgumentNullException(nameof(connection));
            this.options = options ?? throw new ArgumentNullException(nameof(options));
        }

        public StreamState State { get; private set; }
        /// <summary>The open session's id; 0 when none.</summary>
        public long SessionId { get; private set; }
        /// <summary>The open_session reply (actual size, format, window, pace); null when none.</summary>
        public OpenSessionReply Session { get; private set; }
        /// <summary>The newest prompt sent (the opening one at first): what a reopened session starts from.</summary>
        public string CurrentPrompt => options.Prompt;
        public WorldConnection Connection => connection;

        /// <summary>The session opened (or reopened after a server restart: then the id is a new one).</summary>
        public event Action<OpenSessionReply> Opened;
        /// <summary>A prompt, scene cut or seed image took effect at a chunk.</summary>
        public event Action<AppliedEvent> Applied;
        public event Action<SessionStats> Stats;
        /// <summary>An error the server sent that no request was waiting for.</summary>
        public event Action<ServerError> ServerErrorReceived;
        public event Action<ConnectionEvent> ConnectionChanged;
        /// <summary>
        /// Opening the session failed. After a timeout or a lost connection the stream tries again when the
        /// connection is (re)established; after a server error (e.g. session_limit) it stays Idle until Open is called.
        /// </summary>
        public event Action<Exception> OpenFailed;

        /// <summary>Ask for the session (sent once connected). Its reply arrives through Update → Opened.</summary>
        public void Open()
        {
            wanted = true;
            if (State != StreamState.Idle) return;
            opening = connection.Request(new OpenSessionRequest(options), OpenSessionReply.Parse);
            State = StreamState.Opening;
        }

        /// <summary>Process what arrived: connection events, server events, finished open/check requests.</summary>
        public void Update()
        {
            while (connection.TryGetEvent(out WorldEvent worldEvent))
            {
                Dispatch(worldEvent);
            }
            if (opening != null && opening.IsCompleted) FinishOpening();
            if (checking != null && checking.IsCompleted) FinishChecking();
        }

        /// <summary>The newest frame since the last call, if any. Give it back with <see cref="ReturnFrame"/>.</summary>
        public bool TryTakeFrame(out Frame frame)
        {
            frame = null;
            return SessionId != 0 && connection.FrameSlot(SessionId).TryTake(out frame);
        }

        /// <summary>Recycle a frame's buffer once it was uploaded or copied.</summary>
        public void ReturnFrame(Frame frame)
        {
            if (frame != null) connection.FrameSlot(frame.Header.Session).Return(frame);
        }

        /// <summary>
        /// Switch the world's prompt at the next chunk boundary (§4 prompt). The reply's seq is the seq of the
        /// AppliedEvent that reports the chunk where it took effect.
        /// </summary>
        public Task<Reply> SendPrompt(string text, PromptSource source = PromptSource.Player, bool sceneCut = false)
        {
            if (SessionId == 0) return NotOpen(MessageTypes.Prompt);
            var request = new PromptRequest(SessionId, text, source, sceneCut);
            options = options.WithPrompt(text);
            return connection.Request(request);
        }

        /// <summary>Flush the short-term memory at the next chunk boundary, keeping the prompt.</summary>
        public Task<Reply> SceneCut()
            => SessionId == 0 ? NotOpen(MessageTypes.SceneCut) : connection.Request(SessionRequest.SceneCut(SessionId));

        /// <summary>Continue the world from an image of the game's view (the bytes of a JPEG or PNG file).</summary>
        public Task<Reply> SeedImage(byte[] jpegOrPng)
            => SessionId == 0 ? NotOpen(MessageTypes.SeedImage) : connection.Request(new SeedImageRequest(SessionId, jpegOrPng));

        public Task<Reply> Pause()
        {
            if (SessionId == 0) return NotOpen(MessageTypes.Pause);
            paused = true;
            return connection.Request(SessionRequest.Pause(SessionId));
        }

        public Task<Reply> Resume()
        {
            if (SessionId == 0) return NotOpen(MessageTypes.Resume);
            paused = false;
            return connection.Request(SessionRequest.Resume(SessionId));
        }

        /// <summary>End the session on the server (frees its memory at once); the stream goes back to Idle.</summary>
        public Task<Reply> Close()
        {
            wanted = false;
            if (SessionId == 0) return NotOpen(MessageTypes.CloseSession);
            long session = SessionId;
            Forget();
            connection.ReleaseFrameSlot(session);
            return connection.Request(SessionRequest.Close(session));
        }

        /// <summary>Close the session, waiting briefly for the reply; the connection stays up (dispose it separately).</summary>
        public void Dispose()
        {
            if (SessionId == 0 || connection.State != ConnectionState.Connected) return;
            try
            {
                Close().Wait(CloseWait);
            }
            catch (AggregateException)
            {
                // The server will reap the session after client_timeout_s anyway.
            }
        }

        void Dispatch(WorldEvent worldEvent)
        {
            if (worldEvent is AppliedEvent applied)
            {
                Applied?.Invoke(applied);
            }
            else if (worldEvent is SessionStats stats)
            {
                Stats?.Invoke(stats);
            }
            else if (worldEvent is ServerError error)
            {
                ServerErrorReceived?.Invoke(error);
            }
            else if (worldEvent is ConnectionEvent change)
            {
                if (change.Kind == ConnectionEventKind.Reconnected) CheckSessionAfterReconnect();
                bool up = change.Kind == ConnectionEventKind.Connected || change.Kind == ConnectionEventKind.Reconnected;
                if (up && wanted && State == StreamState.Idle) Open(); // an earlier open failed for want of a server
                ConnectionChanged?.Invoke(change);
            }
        }

        /// <summary>
        /// The server may have restarted (sessions gone) or only the link dropped (sessions kept, thanks to the fixed
        /// routing id). An idempotent request on the session tells which: pause if paused, resume if not.
        /// </summary>
        void CheckSessionAfterReconnect()
        {
            if (SessionId == 0 || State != StreamState.Streaming) return;
            checking = connection.Request(paused ? SessionRequest.Pause(SessionId) : SessionRequest.Resume(SessionId));
            State = StreamState.Checking;
        }

        void FinishOpening()
        {
            Task<OpenSessionReply> done = opening;
            opening = null;
            if (done.Status == TaskStatus.RanToCompletion)
            {
                Session = done.Result;
                SessionId = Session.Session;
                paused = false;
                State = StreamState.Streaming;
                Opened?.Invoke(Session);
                return;
            }
            State = StreamState.Idle;
            Exception error = Unwrap(done.Exception);
            if (error is ServerErrorException) wanted = false; // retrying cannot help; the game must change something
            OpenFailed?.Invoke(error);
            // A timeout while connected: try again now (a request timeout apart, so never a busy loop). While not
            // connected, the next Connected/Reconnected event retries.
            if (wanted && connection.State == ConnectionState.Connected) Open();
        }

        void FinishChecking()
        {
            Task<Reply> done = checking;
            checking = null;
            State = StreamState.Streaming;
            if (done.Status == TaskStatus.RanToCompletion) return; // the server still has the session
            if (Unwrap(done.Exception) is ServerErrorException refused && refused.Code == ErrorCodes.UnknownSession)
            {
                connection.ReleaseFrameSlot(SessionId);
                Forget();
                Open(); // a new session, from the newest prompt
            }
            // Otherwise (a timeout, the link lost again): the next Reconnected event checks again.
        }

        void Forget()
        {
            SessionId = 0;
            Session = null;
            State = StreamState.Idle;
        }

        static Task<Reply> NotOpen(string type)
        {
            var failed = new TaskCompletionSource<Reply>();
            failed.SetException(new InvalidOperationException("cannot send " + type +
                ": the session is not open yet; wait for WorldStream.Opened (State == Streaming)"));
            return failed.Task;
        }

        static Exception Unwrap(AggregateException error)
            => error == null ? new InvalidOperationException("cancelled") : error.GetBaseException();
    }
}
