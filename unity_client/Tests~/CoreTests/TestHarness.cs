using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace Gf.Client.Tests
{
    /// <summary>A failed check inside a test.</summary>
    sealed class CheckFailed : Exception
    {
        public CheckFailed(string message) : base(message) { }
    }

    /// <summary>A minimal test runner: named tests, checks that throw, a summary line "N passed, N failed".</summary>
    sealed class TestHarness
    {
        readonly List<KeyValuePair<string, Action>> tests = new List<KeyValuePair<string, Action>>();
        readonly string filter;

        public TestHarness(string filter)
        {
            this.filter = filter;
        }

        public void Add(string name, Action test) => tests.Add(new KeyValuePair<string, Action>(name, test));

        /// <summary>Runs every test; returns the number that failed.</summary>
        public int Run()
        {
            int passed = 0, failed = 0;
            foreach (var test in tests)
            {
                if (filter != null && test.Key.IndexOf(filter, StringComparison.Ordinal) < 0) continue;
                var watch = Stopwatch.StartNew();
                try
                {
                    test.Value();
                    passed++;
                    Console.WriteLine("PASS " + test.Key + " (" + watch.ElapsedMilliseconds + " ms)");
                }
                catch (Exception ex)
                {
                    failed++;
                    Exception shown = ex is AggregateException aggregate ? aggregate.GetBaseException() : ex;
                    Console.WriteLine("FAIL " + test.Key + " (" + watch.ElapsedMilliseconds + " ms): " +
                        (shown is CheckFailed ? shown.Message : shown.ToString()));
                }
            }
            Console.WriteLine(passed + " passed, " + failed + " failed");
            return failed;
        }

        public static void Check(bool condition, string message)
        {
            if (!condition) throw new CheckFailed(message);
        }

        public static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
            {
                throw new CheckFailed(what + ": expected " + expected + ", got " + actual);
            }
        }

        /// <summary>Runs <paramref name="action"/> and requires it to throw <typeparamref name="TException"/>.</summary>
        public static TException Throws<TException>(Action action, string what) where TException : Exception
        {
            try
            {
                action();
            }
            catch (TException expected)
            {
                return expected;
            }
            catch (Exception other)
            {
                throw new CheckFailed(what + ": expected " + typeof(TException).Name + ", got " + other.GetType().Name +
                    ": " + other.Message);
            }
            throw new CheckFailed(what + ": expected " + typeof(TException).Name + ", nothing was thrown");
        }

        public static byte[] Hex(string hex)
        {
            var bytes = new byte[hex.Length / 2];
            for (int i = 0; i < bytes.Length; i++) bytes[i] = Convert.ToByte(hex.Substring(2 * i, 2), 16);
            return bytes;
        }

        public static string ToHex(byte[] bytes) => BitConverter.ToString(bytes).Replace("-", "").ToLowerInvariant();
    }
}
