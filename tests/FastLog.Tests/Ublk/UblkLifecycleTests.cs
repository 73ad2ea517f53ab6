using FastLog.Tests.Guest;

namespace FastLog.Tests.Ublk;

/// <summary>How the device ends, in the guest kernel: cleanly on SIGTERM, and without hung tasks on SIGKILL.</summary>
[Collection(GuestVmCollection.Name)]
public sealed class UblkLifecycleTests
{
    [Fact]
    public void Sigkill_under_load_removes_the_device_and_fails_the_writer_instead_of_hanging_it()
    {
        GuestResult result = UblkGuest.RunOnFreshDisks("""
            ublk_capture /dev/vda 512 2 16 --no-log
            sigkill_under_load
            echo "sigkill ok"
            """, [256L << 20], TimeSpan.FromMinutes(5));
        Assert.Contains("sigkill ok", result.StdOut);
    }

    [Fact]
    public void Sigterm_deletes_the_device_cleanly_and_each_queue_thread_is_pinned_to_its_cpus()
    {
        GuestResult result = UblkGuest.RunOnFreshDisks("""
            ublk_capture /dev/vda 4096 2 4 --no-log
            # each queue thread runs on the CPUs that submit to its queue (2 vCPUs, 2 queues: one CPU each)
            cpus() { for t in /proc/$SERVER/task/*; do [ "$(cat $t/comm)" = "$1" ] && awk '/Cpus_allowed_list/ {print $2}' $t/status; done; true; }
            q0=$(cpus ublk-q0); q1=$(cpus ublk-q1)
            echo "queue CPUs: $q0 $q1"
            case "$q0$q1" in *-*|*,*) echo "queue threads are not pinned"; exit 1 ;; esac
            test -n "$q0" && test -n "$q1" && test "$q0" != "$q1"
            printf 'fastlog-ublk' | dd of=$DEV bs=4096 conv=sync,fsync oflag=direct status=none
            ublk_stop
            for _ in $(seq 100); do [ -e /dev/ublkc0 ] || break; sleep 0.05; done
            test ! -e /dev/ublkc0 || { echo "char device left behind: DEL_DEV did not run"; exit 1; }
            test "$(head -c 12 /dev/vda)" = fastlog-ublk
            ublk_capture /dev/vda 4096 1 4 --no-log
            test "$(head -c 12 $DEV)" = fastlog-ublk
            ublk_stop
            echo "sigterm ok"
            """, [64L << 20], TimeSpan.FromMinutes(5));
        Assert.Contains("sigterm ok", result.StdOut);
    }
}
