using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using Gf.Client.Core;
using Gf.Client.Core.Protocol;

namespace Gf.Client.Tests
{
    /// <summary>
    /// `run_tests.sh --soak N`: a realtime session for N seconds, read the way a game reads it (newest frame once per
    /// "game frame" at 60 Hz). Prints frames received per second next to the server's generated_fps, and the lag
    /// (server's newest frame index − newest frame received) at every stats event and at the end.
    /// </summary>
    static class Soak
    {
        const int GameFrameMs = 16; // a 60 Hz main loop

        public static int Run(string endpoint, double seconds)
        {
            using (var connection = LiveTests.Connect(endpoint, "unity-soak"))
            using (var stream = new WorldStream(connection, new SessionOptions("a red ball in the grassland", pace: Pace.Realtime)))
            {
                SessionStats last = null;
                double fpsSum = 0;
                int statsCount = 0;
                long maxLag = 0;
                stream.Stats += stats =>
                {
                    last = stats;
                    if (stats.FramesGenerated > 0 && statsCount++ > 0) // the first interval includes session start-up
                    {
                        fpsSum += stats.GeneratedFps;
                        maxLag = Math.Max(maxLag, stats.Lag);
                    }
                };
                LiveTests.OpenSession(stream);
                long receivedAtStart = connection.FramesReceived;
                long shown = 0;
                var watch = Stopwatch.StartNew();
                while (watch.Elapsed.TotalSeconds < seconds)
                {
                    stream.Update();
                    if (stream.TryTakeFrame(out Frame frame))
                    {
                        shown++;
                        stream.ReturnFrame(frame);
                    }
                    Thread.Sleep(GameFrameMs);
                }
                double elapsed = watch.Elapsed.TotalSeconds;
                long received = connection.FramesReceived - receivedAtStart;
                long newest = connection.FrameSlot(stream.SessionId).NewestIndex;
                // The final lag: read one more stats event, which the server sends after the frames of its last chunk.
                SessionStats before = last;
                LiveTests.Pump(stream, () => last != before, "a final stats event");
                var inv = CultureInfo.InvariantCulture;
                Console.WriteLine(string.Format(inv,
                    "soak {0:0.0} s: received {1} frames = {2:0.00} frames/s; server generated_fps mean {3:0.00} over {4} intervals; " +
                    "frames_generated {5}, frames_dropped {6}; main thread (60 Hz loop) showed {7} frames = {8:0.00}/s; " +
                    "lag at stats: max {9}, final {10} (server frame {11} - newest received {12})",
                    elapsed, received, received / elapsed, statsCount > 1 ? fpsSum / (statsCount - 1) : 0, statsCount - 1,
                    last.FramesGenerated, last.FramesDropped, shown, shown / elapsed, maxLag, last.Lag,
                    last.FramesGenerated - 1, last.NewestFrameReceived));
                bool keptUp = last.FramesDropped == 0 && last.Lag <= SessionOptions.DefaultClientWindow;
                Console.WriteLine(keptUp ? "soak: no backlog" : "soak: BACKLOG (frames dropped or lag above the window)");
                return keptUp ? 0 : 1;
            }
        }
    }
}
