# Sourced by the ublk guest tests (tests/FastLog.Tests/Ublk). Needs $FASTLOG: a NativeAOT fastlog binary
# (JIT start-up takes seconds under TCG). Runs under `bash -euo pipefail`.

# ublk_capture BACKING LBS QUEUES DEPTH (--log LOG | --no-log) [more capture options]: starts
# `fastlog capture --frontend ublk` in the background and waits until its block device exists (capture prints the
# device on stdout once its mark socket is up, so `fastlog mark $DEV NAME` works from then on). Sets SERVER (pid)
# and DEV (/dev/ublkbN). With UBLK_DEFAULT_SIGINT=1 capture starts with SIGINT at its default disposition (bash
# starts background jobs with SIGINT ignored, and an ignored signal stays ignored across exec), so `kill -INT` reaches it.
ublk_capture() {
  local backing=$1 lbs=$2 queues=$3 depth=$4
  shift 4
  local run=()
  if [ "${UBLK_DEFAULT_SIGINT:-}" = 1 ]; then run=(env --default-signal=INT); fi
  rm -f /tmp/serve.out
  "${run[@]}" "$FASTLOG" capture --frontend ublk --backing "$backing" --logical-block-size "$lbs" --queues "$queues" --depth "$depth" "$@" \
    >/tmp/serve.out 2>/tmp/serve.err &
  SERVER=$!
  for _ in $(seq 1200); do
    if [ -s /tmp/serve.out ]; then
      DEV=$(head -1 /tmp/serve.out)
      if [ -b "$DEV" ]; then return 0; fi
    fi
    if ! kill -0 "$SERVER" 2>/dev/null; then
      echo "fastlog capture exited before its device appeared:" >&2; cat /tmp/serve.err >&2; return 1
    fi
    sleep 0.05
  done
  echo "fastlog capture did not start within 60 s" >&2; cat /tmp/serve.err >&2; return 1
}

# ublk_stop: SIGTERM (bash starts background jobs with SIGINT ignored), then checks a clean exit (capture closes
# the log first) and that the block device is gone.
ublk_stop() {
  local rc=0
  kill -TERM "$SERVER"
  wait "$SERVER" || rc=$?
  cat /tmp/serve.err >&2
  if [ "$rc" != 0 ]; then echo "fastlog capture exited with $rc" >&2; return 1; fi
  if [ -b "$DEV" ]; then echo "$DEV still exists after the server stopped" >&2; return 1; fi
}

# sigkill_under_load: SIGKILLs the server (started by ublk_capture) while a writer streams to $DEV, then checks that
# the device goes away, the writer fails instead of hanging, and no task hangs. Waits up to 15 s for each: before 6.4
# ublk notices a dead server only from a monitor that runs every 5 s.
sigkill_under_load() {
  dd if=/dev/zero of=$DEV bs=64k count=1000000 oflag=direct 2>/tmp/dd.err &
  local writer=$! writer_rc=0
  sleep 2
  kill -0 $writer
  kill -KILL $SERVER
  wait $SERVER || true
  for _ in $(seq 300); do [ -b $DEV ] || break; sleep 0.05; done
  if [ -b $DEV ]; then echo "$DEV still exists after SIGKILL" >&2; return 1; fi
  for _ in $(seq 300); do kill -0 $writer 2>/dev/null || break; sleep 0.05; done
  if kill -0 $writer 2>/dev/null; then echo "writer still blocked" >&2; cat /proc/$writer/stack >&2; return 1; fi
  wait $writer || writer_rc=$?
  if [ $writer_rc = 0 ]; then echo "the writer succeeded although the server was killed under it" >&2; return 1; fi
  no_hung_tasks
}

# no_hung_tasks: fails if any task sits in uninterruptible sleep (D) for 3 s.
no_hung_tasks() {
  for _ in 1 2 3; do
    if ! ps -eo stat=,pid=,comm= | awk '$1 ~ /^D/' | grep -q .; then return 0; fi
    sleep 1
  done
  echo "tasks stuck in D state:" >&2; ps -eo stat=,pid=,comm=,wchan:32= | awk '$1 ~ /^D/' >&2; return 1
}

# fs_workload DIR COUNT: the write + fsync + rename + delete workload. File i gets i*3001 random bytes, is fsynced
# under a temporary name and renamed; every 4th step deletes the previous file, so COUNT - COUNT/4 files remain.
fs_workload() {
  local dir=$1 count=$2
  for i in $(seq 1 "$count"); do
    head -c $((i * 3001)) /dev/urandom > "$dir/tmp.$i"
    sync "$dir/tmp.$i"
    mv "$dir/tmp.$i" "$dir/file.$i"
    if [ $((i % 4)) = 0 ]; then rm "$dir/file.$((i - 1))"; fi
  done
}
