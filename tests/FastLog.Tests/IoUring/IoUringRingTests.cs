using FastLog.Interop;
using FastLog.Interop.IoUring;

namespace FastLog.Tests.IoUring;

/// <summary>The managed ring against the host kernel's io_uring.</summary>
public unsafe class IoUringRingTests
{
    [Fact]
    public void Nop_round_trips_its_user_data()
    {
        using IoUringRing ring = IoUringRing.Create(8);
        for (ulong i = 1; i <= 20; i++) // more than the ring size: head/tail wrap around
        {
            SqePrep.Nop(ring.TryGetSqe(), i * 1000);
            IoUringCqe cqe = ring.SubmitAndWaitOne();
            Assert.Equal(i * 1000, cqe.UserData);
            Assert.Equal(0, cqe.Result);
        }
    }

    [Fact]
    public void A_batch_submits_in_one_enter_and_completes_every_entry()
    {
        using IoUringRing ring = IoUringRing.Create(16);
        for (ulong i = 0; i < 16; i++)
            SqePrep.Nop(ring.TryGetSqe(), i);
        Assert.True(ring.TryGetSqe() == null, "a full SQ hands out no more entries");
        Assert.Equal(16, ring.SubmitAndWait(16));
        Assert.Equal(16u, ring.CqReady);
        var seen = new HashSet<ulong>();
        for (IoUringCqe* cqe; (cqe = ring.PeekCqe()) != null; ring.AdvanceCq())
            seen.Add(cqe->UserData);
        Assert.Equal(16, seen.Count);
        Assert.Equal(0u, ring.CqReady);
    }

    [Fact]
    public void Write_fsync_and_read_a_temp_file_through_the_ring()
    {
        string path = Path.GetTempFileName();
        int fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        Assert.True(fd >= 0);
        byte* buffer = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(8192, 4096);
        try
        {
            using IoUringRing ring = IoUringRing.CreateBest(8, 0,
                IoUringSetupFlags.SingleIssuer | IoUringSetupFlags.DeferTaskrun, IoUringSetupFlags.None);
            var data = new Span<byte>(buffer, 8192);
            for (int i = 0; i < data.Length; i++)
                data[i] = (byte)(i * 7 + 3);

            SqePrep.Write(ring.TryGetSqe(), fd, buffer, 8192, 4096, 1);
            Assert.Equal(8192, ring.SubmitAndWaitOne().Result);
            SqePrep.Fsync(ring.TryGetSqe(), fd, dataOnly: true, 2);
            Assert.Equal(0, ring.SubmitAndWaitOne().Result);

            byte[] onDisk = File.ReadAllBytes(path);
            Assert.Equal(4096 + 8192, onDisk.Length);
            Assert.True(onDisk.AsSpan(4096).SequenceEqual(data));

            data.Clear();
            SqePrep.Read(ring.TryGetSqe(), fd, buffer, 4096, 8192, 3);
            IoUringCqe read = ring.SubmitAndWaitOne();
            Assert.Equal(3ul, read.UserData);
            Assert.Equal(4096, read.Result);
            Assert.True(data[..4096].SequenceEqual(onDisk.AsSpan(8192, 4096)));

            SqePrep.Read(ring.TryGetSqe(), -1, buffer, 4096, 0, 4);
            Assert.Equal(-9, ring.SubmitAndWaitOne().Result); // EBADF comes back as a CQE result, not an exception
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(buffer);
            Libc.Close(fd);
            File.Delete(path);
        }
    }

    [Fact]
    public void Sqe128_ring_has_128_byte_entries_and_zeroes_the_whole_command_area()
    {
        using IoUringRing ring = IoUringRing.Create(4, IoUringSetupFlags.Sqe128);
        Assert.True(ring.HasSqe128);
        IoUringSqe* first = ring.TryGetSqe();
        IoUringSqe* second = ring.TryGetSqe();
        Assert.Equal(128, (byte*)second - (byte*)first);
        new Span<byte>(first, 256).Fill(0xAB); // dirty both slots, including the second half a 64-byte ring would not have
        new Span<byte>(first, 64).Clear(); // valid NOP heads; bytes 64..127 stay dirty (NOP ignores them)
        new Span<byte>(second, 64).Clear();
        SqePrep.Nop(first, 7);
        SqePrep.Nop(second, 8);
        Assert.Equal(2, ring.SubmitAndWait(2));
        ring.AdvanceCq(ring.CqReady);
        for (int i = 0; i < 4; i++) // wraps over the dirtied slots
        {
            IoUringSqe* sqe = ring.TryGetSqe();
            Assert.True(new ReadOnlySpan<byte>(sqe, 128).IndexOfAnyExcept((byte)0) < 0);
            SqePrep.Nop(sqe, 7);
        }
    }

    [Fact]
    public void Uring_cmd_to_a_file_without_the_hook_fails_in_its_cqe()
    {
        using IoUringRing ring = IoUringRing.Create(4, IoUringSetupFlags.Sqe128);
        string path = Path.GetTempFileName();
        int fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        try
        {
            byte* payload = SqePrep.UringCommand(ring.TryGetSqe(), fd, 0xC0207504, 99);
            payload[79] = 1; // the full 80-byte SQE128 payload is ours to write
            IoUringCqe cqe = ring.SubmitAndWaitOne();
            Assert.Equal(99ul, cqe.UserData);
            Assert.True(cqe.Result < 0); // regular files have no ->uring_cmd: -EOPNOTSUPP
        }
        finally
        {
            Libc.Close(fd);
            File.Delete(path);
        }
    }

    [Fact]
    public void Wait_with_a_timeout_returns_when_nothing_completes()
    {
        using IoUringRing ring = IoUringRing.Create(4);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(0, ring.SubmitAndWait(1, 50_000_000));
        Assert.InRange(watch.ElapsedMilliseconds, 30, 5000);
        Assert.Equal(0u, ring.CqReady);
    }
}
