using System;
using System.Threading.Tasks;
using Gf.Client.Core.Protocol;

namespace Gf.Client.Core
{
    /// <summary>
    /// A request on its way: encoded by the caller's thread, then owned by the receive thread, which sends it and
    /// completes it with the reply whose <c>seq</c> matches (or with an error or a timeout).
    /// </summary>
    internal abstract class PendingRequest
    {
        public readonly string Type;
        public readonly long Seq;
        public readonly byte[] Bytes;
        public readonly double Deadline; // on the connection's clock
        /// <summary>Set once the request was sent again after the server forgot the client (no_hello).</summary>
        public bool Resent;

        protected PendingRequest(string type, long seq, byte[] bytes, double deadline)
        {
            Type = type;
            Seq = seq;
            Bytes = bytes;
            Deadline = deadline;
        }

        public abstract void Complete(Reply reply);
        public abstract void Fail(Exception error);
    }

    internal sealed class PendingRequest<T> : PendingRequest
    {
        // Continuations never run on the receive thread: awaiting code resumes on its own context (Unity's main
        // thread under await) or on the thread pool.
        readonly TaskCompletionSource<T> completion =
            new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly Func<Reply, T> parse;

        public PendingRequest(string type, long seq, byte[] bytes, double deadline, Func<Reply, T> parse)
            : base(type, seq, bytes, deadline)
        {
            this.parse = parse;
        }

        public Task<T> Task => completion.Task;

        public override void Complete(Reply reply)
        {
            T value;
            try
            {
                value = parse(reply);
            }
            catch (ProtocolException ex)
            {
                completion.TrySetException(ex);
                return;
            }
            completion.TrySetResult(value);
        }

        public override void Fail(Exception error) => completion.TrySetException(error);
    }
}
