using System;
using System.Runtime.InteropServices;
using System.Text;
using Gf.Client.Core.Protocol;

namespace Gf.Client.Core.Transport
{
    /// <summary>Gives the destination buffer for an incoming message part of a given size.</summary>
    internal interface IPartBuffers
    {
        byte[] ForPart(int size);
    }

    /// <summary>
    /// A ZeroMQ DEALER socket connected to the server (PROTOCOL.md §1), with its own context.
    ///
    /// Threading: ZeroMQ sockets are not thread-safe. The socket is created by the thread that builds this object
    /// and then handed to exactly one other thread (the connection's receive thread) with a full memory fence
    /// (Thread.Start), which ZeroMQ allows; from then on only that thread calls any method here, Dispose included.
    /// </summary>
    internal sealed class ZmqDealer : IDisposable
    {
        /// <summary>Every part of one message ≤ this; larger ones are dropped by libzmq (ZMQ_MAXMSGSIZE).</summary>
        static readonly long MaxMessageBytes = ProtocolConstants.HardMaxMessageBytes;

        IntPtr context;
        IntPtr socket;
        IntPtr message; // one zmq_msg_t, reused for every part received
        int receiveTimeoutMs = int.MinValue;

        public string Endpoint { get; }

        public ZmqDealer(string endpoint, byte[] routingId, CurveClientKeys curve)
        {
            Endpoint = endpoint;
            try
            {
                context = LibZmq.zmq_ctx_new();
            }
            catch (DllNotFoundException ex)
            {
                throw new ZmqException(
                    "the native ZeroMQ library 'libzmq' was not found. In Unity, add libzmq.dll (Windows), " +
                    "libzmq.dylib (macOS) or libzmq.so (Linux) to the project as a native plugin (Assets/Plugins/x86_64/); " +
                    "under Mono on Linux, install libzmq5 and map 'libzmq' to 'libzmq.so.5' with a dllmap. " +
                    "See the Gf World Client README.", ex);
            }
            if (context == IntPtr.Zero) throw new ZmqException("zmq_ctx_new", LibZmq.zmq_errno());
            try
            {
                socket = LibZmq.zmq_socket(context, LibZmq.Dealer);
                if (socket == IntPtr.Zero) throw new ZmqException("zmq_socket(DEALER)", LibZmq.zmq_errno());
                SetInt(LibZmq.Linger, 0, "ZMQ_LINGER");                  // §1: closing never blocks
                SetInt(LibZmq.Immediate, 1, "ZMQ_IMMEDIATE");            // queue only on a live connection: no stale
                                                                         // pings or acks reach a restarted server
                SetLong(LibZmq.MaxMsgSize, MaxMessageBytes, "ZMQ_MAXMSGSIZE");
                SetBytes(LibZmq.RoutingId, routingId, "ZMQ_ROUTING_ID"); // §1: sessions survive a reconnect
                if (curve != null)
                {
                    SetBytes(LibZmq.CurveServerKey, Encoding.ASCII.GetBytes(curve.ServerPublicKey), "ZMQ_CURVE_SERVERKEY");
                    SetBytes(LibZmq.CurvePublicKey, Encoding.ASCII.GetBytes(curve.PublicKey), "ZMQ_CURVE_PUBLICKEY");
                    SetBytes(LibZmq.CurveSecretKey, Encoding.ASCII.GetBytes(curve.SecretKey), "ZMQ_CURVE_SECRETKEY");
                }
                if (LibZmq.zmq_connect(socket, endpoint) != 0)
                {
                    int errno = LibZmq.zmq_errno();
                    throw new ArgumentException("cannot connect to '" + endpoint + "': " + LibZmq.ErrorText(errno) +
                        "; give an endpoint like tcp://127.0.0.1:5555", nameof(endpoint));
                }
                message = Marshal.AllocHGlobal(LibZmq.MsgSize);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>"4.3.4": the loaded libzmq's version.</summary>
        public static string LibraryVersion()
        {
            LibZmq.zmq_version(out int major, out int minor, out int patch);
            return major + "." + minor + "." + patch;
        }

        /// <summary>Queue one single-part message without blocking; false when it cannot be queued now (no live
        /// connection, or the send queue is full).</summary>
        public bool TrySend(byte[] data)
        {
            int rc = LibZmq.zmq_send(socket, data, (UIntPtr)(uint)data.Length, LibZmq.DontWait);
            if (rc >= 0) return true;
            int errno = LibZmq.zmq_errno();
            if (LibZmq.IsAgain(errno) || errno == LibZmq.EIntr) return false;
            throw new ZmqException("zmq_send", errno);
        }

        /// <summary>
        /// Receive one message part, waiting up to <paramref name="timeoutMs"/> (0: only what is already queued).
        /// Its bytes are copied into <c>buffers.ForPart(size)</c>. Returns null when nothing arrived in time;
        /// <paramref name="more"/> says whether another part of the same message follows (ZeroMQ delivers a
        /// message's parts together, so the next part is always there at once).
        /// </summary>
        public byte[] Receive(int timeoutMs, IPartBuffers buffers, out bool more)
        {
            more = false;
            int flags = 0;
            if (timeoutMs <= 0)
            {
                flags = LibZmq.DontWait;
            }
            else if (timeoutMs != receiveTimeoutMs)
            {
                SetInt(LibZmq.RcvTimeo, timeoutMs, "ZMQ_RCVTIMEO");
                receiveTimeoutMs = timeoutMs;
            }
            if (LibZmq.zmq_msg_init(message) != 0) throw new ZmqException("zmq_msg_init", LibZmq.zmq_errno());
            try
            {
                if (LibZmq.zmq_msg_recv(message, socket, flags) < 0)
                {
                    int errno = LibZmq.zmq_errno();
                    if (LibZmq.IsAgain(errno) || errno == LibZmq.EIntr) return null;
                    throw new ZmqException("zmq_msg_recv", errno);
                }
                ulong size = (ulong)LibZmq.zmq_msg_size(message);
                if (size > (ulong)MaxMessageBytes)
                {
                    throw new ZmqException("zmq_msg_recv returned " + size + " bytes, over ZMQ_MAXMSGSIZE", null);
                }
                byte[] data = buffers.ForPart((int)size);
                if (size > 0) Marshal.Copy(LibZmq.zmq_msg_data(message), data, 0, (int)size);
                more = LibZmq.zmq_msg_more(message) != 0;
                return data;
            }
            finally
            {
                LibZmq.zmq_msg_close(message);
            }
        }

        public void Dispose()
        {
            if (socket != IntPtr.Zero)
            {
                LibZmq.zmq_close(socket); // LINGER 0: drops unsent messages, never blocks
                socket = IntPtr.Zero;
            }
            if (context != IntPtr.Zero)
            {
                LibZmq.zmq_ctx_term(context); // returns at once: the one socket is closed and lingers 0
                context = IntPtr.Zero;
            }
            if (message != IntPtr.Zero)
            {
                Marshal.FreeHGlobal(message);
                message = IntPtr.Zero;
            }
        }

        void SetInt(int option, int value, string name)
        {
            if (LibZmq.zmq_setsockopt(socket, option, ref value, (UIntPtr)(uint)sizeof(int)) != 0)
            {
                throw new ZmqException("zmq_setsockopt(" + name + ")", LibZmq.zmq_errno());
            }
        }

        void SetLong(int option, long value, string name)
        {
            if (LibZmq.zmq_setsockopt(socket, option, ref value, (UIntPtr)(uint)sizeof(long)) != 0)
            {
                throw new ZmqException("zmq_setsockopt(" + name + ")", LibZmq.zmq_errno());
            }
        }

        void SetBytes(int option, byte[] value, string name)
        {
            if (LibZmq.zmq_setsockopt(socket, option, value, (UIntPtr)(uint)value.Length) != 0)
            {
                int errno = LibZmq.zmq_errno();
                string hint = option == LibZmq.RoutingId ? "" :
                    "; CURVE needs a libzmq built with CURVE support and 40-character Z85 keys";
                throw new ZmqException("zmq_setsockopt(" + name + ") failed: " + LibZmq.ErrorText(errno) + hint, null);
            }
        }
    }
}
