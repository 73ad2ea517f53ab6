namespace FastLog.Frontends.Ublk;

/// <summary>
/// A ublk command number. Since 6.4 commands are ioctl-encoded (_IOR/_IOWR('u', nr, size)); 6.0–6.3 know only
/// the raw nr, and some 6.18+ distro kernels accept only the encoded form. <see cref="Op"/> picks by the mode
/// negotiated at start-up; commands added after 6.4 have no legacy form.
/// </summary>
internal readonly record struct UblkCommand(string Name, uint Encoded, uint? Legacy)
{
    public uint Op(bool legacy) => legacy
        ? Legacy ?? throw new NotSupportedException($"ublk {Name} needs a kernel with encoded ublk commands (6.4+)")
        : Encoded;

    private const uint IocRead = 0x80207500, IocReadWrite = 0xC0207500, IocIoReadWrite = 0xC0107500;

    // Control commands (32-byte ublksrv_ctrl_cmd).
    public static readonly UblkCommand GetQueueAffinity = new("GET_QUEUE_AFFINITY", IocRead | 0x01, 0x01);
    public static readonly UblkCommand GetDevInfo = new("GET_DEV_INFO", IocRead | 0x02, 0x02);
    public static readonly UblkCommand AddDev = new("ADD_DEV", IocReadWrite | 0x04, 0x04);
    public static readonly UblkCommand DelDev = new("DEL_DEV", IocReadWrite | 0x05, 0x05);
    public static readonly UblkCommand StartDev = new("START_DEV", IocReadWrite | 0x06, 0x06);
    public static readonly UblkCommand StopDev = new("STOP_DEV", IocReadWrite | 0x07, 0x07);
    public static readonly UblkCommand SetParams = new("SET_PARAMS", IocReadWrite | 0x08, 0x08);
    public static readonly UblkCommand GetParams = new("GET_PARAMS", IocRead | 0x09, 0x09);
    /// <summary>6.5+.</summary>
    public static readonly UblkCommand GetFeatures = new("GET_FEATURES", IocRead | 0x13, null);
    /// <summary>6.9+; note _IOR, unlike DEL_DEV. Does not wait for the char device to be released.</summary>
    public static readonly UblkCommand DelDevAsync = new("DEL_DEV_ASYNC", IocRead | 0x14, null);

    // I/O commands (16-byte ublksrv_io_cmd).
    public static readonly UblkCommand FetchReq = new("FETCH_REQ", IocIoReadWrite | 0x20, 0x20);
    public static readonly UblkCommand CommitAndFetchReq = new("COMMIT_AND_FETCH_REQ", IocIoReadWrite | 0x21, 0x21);
}
