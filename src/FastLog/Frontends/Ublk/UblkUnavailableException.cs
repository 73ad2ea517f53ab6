namespace FastLog.Frontends.Ublk;

/// <summary>This kernel (or this user) cannot create ublk devices; the message says what to do about it.</summary>
public sealed class UblkUnavailableException(string message, Exception? inner = null) : IOException(message, inner)
{
    public const string ModuleMissing =
        "ublk is not available: modprobe ublk_drv; needs kernel ≥ 6.0 built with CONFIG_BLK_DEV_UBLK";
}
