#!/usr/bin/env python3
"""Check a task_dump output file (see README.md) against /proc.

Usage: check_records.py --run [--script tests/bpf/run.sh] [--btf F] [-v]
       check_records.py DUMP_FILE [--btf /sys/kernel/btf/vmlinux] [-v]

Per record: independently of the BPF program's CO-RE offsets, this takes the
offsets of task_struct.pid / tgid / comm / flags from `bpftool -j btf dump
file BTF format raw`, reads those fields out of each record's raw task_struct
bytes, and compares them with /proc/<tgid>/task/<pid>/{comm,status}. Tasks
that exited between the dump and the check are counted as "gone". It also
checks that the header's BPF-side values (pid, tgid read by BPF via CO-RE,
the CO-RE field offsets, task_size) agree with the raw bytes and with
bpftool's view of the BTF.

Task set (/proc -> dump): every task (/proc/<tgid>/task/<tid>, identified by
tid and start time, so a reused tid is a different task) that was alive both
before and after the dump must be in it, PID 1 included. Tasks born or gone
while the dump ran are tolerated and counted. With --run this script takes the
/proc snapshots itself around tests/bpf/run.sh (the dump file is deleted
afterwards). With DUMP_FILE, "alive before" means: alive now and started at
least --margin seconds before the file's mtime.

One exception, made explicit: some sandbox kernels carry a non-mainline
task_iter_hides() in kernel/bpf/task_iter.c (visible in /proc/kallsyms) that
hides thread group 1 -- the VM's init/agent and its threads -- from BPF task
iterators run by any other process. On such a kernel (only), missing tasks of
tgid 1 are reported as "hidden by the kernel" instead of failing.

Exit status: 0 if every record is well formed, no live task mismatches and no
task is missing, 1 otherwise, 2 on usage/setup errors (77 if --run skips).
"""
import argparse
import json
import os
import struct
import re
import subprocess
import sys
import tempfile
import time

MAGIC = 0x4B534154
HDR = struct.Struct("=IIIHHQiiIIII")  # host byte order, 48 bytes
assert HDR.size == 48
F_TRUNCATED = 0x1
F_READ_FAILED = 0x2
PF_KTHREAD = 0x00200000
PF_WQ_WORKER = 0x00000020


def btf_offsets(btf_path, bpftool="bpftool"):
    """Return (task_struct size, {member: byte offset}) from bpftool."""
    raw = subprocess.run(
        [bpftool, "-j", "btf", "dump", "file", btf_path, "format", "raw"],
        check=True, capture_output=True,
    ).stdout
    types = json.loads(raw)["types"]
    by_id = {t["id"]: t for t in types}
    ts = [t for t in types if t["kind"] == "STRUCT" and t.get("name") == "task_struct"]
    if len(ts) != 1:
        raise SystemExit(f"expected one STRUCT task_struct in {btf_path}, found {len(ts)}")
    ts = ts[0]

    def resolve(tid):
        t = by_id.get(tid)
        while t and t["kind"] in ("TYPEDEF", "CONST", "VOLATILE", "RESTRICT", "TYPE_TAG"):
            t = by_id.get(t["type_id"])
        return t

    def find(struct_t, name, base_bits=0):
        # Direct members first, then look through anonymous struct/union members.
        for m in struct_t["members"]:
            if m["name"] == name:
                return (base_bits + m["bits_offset"]) // 8
        for m in struct_t["members"]:
            if m["name"] in ("", "(anon)"):
                inner = resolve(m["type_id"])
                if inner and inner["kind"] in ("STRUCT", "UNION"):
                    r = find(inner, name, base_bits + m["bits_offset"])
                    if r is not None:
                        return r
        return None

    offs = {}
    for name in ("pid", "tgid", "comm", "flags"):
        o = find(ts, name)
        if o is None:
            raise SystemExit(f"task_struct.{name} not found in BTF")
        offs[name] = o
    return ts["size"], offs


def parse(path):
    data = open(path, "rb").read()
    pos, recs = 0, []
    while pos < len(data):
        if len(data) - pos < HDR.size:
            raise ValueError(f"trailing {len(data) - pos} bytes at offset {pos}")
        h = HDR.unpack_from(data, pos)
        (magic, rec_len, task_size, hdr_len, flags, addr,
         pid, tgid, pid_off, tgid_off, comm_off, data_len) = h
        if magic != MAGIC:
            raise ValueError(f"bad magic {magic:#x} at offset {pos}")
        if hdr_len != HDR.size or rec_len != hdr_len + data_len or pos + rec_len > len(data):
            raise ValueError(f"inconsistent lengths at offset {pos}: {h}")
        recs.append(dict(
            off=pos, rec_len=rec_len, task_size=task_size, flags=flags, addr=addr,
            pid=pid, tgid=tgid, pid_off=pid_off, tgid_off=tgid_off,
            comm_off=comm_off, body=data[pos + hdr_len:pos + rec_len]))
        pos += rec_len
    return recs


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None


def proc_tasks():
    """{(tgid, tid): start time in clock ticks} for every task in /proc.

    The start time (field 22 of /proc/<tgid>/task/<tid>/stat) makes the key
    unique over time: a tid reused by a new task has a later start time.
    """
    tasks = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
            continue
        for t in tids:
            st = read(f"/proc/{p}/task/{t}/stat")
            if st is None:
                continue
            # comm (field 2) may hold spaces and parentheses: split after the last ')'.
            rest = st[st.rindex(b")") + 2:].split()
            tasks[(int(p), int(t))] = int(rest[19])  # rest[0] is field 3 (state)
    return tasks


def kernel_hides_init_group(kallsyms="/proc/kallsyms"):
    """True if the kernel has the (non-mainline) task_iter_hides() filter.

    Found on the sandbox VMs' 6.18 kernel: kernel/bpf/task_iter.c's
    task_seq_get_next() calls it for every candidate task and skips thread
    group 1 (the VM's init/agent) unless the reader is in that thread group.
    Mainline kernels have no such symbol.
    """
    data = read(kallsyms)
    return data is not None and re.search(rb" task_iter_hides(\s|$)", data, re.M) is not None


def proc_comm(tgid, tid):
    c = read(f"/proc/{tgid}/task/{tid}/comm")
    return c.rstrip(b"\n").decode(errors="replace") if c is not None else "?"


def check_task_set(dumped, before, after, hides_init, verbose, problems):
    """/proc -> dump: every task alive before and after the dump was dumped.

    dumped: set of (tgid, pid) from the records; before/after: proc_tasks().
    Returns the one-line summary; appends to problems.
    """
    stable = {k for k, start in before.items() if after.get(k) == start}
    missing = sorted(stable - dumped)
    hidden = [k for k in missing if hides_init and k[0] == 1]
    missing = [k for k in missing if not (hides_init and k[0] == 1)]
    born = dumped & (after.keys() - before.keys())
    exited = dumped & (before.keys() - after.keys())
    transient = dumped - before.keys() - after.keys()
    for tgid, tid in missing:
        problems.append(f"task tgid={tgid} tid={tid} ({proc_comm(tgid, tid)!r}) was alive "
                        f"before and after the dump but is not in it")
    if (1, 1) not in dumped and not hides_init:
        problems.append("PID 1 is not in the dump")
    line = (f"task set vs /proc: {len(stable)} alive before and after, "
            f"{len(stable) - len(missing) - len(hidden)} dumped, {len(missing)} missing; "
            f"pid 1 {'dumped' if (1, 1) in dumped else 'NOT dumped'}; "
            f"born during the dump {len(born)}, exited {len(exited)}, "
            f"born and exited {len(transient)}")
    if hides_init:
        line += (f"; kernel has task_iter_hides(): {len(hidden)} task(s) of thread group 1 "
                 f"hidden from BPF task iterators (tolerated)")
    if verbose:
        for tgid, tid in hidden:
            print(f"  hidden   tgid={tgid} tid={tid} comm={proc_comm(tgid, tid)!r}")
        for tgid, tid in missing:
            print(f"  MISSING  tgid={tgid} tid={tid} comm={proc_comm(tgid, tid)!r}")
    return line


def run_dump(script, out):
    """Run run.sh into out between two /proc snapshots; returns (rc, before, after)."""
    before = proc_tasks()
    rc = subprocess.run(["bash", script, out]).returncode
    after = proc_tasks()
    return rc, before, after


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump", nargs="?", help="a file written by run.sh (or use --run)")
    ap.add_argument("--run", action="store_true",
                    help="run the iterator now (run.sh), between two /proc snapshots")
    ap.add_argument("--script", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.sh"))
    ap.add_argument("--margin", type=float, default=1.0,
                    help="DUMP_FILE mode: tasks started less than this many seconds before "
                         "the file's mtime may have been born during the dump (default 1)")
    ap.add_argument("--btf", default="/sys/kernel/btf/vmlinux")
    ap.add_argument("--bpftool", default=os.environ.get("BPFTOOL", "bpftool"))
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if a.run == (a.dump is not None):
        ap.error("give either DUMP_FILE or --run")

    if a.run:
        fd, path = tempfile.mkstemp(prefix="check_records-", suffix=".bin")
        os.close(fd)
        try:
            rc, before, after = run_dump(a.script, path)
            if rc != 0:
                return rc if rc == 77 else 1
            return check(path, a, before, after)
        finally:
            os.unlink(path)  # kernel addresses (KASLR): never leave the dump around
    # Offline: the snapshot "before" is inferred from start times (CLOCK_BOOTTIME
    # ticks) -- alive now and started --margin seconds before the dump was written.
    after = proc_tasks()
    hz = os.sysconf("SC_CLK_TCK")
    boot_wall = time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
    started = (os.path.getmtime(a.dump) - boot_wall - a.margin) * hz
    before = {k: t for k, t in after.items() if t < started}
    return check(a.dump, a, before, after)


def check(dump, a, before, after):
    size, offs = btf_offsets(a.btf, a.bpftool)
    print(f"bpftool BTF: sizeof(task_struct)={size} pid@{offs['pid']} "
          f"tgid@{offs['tgid']} comm@{offs['comm']} flags@{offs['flags']}")

    try:
        recs = parse(dump)
    except ValueError as e:
        print(f"FORMAT ERROR: {e}")
        return 1
    problems = []
    sizes = sorted({r["rec_len"] for r in recs})
    print(f"records: {len(recs)}, record sizes: {sizes}, file bytes: {os.path.getsize(dump)}")

    stats = dict(match=0, match_extended_comm=0, mismatch=0, gone=0)
    kthreads = threads = truncated = 0
    addrs = set()
    dumped = set()
    for r in recs:
        if (r["tgid"], r["pid"]) in dumped:
            problems.append(f"record@{r['off']}: tgid={r['tgid']} pid={r['pid']} dumped twice")
        dumped.add((r["tgid"], r["pid"]))
        b = r["body"]
        if r["task_size"] != size:
            problems.append(f"record@{r['off']}: task_size {r['task_size']} != BTF size {size}")
        if (r["pid_off"], r["tgid_off"], r["comm_off"]) != (offs["pid"], offs["tgid"], offs["comm"]):
            problems.append(f"record@{r['off']}: CO-RE offsets {r['pid_off']},{r['tgid_off']},"
                            f"{r['comm_off']} != bpftool offsets")
        if r["flags"] & F_READ_FAILED:
            problems.append(f"record@{r['off']}: bpf_probe_read_kernel failed")
            continue
        if r["flags"] & F_TRUNCATED:
            truncated += 1
        if r["addr"] in addrs:
            problems.append(f"record@{r['off']}: duplicate task address {r['addr']:#x}")
        addrs.add(r["addr"])
        need = max(offs["pid"] + 4, offs["tgid"] + 4, offs["comm"] + 16, offs["flags"] + 4)
        if len(b) < need:
            problems.append(f"record@{r['off']}: only {len(b)} bytes of task_struct, need {need}")
            continue
        pid, = struct.unpack_from("=i", b, offs["pid"])
        tgid, = struct.unpack_from("=i", b, offs["tgid"])
        pflags, = struct.unpack_from("=I", b, offs["flags"])
        comm = b[offs["comm"]:offs["comm"] + 16].split(b"\0", 1)[0]
        if (pid, tgid) != (r["pid"], r["tgid"]):
            problems.append(f"record@{r['off']}: raw pid/tgid {pid}/{tgid} != BPF-read "
                            f"{r['pid']}/{r['tgid']}")
        if pflags & PF_KTHREAD:
            kthreads += 1
        if pid != tgid:
            threads += 1

        tdir = f"/proc/{tgid}/task/{pid}"
        pcomm = read(f"{tdir}/comm")
        status = read(f"{tdir}/status")
        if pcomm is None or status is None:
            stats["gone"] += 1
            if a.verbose:
                print(f"  gone     pid={pid} tgid={tgid} comm={comm!r}")
            continue
        pcomm = pcomm.rstrip(b"\n")
        ptgid = ppid_ = None
        for line in status.splitlines():
            if line.startswith(b"Tgid:"):
                ptgid = int(line.split()[1])
            elif line.startswith(b"Pid:"):
                ppid_ = int(line.split()[1])
        ok_ids = (ppid_, ptgid) == (pid, tgid)
        if ok_ids and pcomm == comm:
            stats["match"] += 1
            kind = "match"
        elif ok_ids and (pflags & (PF_KTHREAD | PF_WQ_WORKER)) and pcomm.startswith(comm):
            # /proc shows kthreads' full (untruncated) name and, for
            # workqueue workers, "-<workqueue>" appended; task->comm is the
            # 15-char truncated name.
            stats["match_extended_comm"] += 1
            kind = "match~"
        else:
            stats["mismatch"] += 1
            kind = "MISMATCH"
            problems.append(f"pid={pid} tgid={tgid} comm={comm!r} vs /proc pid={ppid_} "
                            f"tgid={ptgid} comm={pcomm!r}")
        if a.verbose:
            print(f"  {kind:8} pid={pid} tgid={tgid} comm={comm!r} proc_comm={pcomm!r}"
                  f"{' kthread' if pflags & PF_KTHREAD else ''}")

    print(f"kernel threads: {kthreads}, non-leader threads: {threads}, truncated: {truncated}")
    print("vs /proc: " + ", ".join(f"{k}={v}" for k, v in stats.items()))
    print(check_task_set(dumped, before, after, kernel_hides_init_group(), a.verbose, problems))
    for p in problems[:50]:
        print("PROBLEM: " + p)
    if len(problems) > 50:
        print(f"... {len(problems) - 50} more problems")
    ok = not problems and stats["match"] + stats["match_extended_comm"] > 0
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
