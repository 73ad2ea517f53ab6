using System.Text;
using FastLog.Tests.Guest;
using FastLog.Tests.Support;
using FastLog.Tests.Ublk;
using Xunit.Abstractions;

namespace FastLog.Tests.Hardening;

/// <summary>
/// The ublk version of <see cref="CaptureKillLoopTests"/>, in the guest kernel (6.12), all in one boot: 21 rounds, each
/// starts <c>capture --frontend ublk</c> (log: one fresh file per round on an ext4 log disk), checks that marks reach
/// it (its mark socket is not blocked by a killed capture's), runs a workload that writes 4 KiB blocks with
/// O_DIRECT|O_DSYNC and journals every write it saw complete, and sends SIGTERM, SIGINT or SIGKILL (7 of each, in a
/// seeded order) after a seeded delay. After every kill: capture exits (0 for SIGTERM/SIGINT), the block device goes
/// away, the workload ends by itself and no task hangs (D state), and the next round's capture starts. On the host
/// every round's log replays with --scan (readable to its last complete entry) and every acknowledged write is in it.
/// At the end, after one more capture started and stopped, no ublk device is left (no /dev/ublkcN): a SIGKILLed capture's
/// block device goes away by itself, but its ublk device id stays until the next capture deletes it.
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class UblkKillLoopTests(ITestOutputHelper output)
{
    private const int Rounds = 21;
    private const long BackingBytes = 64L << 20;

    [Fact]
    public void TwentyOneSeededSignalsToAUblkCaptureUnderLoadLoseNoAcknowledgedWriteAndLeaveNothingBehind()
    {
        var random = new Random(11);
        int[] signals = Enumerable.Range(0, Rounds).Select(i => new[] { 15, 2, 9 }[i % 3]).OrderBy(_ => random.Next()).ToArray();
        int[] delaysMs = signals.Select(_ => 600 + random.Next(2000)).ToArray();
        string dir = Directory.CreateTempSubdirectory("fastlog-ublk-kills.").FullName;
        try
        {
            string backing = GuestVm.CreateSparseImage(Path.Combine(dir, "backing.img"), BackingBytes);
            string logDisk = GuestVm.CreateSparseImage(Path.Combine(dir, "logdisk.img"), 512L << 20);
            string outDir = Directory.CreateDirectory(Path.Combine(dir, "out")).FullName;
            GuestResult result = UblkGuest.Run(Script(signals, delaysMs), [new GuestDisk(backing, 4096), new GuestDisk(logDisk, 4096)],
                TimeSpan.FromMinutes(5), outDir).EnsureSuccess();
            output.WriteLine(result.StdOut);
            Assert.Contains("kill loop ok", result.StdOut);

            int acknowledged = 0, roundsWithLoad = 0;
            for (int round = 0; round < Rounds; round++)
            {
                string what = $"round {round}, signal {signals[round]} after {delaysMs[round]} ms";
                string log = Path.Combine(outDir, $"r{round}.log");
                Assert.True(File.Exists(log), $"{what}: the guest did not hand out the log\n{result.StdOut}");
                string image = GuestVm.CreateSparseImage(Path.Combine(dir, $"replayed{round}.img"), BackingBytes);
                (int rc, string said) = GuestVm.RunHost(FastlogBinary.Path, "replay", "--log", log, "--replay", image, "--scan");
                Assert.True(rc == 0, $"{what}: replay --scan of the killed capture's log failed ({rc}): {said}");
                int acked = JournalingWriter.AssertAcknowledgedWritesPresent(Path.Combine(outDir, $"acked{round}"), image, what);
                acknowledged += acked;
                if (acked > 0) roundsWithLoad++;
                File.Delete(image);
            }
            Assert.True(roundsWithLoad >= Rounds - 2, $"only {roundsWithLoad} of {Rounds} rounds had acknowledged writes before the kill: the kills hit no load\n{result.StdOut}");
            Assert.True(acknowledged >= 5 * Rounds, $"only {acknowledged} writes were acknowledged in {Rounds} rounds\n{result.StdOut}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The guest script; SIGINT reaches capture because UBLK_DEFAULT_SIGINT starts it through
    /// <c>env --default-signal=INT</c>.</summary>
    private static string Script(int[] signals, int[] delaysMs)
    {
        var rounds = new StringBuilder();
        for (int i = 0; i < signals.Length; i++)
            rounds.Append(System.FormattableString.Invariant($"{signals[i]}:{delaysMs[i] / 1000.0:F3} "));
        return $$"""
            mkfs.ext4 -q -F /dev/vdb
            mkdir -p /mnt/logs && mount /dev/vdb /mnt/logs
            export UBLK_DEFAULT_SIGINT=1
            r=0
            for spec in {{rounds}}; do
              sig=${spec%%:*}; delay=${spec#*:}
              log=/mnt/logs/r$r.log; journal=/mnt/logs/acked$r; : > $journal
              t0=$(date +%s%N)
              ublk_capture /dev/vda 4096 1 8 --log $log || { echo "round $r: the capture after the previous kill does not start" >&2; ls -l /dev/ublk* >&2; exit 1; }
              started=$(( ($(date +%s%N) - t0) / 1000000 ))
              "$FASTLOG" mark $DEV round$r || { echo "round $r: no mark reaches capture on $DEV" >&2; exit 1; }
              bash {{JournalingWriter.Script}} $DEV $journal /tmp/blk$r &
              writer=$!
              sleep $delay
              kill -$sig $SERVER
              for _ in $(seq 300); do kill -0 $SERVER 2>/dev/null || break; sleep 0.1; done
              if kill -0 $SERVER 2>/dev/null; then
                echo "round $r: capture ignores signal $sig" >&2; for t in /proc/$SERVER/task/*; do echo "== $t"; cat $t/stack; done >&2; exit 1
              fi
              rc=0; wait $SERVER || rc=$?
              if [ $sig != 9 ] && [ $rc != 0 ]; then echo "round $r: capture exited with $rc after signal $sig" >&2; cat /tmp/serve.err >&2; exit 1; fi
              for _ in $(seq 150); do [ -b $DEV ] || break; sleep 0.1; done
              if [ -b $DEV ]; then echo "round $r: $DEV still exists after signal $sig" >&2; exit 1; fi
              for _ in $(seq 300); do kill -0 $writer 2>/dev/null || break; sleep 0.1; done
              if kill -0 $writer 2>/dev/null; then
                echo "round $r: the workload hangs after signal $sig" >&2; ps -eo stat=,pid=,comm=,wchan:32= >&2; exit 1
              fi
              wait $writer || true
              no_hung_tasks || { echo "round $r: tasks hang after signal $sig" >&2; exit 1; }
              echo "round $r: signal $sig after ${delay}s, capture started in ${started} ms, exit $rc, $(wc -l < $journal) writes acknowledged"
              cp $log /out/r$r.log; cp $journal /out/acked$r
              rm $log
              r=$((r+1))
            done
            ublk_capture /dev/vda 4096 1 8 --no-log || { echo "the capture after the last round does not start" >&2; exit 1; }
            ublk_stop
            left=$(ls /dev/ublkc* 2>/dev/null || true)
            if [ -n "$left" ]; then echo "ublk devices left by the killed captures: $left" >&2; exit 1; fi
            echo "kill loop ok"
            """;
    }
}
