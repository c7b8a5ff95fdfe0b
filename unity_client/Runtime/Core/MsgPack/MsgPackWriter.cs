using System;
using System.Collections;
using System.Collections.Generic;
using System.Text;

namespace Gf.Client.Core.MsgPack
{
    /// <summary>
    /// Encodes msgpack (the spec with str8 and bin) into a growable buffer, always in the smallest form, as
    /// Python's <c>msgpack.packb(..., use_bin_type=True)</c> does: so both sides produce identical bytes.
    /// Not thread-safe: one writer per thread.
    /// </summary>
    public sealed class MsgPackWriter
    {
        static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        byte[] buffer;
        int length;

        public MsgPackWriter(int initialCapacity = 256)
        {
            buffer = new byte[Math.Max(16, initialCapacity)];
        }

        /// <summary>Bytes written so far.</summary>
        public int Length => length;

        /// <summary>Forget what was written; keeps the buffer for reuse.</summary>
        public void Reset() => length = 0;

        /// <summary>A copy of the bytes written so far.</summary>
        public byte[] ToArray()
        {
            var result = new byte[length];
            Buffer.BlockCopy(buffer, 0, result, 0, length);
            return result;
        }

        // ------------------------------------------------------------------------------------------ scalars
        public void WriteNil() => WriteByte(MsgPackCode.Nil);

        public void WriteBool(bool value) => WriteByte(value ? MsgPackCode.True : MsgPackCode.False);

        public void WriteInt(long value)
        {
            if (value >= 0)
            {
                WriteUInt((ulong)value);
            }
            else if (value >= -32)
            {
                WriteByte((byte)(sbyte)value); // negative fixint 0xe0..0xff
            }
            else if (value >= sbyte.MinValue)
            {
                WriteByte(MsgPackCode.Int8);
                WriteByte((byte)(sbyte)value);
            }
            else if (value >= short.MinValue)
            {
                WriteByte(MsgPackCode.Int16);
                WriteBigEndian((ulong)value, 2);
            }
            else if (value >= int.MinValue)
            {
                WriteByte(MsgPackCode.Int32);
                WriteBigEndian((ulong)value, 4);
            }
            else
            {
                WriteByte(MsgPackCode.Int64);
                WriteBigEndian((ulong)value, 8);
            }
        }

        public void WriteUInt(ulong value)
        {
            if (value <= MsgPackCode.PositiveFixIntMax)
            {
                WriteByte((byte)value);
            }
            else if (value <= byte.MaxValue)
            {
                WriteByte(MsgPackCode.UInt8);
                WriteByte((byte)value);
            }
            else if (value <= ushort.MaxValue)
            {
                WriteByte(MsgPackCode.UInt16);
                WriteBigEndian(value, 2);
            }
            else if (value <= uint.MaxValue)
            {
                WriteByte(MsgPackCode.UInt32);
                WriteBigEndian(value, 4);
            }
            else
            {
                WriteByte(MsgPackCode.UInt64);
                WriteBigEndian(value, 8);
            }
        }

        public void WriteFloat64(double value)
        {
            WriteByte(MsgPackCode.Float64);
            WriteBigEndian((ulong)BitConverter.DoubleToInt64Bits(value), 8);
        }

        public void WriteFloat32(float value)
        {
            WriteByte(MsgPackCode.Float32);
            WriteBigEndian(BitConverter.ToUInt32(BitConverter.GetBytes(value), 0), 4);
        }

        /// <summary>A UTF-8 str; null writes nil. A string with an unpaired surrogate is refused.</summary>
        public void WriteString(string value)
        {
            if (value == null)
            {
                WriteNil();
                return;
            }
            int size;
            try
            {
                size = StrictUtf8.GetByteCount(value);
            }
            catch (EncoderFallbackException)
            {
                throw new MsgPackException("a string holds an unpaired UTF-16 surrogate and has no UTF-8 form");
            }
            if (size <= MsgPackCode.FixStrMaxLength)
            {
                WriteByte((byte)(MsgPackCode.FixStrPrefix | size));
            }
            else if (size <= byte.MaxValue)
            {
                WriteByte(MsgPackCode.Str8);
                WriteByte((byte)size);
            }
            else if (size <= ushort.MaxValue)
            {
                WriteByte(MsgPackCode.Str16);
                WriteBigEndian((ulong)size, 2);
            }
            else
            {
                WriteByte(MsgPackCode.Str32);
                WriteBigEndian((ulong)size, 4);
            }
            Reserve(size);
            length += StrictUtf8.GetBytes(value, 0, value.Length, buffer, length);
        }

        /// <summary>A bin; null writes nil.</summary>
        public void WriteBinary(byte[] value) => WriteBinary(value, 0, value == null ? 0 : value.Length);

        public void WriteBinary(byte[] value, int offset, int count)
        {
            if (value == null)
            {
                WriteNil();
                return;
            }
            if (offset < 0 || count < 0 || offset > value.Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(count), "offset " + offset + " and count " + count +
                    " do not fit in a byte array of " + value.Length);
            }
            if (count <= byte.MaxValue)
            {
                WriteByte(MsgPackCode.Bin8);
                WriteByte((byte)count);
            }
            else if (count <= ushort.MaxValue)
            {
                WriteByte(MsgPackCode.Bin16);
                WriteBigEndian((ulong)count, 2);
            }
            else
            {
                WriteByte(MsgPackCode.Bin32);
                WriteBigEndian((ulong)count, 4);
            }
            Reserve(count);
            Buffer.BlockCopy(value, offset, buffer, length, count);
            length += count;
        }

        // ------------------------------------------------------------------------------------------ containers
        /// <summary>Starts an array; write exactly <paramref name="count"/> values after it.</summary>
        public void WriteArrayHeader(int count)
        {
            if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), "an array cannot have " + count + " items");
            if (count <= MsgPackCode.FixContainerMaxCount)
            {
                WriteByte((byte)(MsgPackCode.FixArrayPrefix | count));
            }
            else if (count <= ushort.MaxValue)
            {
                WriteByte(MsgPackCode.Array16);
                WriteBigEndian((ulong)count, 2);
            }
            else
            {
                WriteByte(MsgPackCode.Array32);
                WriteBigEndian((ulong)count, 4);
            }
        }

        /// <summary>Starts a map; write exactly <paramref name="count"/> key/value pairs after it.</summary>
        public void WriteMapHeader(int count)
        {
            if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), "a map cannot have " + count + " entries");
            if (count <= MsgPackCode.FixContainerMaxCount)
            {
                WriteByte((byte)(MsgPackCode.FixMapPrefix | count));
            }
            else if (count <= ushort.MaxValue)
            {
                WriteByte(MsgPackCode.Map16);
                WriteBigEndian((ulong)count, 2);
            }
            else
            {
                WriteByte(MsgPackCode.Map32);
                WriteBigEndian((ulong)count, 4);
            }
        }

        /// <summary>
        /// Any value of the kinds the decoder returns: null, bool, signed and unsigned integers of every width,
        /// float, double, string, byte[], IList (array) and IDictionary with string keys (map, in its own order).
        /// </summary>
        public void WriteValue(object value)
        {
            // (if/else rather than a type switch: Mono's mcs does not implement type patterns in switch)
            if (value == null) WriteNil();
            else if (value is bool b) WriteBool(b);
            else if (value is sbyte i8) WriteInt(i8);
            else if (value is short i16) WriteInt(i16);
            else if (value is int i32) WriteInt(i32);
            else if (value is long i64) WriteInt(i64);
            else if (value is byte u8) WriteUInt(u8);
            else if (value is ushort u16) WriteUInt(u16);
            else if (value is uint u32) WriteUInt(u32);
            else if (value is ulong u64) WriteUInt(u64);
            else if (value is float f32) WriteFloat32(f32);
            else if (value is double f64) WriteFloat64(f64);
            else if (value is string s) WriteString(s);
            else if (value is byte[] bytes) WriteBinary(bytes);
            else if (value is IDictionary<string, object> typedMap) WriteMap(typedMap);
            else if (value is IDictionary map) WriteMap(map);
            else if (value is IList list) WriteList(list);
            else throw new MsgPackException("cannot encode a " + value.GetType().FullName +
                "; use null, bool, an integer, float, double, string, byte[], a list or a map with string keys");
        }

        void WriteMap(IDictionary<string, object> map)
        {
            WriteMapHeader(map.Count);
            foreach (var entry in map)
            {
                WriteString(entry.Key ?? throw new MsgPackException("a map key is null; keys must be strings"));
                WriteValue(entry.Value);
            }
        }

        void WriteMap(IDictionary map)
        {
            WriteMapHeader(map.Count);
            foreach (DictionaryEntry entry in map)
            {
                if (!(entry.Key is string key))
                {
                    throw new MsgPackException("a map key is a " + entry.Key.GetType().Name + "; keys must be strings");
                }
                WriteString(key);
                WriteValue(entry.Value);
            }
        }

        void WriteList(IList list)
        {
            WriteArrayHeader(list.Count);
            foreach (var item in list)
            {
                WriteValue(item);
            }
        }

        // ------------------------------------------------------------------------------------------ bytes
        void WriteByte(byte value)
        {
            Reserve(1);
            buffer[length++] = value;
        }

        void WriteBigEndian(ulong value, int size)
        {
            Reserve(size);
            for (int i = size - 1; i >= 0; i--)
            {
                buffer[length + i] = (byte)value;
                value >>= 8;
            }
            length += size;
        }

        void Reserve(int extra)
        {
            long needed = (long)length + extra;
            if (needed <= buffer.Length) return;
            if (needed > int.MaxValue) throw new MsgPackException("the message would be over 2 GiB");
            long grown = Math.Max(needed, Math.Min((long)buffer.Length * 2, int.MaxValue));
            Array.Resize(ref buffer, (int)grown);
        }
    }
}
