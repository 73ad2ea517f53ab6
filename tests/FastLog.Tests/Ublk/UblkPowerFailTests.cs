using System.Text.RegularExpressions;
using FastLog.Tests.Guest;

namespace FastLog.Tests.Ublk;

/// <summary>
/// Power-fail injection on the ublk frontend in the guest kernel, where FUA writes exist: with --keep none, the crash
/// state holds the flushed data and the FUA write and loses the plain cached write; every request fails until
/// poweron, which serves the crash state, not the page cache.
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed partial class UblkPowerFailTests
{
    [Fact]
    public void Keep_none_keeps_flushed_and_fua_writes_drops_cached_ones_and_poweron_serves_the_crash_state()
    {
        GuestResult result = UblkGuest.RunOnFreshDisks("""
            sum() { sha256sum | cut -d' ' -f1; }
            at() { dd if=$DEV bs=64k count=1 skip=$1 ${2:-} status=none | sum; }
            echo "zeros $(head -c 64K /dev/zero | sum)"
            ublk_capture /dev/vda 512 1 16 --log /dev/vdb --power-fail manual --keep none
            dd if=/dev/urandom of=$DEV bs=64k count=1 seek=1 oflag=direct conv=fsync status=none   # flushed
            dd if=/dev/urandom of=$DEV bs=64k count=1 seek=3 oflag=direct,dsync status=none        # FUA (and a flush: O_DSYNC)
            dd if=/dev/urandom of=$DEV bs=64k count=1 seek=2 oflag=direct status=none              # cached
            echo "flushed $(at 1 iflag=direct)"
            echo "fua $(at 3 iflag=direct)"
            echo "cached-before $(at 2)"                                  # read through the page cache
            echo "cut $("$FASTLOG" powerfail $DEV)"
            if dd if=$DEV of=/dev/null bs=4k count=1 skip=100 iflag=direct status=none 2>/dev/null; then
              echo "a read after the cut succeeded" >&2; exit 1
            fi
            "$FASTLOG" poweron $DEV
            echo "flushed-after $(at 1)"
            echo "fua-after $(at 3)"
            echo "cached-after $(at 2)"
            ublk_stop
            echo "fua-entries $("$FASTLOG" inspect /dev/vdb --json | grep -o '"fua": *[0-9]*' | head -1 | grep -o '[0-9]*$')"
            echo "powerfail ok"
            """, [64L << 20, 64L << 20], TimeSpan.FromMinutes(5));
        Assert.Contains("powerfail ok", result.StdOut);
        Dictionary<string, string> v = Line().Matches(result.StdOut).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim());
        Assert.StartsWith("keep=none cached=128 kept=0", v["cut"]); // only the plain write was cached
        Assert.NotEqual(v["zeros"], v["cached-before"]);
        Assert.Equal(v["flushed"], v["flushed-after"]);
        Assert.Equal(v["fua"], v["fua-after"]);
        Assert.Equal(v["zeros"], v["cached-after"]);
        Assert.NotEqual("0", v["fua-entries"]);
    }

    [GeneratedRegex(@"^(\S+) (.+)$", RegexOptions.Multiline)]
    private static partial Regex Line();
}
