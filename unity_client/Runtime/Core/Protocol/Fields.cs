using System.Collections.Generic;
using Gf.Client.Core.MsgPack;

namespace Gf.Client.Core.Protocol
{
    /// <summary>
    /// Typed reads of fields from a decoded message map, with errors that name the message, the field, what was
    /// expected and what arrived. Integers and booleans are never mixed up (PROTOCOL.md §2).
    /// </summary>
    internal static class Fields
    {
        public static bool Has(IDictionary<string, object> map, string name) => map.ContainsKey(name);

        public static long Int(IDictionary<string, object> map, string name, string context)
        {
            object value = Required(map, name, context);
            if (value is long i) return i;
            throw Wrong(context, name, value is ulong ? "an integer up to 2^63-1" : "an integer", value);
        }

        public static long Int(IDictionary<string, object> map, string name, string context, long fallback)
            => map.TryGetValue(name, out object value) && value != null ? Int(map, name, context) : fallback;

        public static long? OptionalInt(IDictionary<string, object> map, string name, string context)
            => map.TryGetValue(name, out object value) && value != null ? Int(map, name, context) : (long?)null;

        /// <summary>An int that must fit an <c>int</c> (sizes, counts).</summary>
        public static int SmallInt(IDictionary<string, object> map, string name, string context)
        {
            long value = Int(map, name, context);
            if (value < int.MinValue || value > int.MaxValue)
            {
                throw new ProtocolException(context + ": field '" + name + "' = " + value + " is out of range");
            }
            return (int)value;
        }

        /// <summary>A number: float64, float32 or an integer.</summary>
        public static double Number(IDictionary<string, object> map, string name, string context)
        {
            object value = Required(map, name, context);
            if (value is double d) return d;
            if (value is float f) return f;
            if (value is long i) return i;
            if (value is ulong u) return u;
            throw Wrong(context, name, "a number", value);
        }

        public static double Number(IDictionary<string, object> map, string name, string context, double fallback)
            => map.TryGetValue(name, out object value) && value != null ? Number(map, name, context) : fallback;

        public static string Str(IDictionary<string, object> map, string name, string context)
        {
            object value = Required(map, name, context);
            if (value is string s) return s;
            throw Wrong(context, name, "a string", value);
        }

        /// <summary>A string, or null when the field is missing or nil.</summary>
        public static string OptionalStr(IDictionary<string, object> map, string name, string context)
            => map.TryGetValue(name, out object value) && value != null ? Str(map, name, context) : null;

        public static bool Bool(IDictionary<string, object> map, string name, string context, bool fallback)
        {
            if (!map.TryGetValue(name, out object value) || value == null) return fallback;
            if (value is bool b) return b;
            throw Wrong(context, name, "true or false", value);
        }

        public static Dictionary<string, object> Map(IDictionary<string, object> map, string name, string context)
        {
            object value = Required(map, name, context);
            if (value is Dictionary<string, object> m) return m;
            throw Wrong(context, name, "a map", value);
        }

        static object Required(IDictionary<string, object> map, string name, string context)
        {
            if (!map.TryGetValue(name, out object value))
            {
                throw new ProtocolException(context + ": field '" + name + "' is missing");
            }
            return value;
        }

        static ProtocolException Wrong(string context, string name, string expected, object value)
            => new ProtocolException(context + ": field '" + name + "' must be " + expected + ", got " + MsgPackReader.Describe(value));
    }
}
