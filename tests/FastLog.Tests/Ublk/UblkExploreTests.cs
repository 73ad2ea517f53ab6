using FastLog.Tests.Explorer;
using FastLog.Tests.Guest;

namespace FastLog.Tests.Ublk;

/// <summary>
/// In the guest kernel, explore shows its crash states over ublk (not FUSE + loop): the commit-without-data state is
/// found there too, on a /dev/ublkbN device, and prefixes pass. Each state's device is what the crash-state backend
/// declares: no volatile cache and no FUA (a checked state is not crashed again), in 512-byte blocks.
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class UblkExploreTests
{
    [Fact]
    public void Explore_serves_states_over_ublk_and_finds_what_prefixes_miss()
    {
        // The guest sees the host's root read-only, but a /tmp of its own: the log goes to /var/tmp.
        string dir = Directory.CreateDirectory(Path.Combine("/var/tmp", $"fastlog-ublk-explore.{Guid.NewGuid():N}")).FullName;
        try
        {
            string log = ExploreCommandTests.CommitLog(Path.Combine(dir, "commit.log"), 512);
            string check = ExploreCommandTests.CommitChecker(512).Replace("'", "'\\''");
            GuestResult result = UblkGuest.RunOnFreshDisks($$"""
                modprobe ublk_drv
                set +e
                "$FASTLOG" explore --log {{log}} --check '{{check}}' --strategy prefix --jobs 1 --work-dir /tmp > /tmp/prefix.out 2>&1
                echo "prefix exit $?"
                "$FASTLOG" explore --log {{log}} --check '{{check}}' --strategy subsets --jobs 1 --work-dir /tmp > /tmp/subsets.out 2>&1
                echo "subsets exit $?"
                cat /tmp/subsets.out
                q='q=/sys/block/${FASTLOG_DEVICE#/dev/}/queue; echo "$(cat $q/write_cache) fua=$(cat $q/fua) lbs=$(cat $q/logical_block_size)" | tee -a /tmp/queue; test "$(cat $q/write_cache)" = "write through" && test $(cat $q/fua) = 0 && test $(cat $q/logical_block_size) = 512'
                "$FASTLOG" explore --log {{log}} --check "$q" --strategy prefix --budget 3 --jobs 1 --work-dir /tmp > /tmp/queue.out 2>&1
                echo "queue exit $?"; sort -u /tmp/queue; tail -3 /tmp/queue.out
                """, [16L << 20], TimeSpan.FromMinutes(5));
            Assert.Contains("prefix exit 0", result.StdOut);
            Assert.Contains("subsets exit 1", result.StdOut);
            Assert.Matches(@"commit without data in e\d+-\S+ on /dev/ublkb\d+", result.StdOut);
            Assert.Contains("queue exit 0", result.StdOut);
            Assert.Contains("write through fua=0 lbs=512", result.StdOut);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
