using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using Gf.Client.Core;
using Gf.Client.Core.MsgPack;
using Gf.Client.Core.Protocol;
using Gf.Client.Core.Transport;
using static Gf.Client.Tests.TestHarness;

namespace Gf.Client.Tests
{
    /// <summary>The msgpack codec and the protocol messages, without a server.</summary>
    static class CodecTests
    {
        // Bytes produced by Python: msgpack 1.1 packb(..., use_bin_type=True), from bridge/protocol.py where it
        // builds the message (generated once and checked by hand; see the comment on each).
        // {"type":"hello","seq":1,"versions":[1],"client":"unity-test"}
        const string PyHello = "84a474797065a568656c6c6fa373657101a876657273696f6e739101a6636c69656e74aa756e6974792d74657374";
        // {"type":"open_session","seq":2,"prompt":"a red ball in the grassland","seed":7,"format":"raw_rgb","jpeg_quality":90,"window":3,"pace":"max"}
        const string PyOpen = "88a474797065ac6f70656e5f73657373696f6ea373657102a670726f6d7074bb61207265642062616c6c20696e207468652067726173736c616e64a47365656407a6666f726d6174a77261775f726762ac6a7065675f7175616c6974795aa677696e646f7703a470616365a36d6178";
        // {"type":"open_session","seq":9,"prompt":"snow","seed":0,"policy":"grounded","format":"jpeg","width":320,"height":240,"jpeg_quality":75,"window":1,"pace":"realtime"}
        const string PyOpenSized = "8ba474797065ac6f70656e5f73657373696f6ea373657109a670726f6d7074a4736e6f77a47365656400a6706f6c696379a867726f756e646564a6666f726d6174a46a706567a57769647468cd0140a6686569676874ccf0ac6a7065675f7175616c6974794ba677696e646f7701a470616365a87265616c74696d65";
        // {"type":"prompt","seq":3,"session":1,"text":"the desert at night","source":"npc","scene_cut":False}
        const string PyPrompt = "86a474797065a670726f6d7074a373657103a773657373696f6e01a474657874b374686520646573657274206174206e69676874a6736f75726365a36e7063a97363656e655f637574c2";
        // {"type":"ack_frames","session":1,"frame":65535}
        const string PyAck = "83a474797065aa61636b5f6672616d6573a773657373696f6e01a56672616d65cdffff";
        // {"type":"ping","seq":4,"t":1732500000.25}
        const string PyPing = "83a474797065a470696e67a373657104a174cb41d9d0f688100000";
        // {"type":"seed_image","seq":5,"session":1,"image":b"\x89PNG\r\n"}
        const string PySeed = "84a474797065aa736565645f696d616765a373657105a773657373696f6e01a5696d616765c40689504e470d0a";
        // {"type":"scene_cut","seq":6,"session":2}
        const string PyCut = "83a474797065a97363656e655f637574a373657106a773657373696f6e02";
        // [-33,127,128,255,65535,2**31,-2**63,2**64-1,-1,-32,-128,-129,256,65536,2**32,-2**31-1,0,0.5,-2.0,"","x"*32,"é✓",b"",None,True,False,[],{}]
        const string PyValues = "dc001cd0df7fcc80ccffcdffffce80000000d38000000000000000cfffffffffffffffffffe0d080d1ff7fcd0100ce00010000cf0000000100000000d3ffffffff7fffffff00cb3fe0000000000000cbc000000000000000a0d9207878787878787878787878787878787878787878787878787878787878787878a5c3a9e29c93c400c0c3c29080";
        // P.FrameHeader(session=1, chunk=4, frame=13, frame_in_chunk=1, prompt_id=1, prompt_seq=3, width=64, height=64,
        //               format=RAW_RGB, t_generated=1732500000.5, t_sent=1732500000.625, dropped=2).to_wire()
        const string PyFrameHeader = "8da474797065a56672616d65a773657373696f6e01a56368756e6b04a56672616d650dae6672616d655f696e5f6368756e6b01a970726f6d70745f696401aa70726f6d70745f73657103a5776964746840a668656967687440a6666f726d6174a77261775f726762ab745f67656e657261746564cb41d9d0f688200000a6745f73656e74cb41d9d0f688280000a764726f7070656402";
        // P.reply("hello", 1, version=1, server="gf", model="micro-random", frame_width=64, frame_height=64, fps=16.0,
        //         chunk_frames=3, heartbeat_s=1.0, client_timeout_s=5.0, limits=P.Limits().to_wire())
        const string PyHelloReply = "8da474797065a57265706c79a27265a568656c6c6fa373657101a776657273696f6e01a6736572766572a26766a56d6f64656cac6d6963726f2d72616e646f6dab6672616d655f776964746840ac6672616d655f68656967687440a3667073cb4030000000000000ac6368756e6b5f6672616d657303ab6865617274626561745f73cb3ff0000000000000b0636c69656e745f74696d656f75745f73cb4014000000000000a66c696d69747386b16d61785f6d6573736167655f6279746573ce01000000ac6d61785f73657373696f6e7304b76d61785f73657373696f6e735f7065725f636c69656e7404b06d61785f70726f6d70745f6368617273cd0200af6d61785f6f75747075745f73696465cd1000b16d61785f77696e646f775f6672616d6573cd0100";
        // P.error(P.ErrorCode.BAD_FIELD, "field 'text' is empty", 7, "text")
        const string PyError = "85a474797065a56572726f72a4636f6465a96261645f6669656c64a76d657373616765b56669656c642027746578742720697320656d707479a373657107a56669656c64a474657874";

        public static void Register(TestHarness tests)
        {
            tests.Add("msgpack_round_trips_every_type", RoundTripsEveryType);
            tests.Add("msgpack_edge_integers_use_the_smallest_form", EdgeIntegers);
            tests.Add("msgpack_matches_python_bytes_for_a_value_list", MatchesPythonValues);
            tests.Add("requests_encode_to_the_bytes_python_produces", RequestsMatchPython);
            tests.Add("server_messages_from_python_decode_to_typed_fields", ServerMessagesFromPython);
            tests.Add("msgpack_rejects_malformed_input_with_its_own_exception", RejectsMalformed);
            tests.Add("msgpack_hostile_lengths_fail_fast_without_allocating", HostileLengths);
            tests.Add("msgpack_fuzz_random_truncated_and_mutated_inputs", Fuzz);
            tests.Add("protocol_fields_never_mix_integers_and_booleans", FieldTypes);
            tests.Add("session_options_refuse_bad_values_with_a_hint", SessionOptionsChecks);
            tests.Add("raw_rgb_rows_flip_for_unity_textures", FlipRows);
            tests.Add("latest_frame_slot_keeps_only_the_newest_and_reuses_buffers", LatestSlot);
            tests.Add("curve_certificate_keys_are_read", CurveCertificate);
        }

        // ------------------------------------------------------------------------------------------ round trips
        static void RoundTripsEveryType()
        {
            var map = new Dictionary<string, object>
            {
                { "nil", null }, { "t", true }, { "f", false },
                { "i8", (sbyte)-100 }, { "i16", (short)-30000 }, { "i32", -2000000000 }, { "i64", long.MinValue },
                { "u8", (byte)200 }, { "u16", (ushort)60000 }, { "u32", 4000000000u }, { "u64", ulong.MaxValue },
                { "f32", 1.5f }, { "f64", -0.1 }, { "nan", double.NaN }, { "inf", double.PositiveInfinity },
                { "s", "hé ✓ 🌍" }, { "long_s", new string('a', 70000) }, { "bin", new byte[] { 0, 1, 255 } },
                { "big_bin", new byte[70000] }, { "arr", new object[] { 1L, "two", new object[] { 3.0 } } },
                { "big_arr", new object[20] }, { "nested", new Dictionary<string, object> { { "k", "v" } } },
            };
            var writer = new MsgPackWriter();
            writer.WriteValue(map);
            byte[] bytes = writer.ToArray();
            var decoded = MsgPackReader.DecodeMap(bytes);
            Equal(map.Count, decoded.Count, "entries");
            foreach (var entry in map)
            {
                Check(Same(Normalise(entry.Value), decoded[entry.Key]), "round trip of '" + entry.Key + "'");
            }
            // Re-encoding the decoded value gives the same bytes.
            var again = new MsgPackWriter();
            again.WriteValue(decoded);
            Equal(ToHex(bytes), ToHex(again.ToArray()), "re-encoded bytes");
        }

        static void EdgeIntegers()
        {
            var cases = new[]
            {
                new KeyValuePair<object, string>(0L, "00"), new KeyValuePair<object, string>(127L, "7f"),
                new KeyValuePair<object, string>(128L, "cc80"), new KeyValuePair<object, string>(255L, "ccff"),
                new KeyValuePair<object, string>(256L, "cd0100"), new KeyValuePair<object, string>(65535L, "cdffff"),
                new KeyValuePair<object, string>(65536L, "ce00010000"),
                new KeyValuePair<object, string>(2147483648L, "ce80000000"),
                new KeyValuePair<object, string>(4294967296L, "cf0000000100000000"),
                new KeyValuePair<object, string>(long.MaxValue, "cf7fffffffffffffff"),
                new KeyValuePair<object, string>(ulong.MaxValue, "cfffffffffffffffff"),
                new KeyValuePair<object, string>(-1L, "ff"), new KeyValuePair<object, string>(-32L, "e0"),
                new KeyValuePair<object, string>(-33L, "d0df"), new KeyValuePair<object, string>(-128L, "d080"),
                new KeyValuePair<object, string>(-129L, "d1ff7f"), new KeyValuePair<object, string>(-32768L, "d18000"),
                new KeyValuePair<object, string>(-32769L, "d2ffff7fff"),
                new KeyValuePair<object, string>(-2147483648L, "d280000000"),
                new KeyValuePair<object, string>(-2147483649L, "d3ffffffff7fffffff"),
                new KeyValuePair<object, string>(long.MinValue, "d38000000000000000"),
            };
            foreach (var c in cases)
            {
                var writer = new MsgPackWriter();
                writer.WriteValue(c.Key);
                Equal(c.Value, ToHex(writer.ToArray()), "encoding of " + c.Key);
                Check(Same(c.Key, MsgPackReader.Decode(writer.ToArray())), "decoding of " + c.Key);
            }
            // Non-minimal forms from other encoders decode too.
            Equal((object)5L, MsgPackReader.Decode(Hex("d30000000000000005")), "int64 5");
            Equal((object)5L, MsgPackReader.Decode(Hex("cf0000000000000005")), "uint64 5");
            Equal((object)(-1L), MsgPackReader.Decode(Hex("d0ff")), "int8 -1");
            Equal((object)1.5f, MsgPackReader.Decode(Hex("ca3fc00000")), "float32");
        }

        static void MatchesPythonValues()
        {
            var values = new object[]
            {
                -33L, 127L, 128L, 255L, 65535L, 2147483648L, long.MinValue, ulong.MaxValue, -1L, -32L, -128L, -129L,
                256L, 65536L, 4294967296L, -2147483649L, 0L, 0.5, -2.0, "", new string('x', 32), "é✓", new byte[0], null,
                true, false, new object[0], new Dictionary<string, object>(),
            };
            var writer = new MsgPackWriter();
            writer.WriteValue(values);
            Equal(PyValues, ToHex(writer.ToArray()), "bytes of the value list");
            Check(Same(values, MsgPackReader.Decode(Hex(PyValues))), "decoded Python value list");
        }

        static void RequestsMatchPython()
        {
            Equal(PyHello, ToHex(new HelloRequest("unity-test").Encode(1)), "hello");
            Equal(PyOpen, ToHex(new OpenSessionRequest(new SessionOptions("a red ball in the grassland", seed: 7,
                window: 3, pace: Pace.Max)).Encode(2)), "open_session");
            Equal(PyOpenSized, ToHex(new OpenSessionRequest(new SessionOptions("snow", policy: "grounded",
                format: FrameFormat.Jpeg, width: 320, height: 240, jpegQuality: 75, window: 1)).Encode(9)), "open_session with size");
            Equal(PyPrompt, ToHex(new PromptRequest(1, "the desert at night", PromptSource.Npc).Encode(3)), "prompt");
            Equal(PyAck, ToHex(AckFrames.Encode(1, 65535)), "ack_frames");
            Equal(PyPing, ToHex(new PingRequest(1732500000.25).Encode(4)), "ping");
            Equal(PySeed, ToHex(new SeedImageRequest(1, new byte[] { 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a }).Encode(5)), "seed_image");
            Equal(PyCut, ToHex(SessionRequest.SceneCut(2).Encode(6)), "scene_cut");
        }

        static void ServerMessagesFromPython()
        {
            var header = FrameHeader.Parse(MsgPackReader.DecodeMap(Hex(PyFrameHeader)));
            Equal(1L, header.Session, "session");
            Equal(4L, header.Chunk, "chunk");
            Equal(13L, header.Frame, "frame");
            Equal(1, header.FrameInChunk, "frame_in_chunk");
            Equal(3L, header.PromptSeq, "prompt_seq");
            Equal(FrameFormat.RawRgb, header.Format, "format");
            Equal(64L * 64 * 3, header.RawRgbBytes, "payload bytes");
            Equal(1732500000.625, header.TSent, "t_sent");
            Equal(2L, header.Dropped, "dropped");

            var reply = Reply.Parse(MsgPackReader.DecodeMap(Hex(PyHelloReply)));
            var hello = HelloReply.Parse(reply);
            Equal(ProtocolConstants.Version, hello.Version, "version");
            Equal("micro-random", hello.Model, "model");
            Equal(16.0, hello.Fps, "fps");
            Equal(3, hello.ChunkFrames, "chunk_frames");
            Equal(16L * 1024 * 1024, hello.Limits.MaxMessageBytes, "max_message_bytes");
            Equal(256L, hello.Limits.MaxWindowFrames, "max_window_frames");

            var error = ServerError.Parse(MsgPackReader.DecodeMap(Hex(PyError)));
            Equal(ErrorCodes.BadField, error.Code, "code");
            Equal("text", error.Field, "field");
            Equal((long?)7, error.Seq, "seq");
        }

        // ------------------------------------------------------------------------------------------ hostile input
        static void RejectsMalformed()
        {
            string[] bad =
            {
                "", "c1", "c7", "d4", "d8", "c9", "cc", "cd01", "cb000000", "a5616263", "92", "8101", "81a16b",
                "dc00", "c4", "c405", "d9ff", "db7fffffff", "dd7fffffff00", "df7fffffff", "c0c0", "01ff",
                "a2c328", // invalid UTF-8
                "810101", // an integer map key
                "81c0c0", // a nil map key
            };
            foreach (string hex in bad)
            {
                Throws<MsgPackException>(() => MsgPackReader.Decode(Hex(hex)), "decoding " + (hex.Length == 0 ? "nothing" : hex));
            }
            Throws<MsgPackException>(() => MsgPackReader.DecodeMap(Hex("93010203")), "an array where a map is needed");
            // Nesting: 100000 nested arrays would overflow a naive recursive decoder's stack.
            var deep = new byte[100000];
            for (int i = 0; i < deep.Length; i++) deep[i] = 0x91;
            var nested = Throws<MsgPackException>(() => MsgPackReader.Decode(deep), "deep nesting");
            Check(nested.Message.Contains("nested"), "the message says what is wrong: " + nested.Message);
            var writer = new MsgPackWriter();
            Throws<MsgPackException>(() => writer.WriteValue(new object()), "encoding an unknown type");
            Throws<MsgPackException>(() => writer.WriteString("\ud800"), "encoding an unpaired surrogate");
        }

        static void HostileLengths()
        {
            // Each declares up to 4 GiB of content in a few bytes: refused by length before any allocation.
            string[] hostile = { "c6ffffffff", "dbffffffff", "ddffffffff", "dfffffffff", "c6fffffff0", "dd0fffffff01", "df7fffffff0101" };
            long before = GC.GetTotalMemory(false);
            var watch = Stopwatch.StartNew();
            foreach (string hex in hostile)
            {
                for (int i = 0; i < 1000; i++)
                {
                    Throws<MsgPackException>(() => MsgPackReader.Decode(Hex(hex)), "hostile " + hex);
                }
            }
            long grown = GC.GetTotalMemory(false) - before;
            Check(watch.ElapsedMilliseconds < 5000, "7000 hostile inputs took " + watch.ElapsedMilliseconds + " ms");
            Check(grown < 64L * 1024 * 1024, "decoding hostile lengths allocated " + grown + " bytes");
        }

        static void Fuzz()
        {
            var random = new Random(1234);
            var seeds = new List<byte[]>();
            foreach (string hex in new[] { PyHello, PyOpen, PyPrompt, PyValues, PyFrameHeader, PyHelloReply, PyError, PySeed })
            {
                seeds.Add(Hex(hex));
            }
            int decoded = 0, refused = 0;
            var watch = Stopwatch.StartNew();
            for (int round = 0; round < 20000; round++)
            {
                byte[] input;
                int mode = round % 4;
                byte[] seed = seeds[random.Next(seeds.Count)];
                if (mode == 0)
                {
                    input = new byte[random.Next(0, 64)]; // random bytes
                    random.NextBytes(input);
                }
                else if (mode == 1)
                {
                    input = new byte[random.Next(0, seed.Length)]; // a truncated valid message
                    Array.Copy(seed, input, input.Length);
                }
                else if (mode == 2)
                {
                    input = (byte[])seed.Clone(); // a few bytes flipped
                    for (int flips = random.Next(1, 4); flips > 0; flips--)
                    {
                        input[random.Next(input.Length)] = (byte)random.Next(256);
                    }
                }
                else
                {
                    input = new byte[random.Next(1, 16)]; // a length-prefixed header with random size bytes
                    random.NextBytes(input);
                    byte[] prefixes = { 0xc4, 0xc5, 0xc6, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf };
                    input[0] = prefixes[random.Next(prefixes.Length)];
                }
                try
                {
                    MsgPackReader.Decode(input);
                    decoded++;
                }
                catch (MsgPackException)
                {
                    refused++;
                }
                // Any other exception type escapes and fails the test.
            }
            Check(refused > 10000, "most fuzz inputs are refused (" + refused + " refused, " + decoded + " decoded)");
            Check(watch.ElapsedMilliseconds < 10000, "20000 fuzz inputs took " + watch.ElapsedMilliseconds + " ms");
            // Frame headers with a valid shape but wrong field types raise ProtocolException, not a cast error.
            var map = MsgPackReader.DecodeMap(Hex(PyFrameHeader));
            map["chunk"] = "four";
            Throws<ProtocolException>(() => FrameHeader.Parse(map), "a string chunk");
            map["chunk"] = 4L;
            map.Remove("width");
            var missing = Throws<ProtocolException>(() => FrameHeader.Parse(map), "a missing width");
            Check(missing.Message.Contains("width"), "the message names the field: " + missing.Message);
        }

        static void FieldTypes()
        {
            var map = MsgPackReader.DecodeMap(Hex(PyFrameHeader));
            map["frame"] = true;
            Throws<ProtocolException>(() => FrameHeader.Parse(map), "a boolean frame index");
            map["frame"] = 13L;
            map["t_sent"] = 5L; // an integer is a number
            Equal(5.0, FrameHeader.Parse(map).TSent, "integer t_sent");
            map["t_sent"] = 2.5f; // float32 is accepted where a number is expected (§2)
            Equal(2.5, FrameHeader.Parse(map).TSent, "float32 t_sent");
            map["frame"] = ulong.MaxValue;
            Throws<ProtocolException>(() => FrameHeader.Parse(map), "a frame index over 2^63-1");
        }

        static void SessionOptionsChecks()
        {
            Throws<ArgumentException>(() => new SessionOptions(" "), "an empty prompt");
            Throws<ArgumentException>(() => new SessionOptions("x", width: 64), "width without height");
            Throws<ArgumentOutOfRangeException>(() => new SessionOptions("x", jpegQuality: 0), "jpeg quality 0");
            Throws<ArgumentOutOfRangeException>(() => new SessionOptions("x", window: 0), "window 0");
            Throws<ArgumentException>(() => new PromptRequest(1, ""), "an empty prompt text");
            Throws<ArgumentOutOfRangeException>(() => SessionRequest.SceneCut(0), "session 0");
            Throws<ArgumentException>(() => new ConnectionOptions("127.0.0.1:5555"), "an endpoint without a scheme");
            Throws<ArgumentException>(() => new HelloRequest(new string('n', 65)), "a 65-character client name");
        }

        static void FlipRows()
        {
            int width = 2, height = 3;
            var source = new byte[width * height * 3];
            for (int i = 0; i < source.Length; i++) source[i] = (byte)i;
            var flipped = new byte[source.Length];
            RawRgb.FlipRows(source, flipped, width, height);
            Equal(ToHex(new byte[] { 12, 13, 14, 15, 16, 17, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5 }), ToHex(flipped), "flipped rows");
            Throws<ArgumentException>(() => RawRgb.FlipRows(source, new byte[3], width, height), "a short destination");
        }

        static void LatestSlot()
        {
            // Newest mode (frame interval 0): every frame is due on arrival; only the newest is handed out.
            var slot = new LatestFrameSlot();
            Check(!slot.TryTake(out Frame none, 0), "empty slot");
            Frame first = Published(slot, 12, 0, 0, 10.0);
            Frame second = Published(slot, 13, 0, 0, 10.0);
            Check(!ReferenceEquals(first, second), "a published frame is not handed out again");
            Check(slot.TryTake(out Frame taken, 10.0) && ReferenceEquals(taken, second), "takes the newest");
            Equal(1L, slot.Superseded, "superseded");
            Check(!slot.TryTake(out Frame _, 10.0), "taken once");
            Check(ReferenceEquals(slot.Rent(12), first), "the dropped frame's buffer is reused");
            slot.Return(taken);
            Check(ReferenceEquals(slot.Rent(12), taken), "a returned frame's buffer is reused");
            Equal(13L, slot.NewestIndex, "newest index");

            // Smooth mode: a 3-frame chunk arriving at once is handed out one frame interval (0.0625 s) apart.
            const double interval = 1.0 / 16, chunk = 3 * interval;
            var paced = new LatestFrameSlot();
            for (long f = 0; f < 3; f++) Published(paced, f, interval, chunk, 100.0);
            Equal(0L, TakeAt(paced, 100.0), "frame 0 at once");
            Equal(-1L, TakeAt(paced, 100.03), "frame 1 not yet due");
            Equal(1L, TakeAt(paced, 100.0625), "frame 1 one interval later");
            Equal(2L, TakeAt(paced, 100.125), "frame 2 two intervals later");
            // The next chunk arrives a little early: it continues the schedule instead of skipping frame 3.
            for (long f = 3; f < 6; f++) Published(paced, f, interval, chunk, 100.18);
            Equal(-1L, TakeAt(paced, 100.18), "frame 3 keeps the pace: due at 100.1875");
            Equal(3L, TakeAt(paced, 100.1875), "frame 3 one interval after frame 2");
            Equal(0L, paced.Superseded, "nothing skipped at the stream's pace");
            // A consumer that looks late gets the newest due frame and skips the rest.
            Equal(5L, TakeAt(paced, 101.0), "the newest due");
            Equal(1L, paced.Superseded, "frame 4 skipped");
            // Frames arriving far faster than the fps (pace max): the schedule never runs a chunk behind.
            for (long f = 6; f < 36; f++) Published(paced, f, interval, chunk, 102.0);
            Equal(35L, TakeAt(paced, 102.0 + chunk), "within one chunk of the newest");
        }

        static Frame Published(LatestFrameSlot slot, long index, double interval, double maxDelay, double now)
        {
            var headerMap = MsgPackReader.DecodeMap(Hex(PyFrameHeader));
            headerMap["frame"] = index;
            Frame frame = slot.Rent(12);
            frame.Header = FrameHeader.Parse(headerMap);
            slot.Publish(frame, interval, maxDelay, now);
            return frame;
        }

        static long TakeAt(LatestFrameSlot slot, double now)
        {
            if (!slot.TryTake(out Frame frame, now)) return -1;
            slot.Return(frame);
            return frame.Header.Frame;
        }

        static void CurveCertificate()
        {
            const string cert = "#   ****  Generated by pyzmq  ****\n#   ZeroMQ CURVE **Secret** Certificate\n\nmetadata\ncurve\n" +
                "    public-key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n" +
                "    secret-key = \"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6\"\n";
            Equal("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", CurveClientKeys.ParseCertificate(cert, "public"), "public key");
            Equal("JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6", CurveClientKeys.ParseCertificate(cert, "secret"), "secret key");
            Throws<FormatException>(() => CurveClientKeys.ParseCertificate("metadata\n", "public"), "no key line");
        }

        // ------------------------------------------------------------------------------------------ helpers
        /// <summary>What the decoder returns for a value the writer was given.</summary>
        static object Normalise(object value)
        {
            if (value is sbyte || value is short || value is int || value is long || value is byte || value is ushort || value is uint)
            {
                return Convert.ToInt64(value);
            }
            if (value is ulong u) return u <= long.MaxValue ? (object)(long)u : u;
            if (value is IDictionary<string, object> map)
            {
                var result = new Dictionary<string, object>();
                foreach (var entry in map) result[entry.Key] = Normalise(entry.Value);
                return result;
            }
            if (value is object[] items)
            {
                var result = new object[items.Length];
                for (int i = 0; i < items.Length; i++) result[i] = Normalise(items[i]);
                return result;
            }
            return value;
        }

        /// <summary>Deep equality of decoded values (NaN equals NaN).</summary>
        static bool Same(object expected, object actual)
        {
            if (expected == null || actual == null) return expected == null && actual == null;
            if (expected is double d && actual is double e) return d.Equals(e);
            if (expected is byte[] a && actual is byte[] b) return ToHex(a) == ToHex(b);
            if (expected is object[] xs && actual is object[] ys)
            {
                if (xs.Length != ys.Length) return false;
                for (int i = 0; i < xs.Length; i++) if (!Same(Normalise(xs[i]), ys[i])) return false;
                return true;
            }
            if (expected is IDictionary<string, object> m && actual is IDictionary<string, object> n)
            {
                if (m.Count != n.Count) return false;
                foreach (var entry in m)
                {
                    if (!n.TryGetValue(entry.Key, out object other) || !Same(Normalise(entry.Value), other)) return false;
                }
                return true;
            }
            return expected.GetType() == actual.GetType() && expected.Equals(actual);
        }
    }
}
