using System;
using System.Runtime.InteropServices;

namespace Gf.Client.Core.Transport
{
    /// <summary>
    /// The part of the libzmq C API (4.x) the client uses. The library is loaded by the name "libzmq": Unity finds
    /// libzmq.dll / libzmq.dylib / libzmq.so among the project's native plugins; Mono on Linux maps the name with a
    /// dllmap (Debian ships only libzmq.so.5). See the package README.
    /// </summary>
    internal static class LibZmq
    {
        public const string Library = "libzmq";

        // Socket types and options (zmq.h).
        public const int Dealer = 5;
        public const int RoutingId = 5;      // ZMQ_ROUTING_ID (ZMQ_IDENTITY)
        public const int Linger = 17;
        public const int ReconnectIvl = 18;
        public const int MaxMsgSize = 22;    // int64
        public const int RcvTimeo = 27;
        public const int Immediate = 39;
        public const int CurvePublicKey = 48;
        public const int CurveSecretKey = 49;
        public const int CurveServerKey = 50;

        // Send/receive flags.
        public const int DontWait = 1;

        // zmq_msg_t is an opaque 64-byte, pointer-aligned struct in every libzmq 4.x.
        public const int MsgSize = 64;

        // errno values. libzmq reports the platform's own EAGAIN: 11 on Linux and Windows, 35 on macOS and the BSDs;
        // on Linux 35 is EDEADLK, which ZeroMQ never returns from send/recv, so both can be read as "try again".
        public const int EAgainLinuxWindows = 11;
        public const int EAgainDarwin = 35;
        public const int EIntr = 4;
        const int HausNumero = 156384712;
        public const int ETerm = HausNumero + 53;

        public static bool IsAgain(int errno) => errno == EAgainLinuxWindows || errno == EAgainDarwin;

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern void zmq_version(out int major, out int minor, out int patch);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern IntPtr zmq_ctx_new();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int zmq_ctx_term(IntPtr context);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern IntPtr zmq_socket(IntPtr context, int type);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int zmq_close(IntPtr socket);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int zmq_setsockopt(IntPtr socket, int option, byte[] value, UIntPtr size);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int zmq_setsockopt(IntPtr socket, int option, ref int value, UIntPtr size);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int zmq_setsockopt(IntPtr socket, int option, ref long value, UIntPtr size);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int zmq_connect(IntPtr socket, [MarshalAs(UnmanagedType.LPStr)] string endpoint);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int zmq_send(IntPtr socket, byte[] buffer, UIntPtr length, int flags);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int zmq_msg_init(IntPtr message);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int zmq_msg_recv(IntPtr message, IntPtr socket, int flags);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern IntPtr zmq_msg_data(IntPtr message);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern UIntPtr zmq_msg_size(IntPtr message);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int zmq_msg_more(IntPtr message);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int zmq_msg_close(IntPtr message);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int zmq_errno();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern IntPtr zmq_strerror(int errnum);

        public static string ErrorText(int errno)
        {
            IntPtr text = zmq_strerror(errno);
            return text == IntPtr.Zero ? "errno " + errno : Marshal.PtrToStringAnsi(text) + " (errno " + errno + ")";
        }
    }

    /// <summary>A libzmq call failed; the message names the call and libzmq's own error text.</summary>
    public sealed class ZmqException : Exception
    {
        public int Errno { get; }

        public ZmqException(string call, int errno)
            : base(call + " failed: " + LibZmq.ErrorText(errno))
        {
            Errno = errno;
        }

        public ZmqException(string message, Exception inner) : base(message, inner)
        {
        }
    }
}
