namespace FastLog.Tests.Guest;

/// <summary>
/// run-guest.sh boots the guest once more when qemu stopped before the command started (a rare TCG crash in early
/// boot), and never after a timeout or once the command has started. No guest boots here: a stand-in
/// qemu-system-x86_64 on PATH plays each attempt from a plan, against a stand-in kernel cache.
/// </summary>
public sealed class RunGuestRetryTests
{
    // Each attempt takes the next word of $FAKE_QEMU_PLAN: "crash" (exit 1 before the guest starts the command),
    // "crash-started" (the command started, then qemu died), "timeout" (as timeout(1) reports it) or "ok" (the
    // command ran and exited 0). The ctl directory is the -virtfs share tagged "ctl", where the guest's run.sh
    // leaves "started", "stdout" and "status".
    private const string FakeQemu = """
        #!/bin/bash
        n=$(( $(cat "$FAKE_QEMU_DIR/attempts" 2>/dev/null || echo 0) + 1 ))
        echo $n > "$FAKE_QEMU_DIR/attempts"
        read -ra plan <<< "$FAKE_QEMU_PLAN"
        for a in "$@"; do [[ $a == *mount_tag=ctl,* ]] && ctl=${a#local,path=} && ctl=${ctl%%,*}; done
        : > "$ctl/console" # -serial file:...
        case ${plan[n-1]} in
          crash) exit 1 ;;
          crash-started) : > "$ctl/started"; exit 1 ;;
          timeout) exit 124 ;;
          ok) : > "$ctl/started"; echo guest-ran > "$ctl/stdout"; echo 0 > "$ctl/status" ;;
        esac
        """;

    [Theory]
    [InlineData("crash ok", 0, 2)]              // the early crash is retried and the second boot runs the command
    [InlineData("crash crash", 125, 2)]         // only once
    [InlineData("crash-started ok", 125, 1)]    // the command may have changed the disks: not run twice
    [InlineData("timeout ok", 124, 1)]          // a timeout is not a crash
    public void An_early_qemu_crash_is_retried_once_and_nothing_else_is(string plan, int expectedExit, int expectedBoots)
    {
        string dir = Directory.CreateTempSubdirectory("fastlog-run-guest-retry.").FullName;
        try
        {
            string bin = Directory.CreateDirectory(Path.Combine(dir, "bin")).FullName;
            string qemu = Path.Combine(bin, "qemu-system-x86_64");
            File.WriteAllText(qemu, FakeQemu.ReplaceLineEndings("\n") + "\n");
            Assert.Equal(0, GuestVm.RunHost("chmod", "+x", qemu).ExitCode);
            string cache = Directory.CreateDirectory(Path.Combine(dir, "cache")).FullName;
            File.WriteAllText(Path.Combine(cache, "vmlinuz"), "");
            File.WriteAllText(Path.Combine(cache, "initrd"), "");
            Directory.CreateDirectory(Path.Combine(cache, "kernel-root"));

            (int exit, string output) = GuestVm.RunHost("env",
                $"PATH={bin}:{Environment.GetEnvironmentVariable("PATH")}", $"FASTLOG_CACHE={cache}",
                $"FAKE_QEMU_DIR={dir}", $"FAKE_QEMU_PLAN={plan}",
                "bash", GuestVm.RunGuestScript, "--timeout", "60", "--", "true");

            Assert.True(exit == expectedExit, $"exit {exit}, expected {expectedExit}:\n{output}");
            Assert.Equal(expectedBoots.ToString(), File.ReadAllText(Path.Combine(dir, "attempts")).Trim());
            Assert.Equal(expectedBoots - 1, output.Split("booting it once more").Length - 1);
            if (expectedExit == 0)
                Assert.Contains("guest-ran", output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
