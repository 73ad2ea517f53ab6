namespace FastLog.Backends;

/// <summary>
/// A backend that serves a frontend queue thread without blocking it: its I/O rides on that thread's own io_uring, as
/// kublk's targets do (queue_io starts a request, io_done handles each completion). The frontend keeps many requests
/// in flight per thread and takes no thread hop per request. A backend without it is called synchronously on the
/// queue thread (<see cref="SyncRingQueue"/>), so new backends need only <see cref="IBlockBackend"/> to work.
/// </summary>
internal interface IRingBackend : IBlockBackend
{
    /// <summary>Binds to one queue. Called on the queue thread, which alone calls the returned queue afterwards.</summary>
    IRingBackendQueue OpenQueue(BackendRing ring, IRequestSink sink);
}

/// <summary>One backend layer bound to one queue thread; every call comes from that thread.</summary>
internal unsafe interface IRingBackendQueue
{
    /// <summary>
    /// Starts <paramref name="tag"/>'s request. <paramref name="buffer"/> holds (or receives) the data and stays the
    /// request's until it is reported to the sink, exactly once, with 0 or -errno, possibly before Start returns.
    /// The same contract as <see cref="IBlockBackend"/>: a FLUSH is reported once everything reported before it
    /// started is durable; a FUA write once it is durable itself.
    /// </summary>
    void Start(ushort tag, in BlockRequest request, byte* buffer);

    /// <summary>A CQE whose user data some layer of this queue made with <see cref="BackendRing.UserData"/>.</summary>
    void OnCompletion(ushort tag, byte layer, int result);
}

/// <summary>Where a backend layer reports that a request finished: 0 or -errno.</summary>
internal interface IRequestSink
{
    void Completed(ushort tag, int result);
}

/// <summary>The one place that decides how a backend layer serves a queue thread (the frontend's top layer, and each
/// wrapper's inner one): on the ring when it can, else synchronously.</summary>
internal static class BackendQueues
{
    public static IRingBackendQueue Open(IBlockBackend backend, BackendRing ring, IRequestSink sink) =>
        backend is IRingBackend ringBackend ? ringBackend.OpenQueue(ring, sink) : new SyncRingQueue(backend, sink);
}

/// <summary>Any <see cref="IBlockBackend"/> as a ring queue: each request is served synchronously when it starts.</summary>
internal sealed unsafe class SyncRingQueue(IBlockBackend backend, IRequestSink sink) : IRingBackendQueue
{
    public void Start(ushort tag, in BlockRequest request, byte* buffer) => sink.Completed(tag, request.ServeSync(backend, buffer));

    public void OnCompletion(ushort tag, byte layer, int result) { } // submits nothing, so never called
}
