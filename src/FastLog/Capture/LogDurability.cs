namespace FastLog.Capture;

/// <summary>How far the log must have come, up to a FLUSH or FUA write, before that request completes.</summary>
public enum LogDurability
{
    /// <summary>The log is fdatasync'd up to it (on a block device: written with FUA): the log survives a host crash
    /// whenever the data does. Each flush then costs two device flushes (backing store and log), which halves
    /// fsync-bound throughput on one disk.</summary>
    Durable,

    /// <summary>The log is written up to it (O_DIRECT, so out of FastLog and the page cache, possibly still in the
    /// disk's volatile cache): the log survives FastLog being killed; a host crash may lose its tail. Made durable in
    /// the background (every <see cref="CaptureLogOptions.SuperBlockInterval"/>) and at close.</summary>
    Written,

    /// <summary>Nothing: the FLUSH is in the log order, and the log is written and synced in the background (synced
    /// every <see cref="CaptureLogOptions.SuperBlockInterval"/>) and at close, as the kernel's dm-log-writes does (its
    /// FLUSH completes when the data device's does). A log closed cleanly is as complete as with the other levels;
    /// FastLog killed loses the tail the kernel was told is safe. For performance comparisons against dm-log-writes.</summary>
    Ordered,
}
