using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using Gf.Client.Core;
using Gf.Client.Core.Protocol;
using Gf.Client.Core.Transport;
using static Gf.Client.Tests.TestHarness;

namespace Gf.Client.Tests
{
    /// <summary>The client against a live <c>gf serve --model micro-random</c> (64x64 frames, 3 per chunk, 16 fps).</summary>
    static class LiveTests
    {
        const int ModelSide = 64;
        const int FramesToDecode = 24;
        static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
        // A tiny PNG (8x8, one colour), made with Pillow.
        const string TinyPng = "89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc0000001449444154789c633ca1a1c1800d3061151db41200e03801289f25090a0000000049454e44ae426082";

        public static void Register(TestHarness tests, string endpoint, string gfCommand)
        {
            tests.Add("live_handshake_negotiates_version_1", () => Handshake(endpoint));
            tests.Add("live_open_session_and_decode_24_frames_in_order", () => OpenAndDecodeFrames(endpoint));
            tests.Add("live_prompt_is_acknowledged_with_the_chunk_where_it_applied", () => PromptApplied(endpoint));
            tests.Add("live_scene_cut_and_seed_image_are_applied", () => SceneCutAndSeed(endpoint));
            tests.Add("live_server_errors_fail_the_request_with_the_code", () => ServerErrors(endpoint));
            tests.Add("live_shutdown_joins_the_receive_thread_within_1s", () => CleanShutdown(endpoint));
            tests.Add("live_reaped_client_says_hello_again_and_reopens_its_session", () => ReapedClient(endpoint));
            tests.Add("requests_time_out_when_no_server_answers", NoServer);
            if (gfCommand != null)
            {
                tests.Add("live_reconnects_and_reopens_after_a_server_restart", () => ReconnectAfterRestart(gfCommand));
                tests.Add("live_curve_keys_from_gf_keys_authenticate", () => CurveAuthentication(gfCommand));
                tests.Add("live_open_waits_for_a_server_that_starts_later", () => ServerStartsLater(gfCommand));
            }
        }

        // ------------------------------------------------------------------------------------------ tests
        static void Handshake(string endpoint)
        {
            using (var connection = Connect(endpoint, "unity-test-hello"))
            {
                HelloReply hello = connection.Hello;
                Equal(ProtocolConstants.Version, hello.Version, "negotiated version");
                Equal("gf", hello.Server, "server");
                Equal(ModelSide, hello.FrameWidth, "frame_width");
                Equal(ModelSide, hello.FrameHeight, "frame_height");
                Equal(3, hello.ChunkFrames, "chunk_frames");
                Equal(16.0, hello.Fps, "fps");
                Equal(ProtocolConstants.DefaultHeartbeatSeconds, hello.HeartbeatSeconds, "heartbeat_s");
                Check(hello.Limits.MaxWindowFrames >= SessionOptions.DefaultClientWindow, "window limit");
                Check(connection.TryGetEvent(out WorldEvent first) && first is ConnectionEvent c &&
                    c.Kind == ConnectionEventKind.Connected, "the first event says Connected");
            }
        }

        static void OpenAndDecodeFrames(string endpoint)
        {
            using (var connection = Connect(endpoint, "unity-test-frames"))
            using (var stream = new WorldStream(connection, new SessionOptions("a red ball in the grassland", seed: 1, pace: Pace.Max)))
            {
                OpenReply reply = Open(stream);
                Check(reply.Session.Session >= 1, "session id");
                Equal(ModelSide, reply.Session.Width, "width");
                Equal(FrameFormat.RawRgb, reply.Session.Format, "format");
                Equal(Pace.Max, reply.Session.Pace, "pace");

                long previous = -1;
                var indices = new List<long>();
                Pump(stream, () =>
                {
                    if (stream.TryTakeFrame(out Frame frame))
                    {
                        Equal((long)ModelSide * ModelSide * 3, (long)frame.Payload.Length, "payload bytes");
                        Equal(ModelSide, frame.Header.Width, "header width");
                        Check(frame.Header.Frame > previous, "frame " + frame.Header.Frame + " after " + previous);
                        Equal(stream.SessionId, frame.Header.Session, "frame session");
                        Check(NotBlank(frame.Payload), "frame " + frame.Header.Frame + " has pixels");
                        previous = frame.Header.Frame;
                        indices.Add(previous);
                        stream.ReturnFrame(frame);
                    }
                    return indices.Count >= FramesToDecode;
                }, "24 frames");
                Check(connection.FramesReceived >= FramesToDecode, "frames received " + connection.FramesReceived);
                Console.WriteLine("    decoded frames " + string.Join(",", indices) + "; received " + connection.FramesReceived);
            }
        }

        static void PromptApplied(string endpoint)
        {
            using (var connection = Connect(endpoint, "unity-test-prompt"))
            using (var stream = new WorldStream(connection, new SessionOptions("a red ball in the grassland", pace: Pace.Realtime)))
            {
                Open(stream);
                WaitForFrame(stream, _ => true, "a first frame");
                AppliedEvent applied = null;
                stream.Applied += e => { if (e.Kind == AppliedKind.Prompt) applied = e; };
                Reply reply = stream.SendPrompt("the desert at night", PromptSource.Npc).Result;
                Equal(stream.SessionId, reply.Session, "reply session");
                Pump(stream, () => applied != null && applied.Seq == reply.Seq, "prompt_applied for seq " + reply.Seq);
                Equal(PromptSource.Npc, applied.Source.Value, "source");
                Equal(stream.SessionId, applied.Session, "session");
                Check(applied.Chunk >= 1, "applied at chunk " + applied.Chunk + ", after the opening chunk");
                Check(applied.PromptId >= 1, "prompt_id " + applied.PromptId);
                Equal("the desert at night", stream.CurrentPrompt, "current prompt");
                Frame after = WaitForFrame(stream, f => f.Header.PromptSeq >= reply.Seq, "a frame under the new prompt");
                Check(after.Header.Chunk >= applied.Chunk, "frame of chunk " + after.Header.Chunk + " under a prompt applied at " + applied.Chunk);
                Equal(applied.PromptId, after.Header.PromptId, "prompt_id of the frame");
                Console.WriteLine("    prompt seq " + reply.Seq + " applied at chunk " + applied.Chunk + " (frame " + applied.Frame + ")");
            }
        }

        static void SceneCutAndSeed(string endpoint)
        {
            using (var connection = Connect(endpoint, "unity-test-cut"))
            using (var stream = new WorldStream(connection, new SessionOptions("a red ball in the grassland", pace: Pace.Max)))
            {
                Open(stream);
                var applied = new List<AppliedEvent>();
                stream.Applied += applied.Add;
                Reply cut = stream.SceneCut().Result;
                Pump(stream, () => applied.Exists(e => e.Kind == AppliedKind.SceneCut && e.Seq == cut.Seq), "scene_cut_applied");
                Reply seed = stream.SeedImage(Hex(TinyPng)).Result;
                Pump(stream, () => applied.Exists(e => e.Kind == AppliedKind.SeedImage && e.Seq == seed.Seq), "seed_image_applied");
                AppliedEvent cutEvent = applied.Find(e => e.Seq == cut.Seq);
                AppliedEvent seedEvent = applied.Find(e => e.Seq == seed.Seq);
                Check(seedEvent.Chunk >= cutEvent.Chunk, "the seed applied at or after the cut");
                var refused = Throws<ServerErrorException>(() => Unwrap(() => stream.SeedImage(new byte[] { 1, 2, 3 }).Wait()), "a bad image");
                Equal(ErrorCodes.BadImage, refused.Code, "error code");
            }
        }

        static void ServerErrors(string endpoint)
        {
            using (var connection = Connect(endpoint, "unity-test-errors"))
            {
                var unknown = Throws<ServerErrorException>(
                    () => Unwrap(() => connection.Request(SessionRequest.Pause(424242)).Wait()), "an unknown session");
                Equal(ErrorCodes.UnknownSession, unknown.Code, "error code");
                Equal("session", unknown.Error.Field, "field");
                var tooLong = Throws<ServerErrorException>(() => Unwrap(() => connection.Request(
                    new OpenSessionRequest(new SessionOptions(new string('w', 600)))).Wait()), "a 600-character prompt");
                Equal(ErrorCodes.PromptTooLong, tooLong.Code, "error code");
                Check(connection.Request(new PingRequest(1.5)).Result.Fields.ContainsKey("server_time"), "ping reply");
            }
        }

        static void CleanShutdown(string endpoint)
        {
            var connection = Connect(endpoint, "unity-test-shutdown");
            var stream = new WorldStream(connection, new SessionOptions("a red ball in the grassland", pace: Pace.Max));
            Open(stream);
            WaitForFrame(stream, _ => true, "a frame");
            long session = stream.SessionId;
            stream.Dispose(); // closes the session on the server
            var closed = Throws<ServerErrorException>(
                () => Unwrap(() => connection.Request(SessionRequest.Pause(session)).Wait()), "pausing a closed session");
            Equal(ErrorCodes.UnknownSession, closed.Code, "the closed session is gone");
            var late = connection.Request(new PingRequest(0)); // may still be waiting when the connection stops
            var watch = Stopwatch.StartNew();
            bool joined = connection.Stop();
            watch.Stop();
            Check(joined, "the receive thread ended");
            Check(!connection.IsRunning, "the receive thread is not alive");
            Check(watch.Elapsed < WorldConnection.JoinTimeout, "Stop took " + watch.ElapsedMilliseconds + " ms");
            Equal(ConnectionState.Stopped, connection.State, "state");
            Check(late.IsCompleted, "a request still waiting at Stop is completed (failed), not left hanging");
            Throws<InvalidOperationException>(() => Unwrap(() => connection.Request(new PingRequest(0)).Wait()), "a request after Stop");
            Console.WriteLine("    Stop() joined the receive thread in " + watch.Elapsed.TotalMilliseconds.ToString("0.0") + " ms");
        }

        static void NoServer()
        {
            int port = FreePort();
            var options = new ConnectionOptions("tcp://127.0.0.1:" + port, "unity-test-none", requestTimeoutSeconds: 0.5);
            using (var connection = new WorldConnection(options))
            {
                connection.Start();
                var watch = Stopwatch.StartNew();
                Throws<TimeoutException>(() => Unwrap(() => connection.Request(new PingRequest(0)).Wait()), "a request with no server");
                Check(watch.Elapsed < TimeSpan.FromSeconds(3), "timed out after " + watch.ElapsedMilliseconds + " ms");
                Equal(ConnectionState.Connecting, connection.State, "state");
            }
        }

        /// <summary>The run script starts the server with --client-timeout 5: a 6.5 s stall gets the client reaped.</summary>
        static void ReapedClient(string endpoint)
        {
            using (var connection = Connect(endpoint, "unity-test-reaped"))
            using (var stream = new WorldStream(connection, new SessionOptions("a red ball in the grassland", pace: Pace.Realtime)))
            {
                var changes = new List<ConnectionEventKind>();
                stream.ConnectionChanged += e => changes.Add(e.Kind);
                long first = Open(stream).Session.Session;
                WaitForFrame(stream, _ => true, "a frame");
                double timeout = connection.Hello.ClientTimeoutSeconds;
                Check(timeout <= 6, "the server reaps after " + timeout + " s; run it with --client-timeout 5");
                connection.SimulateStall(TimeSpan.FromSeconds(timeout + 1.5));
                Thread.Sleep(TimeSpan.FromSeconds(timeout + 1.5));
                var reopened = new List<OpenSessionReply>();
                stream.Opened += reopened.Add;
                Pump(stream, () => reopened.Count == 1 && stream.State == StreamState.Streaming, "the session to be reopened");
                Check(changes.Contains(ConnectionEventKind.Reconnected), "said hello again: " + string.Join(",", changes));
                Check(reopened[0].Session != first, "a new session id (" + reopened[0].Session + ")");
                WaitForFrame(stream, f => f.Header.Session == reopened[0].Session, "a frame of the new session");
            }
        }

        static void ReconnectAfterRestart(string gfCommand)
        {
            int port = FreePort();
            string endpoint = "tcp://127.0.0.1:" + port;
            Process server = LiveServer.Start(gfCommand, endpoint);
            try
            {
                using (var connection = Connect(endpoint, "unity-test-reconnect"))
                using (var stream = new WorldStream(connection, new SessionOptions("a red ball in the grassland", pace: Pace.Realtime)))
                {
                    var changes = new List<ConnectionEventKind>();
                    stream.ConnectionChanged += e => changes.Add(e.Kind);
                    int opened = 0;
                    stream.Opened += _ => opened++;
                    Open(stream);
                    stream.SendPrompt("snow on the hills", PromptSource.Script).Wait();
                    WaitForFrame(stream, _ => true, "a frame from the first server");

                    LiveServer.Stop(server);
                    Pump(stream, () => changes.Contains(ConnectionEventKind.Lost), "the loss to be noticed");
                    server = LiveServer.Start(gfCommand, endpoint);
                    Pump(stream, () => changes.Contains(ConnectionEventKind.Reconnected), "hello again");
                    Pump(stream, () => opened == 2 && stream.State == StreamState.Streaming, "the session to be reopened");
                    Frame frame = WaitForFrame(stream, _ => true, "a frame from the restarted server");
                    Equal(0L, frame.Header.PromptId, "a fresh session (prompt_id 0)");
                    Equal("snow on the hills", stream.CurrentPrompt, "reopened from the newest prompt");
                }
            }
            finally
            {
                LiveServer.Stop(server);
            }
        }

        static void ServerStartsLater(string gfCommand)
        {
            string endpoint = "tcp://127.0.0.1:" + FreePort();
            Process server = null;
            try
            {
                var connection = new WorldConnection(new ConnectionOptions(endpoint, "unity-test-early", requestTimeoutSeconds: 30));
                using (connection)
                using (var stream = new WorldStream(connection, new SessionOptions("a red ball in the grassland")))
                {
                    connection.Start();
                    var reply = new List<OpenSessionReply>();
                    stream.Opened += reply.Add;
                    stream.Open(); // waits in the client until hello is answered
                    Thread.Sleep(500);
                    stream.Update();
                    Equal(StreamState.Opening, stream.State, "opening while no server listens");
                    server = LiveServer.Start(gfCommand, endpoint);
                    Pump(stream, () => reply.Count == 1, "the session once the server is up");
                    WaitForFrame(stream, _ => true, "a frame");
                }
            }
            finally
            {
                LiveServer.Stop(server);
            }
        }

        static void CurveAuthentication(string gfCommand)
        {
            string keys = Path.Combine(Path.GetTempPath(), "gf-unity-keys-" + Guid.NewGuid().ToString("N"));
            Process server = null;
            try
            {
                LiveServer.RunToEnd(gfCommand, "keys --out " + keys + " --clients client");
                string endpoint = "tcp://127.0.0.1:" + FreePort();
                server = LiveServer.Start(gfCommand, endpoint, "--curve-keys " + keys);
                var options = new ConnectionOptions(endpoint, "unity-test-curve", CurveClientKeys.FromFolder(keys, "client"));
                using (var connection = new WorldConnection(options))
                using (var stream = new WorldStream(connection, new SessionOptions("a red ball in the grassland", pace: Pace.Max)))
                {
                    connection.Start();
                    Check(connection.WaitUntilConnected(Patience), "no hello reply over CURVE");
                    Open(stream);
                    WaitForFrame(stream, _ => true, "a frame over CURVE");
                }
            }
            finally
            {
                LiveServer.Stop(server);
                if (Directory.Exists(keys)) Directory.Delete(keys, true);
            }
        }

        // ------------------------------------------------------------------------------------------ helpers
        sealed class OpenReply
        {
            public OpenSessionReply Session;
        }

        public static WorldConnection Connect(string endpoint, string name)
        {
            var connection = new WorldConnection(new ConnectionOptions(endpoint, name));
            connection.Start();
            Check(connection.WaitUntilConnected(Patience), "no hello reply from " + endpoint + " within " + Patience.TotalSeconds + " s");
            return connection;
        }

        public static OpenSessionReply OpenSession(WorldStream stream) => Open(stream).Session;

        static OpenReply Open(WorldStream stream)
        {
            var result = new OpenReply();
            Exception failure = null;
            stream.Opened += reply => result.Session = reply;
            stream.OpenFailed += error => failure = error;
            stream.Open();
            Pump(stream, () => result.Session != null || failure != null, "the open_session reply");
            if (failure != null) throw new CheckFailed("open_session failed: " + failure.Message);
            return result;
        }

        /// <summary>Call stream.Update() (as a game's main loop would) until the condition holds.</summary>
        public static void Pump(WorldStream stream, Func<bool> done, string what)
        {
            var watch = Stopwatch.StartNew();
            while (true)
            {
                stream.Update();
                if (done()) return;
                if (watch.Elapsed > Patience) throw new CheckFailed("waited " + Patience.TotalSeconds + " s for " + what);
                Thread.Sleep(2);
            }
        }

        static Frame WaitForFrame(WorldStream stream, Func<Frame, bool> wanted, string what)
        {
            Frame found = null;
            Pump(stream, () =>
            {
                if (!stream.TryTakeFrame(out Frame frame)) return false;
                if (wanted(frame))
                {
                    found = frame; // kept, not returned: the test reads it after the loop
                    return true;
                }
                stream.ReturnFrame(frame);
                return false;
            }, what);
            return found;
        }

        static bool NotBlank(byte[] pixels)
        {
            for (int i = 1; i < pixels.Length; i++) if (pixels[i] != pixels[0]) return true;
            return false;
        }

        /// <summary>Task.Wait wraps failures in AggregateException; rethrow the first one.</summary>
        static void Unwrap(Action wait)
        {
            try
            {
                wait();
            }
            catch (AggregateException ex)
            {
                throw ex.GetBaseException();
            }
        }

        static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }
    }

    /// <summary>A <c>gf serve</c> process that a test starts and stops itself (for the restart test).</summary>
    static class LiveServer
    {
        public static Process Start(string gfCommand, string endpoint, string extraArguments = "")
        {
            string readyFile = Path.GetTempFileName();
            File.Delete(readyFile);
            var start = new ProcessStartInfo(gfCommand, "serve --model micro-random --bind " + endpoint + " --ready-file " +
                readyFile + " --client-timeout 5 " + extraArguments)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.EnvironmentVariables["OMP_NUM_THREADS"] = "1";
            var process = Process.Start(start);
            process.OutputDataReceived += (_, __) => { };
            process.ErrorDataReceived += (_, __) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var watch = Stopwatch.StartNew();
            while (!File.Exists(readyFile) || new FileInfo(readyFile).Length == 0)
            {
                if (process.HasExited) throw new CheckFailed("gf serve exited with code " + process.ExitCode);
                if (watch.Elapsed > TimeSpan.FromSeconds(60)) throw new CheckFailed("gf serve did not start within 60 s");
                Thread.Sleep(50);
            }
            File.Delete(readyFile);
            return process;
        }

        /// <summary>Run a gf command to its end (e.g. `gf keys`); fails the test on a non-zero exit.</summary>
        public static void RunToEnd(string gfCommand, string arguments)
        {
            var start = new ProcessStartInfo(gfCommand, arguments) { UseShellExecute = false, RedirectStandardOutput = true };
            using (var process = Process.Start(start))
            {
                process.StandardOutput.ReadToEnd();
                if (!process.WaitForExit(60000) || process.ExitCode != 0)
                {
                    throw new CheckFailed("gf " + arguments + " failed");
                }
            }
        }

        public static void Stop(Process process)
        {
            if (process == null || process.HasExited) return;
            process.Kill();
            process.WaitForExit(10000);
        }
    }
}
