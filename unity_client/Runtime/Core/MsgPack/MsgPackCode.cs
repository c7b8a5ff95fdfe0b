namespace Gf.Client.Core.MsgPack
{
    /// <summary>The msgpack format bytes (https://github.com/msgpack/msgpack/blob/master/spec.md): one place for them.</summary>
    internal static class MsgPackCode
    {
        public const byte PositiveFixIntMax = 0x7f;  // 0x00-0x7f: the integer itself
        public const byte FixMapPrefix = 0x80;       // 0x80-0x8f: map of up to 15 entries
        public const byte FixArrayPrefix = 0x90;     // 0x90-0x9f: array of up to 15 items
        public const byte FixStrPrefix = 0xa0;       // 0xa0-0xbf: str of up to 31 bytes
        public const byte NegativeFixIntMin = 0xe0;  // 0xe0-0xff: -32..-1
        public const int FixContainerMaxCount = 15;
        public const int FixStrMaxLength = 31;

        public const byte Nil = 0xc0;
        public const byte NeverUsed = 0xc1;
        public const byte False = 0xc2;
        public const byte True = 0xc3;
        public const byte Bin8 = 0xc4;
        public const byte Bin16 = 0xc5;
        public const byte Bin32 = 0xc6;
        public const byte Ext8 = 0xc7;
        public const byte Ext16 = 0xc8;
        public const byte Ext32 = 0xc9;
        public const byte Float32 = 0xca;
        public const byte Float64 = 0xcb;
        public const byte UInt8 = 0xcc;
        public const byte UInt16 = 0xcd;
        public const byte UInt32 = 0xce;
        public const byte UInt64 = 0xcf;
        public const byte Int8 = 0xd0;
        public const byte Int16 = 0xd1;
        public const byte Int32 = 0xd2;
        public const byte Int64 = 0xd3;
        public const byte FixExt1 = 0xd4;
        public const byte FixExt16 = 0xd8;
        public const byte Str8 = 0xd9;
        public const byte Str16 = 0xda;
        public const byte Str32 = 0xdb;
        public const byte Array16 = 0xdc;
        public const byte Array32 = 0xdd;
        public const byte Map16 = 0xde;
        public const byte Map32 = 0xdf;
    }
}
