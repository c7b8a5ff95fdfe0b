using System;
using System.Globalization;

namespace Gf.Client.Tests
{
    /// <summary>
    /// CoreTests.exe [--endpoint tcp://HOST:PORT] [--gf PATH] [--filter TEXT] [--soak SECONDS]
    ///   --endpoint  a running `gf serve --model micro-random` for the live tests (without it they are skipped)
    ///   --gf        the gf command, for the test that restarts its own server
    ///   --soak      instead of the tests, run a realtime session for SECONDS and print the rates
    /// Exit code: the number of failed tests (0 = all passed).
    /// </summary>
    static class Program
    {
        static int Main(string[] args)
        {
            string endpoint = null, gf = null, filter = null;
            double soakSeconds = 0;
            for (int i = 0; i + 1 < args.Length; i += 2)
            {
                switch (args[i])
                {
                    case "--endpoint": endpoint = args[i + 1]; break;
                    case "--gf": gf = args[i + 1]; break;
                    case "--filter": filter = args[i + 1]; break;
                    case "--soak": soakSeconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                    default:
                        Console.Error.WriteLine("unknown option " + args[i] + "; see Program.cs");
                        return 2;
                }
            }
            if (soakSeconds > 0)
            {
                if (endpoint == null)
                {
                    Console.Error.WriteLine("--soak needs --endpoint");
                    return 2;
                }
                return Soak.Run(endpoint, soakSeconds);
            }
            var tests = new TestHarness(filter);
            CodecTests.Register(tests);
            if (endpoint != null)
            {
                LiveTests.Register(tests, endpoint, gf);
            }
            else
            {
                Console.WriteLine("no --endpoint: live tests skipped");
            }
            return Math.Min(tests.Run(), 100);
        }
    }
}
