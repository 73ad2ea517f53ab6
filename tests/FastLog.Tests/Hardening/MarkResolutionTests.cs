using FastLog.Capture;
using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary>
/// <c>fastlog mark</c> finds the capture by the device's number: a regular file named like the captured device
/// plants nothing, any path to the device works, a long path cannot overflow the socket address, and a name that
/// no log can hold is refused by the client (or by the server for its log's sector size) with a clear message.
/// A real loop device and a real socket; the server's mark callback records what arrives.
/// </summary>
[Collection("loop")]
public sealed class MarkResolutionTests : IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly LoopImage _disk = new(1 << 20);
    private readonly List<string> _planted = [];
    private readonly MarkServer _server;

    public MarkResolutionTests()
    {
        _server = new MarkServer(_disk.Device, name => { lock (_planted) _planted.Add(name); return 0; }, _root.Path, sectorSize: 512);
    }

    public void Dispose()
    {
        _server.Dispose();
        _disk.Dispose();
        _root.Dispose();
    }

    private string? Send(string device, string name) => MarkServer.Send(device, name, _root.Path, timeoutMs: 5000);

    [Fact]
    public void TheDeviceItselfAndASymlinkToItReachTheCapture()
    {
        Assert.Null(Send(_disk.Device, "direct"));
        string link = _disk.File("alias");
        File.CreateSymbolicLink(link, _disk.Device);
        Assert.Null(Send(link, "via-link"));
        Assert.Equal(["direct", "via-link"], _planted);
    }

    [Fact]
    public void ARegularFileNamedLikeTheDeviceIsRefused()
    {
        string impostor = _disk.File(Path.GetFileName(_disk.Device)); // ./loopN, a regular file
        File.WriteAllText(impostor, "");
        Assert.Equal($"{impostor} is a regular file, not a block device: give the device capture printed (/dev/loopN, /dev/ublkbN)",
            Send(impostor, "planted"));
        Assert.Empty(_planted);
    }

    [Fact]
    public void ALongDevicePathDoesNotCrash()
    {
        string missing = "/dev/" + new string('x', 200);
        Assert.Equal($"{missing}: no such block device (give the device capture printed, /dev/loopN or /dev/ublkbN)", Send(missing, "m"));
        string longLink = _disk.File(new string('y', 200));
        File.CreateSymbolicLink(longLink, _disk.Device);
        Assert.Null(Send(longLink, "long-path"));
        Assert.Equal(["long-path"], _planted);
    }

    [Fact]
    public void NamesNoLogCanHoldAreRefusedClearly()
    {
        Assert.Equal("the mark name is 5000 bytes (UTF-8); a log holds at most 479 with 512-byte sectors, 4063 with 4096-byte sectors",
            Send(_disk.Device, new string('n', 5000)));
        Assert.Equal("the mark name is 600 bytes (UTF-8); this capture's log has 512-byte sectors, which hold at most 479",
            Send(_disk.Device, new string('n', 600)));
        Assert.Null(Send(_disk.Device, new string('n', 479)));
        Assert.Equal("a mark name is one line of text, at least one byte, without NUL", Send(_disk.Device, "two\nlines"));
        Assert.Equal([new string('n', 479)], _planted);
    }
}
