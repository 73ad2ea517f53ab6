using FastLog.Backends;

namespace FastLog.Frontends;

/// <summary>
/// Shows an <see cref="IBlockBackend"/> to the kernel as a block device. A frontend only translates the
/// kernel's requests (ublk descriptors, FUSE opcodes) into backend calls and their results back; ordering,
/// logging and durability are the backend's business, so every frontend gets them identically.
/// </summary>
/// <remarks>
/// A frontend never writes to the console: what it has to tell the user (a fallback taken, a leftover cleaned up, an
/// error the kernel reported on a thread nobody waits on) is one line, starting "fastlog: ", given to the
/// <c>say</c> callback its constructor takes (the CLI prints it on stderr; an embedding program decides). Counters
/// (<c>UnexpectedErrors</c>, <c>BackingFailures</c>) are state to query, not a second way of saying things.
/// </remarks>
public interface IBlockFrontend : IDisposable
{
    /// <summary>Creates the kernel device and starts serving; returns its path (/dev/ublkb0, /dev/loop3).</summary>
    string Start();

    /// <summary>Removes the kernel device after in-flight requests completed. Idempotent.</summary>
    void Stop();

    /// <summary>Completes when the device stopped, by <see cref="Stop"/> or because the kernel tore it down.</summary>
    Task Completion { get; }
}

/// <summary>
/// How a frontend serves, what every frontend takes; a frontend ignores what it cannot honour and says so in its
/// docs. What the device is (block sizes, cache, FUA, DISCARD) is the backend's <see cref="IBlockBackend.Capabilities"/>.
/// </summary>
public sealed record FrontendOptions
{
    public int Queues { get; init; } = 1;
    public int QueueDepth { get; init; } = 64;
}
