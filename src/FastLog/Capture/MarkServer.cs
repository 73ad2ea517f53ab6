using System.Net.Sockets;
using System.Text;
using FastLog.Interop;
using FastLog.LogFormat;

namespace FastLog.Capture;

/// <summary>
/// Lets <c>fastlog mark DEVICE NAME</c> insert a mark into a running capture, whatever the frontend: a Unix
/// domain socket /run/fastlog/dev-MAJOR-MINOR.sock, mode 0600, that also checks the peer's uid (SO_PEERCRED)
/// against the server's, so only the device's owner can use it. One request per connection: the name and a
/// newline; the reply is "ok\n" or "error: TEXT\n".
/// <para>Control requests (power-fail injection) extend the protocol compatibly: a request that starts with a NUL byte,
/// which no mark name may contain, is a command and its arguments, "\0powerfail[ KEEP]\n", "\0poweron\n" or
/// "\0status\n"; the reply is "ok[ TEXT]\n" or "error: TEXT\n". A server without a control handler answers commands
/// with an error, and a client that sends only names never sees the difference.</para>
/// </summary>
/// <remarks>
/// The socket is named by the device's number (st_rdev), not its file name: any path to the device (a symlink,
/// a udev alias) finds the capture, a regular file that happens to be called loop0 does not, and the socket path
/// stays short whatever the device path (sun_path holds 107 bytes).
/// </remarks>
public sealed class MarkServer : IDisposable
{
    public const string DefaultRoot = "/run/fastlog";
    private const int MaxRequest = 4096;
    /// <summary>Starts a control request (and cannot start a mark name).</summary>
    public const char ControlPrefix = '\0';
    /// <summary>The longest mark name any capture's log takes (4096-byte sectors); 512-byte sectors take 479 bytes.</summary>
    public static readonly int MaxNameBytes = LogEntryHeader.MaxMarkNameLength(4096);
    private readonly Func<string, int> _mark;
    private readonly Func<string, string>? _control;
    private readonly int _maxNameBytes;
    private readonly int _sectorSize;
    private readonly Socket _listener;
    private readonly Thread _thread;
    private int _disposed;

    /// <param name="devicePath">The block device the marks are for (/dev/loop3, /dev/ublkb0).</param>
    /// <param name="mark">Inserts a mark: 0 or a negative errno (<see cref="LoggingBackend.Mark"/>).</param>
    /// <param name="root">Where the socket lives.</param>
    /// <param name="control">Answers a control request (the command line without its NUL): "ok[ TEXT]" or "error: TEXT".</param>
    /// <param name="sectorSize">The log's sector size, which bounds a mark name (<see cref="LogEntryHeader.MaxMarkNameLength"/>).</param>
    /// <exception cref="IOException"><paramref name="devicePath"/> is not a block device.</exception>
    public MarkServer(string devicePath, Func<string, int> mark, string root = DefaultRoot, Func<string, string>? control = null, int sectorSize = 4096)
    {
        _mark = mark;
        _control = control;
        _sectorSize = sectorSize;
        _maxNameBytes = LogEntryHeader.MaxMarkNameLength(sectorSize);
        Directory.CreateDirectory(root);
        SocketPath = PathFor(devicePath, root) ?? throw new IOException(NotADevice(devicePath));
        if (File.Exists(SocketPath))
        {
            if (CanConnect(SocketPath))
                throw new IOException($"{SocketPath}: another capture serves marks for {devicePath}");
            File.Delete(SocketPath); // left by a server that was killed
        }
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
            if (OperatingSystem.IsLinux()) // FastLog runs on Linux only; the guard is for the analyzer
                File.SetUnixFileMode(SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            _listener.Listen(16);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        _thread = new Thread(Serve) { IsBackground = true, Name = "mark-server" };
        _thread.Start();
    }

    public string SocketPath { get; }

    /// <summary>
    /// The socket for a block device, by its device number: /run/fastlog/dev-7-3.sock for /dev/loop3 (block 7:3),
    /// or null if <paramref name="devicePath"/> is not a block device.
    /// </summary>
    public static string? PathFor(string devicePath, string root = DefaultRoot)
    {
        if (string.IsNullOrEmpty(devicePath) || FileStatus.OfPath(devicePath) is not { IsBlockDevice: true } device)
            return null;
        ulong rdev = device.RawDevice;
        ulong major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfffUL); // glibc's gnu_dev_major / gnu_dev_minor
        ulong minor = (rdev & 0xff) | ((rdev >> 12) & ~0xffUL);
        return Path.Combine(root, $"dev-{major}-{minor}.sock");
    }

    private static string NotADevice(string devicePath) => FileStatus.OfPath(devicePath) is { } status
        ? $"{devicePath} is {status.Kind}, not a block device: give the device capture printed (/dev/loopN, /dev/ublkbN)"
        : $"{devicePath}: no such block device (give the device capture printed, /dev/loopN or /dev/ublkbN)";

    /// <summary>Why <paramref name="name"/> can never be a mark (checked before asking the capture), or null.</summary>
    public static string? NameProblem(string name)
    {
        if (name.Length == 0 || name.Contains('\n') || name.Contains('\0'))
            return "a mark name is one line of text, at least one byte, without NUL";
        int bytes = Encoding.UTF8.GetByteCount(name);
        return bytes > MaxNameBytes
            ? $"the mark name is {bytes} bytes (UTF-8); a log holds at most {LogEntryHeader.MaxMarkNameLength(512)} with 512-byte sectors, {MaxNameBytes} with 4096-byte sectors"
            : null;
    }

    /// <summary>Client side: sends one mark; returns null on success, else the error text.</summary>
    public static string? Send(string devicePath, string name, string root = DefaultRoot, int timeoutMs = 30_000)
    {
        if (NameProblem(name) is { } problem)
            return problem;
        string reply = Exchange(devicePath, name, root, timeoutMs);
        return reply == "ok" ? null : reply.StartsWith("error: ", StringComparison.Ordinal) ? reply[7..] : reply;
    }

    /// <summary>Client side: sends one control request; returns whether it succeeded and the reply's text (after "ok "
    /// or "error: ").</summary>
    public static (bool Ok, string Text) Control(string devicePath, string command, string root = DefaultRoot, int timeoutMs = 120_000)
    {
        if (command.Contains('\n') || command.Contains('\0'))
            return (false, "a command is one line of text");
        string reply = Exchange(devicePath, ControlPrefix + command, root, timeoutMs);
        if (reply == "ok" || reply.StartsWith("ok ", StringComparison.Ordinal))
            return (true, reply.Length > 2 ? reply[3..] : "");
        return (false, reply.StartsWith("error: ", StringComparison.Ordinal) ? reply[7..] : reply);
    }

    /// <summary>One request and its reply line; a connection failure comes back as "error: TEXT".</summary>
    private static string Exchange(string devicePath, string request, string root, int timeoutMs)
    {
        if (PathFor(devicePath, root) is not { } path)
            return "error: " + NotADevice(devicePath);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.SendTimeout = timeoutMs;
        socket.ReceiveTimeout = timeoutMs;
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            socket.Send(Encoding.UTF8.GetBytes(request + "\n"));
            socket.Shutdown(SocketShutdown.Send);
            string reply = ReadAll(socket).TrimEnd('\n');
            return reply == "ok" || reply.StartsWith("ok ", StringComparison.Ordinal) || reply.StartsWith("error: ", StringComparison.Ordinal)
                ? reply : $"error: unexpected reply '{reply}'";
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.ConnectionRefused
                ? $"error: no capture is running for {devicePath} ({path}: {e.Message})"
                : $"error: {path}: {e.Message}";
        }
    }

    private static bool CanConnect(string path)
    {
        try
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string ReadAll(Socket socket)
    {
        var buffer = new byte[MaxRequest];
        int used = 0;
        while (used < buffer.Length)
        {
            int n = socket.Receive(buffer, used, buffer.Length - used, SocketFlags.None);
            if (n == 0) break;
            used += n;
            if (Array.IndexOf(buffer, (byte)'\n', 0, used) >= 0) break;
        }
        return Encoding.UTF8.GetString(buffer, 0, used);
    }

    private void Serve()
    {
        while (Volatile.Read(ref _disposed) == 0)
        {
            Socket client;
            try { client = _listener.Accept(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { break; }
            using (client)
            {
                try
                {
                    client.ReceiveTimeout = 5000;
                    client.SendTimeout = 5000;
                    string reply = Handle(client);
                    client.Send(Encoding.UTF8.GetBytes(reply + "\n"));
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            }
        }
    }

    private string Handle(Socket client)
    {
        Span<byte> credentials = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        const int SOL_SOCKET = 1, SO_PEERCRED = 17;
        if (client.GetRawSocketOption(SOL_SOCKET, SO_PEERCRED, credentials) != 12)
            return "error: cannot identify the peer";
        uint uid = BitConverter.ToUInt32(credentials[4..8]);
        if (uid != Libc.GetEUid())
            return "error: only the device's owner may mark it";
        string text = ReadAll(client);
        int newline = text.IndexOf('\n');
        if (newline < 0)
            return "error: a request is a mark name and a newline";
        string request = text[..newline];
        if (request.StartsWith(ControlPrefix))
            return _control?.Invoke(request[1..]) ?? "error: this capture takes no commands";
        if (request.Contains(ControlPrefix))
            return "error: a mark name cannot contain a NUL byte";
        int bytes = Encoding.UTF8.GetByteCount(request);
        if (bytes > _maxNameBytes)
            return $"error: the mark name is {bytes} bytes (UTF-8); this capture's log has {_sectorSize}-byte sectors, which hold at most {_maxNameBytes}";
        int rc = _mark(request);
        return rc == 0 ? "ok" : $"error: {Libc.ErrorText(-rc)}";
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _listener.Dispose(); // ends Accept
        _thread.Join(TimeSpan.FromSeconds(5));
        try { File.Delete(SocketPath); } catch (IOException) { }
    }
}
