using System;
using System.Collections.Generic;
using System.Text;

namespace Gf.Client.Core.MsgPack
{
    /// <summary>
    /// Decodes one msgpack value into plain .NET objects:
    /// nil → null, bool → bool, integers → long (ulong only above long.MaxValue), float32 → float,
    /// float64 → double, str → string, bin → byte[], array → object[], map → Dictionary&lt;string, object&gt;.
    ///
    /// Safe on hostile input: every declared length is checked against the bytes that remain before anything is
    /// allocated (so allocations never exceed the input's size), nesting is bounded, strings must be valid UTF-8,
    /// map keys must be strings, and the input must hold exactly one value. Whatever the bytes, the only exception
    /// is <see cref="MsgPackException"/>.
    /// </summary>
    public static class MsgPackReader
    {
        /// <summary>Deepest nesting of arrays and maps accepted (the protocol needs 3).</summary>
        public const int DefaultMaxDepth = 32;

        static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        public static object Decode(byte[] data) => Decode(data, 0, data == null ? 0 : data.Length);

        /// <summary>The one value in <c>data[offset .. offset+count)</c>; trailing bytes are an error.</summary>
        public static object Decode(byte[] data, int offset, int count, int maxDepth = DefaultMaxDepth)
        {
            if (data == null) throw new ArgumentNullException(nameof(data));
            if (offset < 0 || count < 0 || offset > data.Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(count), "offset " + offset + " and count " + count +
                    " do not fit in a byte array of " + data.Length);
            }
            var cursor = new Cursor(data, offset, offset + count, maxDepth);
            if (count == 0) throw new MsgPackException("empty input; expected one msgpack value", offset);
            object value = cursor.ReadValue(0);
            if (cursor.Position != cursor.End)
            {
                throw new MsgPackException((cursor.End - cursor.Position) + " extra bytes after the value", cursor.Position);
            }
            return value;
        }

        /// <summary>Decode, and require the value to be a map (every gf message is one).</summary>
        public static Dictionary<string, object> DecodeMap(byte[] data, int offset, int count)
        {
            object value = Decode(data, offset, count);
            if (value is Dictionary<string, object> map) return map;
            throw new MsgPackException("expected a map, got " + Describe(value), offset);
        }

        public static Dictionary<string, object> DecodeMap(byte[] data) => DecodeMap(data, 0, data == null ? 0 : data.Length);

        /// <summary>A short name of a decoded value's msgpack kind, for error messages.</summary>
        public static string Describe(object value)
        {
            if (value == null) return "nil";
            if (value is bool) return "a boolean";
            if (value is long || value is ulong) return "an integer";
            if (value is float || value is double) return "a float";
            if (value is string) return "a string";
            if (value is byte[]) return "binary";
            if (value is object[]) return "an array";
            if (value is Dictionary<string, object>) return "a map";
            return "a " + value.GetType().Name;
        }

        /// <summary>Position in the input; a struct so that decoding allocates only the values it returns.</summary>
        struct Cursor
        {
            readonly byte[] data;
            readonly int maxDepth;
            public readonly int End;
            public int Position;

            public Cursor(byte[] data, int start, int end, int maxDepth)
            {
                this.data = data;
                this.maxDepth = maxDepth;
                End = end;
                Position = start;
            }

            public object ReadValue(int depth)
            {
                int at = Position;
                byte code = ReadByte("a type byte");
                if (code <= MsgPackCode.PositiveFixIntMax) return (long)code;
                if (code >= MsgPackCode.NegativeFixIntMin) return (long)(sbyte)code;
                if (code >= MsgPackCode.FixStrPrefix && code < MsgPackCode.FixStrPrefix + 32) return ReadString(code & 0x1f, at);
                if (code >= MsgPackCode.FixMapPrefix && code < MsgPackCode.FixArrayPrefix) return ReadMap(code & 0x0f, depth, at);
                if (code >= MsgPackCode.FixArrayPrefix && code < MsgPackCode.FixStrPrefix) return ReadArray(code & 0x0f, depth, at);
                switch (code)
                {
                    case MsgPackCode.Nil: return null;
                    case MsgPackCode.False: return false;
                    case MsgPackCode.True: return true;
                    case MsgPackCode.Bin8: return ReadBinary((int)ReadBigEndian(1, "a bin8 length"), at);
                    case MsgPackCode.Bin16: return ReadBinary((int)ReadBigEndian(2, "a bin16 length"), at);
                    case MsgPackCode.Bin32: return ReadBinary(ReadLength32("a bin32 length"), at);
                    case MsgPackCode.Float32:
                        return BitConverter.ToSingle(BitConverter.GetBytes((uint)ReadBigEndian(4, "a float32")), 0);
                    case MsgPackCode.Float64:
                        return BitConverter.Int64BitsToDouble((long)ReadBigEndian(8, "a float64"));
                    case MsgPackCode.UInt8: return (long)ReadBigEndian(1, "a uint8");
                    case MsgPackCode.UInt16: return (long)ReadBigEndian(2, "a uint16");
                    case MsgPackCode.UInt32: return (long)ReadBigEndian(4, "a uint32");
                    case MsgPackCode.UInt64:
                        ulong u64 = ReadBigEndian(8, "a uint64");
                        return u64 <= long.MaxValue ? (object)(long)u64 : u64;
                    case MsgPackCode.Int8: return (long)(sbyte)ReadBigEndian(1, "an int8");
                    case MsgPackCode.Int16: return (long)(short)ReadBigEndian(2, "an int16");
                    case MsgPackCode.Int32: return (long)(int)ReadBigEndian(4, "an int32");
                    case MsgPackCode.Int64: return (long)ReadBigEndian(8, "an int64");
                    case MsgPackCode.Str8: return ReadString((int)ReadBigEndian(1, "a str8 length"), at);
                    case MsgPackCode.Str16: return ReadString((int)ReadBigEndian(2, "a str16 length"), at);
                    case MsgPackCode.Str32: return ReadString(ReadLength32("a str32 length"), at);
                    case MsgPackCode.Array16: return ReadArray((int)ReadBigEndian(2, "an array16 count"), depth, at);
                    case MsgPackCode.Array32: return ReadArray(ReadLength32("an array32 count"), depth, at);
                    case MsgPackCode.Map16: return ReadMap((int)ReadBigEndian(2, "a map16 count"), depth, at);
                    case MsgPackCode.Map32: return ReadMap(ReadLength32("a map32 count"), depth, at);
                }
                if (code == MsgPackCode.NeverUsed)
                {
                    throw new MsgPackException("byte 0xc1 is never used in msgpack", at);
                }
                // What remains is 0xc7-0xc9 and 0xd4-0xd8: the ext family, which the gf protocol never sends.
                throw new MsgPackException("ext type 0x" + code.ToString("x2") + " is not used by the gf protocol", at);
            }

            byte ReadByte(string what)
            {
                Need(1, what);
                return data[Position++];
            }

            ulong ReadBigEndian(int size, string what)
            {
                Need(size, what);
                ulong value = 0;
                for (int i = 0; i < size; i++)
                {
                    value = (value << 8) | data[Position++];
                }
                return value;
            }

            /// <summary>A 32-bit length; anything over int.MaxValue cannot fit in the input, so it is refused here.</summary>
            int ReadLength32(string what)
            {
                int at = Position;
                ulong value = ReadBigEndian(4, what);
                if (value > int.MaxValue)
                {
                    throw new MsgPackException(what + " of " + value + " is larger than the input (" + (End - at) + " bytes)", at);
                }
                return (int)value;
            }

            void Need(int size, string what)
            {
                if (End - Position < size)
                {
                    throw new MsgPackException("truncated input: " + what + " needs " + size + " bytes, " +
                        (End - Position) + " remain", Position);
                }
            }

            string ReadString(int size, int at)
            {
                Need(size, "a string of " + size + " bytes");
                try
                {
                    string value = StrictUtf8.GetString(data, Position, size);
                    Position += size;
                    return value;
                }
                catch (DecoderFallbackException)
                {
                    throw new MsgPackException("a string is not valid UTF-8", at);
                }
            }

            byte[] ReadBinary(int size, int at)
            {
                Need(size, "binary of " + size + " bytes");
                var value = new byte[size];
                Buffer.BlockCopy(data, Position, value, 0, size);
                Position += size;
                return value;
            }

            object[] ReadArray(int count, int depth, int at)
            {
                CheckDepth(depth, at);
                // Every item takes at least one byte: a count beyond what remains is a lie; refuse before allocating.
                if (count > End - Position)
                {
                    throw new MsgPackException("an array declares " + count + " items but only " + (End - Position) +
                        " bytes remain", at);
                }
                var items = new object[count];
                for (int i = 0; i < count; i++)
                {
                    items[i] = ReadValue(depth + 1);
                }
                return items;
            }

            Dictionary<string, object> ReadMap(int count, int depth, int at)
            {
                CheckDepth(depth, at);
                // Every entry takes at least two bytes (key and value).
                if ((long)count * 2 > End - Position)
                {
                    throw new MsgPackException("a map declares " + count + " entries but only " + (End - Position) +
                        " bytes remain", at);
                }
                var map = new Dictionary<string, object>(count, StringComparer.Ordinal);
                for (int i = 0; i < count; i++)
                {
                    int keyAt = Position;
                    object key = ReadValue(depth + 1);
                    if (!(key is string name))
                    {
                        throw new MsgPackException("a map key is " + Describe(key) + "; the gf protocol uses string keys", keyAt);
                    }
                    map[name] = ReadValue(depth + 1); // a repeated key keeps the last value, as Python's msgpack does
                }
                return map;
            }

            void CheckDepth(int depth, int at)
            {
                if (depth >= maxDepth)
                {
                    throw new MsgPackException("arrays and maps nested deeper than " + maxDepth, at);
                }
            }
        }
    }
}
