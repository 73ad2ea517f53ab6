using System.Text.RegularExpressions;
using FastLog.Tests.Guest;

namespace FastLog.Tests.Ublk;

/// <summary>
/// `fastlog mark` against a ublk capture in the guest kernel: what was written before a mark must be in the image
/// `fastlog replay --end-mark` builds for it, and nothing written after it.
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed partial class UblkMarkTests
{
    [Fact]
    public void Replaying_to_each_mark_gives_exactly_the_writes_before_it()
    {
        // 1 MiB of random data each, in 512 KiB units (uN = N * 512 KiB on the device):
        //   first  -> u8,u9    then mark a
        //   second -> u9,u10   (overwrites the second half of first) then mark b
        //   third  -> u16,u17  then the capture stops
        // The guest prints "NAME SHA256" for each half of the data and for u8, u9, u10, u16 of the image replayed to
        // a, to b and to the end of the log.
        GuestResult result = UblkGuest.RunOnFreshDisks("""
            sum() { sha256sum | cut -d' ' -f1; }
            for d in first second third; do
              head -c 1M /dev/urandom > /tmp/$d
              echo "$d.lo $(head -c 512K /tmp/$d | sum)"
              echo "$d.hi $(tail -c 512K /tmp/$d | sum)"
            done
            echo "zeros $(head -c 512K /dev/zero | sum)"

            ublk_capture /dev/vda 4096 2 16 --log /dev/vdb
            dd if=/tmp/first of=$DEV bs=512K seek=8 oflag=direct conv=fsync status=none
            "$FASTLOG" mark $DEV a
            dd if=/tmp/second of=$DEV bs=512K seek=9 oflag=direct conv=fsync status=none
            "$FASTLOG" mark $DEV b
            dd if=/tmp/third of=$DEV bs=512K seek=16 oflag=direct conv=fsync status=none
            ublk_stop

            for m in a b end; do
              truncate -s 64M /tmp/at-$m.img
              if [ $m = end ]; then "$FASTLOG" replay --log /dev/vdb --replay /tmp/at-$m.img
              else "$FASTLOG" replay --log /dev/vdb --replay /tmp/at-$m.img --end-mark $m; fi
              for u in 8 9 10 16; do echo "$m.u$u $(dd if=/tmp/at-$m.img bs=512K skip=$u count=1 status=none | sum)"; done
            done
            echo "marks ok"
            """, [64L << 20, 64L << 20], TimeSpan.FromMinutes(5));
        Assert.Contains("marks ok", result.StdOut);
        Dictionary<string, string> sum = SumLine().Matches(result.StdOut).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

        string[] expectedAtA = [sum["first.lo"], sum["first.hi"], sum["zeros"], sum["zeros"]];
        string[] expectedAtB = [sum["first.lo"], sum["second.lo"], sum["second.hi"], sum["zeros"]];
        string[] expectedAtEnd = [sum["first.lo"], sum["second.lo"], sum["second.hi"], sum["third.lo"]];
        Assert.Equal(expectedAtA, Units(sum, "a"));
        Assert.Equal(expectedAtB, Units(sum, "b"));
        Assert.Equal(expectedAtEnd, Units(sum, "end"));
    }

    private static string[] Units(Dictionary<string, string> sum, string mark) =>
        [sum[$"{mark}.u8"], sum[$"{mark}.u9"], sum[$"{mark}.u10"], sum[$"{mark}.u16"]];

    [GeneratedRegex(@"^(\S+) ([0-9a-f]{64})$", RegexOptions.Multiline)]
    private static partial Regex SumLine();
}
