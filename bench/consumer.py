# SPDX-License-Identifier: MIT
"""The consumer side's shared pieces, for bench/run and bench/trace-speed.

How the trace is recorded, how big it is, the commands timed on it and on
its CTF export, and the targets they are held to (issues #6 and #7,
shared/research/anchors-perf.md G3). Both scripts time the same commands on
the same kind of trace: bench/run in its interleaved rounds, trace-speed on
one big trace with peak memory.
"""
import os
import shutil
import subprocess
import tempfile

# Reading speed targets (anchors G3). bytes/s are of the hvlog trace's
# buffer data; a ratio compares two readers of the same events.
TARGET_NULL_MBPS = 3200.0  # decoding to a null sink: the drain, `hvlog stats`
TARGET_NULL_RATIO = 39.0   # ... x babeltrace2's counter sink on the CTF export
TARGET_TEXT_MBPS = 110.0   # `hvlog decode` text to /dev/null
TARGET_TEXT_RATIO = 5.0    # ... x babeltrace2's text output on the CTF export
TARGET_CTF_MBPS = 1000.0   # `hvlog export --format ctf`

# The recording: 2 LPs logging flat out into 64 local buffers of 16 pages
# (64 KiB); the root cannot keep up, so the trace has gaps (EventsLost),
# which every reader must show. Its size is set by --events or --duration.
RECORD_OPTIONS = ["--lps", "2", "--rate", "0", "--buffers", "64", "--pages", "16"]


def scratch_dir(prefix):
    """A new directory for traces: on tmpfs when there is one, so the
    kernel's write-back of them never runs during a timed row."""
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    return tempfile.mkdtemp(prefix=prefix, dir=shm)


def record(hvlog, trace, size_options):
    """Records into @trace (replacing it) with RECORD_OPTIONS and
    @size_options (["--events", N] or ["--duration", MS]). Returns the
    command line, with the trace path written TRACE."""
    argv = [hvlog, "record", "-o", trace, "--force"] + RECORD_OPTIONS + size_options
    subprocess.run(argv + ["--quiet"], check=True)
    return "hvlog " + " ".join(argv[1:]).replace(trace, "TRACE")


def trace_size(hvlog, trace):
    """(bytes of buffer data: the group files' sizes, entries) of @trace."""
    data_bytes = sum(os.path.getsize(os.path.join(trace, f))
                     for f in os.listdir(trace) if f.endswith(".buffers"))
    stats = subprocess.run([hvlog, "stats", trace], capture_output=True, text=True,
                           check=True).stdout
    entries = sum(int(f[2]) for f in (line.split() for line in stats.splitlines())
                  if len(f) == 6 and f[0] in ("local", "global", "system"))
    return data_bytes, entries


def export_ctf_argv(hvlog, trace, ctf):
    return [hvlog, "export", trace, "--format", "ctf", "-o", ctf]


def stats_argv(hvlog, trace):
    """`hvlog stats TRACE`: decode to a null sink (every entry checked)."""
    return [hvlog, "stats", trace]


def decode_text_argv(hvlog, trace):
    """`hvlog decode TRACE`: text, run with its output to /dev/null."""
    return [hvlog, "decode", trace]


def babeltrace2():
    return shutil.which("babeltrace2")


def bt2_counter_argv(bt2, ctf):
    """babeltrace2's null sink: decode the CTF and count the messages;
    step=+0 prints the counts once, at the end, instead of every 1,000."""
    return [bt2, ctf, "-c", "sink.utils.counter", "-p", "step=+0"]


def bt2_text_argv(bt2, ctf):
    """babeltrace2's text output (sink.text.pretty), run to /dev/null."""
    return [bt2, ctf]
