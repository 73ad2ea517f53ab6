#!/usr/bin/env python3
"""What each --log-durability level costs a FLUSH on one disk, with no FastLog code at all.

Usage: perf/one-disk-flush-bound.py DIR [OPS] [ROUNDS]   (DIR on the disk under test; needs 512 MiB free)

Per op, like one `fio --fsync=1` write through FastLog, a 4 KiB O_DIRECT random write to a backing file, then:
  no-log   fdatasync(backing)
  written  an 8 KiB O_DIRECT append to the log on a second thread, while fdatasync(backing) runs; both awaited
  durable  as written, plus fdatasync(log) on that second thread
8 KiB is about what FastLog appends per 4 KiB write and its FLUSH (a header sector, the data, a FLUSH sector,
rounded to 4 KiB blocks). Both files are written in full first, so no fdatasync journals an extent conversion.
The ratios are an upper bound for FastLog's logging / --no-log on that disk at that level. (`ordered` has none: it
never waits for the log, so its log writes go out in the background, many flushes' worth at a time.)
"""
import mmap, os, random, sys, threading, time

d = sys.argv[1]
ops = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
size = 256 << 20

def open_direct(name):
    fd = os.open(os.path.join(d, name), os.O_RDWR | os.O_CREAT | os.O_DIRECT, 0o644)
    os.ftruncate(fd, size)
    return fd

backing, log = open_direct("bound-backing"), open_direct("bound-log")
buf = mmap.mmap(-1, 1 << 20)  # page-aligned, as O_DIRECT needs
buf.write(os.urandom(1 << 20))
data = memoryview(buf)
for off in range(0, size, 1 << 20):
    os.pwrite(backing, data, off)
    os.pwrite(log, data, off)
os.fsync(backing)
os.fsync(log)

log_end = 0
def append(sync):
    global log_end
    os.pwrite(log, data[:8192], log_end)
    log_end = (log_end + 8192) % size
    if sync:
        os.fdatasync(log)

go, done = threading.Semaphore(0), threading.Semaphore(0)
log_sync = False
def log_thread():
    while True:
        go.acquire()
        append(log_sync)
        done.release()
threading.Thread(target=log_thread, daemon=True).start()

def run(mode):
    global log_sync
    log_sync = mode == "durable"
    start = time.perf_counter()
    for _ in range(ops):
        os.pwrite(backing, data[:4096], random.randrange(size // 4096) * 4096)
        if mode in ("written", "durable"):
            go.release()
        os.fdatasync(backing)
        if mode in ("written", "durable"):
            done.acquire()
    return (time.perf_counter() - start) / ops * 1e6

modes = ["no-log", "written", "durable"]
print(f"# {ops} ops per cell, {rounds} rounds interleaved, in {d}; microseconds per op (ratio to no-log)")
print("| round | " + " | ".join(modes) + " |")
print("|---|" + "---:|" * len(modes))
for r in range(1, rounds + 1):
    us = {m: run(m) for m in modes}
    print(f"| {r} | " + " | ".join(f"{us[m]:.0f} ({us['no-log'] / us[m]:.2f})" for m in modes) + " |")
os.unlink(os.path.join(d, "bound-backing"))
os.unlink(os.path.join(d, "bound-log"))
