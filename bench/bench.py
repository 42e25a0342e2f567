#!/usr/bin/env python3
"""Side-by-side benchmark of berth, Docker and Podman on one machine (issue 5).

Run it through bench/run.sh (which installs the peers and builds berth); see bench/README.md.
Every workload runs on the engines interleaved (berth, docker, podman, berth, docker, ...) after
warm-up rounds; the report gives median, min and max per engine, the ratios berth/docker and
berth/podman, and the peak RSS of the long-running processes. Nothing here asserts a timing.
"""

import argparse
import concurrent.futures
import datetime
import gzip
import hashlib
import io
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

STATE = "/var/lib/berth-bench"
DOCKER_SOCK = "/run/berth-bench-docker.sock"
DOCKER_PID = "/run/berth-bench-docker.pid"
# The private dockerd's own bridge (workloads k and l need Docker's bridge network, NAT and port
# publishing); a subnet no host route uses is picked at start.
DOCKER_BRIDGE = "brbench0"
MTIME = 1_767_225_600  # 2026-01-01T00:00:00Z, every generated tar entry
MIB = 1 << 20
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


class EngineError(Exception):
    """A command failed; the engine's result for this workload becomes "failed: ..."."""


# --------------------------------------------------------------------------------------------
# Engines


class Engine:
    """One engine behind a docker-compatible CLI: argv prefix, environment, feature probe."""

    def __init__(self, name, argv, env=None):
        self.name = name
        self.argv = argv
        self.env = dict(os.environ, **(env or {}))
        self.status = None  # None = usable, else why not ("not installed", ...)
        self.cli_rss_kib = 0
        self._probes = {}
        self.last_wall = (0.0, 0.0)  # time.time() at the last run's spawn and after its exit

    def cmd(self, *args):
        return self.argv + [str(a) for a in args]

    def run(self, *args, stdin=None, stdout=subprocess.DEVNULL, check=True):
        """Runs one CLI command; returns (seconds, stdout text or None). Records the CLI's peak RSS.

        The CLI runs under GNU time (`-f %M`) when it is installed: a child forked from this
        Python process would report Python's RSS as its own peak (the kernel keeps the highest
        RSS across exec), while GNU time's child starts from GNU time's small footprint.
        """
        prefix = []
        with tempfile.NamedTemporaryFile() as rssf, tempfile.TemporaryFile() as errf:
            if GNU_TIME:
                prefix = [GNU_TIME, "-f", "%M", "-o", rssf.name]
            wall0 = time.time()
            t0 = time.perf_counter()
            p = subprocess.Popen(prefix + self.cmd(*args), env=self.env, stdin=stdin or subprocess.DEVNULL, stdout=stdout, stderr=errf)
            out = p.stdout.read() if stdout == subprocess.PIPE else None
            p.wait()
            elapsed = time.perf_counter() - t0
            self.last_wall = (wall0, time.time())
            errf.seek(0)
            err = errf.read()
            rss = rssf.read().decode().strip().splitlines()
        if rss and rss[-1].isdigit():
            self.cli_rss_kib = max(self.cli_rss_kib, int(rss[-1]))
        if check and p.returncode != 0:
            msg = err.decode(errors="replace").strip().splitlines()
            what = " ".join(os.path.basename(str(a)) for a in args[:3])
            raise EngineError(f"`{what}` exited {p.returncode}: {msg[0] if msg else ''}")
        return elapsed, (out.decode(errors="replace") if out is not None else None)

    def out(self, *args):
        return self.run(*args, stdout=subprocess.PIPE)[1]

    def missing(self, needs):
        """berth commands (and flags) a workload needs that this engine lacks; peers lack nothing."""
        if self.name != "berth":
            return []
        missing = []
        for need in needs:
            words = need.split()
            path = [w for w in words if not w.startswith("-")]
            flags = [w for w in words if w.startswith("-")]
            key = " ".join(path)
            if key not in self._probes:
                p = subprocess.run(self.cmd(*path, "--help"), env=self.env, capture_output=True, text=True)
                self._probes[key] = p.stdout + p.stderr if p.returncode == 0 else None
            help_text = self._probes[key]
            if help_text is None:
                missing.append(key)
            elif any(f not in help_text.split() and f + "," not in help_text.split() for f in flags):
                missing.append(need)
        return sorted(set(missing))


def free_subnet():
    """A 10.2xx.x.0/24 no host route covers, for the private dockerd's bridge."""
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    for third in range(200, 250):
        net = f"10.{third}.77"
        if f"10.{third}." not in routes:
            return net
    raise RuntimeError("no free 10.x.77.0/24 for the bench's docker bridge")


def forward_policy():
    out = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True).stdout
    return next((l.split()[2] for l in out.splitlines() if l.startswith("-P FORWARD")), "ACCEPT")


def start_dockerd(bridged):
    """The private dockerd; with `bridged`, on its own bridge with iptables (Docker's port
    publishing), else without networks, as the other workloads measure."""
    for d in ("root", "exec"):
        os.makedirs(f"{STATE}/docker/{d}", exist_ok=True)
    log = open(f"{STATE}/docker/dockerd.log", "ab")
    net_args = ["--iptables=false", "--bridge=none"]
    if bridged:
        subprocess.run(["ip", "link", "del", DOCKER_BRIDGE], capture_output=True)
        subnet = free_subnet()
        subprocess.run(["ip", "link", "add", DOCKER_BRIDGE, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", f"{subnet}.1/24", "dev", DOCKER_BRIDGE], check=True)
        subprocess.run(["ip", "link", "set", DOCKER_BRIDGE, "up"], check=True)
        net_args = ["--iptables=true", f"--bridge={DOCKER_BRIDGE}"]
    proc = subprocess.Popen(
        [
            "dockerd", *net_args,
            "--data-root", f"{STATE}/docker/root", "--exec-root", f"{STATE}/docker/exec",
            "-H", f"unix://{DOCKER_SOCK}", "--pidfile", DOCKER_PID,
        ],
        stdout=log, stderr=log, start_new_session=True,
    )
    for _ in range(150):
        if subprocess.run(["docker", "-H", f"unix://{DOCKER_SOCK}", "version"], capture_output=True).returncode == 0:
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"dockerd did not start; see {STATE}/docker/dockerd.log")


def stop_dockerd(proc, docker, bridged=False, policy="ACCEPT"):
    ids = subprocess.run(docker.cmd("ps", "-aq"), env=docker.env, capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(docker.cmd("rm", "-f", "-v", *ids), env=docker.env, capture_output=True)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if bridged:
        remove_docker_firewall(policy)
        subprocess.run(["ip", "link", "del", DOCKER_BRIDGE], capture_output=True)


def remove_docker_firewall(policy):
    """Removes what a dockerd with --iptables left (it never does): the rules that mention its
    bridge or its DOCKER chains, then the chains; restores the FORWARD policy."""
    chains = ("DOCKER", "DOCKER-USER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2")
    for table in ("nat", "filter"):
        rules = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True).stdout.splitlines()
        for rule in rules:
            words = rule.split()
            if words[:1] == ["-A"] and words[1] not in chains and (DOCKER_BRIDGE in words or any(c in words for c in chains)):
                subprocess.run(["sh", "-c", f"iptables -t {table} -D {rule[3:]}"], capture_output=True)
        for c in chains:
            subprocess.run(["iptables", "-t", table, "-F", c], capture_output=True)
            subprocess.run(["iptables", "-t", table, "-X", c], capture_output=True)
    subprocess.run(["iptables", "-P", "FORWARD", policy], capture_output=True)


def podman_env():
    """containers.conf (runc, capped ulimits, cgroupfs, file events, file locks in a private
    directory) and an isolated storage.conf."""
    base = f"{STATE}/podman"
    os.makedirs(f"{base}/tmp", exist_ok=True)
    hard_nofile = int(subprocess.run(["sh", "-c", "ulimit -Hn"], capture_output=True, text=True).stdout.strip() or 1024)
    with open(f"{base}/containers.conf", "w") as f:
        f.write(
            "[containers]\n"
            # crun refuses this machine's hybrid cgroups, and Podman's default rlimits (the maximum)
            # exceed the hard open-files limit here (20000): runc refuses to set them.
            f'default_ulimits = ["nofile=1024:{hard_nofile}", "nproc=4096:4096"]\n'
            "[engine]\n"
            'runtime = "runc"\n'
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            # Podman takes a lock per container and volume. Its default lock type is a shared
            # memory segment, /dev/shm/libpod_lock, one for every root Podman on the machine,
            # sized by whichever Podman made it first (2,048 locks by default): workloads d and g
            # need more, and `system renumber` cannot grow a segment another Podman made. File
            # locks live in tmp_dir/locks, private to the bench, one file per lock, no limit.
            'lock_type = "file"\n'
            f'tmp_dir = "{base}/tmp"\n'
        )
    with open(f"{base}/storage.conf", "w") as f:
        f.write(f'[storage]\ndriver = "overlay"\ngraphroot = "{base}/root"\nrunroot = "{base}/run"\n')
    return {"CONTAINERS_CONF": f"{base}/containers.conf", "CONTAINERS_STORAGE_CONF": f"{base}/storage.conf"}


# --------------------------------------------------------------------------------------------
# Deterministic images (no network)


def _tar_add(tar, name, data=b"", mode=0o644, kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.mtime, info.mode, info.type, info.linkname = MTIME, mode, kind, link
    info.uid = info.gid = 0
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)


def busybox_rootfs(path, busybox="/bin/busybox"):
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        _tar_add(tar, "bin", mode=0o755, kind=tarfile.DIRTYPE)
        with open(busybox, "rb") as f:
            _tar_add(tar, "bin/busybox", f.read(), mode=0o755)
        for a in sorted(set(applets) - {"busybox"}):
            _tar_add(tar, f"bin/{a}", mode=0o777, kind=tarfile.SYMTYPE, link="busybox")
        for d, mode in (("dev", 0o755), ("etc", 0o755), ("proc", 0o755), ("root", 0o700), ("sys", 0o755), ("tmp", 0o1777)):
            _tar_add(tar, d, mode=mode, kind=tarfile.DIRTYPE)
        _tar_add(tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        _tar_add(tar, "etc/group", b"root:x:0:\n")
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def random_layer(path, name, size, seed):
    """A layer tar holding one file of `size` pseudo-random bytes, written in 1 MiB chunks."""
    rng = random.Random(seed)
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.mtime, info.mode, info.size = MTIME, 0o644, size

        class Stream(io.RawIOBase):
            left = size

            def readable(self):
                return True

            def readinto(self, b):
                n = min(len(b), self.left, MIB)
                if n == 0:
                    return 0
                b[:n] = rng.randbytes(n)
                self.left -= n
                return n

        tar.addfile(info, io.BufferedReader(Stream(), MIB))


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(4 * MIB):
            h.update(chunk)
    return h.hexdigest()


def save_archive(out, tag, layer_paths):
    """A `docker save` archive (manifest.json + <id>/layer.tar + config) of the given layer tars."""
    diff_ids = [sha256_file(p) for p in layer_paths]
    config = json.dumps({
        "architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine()),
        "os": "linux",
        "created": "2026-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d}" for d in diff_ids]},
        "history": [{"created": "2026-01-01T00:00:00Z", "created_by": f"berth bench layer {i}"} for i in range(len(layer_paths))],
    }, sort_keys=True).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": [f"{d}/layer.tar" for d in diff_ids]}]).encode()
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:
        for d, p in zip(diff_ids, layer_paths):
            _tar_add(tar, d, mode=0o755, kind=tarfile.DIRTYPE)
            info = tar.gettarinfo(p, arcname=f"{d}/layer.tar")
            info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode = MTIME, 0, 0, "", "", 0o644
            with open(p, "rb") as f:
                tar.addfile(info, f)
        _tar_add(tar, config_name, config)
        _tar_add(tar, "manifest.json", manifest)
    os.replace(tmp, out)


def build_images(big_mib, copyup_mib):
    """busybox rootfs, the big 20-layer image (busybox + 19 random layers), the copy-up image."""
    d = f"{STATE}/images"
    os.makedirs(d, exist_ok=True)
    busybox = f"{d}/busybox.tar"
    if not os.path.exists(busybox):
        busybox_rootfs(busybox)
    stamp = f"{big_mib}-{copyup_mib}"
    big, big_gz, copyup = f"{d}/big-{big_mib}.tar", f"{d}/big-{big_mib}.tar.gz", f"{d}/copyup-{copyup_mib}.tar"
    if not os.path.exists(big):
        print(f"generating the {big_mib} MiB 20-layer image (deterministic, once)...", flush=True)
        layers = [busybox]
        per_layer = big_mib * MIB // 19
        for i in range(19):
            p = f"{d}/layer-{stamp}-{i}.tar"
            random_layer(p, f"data/layer{i:02d}.bin", per_layer, seed=i)
            layers.append(p)
        save_archive(big, "bench-big:1", layers)
        for p in layers[1:]:
            os.remove(p)
    if not os.path.exists(big_gz):
        subprocess.run(f"gzip -1 -c -n '{big}' > '{big_gz}.tmp' && mv '{big_gz}.tmp' '{big_gz}'", shell=True, check=True)
    if not os.path.exists(copyup):
        p = f"{d}/layer-copyup.tar"
        random_layer(p, "big.bin", copyup_mib * MIB, seed=99)
        save_archive(copyup, "bench-copyup:1", [busybox, p])
        os.remove(p)
    return {"busybox": busybox, "big": big, "big_gz": big_gz, "copyup": copyup}


# --------------------------------------------------------------------------------------------
# Peak RSS of the long-running processes


class RssSampler(threading.Thread):
    """Polls /proc for daemons and shims and keeps the highest VmHWM (peak RSS) per process kind."""

    KINDS = {
        "dockerd": ("docker", "dockerd"),
        "containerd": ("docker", "containerd"),
        "containerd-shim": ("docker", "containerd-shim"),
        "conmon": ("podman", "conmon"),
    }

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = {}
        self.stop = threading.Event()

    def sample(self):
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
                kind = self.KINDS.get(comm)
                # berth re-executes itself through /proc/self/exe for the shim, so comm is "exe"
                if kind is None and comm in ("berth", "exe") and os.readlink(f"/proc/{pid}/exe").endswith("/berth"):
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        argv = f.read().split(b"\0")
                    if b"shim" in argv[1:]:
                        kind = ("berth", "berth shim")
                    elif b"serve" in argv[1:]:
                        kind = ("berth", "berth serve")
                if kind is None:
                    continue
                with open(f"/proc/{pid}/status") as f:
                    hwm = next((int(l.split()[1]) for l in f if l.startswith("VmHWM:")), 0)
                self.peak[kind] = max(self.peak.get(kind, 0), hwm)
            except (OSError, ValueError):
                continue

    def run(self):
        while not self.stop.is_set():
            self.sample()
            time.sleep(0.05)


# --------------------------------------------------------------------------------------------
# Workloads: each returns {metric id: seconds} for one round on one engine


RUN = ["run", "--rm", "--network", "none"]


class Ctx:
    def __init__(self, args, images):
        self.args, self.images = args, images
        self.scratch = f"{STATE}/scratch"
        os.makedirs(self.scratch, exist_ok=True)


def ensure_loaded(e, archive, tag):
    if subprocess.run(e.cmd("image", "inspect", tag), env=e.env, capture_output=True).returncode != 0:
        e.run("load", "-i", archive)


def rmi(e, tag):
    subprocess.run(e.cmd("rmi", "-f", tag), env=e.env, capture_output=True)


def remove_volumes(e, prefix):
    names = [n for n in e.out("volume", "ls", "-q").split() if n.startswith(prefix)]
    for i in range(0, len(names), 500):
        e.run("volume", "rm", "-f", *names[i : i + 500])
    return len(names)


# Workload a's per-phase breakdown on berth: (metric, from mark, to mark). berth writes the marks
# (crates/berth-runtime/src/phases.rs) to the file named by BERTH_PHASES; "@start" is the CLI's
# spawn (under GNU time, which adds about a millisecond), "@end" its exit as the bench sees it.
PHASES = [
    ("a.p.cli", "@start", "cli.main"),
    ("a.p.create", "cli.main", "cli.created"),
    ("a.p.launch", "cli.created", "runtime.create"),
    ("a.p.rtcreate", "runtime.create", "runtime.created"),
    ("a.p.start", "runtime.created", "runtime.started"),
    ("a.p.exit", "runtime.started", "container.exited"),
    ("a.p.delete", "container.exited", "runtime.deleted"),
    ("a.p.hooks", "runtime.deleted", "shim.hooks.exited"),
    ("a.p.cliexit", "shim.hooks.exited", "@end"),
]


def phase_times(path, wall):
    """Seconds per phase from one run's marks file (first mark of each name counts)."""
    marks = {"@start": wall[0], "@end": wall[1]}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0] not in marks:
                marks[parts[0]] = int(parts[1]) / 1e6
    return {m: marks[b] - marks[a] if a in marks and b in marks else f"mark {a if a not in marks else b} missing" for m, a, b in PHASES}


def wl_a(e, ctx):
    if e.name != "berth":
        return {"a": e.run(*RUN, "busybox", "true")[0]}
    marks = f"{ctx.scratch}/phases-{e.name}"
    if os.path.exists(marks):
        os.unlink(marks)
    e.env["BERTH_PHASES"] = marks
    try:
        secs = e.run(*RUN, "busybox", "true")[0]
    finally:
        del e.env["BERTH_PHASES"]
    return {"a": secs, **phase_times(marks, e.last_wall)}


def wl_b_setup(e, ctx):
    ensure_loaded(e, ctx.images["big"], "bench-big:1")


def wl_b(e, ctx):
    res = {}
    for metric, image in (("b.busybox", "busybox"), ("b.big", "bench-big:1")):
        t, out = e.run("create", "--network", "none", image, "true", stdout=subprocess.PIPE)
        res[metric] = t + e.run("rm", out.strip())[0]
    return res


def wl_c_setup(e, ctx):
    e.run("volume", "create", "bench-c")


def wl_c(e, ctx):
    script = "dd if=/dev/zero of=/data/f bs=1M count=256 2>/dev/null && dd if=/data/f of=/dev/null bs=1M 2>/dev/null && rm /data/f"
    return {"c": e.run(*RUN, "-v", "bench-c:/data", "busybox", "sh", "-c", script)[0]}


def wl_c_teardown(e, ctx):
    e.run("volume", "rm", "-f", "bench-c", check=False)


def wl_d(e, ctx):
    n1, n2 = ctx.args.volumes, ctx.args.volumes * 10
    remove_volumes(e, "bench-d-")
    t0 = time.perf_counter()
    for i in range(n1):
        e.run("volume", "create", f"bench-d-{i:05d}")
    res = {"d.create": time.perf_counter() - t0}
    res["d.ls1"] = e.run("volume", "ls")[0]
    # The rows n has at 100N, here at N and 10N, so the cost per volume can be read across.
    res["d.ls1.filter"] = e.run("volume", "ls", "--filter", "name=bench-d-0001")[0]
    res["d.df1"] = e.run("system", "df", "-v")[0]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # growth is setup, not measured
        list(pool.map(lambda i: e.run("volume", "create", f"bench-d-{i:05d}"), range(n1, n2)))
    res["d.ls10"] = e.run("volume", "ls")[0]
    res["d.ls10.filter"] = e.run("volume", "ls", "--filter", "name=bench-d-0001")[0]
    res["d.df10"] = e.run("system", "df", "-v")[0]
    t0 = time.perf_counter()
    if remove_volumes(e, "bench-d-") != n2:
        raise EngineError(f"volume ls did not list {n2} volumes")
    res["d.rm"] = time.perf_counter() - t0
    return res


def wl_d_teardown(e, ctx):
    remove_volumes(e, "bench-d-")


def wl_e_setup(e, ctx):
    rmi(e, "bench-big:1")


def wl_e(e, ctx):
    out = f"{ctx.scratch}/save-{e.name}.tar"
    res = {"e.load": e.run("load", "-i", ctx.images["big"])[0]}
    rmi(e, "bench-big:1")
    try:
        res["e.load.gz"] = e.run("load", "-i", ctx.images["big_gz"])[0]
    except EngineError as err:  # Podman 4.3 cannot read a gzipped docker-archive
        res["e.load.gz"] = f"failed: {err}"
        e.run("load", "-i", ctx.images["big"])
    res["e.save"] = e.run("save", "-o", out, "bench-big:1")[0]
    os.remove(out)
    t0 = time.perf_counter()
    with open(out + ".gz", "wb") as f:
        save = subprocess.Popen(e.cmd("save", "bench-big:1"), env=e.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        gz = subprocess.Popen(["gzip", "-1", "-c"], stdin=save.stdout, stdout=f)
        save.stdout.close()
        gz.wait()
        err = save.stderr.read()
        if save.wait() != 0 or gz.returncode != 0:
            raise EngineError(f"`save | gzip` failed: {err.decode(errors='replace').strip()[:200]}")
    res["e.save.gz"] = time.perf_counter() - t0
    os.remove(out + ".gz")
    rmi(e, "bench-big:1")
    return res


def wl_f_setup(e, ctx):
    for i in range(5):
        os.makedirs(f"{ctx.scratch}/bind{i}", exist_ok=True)


def wl_f(e, ctx):
    args = []
    for i in range(10):
        args += ["-v", f"bench-f{i}:/v{i}"]
    for i in range(5):
        args += ["-v", f"{ctx.scratch}/bind{i}:/b{i}"]
    args += ["--tmpfs", "/t0", "--tmpfs", "/t1"]
    return {"f": e.run(*RUN, *args, "busybox", "true")[0]}


def wl_f_teardown(e, ctx):
    remove_volumes(e, "bench-f")


def wl_g_setup(e, ctx):
    n = ctx.args.volumes
    per = max(1, ctx.args.files // n)
    remove_volumes(e, "bench-g-")
    names = [f"bench-g-{i:05d}" for i in range(n)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda v: e.run("volume", "create", v), names))
    for i in range(0, n, 200):
        batch = names[i : i + 200]
        for mp in e.out("volume", "inspect", "--format", "{{.Mountpoint}}", *batch).split():
            for j in range(per):
                with open(f"{mp}/f{j:04d}", "wb") as f:
                    f.write(b"x" * 512)


def wl_g(e, ctx):
    return {"g": e.run("system", "df", "-v")[0]}


def wl_g_teardown(e, ctx):
    remove_volumes(e, "bench-g-")


def wl_n_setup(e, ctx):
    n = ctx.args.volumes * 100
    remove_volumes(e, "bench-n-")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # growth is setup, not measured
        list(pool.map(lambda i: e.run("volume", "create", f"bench-n-{i:06d}"), range(n)))


def wl_n(e, ctx):
    n = ctx.args.volumes * 100
    res = {"n.ls": e.run("volume", "ls")[0]}
    res["n.ls.filter"] = e.run("volume", "ls", "--filter", "name=bench-n-0001")[0]
    res["n.df"] = e.run("system", "df", "-v")[0]
    names = [f"bench-n-{i:06d}" for i in range(0, n, 2)]
    t0 = time.perf_counter()
    for i in range(0, len(names), 500):
        e.run("volume", "rm", *names[i : i + 500])
    res["n.rm"] = time.perf_counter() - t0
    res["n.prune"] = e.run("volume", "prune", "--all", "--force")[0]
    left = e.out("volume", "ls", "-q").split()
    if any(v.startswith("bench-n-") for v in left):
        raise EngineError("volume prune --all left bench-n- volumes behind")
    return res


def wl_n_teardown(e, ctx):
    remove_volumes(e, "bench-n-")


def wl_h_setup(e, ctx):
    ensure_loaded(e, ctx.images["copyup"], "bench-copyup:1")


def wl_h(e, ctx):
    return {
        "h.true": e.run(*RUN, "bench-copyup:1", "true")[0],
        "h.write": e.run(*RUN, "bench-copyup:1", "sh", "-c", "echo x >> /big.bin")[0],
    }


def wl_k(e, ctx):
    return {"k": e.run("run", "--rm", "busybox", "true")[0]}


def free_ports(n):
    """`n` consecutive host ports free right now."""
    import socket
    while True:
        with socket.socket() as s:
            s.bind(("0.0.0.0", 0))
            base = s.getsockname()[1]
        if base + n >= 65000:
            continue
        ok = True
        for p in range(base, base + n):
            with socket.socket() as s:
                try:
                    s.bind(("0.0.0.0", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base


def wl_l(e, ctx):
    base = free_ports(5)
    publish = []
    for i in range(5):
        publish += ["-p", f"{base + i}:{80 + i}"]
    t, out = e.run("run", "-d", *publish, "busybox", "sleep", "600", stdout=subprocess.PIPE)
    return {"l.run": t, "l.rm": e.run("rm", "-f", out.strip())[0]}


def wl_i(e, ctx):
    t0 = time.perf_counter()
    procs = [subprocess.Popen(e.cmd(*RUN, "busybox", "true"), env=e.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(16)]
    errors = [p.stderr.read() for p in procs if p.wait() != 0]
    if errors:
        raise EngineError(f"{len(errors)} of 16 runs failed: {errors[0].decode(errors='replace').strip()[:200]}")
    return {"i": time.perf_counter() - t0}


BUILD_DOCKERFILE = """FROM busybox AS deps
RUN mkdir -p /deps && echo dep > /deps/a
RUN dd if=/dev/zero of=/deps/blob bs=1M count=8 2>/dev/null
FROM busybox
ARG VERSION=1
ENV APP=/app
WORKDIR /app
COPY data/ /app/data/
COPY --from=deps /deps /app/deps
RUN find /app -type f | wc -l > /app/count
LABEL bench=build
CMD ["cat", "/app/count"]
"""


def wl_j_setup(e, ctx):
    """A 12-step, two-stage Dockerfile whose context holds 100 MiB (100 files of 1 MiB)."""
    d = f"{ctx.scratch}/build-context"
    if not os.path.exists(f"{d}/Dockerfile"):
        os.makedirs(f"{d}/data", exist_ok=True)
        mib = ctx.args.build_mib
        for i in range(mib):
            rng = random.Random(f"bench-j-{i}")
            with open(f"{d}/data/f{i:03}.bin", "wb") as f:
                f.write(rng.randbytes(1 << 20))
        with open(f"{d}/Dockerfile", "w") as f:
            f.write(BUILD_DOCKERFILE)
    ctx.build_context = d


# The docker CLI with BuildKit built in (Debian's 20.10; a newer CLI wants the buildx plugin).
BUILDKIT_CLI = "/usr/bin/docker"


def buildkit(e):
    """Docker's BuildKit builder, through the CLI that has it built in (same dockerd)."""
    return Engine("docker", [BUILDKIT_CLI, "-H", f"unix://{DOCKER_SOCK}"], {"DOCKER_BUILDKIT": "1"})


def wl_j(e, ctx):
    build = ["build", "--network", "none", "-t", "bench-build:1"]
    cold = e.run(*build, "--no-cache", ctx.build_context)[0]
    cached = e.run(*build, ctx.build_context)[0]
    got = {"j.cold": cold, "j.cached": cached}
    if e.name == "docker":
        # The rows ".bk" hold BuildKit's times in Docker's column; berth and Podman repeat
        # their own, so each row's ratio compares with BuildKit.
        if not os.access(BUILDKIT_CLI, os.X_OK):
            got["j.cold.bk"] = got["j.cached.bk"] = f"skipped: no {BUILDKIT_CLI}"
        else:
            bk = buildkit(e)
            try:
                got["j.cold.bk"] = bk.run(*build, "--no-cache", ctx.build_context)[0]
                got["j.cached.bk"] = bk.run(*build, ctx.build_context)[0]
            except EngineError as err:
                got["j.cold.bk"] = got["j.cached.bk"] = f"failed: {err}"
            e.cli_rss_kib = max(e.cli_rss_kib, bk.cli_rss_kib)
    else:
        got["j.cold.bk"], got["j.cached.bk"] = cold, cached
    return got


def wl_j_teardown(e, ctx):
    rmi(e, "bench-build:1")
    if e.name == "berth":
        subprocess.run(e.cmd("builder", "prune", "-f"), env=e.env, capture_output=True)
    if e.name == "docker":
        subprocess.run(e.cmd("builder", "prune", "-a", "-f"), env=e.env, capture_output=True)


# m: a local registry (Debian's docker-registry) on fixed loopback ports, run under the bench lock.
PULL_PORT, PUSH_PORT = 5099, 5098
PULL_REF = f"127.0.0.1:{PULL_PORT}/bench/big:1"
PUSH_REF = f"127.0.0.1:{PUSH_PORT}/bench/pushed:1"
REGISTRIES = {}


def start_registry(port, wipe=False):
    """`docker-registry serve` on 127.0.0.1:port with its storage under STATE (wiped on request)."""
    old = REGISTRIES.pop(port, None)
    if old:
        old.terminate()
        old.wait()
    root = f"{STATE}/registry-{port}"
    if wipe:
        shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root, exist_ok=True)
    with open(f"{root}.yml", "w") as f:
        f.write(f"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                f"storage:\n  filesystem:\n    rootdirectory: {root}\nhttp:\n  addr: 127.0.0.1:{port}\n")
    log = open(f"{root}.log", "ab")
    proc = subprocess.Popen(["docker-registry", "serve", f"{root}.yml"], stdout=log, stderr=log, start_new_session=True)
    REGISTRIES[port] = proc
    for _ in range(100):
        if subprocess.run(["curl", "-sf", f"http://127.0.0.1:{port}/v2/"], capture_output=True).returncode == 0:
            return proc
        time.sleep(0.1)
    raise EngineError(f"docker-registry on port {port} did not start; see {root}.log")


def stop_registries():
    for proc in REGISTRIES.values():
        proc.terminate()
        proc.wait()
    REGISTRIES.clear()


def tls_off(e):
    """Podman wants HTTP registries named; Docker and berth treat loopback as insecure."""
    return ["--tls-verify=false"] if e.name == "podman" else []


def wl_m_setup(e, ctx):
    if not shutil.which("docker-registry"):
        raise EngineError("docker-registry is not installed (apt install docker-registry)")
    if PULL_PORT not in REGISTRIES:
        start_registry(PULL_PORT)
        if subprocess.run(["curl", "-sf", f"http://127.0.0.1:{PULL_PORT}/v2/bench/big/manifests/1"], capture_output=True).returncode != 0:
            # Seeded once by the first engine, then pulled by all from the same registry.
            ensure_loaded(e, ctx.images["big"], "bench-big:1")
            e.run("tag", "bench-big:1", PULL_REF)
            e.run("push", *tls_off(e), PULL_REF)
            rmi(e, PULL_REF)
    rmi(e, PULL_REF)
    rmi(e, "bench-big:1")


def wl_m(e, ctx):
    """Pull into a store without any of the image's layers; push into a registry without them."""
    rmi(e, "bench-big:1")
    rmi(e, PULL_REF)
    res = {"m.pull": e.run("pull", *tls_off(e), PULL_REF)[0]}
    rmi(e, PULL_REF)
    e.run("load", "-i", ctx.images["big"])
    e.run("tag", "bench-big:1", PUSH_REF)
    start_registry(PUSH_PORT, wipe=True)
    res["m.push"] = e.run("push", *tls_off(e), PUSH_REF)[0]
    rmi(e, PUSH_REF)
    rmi(e, "bench-big:1")
    return res


def wl_m_teardown(e, ctx):
    rmi(e, PULL_REF)

def remove_containers(e, prefix):
    names = [n for n in e.out("ps", "-a", "--format", "{{.Names}}").split() if n.startswith(prefix)]
    for i in range(0, len(names), 500):
        e.run("rm", "-f", *names[i : i + 500])
    return len(names)


def create_containers(e, prefix, start, end):
    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # growth is setup, not measured
        list(pool.map(lambda i: e.run("create", "--network", "none", "--name", f"{prefix}{i:05d}", "busybox", "true"), range(start, end)))


def wl_o_setup(e, ctx):
    remove_containers(e, "bench-o-")
    create_containers(e, "bench-o-", 0, ctx.args.containers)


def wl_o(e, ctx):
    n1, n2 = ctx.args.containers, ctx.args.containers * 10
    res = {"o.ps1": e.run("ps", "-a")[0]}
    if e.name != "berth":
        res["o.ps10"] = f"not run (creating {n2 - n1:,} more containers would take the peers too long)"
        return res
    if len(e.out("ps", "-aq").split()) < n2:
        create_containers(e, "bench-o-", n1, n2)
    res["o.ps10"] = e.run("ps", "-a")[0]
    if len(e.out("ps", "-aq").split()) < n2:
        raise EngineError(f"ps -a did not list {n2} containers")
    return res


def wl_o_teardown(e, ctx):
    remove_containers(e, "bench-o-")



# letter: (title, berth commands needed, setup, round, teardown, rounds, warm-up rounds)
WORKLOADS = {
    "a": ("run --rm busybox true", ["run --rm --network"], None, wl_a, None, 10, 2),
    "b": ("create + rm: busybox vs the 1 GiB 20-layer image", ["create --network", "rm", "load"], wl_b_setup, wl_b, None, 5, 1),
    "c": ("run --rm -v vol:/data: write then read 256 MiB", ["run -v", "volume create", "volume rm"], wl_c_setup, wl_c, wl_c_teardown, 3, 1),
    "d": ("volume create ×N, volume ls at N and 10N, rm all", ["volume create", "volume ls", "volume rm"], None, wl_d, wl_d_teardown, 1, 0),
    "e": ("load / save of the 1 GiB 20-layer image", ["load", "save", "rmi"], wl_e_setup, wl_e, None, 3, 1),
    "f": ("run --rm with 10 volumes, 5 binds, 2 tmpfs", ["run -v --tmpfs", "volume rm"], wl_f_setup, wl_f, wl_f_teardown, 5, 1),
    "g": ("system df -v: N volumes, 100,000 files", ["system df -v", "volume create", "volume inspect"], wl_g_setup, wl_g, wl_g_teardown, 3, 1),
    "h": ("copy-up: first write to a 256 MiB image file", ["run", "load"], wl_h_setup, wl_h, None, 5, 1),
    "i": ("16 concurrent run --rm busybox true", ["run --rm --network"], None, wl_i, None, 3, 1),
    "j": ("build: 12 steps, 2 stages, 100 MiB context; cold (--no-cache) and fully cached", ["build --no-cache --network"], wl_j_setup, wl_j, wl_j_teardown, 3, 1),
    "k": ("run --rm busybox true on the default bridge network", ["run --rm", "network ls"], None, wl_k, None, 10, 2),
    "l": ("run -d with 5 published ports, then rm -f", ["run -d -p", "rm -f", "network ls"], None, wl_l, None, 10, 2),
    "m": ("pull / push of the 1 GiB 20-layer image, local registry", ["pull", "push", "load"], wl_m_setup, wl_m, wl_m_teardown, 3, 1),
    "o": ("ps -a at C and 10C created containers (10C: berth alone)", ["create --network --name", "ps -a --format", "rm -f"], wl_o_setup, wl_o, wl_o_teardown, 1, 0),
    "n": ("N × 100 volumes: volume ls, ls --filter, system df -v, rm of half, prune of the rest", ["volume create", "volume ls --filter", "volume rm", "volume prune --all --force", "system df -v"], wl_n_setup, wl_n, wl_n_teardown, 1, 0),
}

# Workloads only berth runs, and why the peers do not.
BERTH_ONLY = {
    # Creating them one CLI call each would take the peers about 25 minutes (their cost in d).
    "n": "not run (creating 100N volumes would take ~25 min)",
}

# Workloads that need the peers' bridge networks (the private dockerd then runs with one).
BRIDGED = "kl"

METRICS = {
    "a": "a. run --rm true",
    "a.p.cli": "a. phase: CLI start (exec → main)",
    "a.p.create": "a. phase: create (engine open, image, record, layer)",
    "a.p.launch": "a. phase: launch (rootfs mount, bundle, shim spawn)",
    "a.p.rtcreate": "a. phase: runtime create",
    "a.p.start": "a. phase: start (shim ready, attach, runtime start)",
    "a.p.exit": "a. phase: exit (process runs, is reaped)",
    "a.p.delete": "a. phase: cleanup, runtime delete",
    "a.p.hooks": "a. phase: cleanup, state + unmount + --rm removal",
    "a.p.cliexit": "a. phase: cleanup, exit code to the CLI, CLI exit",
    "b.busybox": "b. create+rm busybox",
    "b.big": "b. create+rm 1 GiB/20 layers",
    "c": "c. volume write+read 256 MiB",
    "d.create": "d. volume create ×N",
    "d.ls1": "d. volume ls (N volumes)",
    "d.ls1.filter": "d. volume ls --filter name= (N volumes)",
    "d.df1": "d. system df -v (N empty volumes)",
    "d.ls10": "d. volume ls (10N volumes)",
    "d.ls10.filter": "d. volume ls --filter name= (10N volumes)",
    "d.df10": "d. system df -v (10N empty volumes)",
    "d.rm": "d. volume rm all 10N",
    "e.load": "e. load (plain tar)",
    "e.load.gz": "e. load (gzip)",
    "e.save": "e. save (plain tar)",
    "e.save.gz": "e. save, piped to gzip -1",
    "f": "f. run 10 vol + 5 bind + 2 tmpfs",
    "g": "g. system df -v",
    "h.true": "h. run true (256 MiB image)",
    "h.write": "h. run first write (copy-up)",
    "i": "i. 16 × run --rm concurrently",
    "j.cold": "j. build cold (12 steps, 100 MiB context)",
    "j.cached": "j. build fully cached",
    "j.cold.bk": "j. build cold; Docker's column: BuildKit",
    "j.cached.bk": "j. build fully cached; Docker's column: BuildKit",
    "k": "k. run --rm true, bridge network",
    "l.run": "l. run -d, 5 published ports",
    "l.rm": "l. rm -f of it (teardown)",
    "m.pull": "m. pull 1 GiB/20 layers (local registry)",
    "m.push": "m. push 1 GiB/20 layers (local registry)",
    "n.ls": "n. volume ls (100N volumes)",
    "n.ls.filter": "n. volume ls --filter name= (100N volumes)",
    "n.df": "n. system df -v (100N empty volumes)",
    "n.rm": "n. volume rm of 50N (batches of 500)",
    "n.prune": "n. volume prune --all of the other 50N",
    "o.ps1": "o. ps -a (C containers)",
    "o.ps10": "o. ps -a (10C containers)",
}


# --------------------------------------------------------------------------------------------
# Driver and report


def run_workload(letter, engines, ctx, results):
    title, needs, setup, one_round, teardown, rounds, warmup = WORKLOADS[letter]
    if ctx.args.rounds:
        rounds = ctx.args.rounds if letter not in "dno" else 1
    print(f"\n== {letter}. {title} ({warmup} warm-up + {rounds} rounds, interleaved)", flush=True)
    active = []
    for e in engines:
        if e.status:
            results[letter][e.name] = e.status
            continue
        if letter in BERTH_ONLY and e.name != "berth":
            results[letter][e.name] = BERTH_ONLY[letter]
            continue
        missing = e.missing(needs)
        if missing:
            results[letter][e.name] = f"not supported yet (berth lacks: {', '.join(missing)})"
            print(f"   {e.name}: {results[letter][e.name]}")
            continue
        try:
            if setup:
                setup(e, ctx)
            active.append(e)
        except EngineError as err:
            results[letter][e.name] = f"failed in setup: {err}"
            print(f"   {e.name}: {results[letter][e.name]}")
    samples = {e.name: {} for e in active}
    for r in range(warmup + rounds):
        for e in list(active):
            try:
                got = one_round(e, ctx)
            except EngineError as err:
                results[letter][e.name] = f"failed: {err}"
                print(f"   {e.name}: {results[letter][e.name]}")
                active.remove(e)
                continue
            if r >= warmup:
                for metric, secs in got.items():
                    if isinstance(secs, str):  # this metric failed; the others go on
                        samples[e.name][metric] = secs
                    elif not isinstance(samples[e.name].get(metric), str):
                        samples[e.name].setdefault(metric, []).append(secs)
            print(f"   round {r + 1 - warmup if r >= warmup else 'warm-up'} {e.name}: "
                  + ", ".join(f"{m} {s:.3f}s" if not isinstance(s, str) else f"{m} {s}" for m, s in got.items()), flush=True)
    for e in engines:
        if e.name in samples and not isinstance(results[letter].get(e.name), str):
            results[letter][e.name] = samples[e.name]
        if teardown and not e.status:
            try:
                teardown(e, ctx)
            except EngineError:
                pass


def summarize(results, engines):
    rows = []
    for letter in results:
        per_engine = results[letter]
        metrics = []
        for v in per_engine.values():
            if isinstance(v, dict):
                metrics += [m for m in v if m not in metrics]
        if not metrics:
            metrics = [m for m in METRICS if m == letter or m.startswith(letter + ".")]
        for m in metrics:
            row = {"id": m, "workload": METRICS[m], "engines": {}}
            for e in engines:
                v = per_engine.get(e.name, "skipped")
                if isinstance(v, dict) and isinstance(v.get(m), str):
                    row["engines"][e.name] = {"status": v[m]}
                elif isinstance(v, dict) and m in v:
                    s = v[m]
                    row["engines"][e.name] = {"median": statistics.median(s), "min": min(s), "max": max(s), "n": len(s), "samples": s}
                elif isinstance(v, dict) and m.startswith("a.p."):
                    row["engines"][e.name] = {"status": "–"}  # the phases are berth's own marks
                else:
                    row["engines"][e.name] = {"status": v if isinstance(v, str) else "no result"}
            b = row["engines"].get("berth", {}).get("median")
            for peer in ("docker", "podman"):
                p = row["engines"].get(peer, {}).get("median")
                row[f"berth/{peer}"] = (b / p) if (b is not None and p) else None
            rows.append(row)
    # b: the O(1)-in-image-size check, per engine
    big = next((r for r in rows if r["id"] == "b.big"), None)
    small = next((r for r in rows if r["id"] == "b.busybox"), None)
    if big and small:
        ratio = {"id": "b.ratio", "workload": "b. ratio big/busybox (1.0 = O(1))", "engines": {}, "ratio_row": True}
        for name, v in big["engines"].items():
            s = small["engines"].get(name, {})
            if "median" in v and s.get("median"):
                ratio["engines"][name] = {"ratio": v["median"] / s["median"]}
            else:
                ratio["engines"][name] = {"status": v.get("status", "no result")}
        rows.insert(rows.index(big) + 1, ratio)
    return rows


def fmt_cell(v):
    if "ratio" in v:
        return f"{v['ratio']:.2f}×"
    if "median" in v:
        return f"{v['median']:.3f} s ({v['min']:.3f}–{v['max']:.3f})"
    status = v["status"].replace("|", "/")
    return status if len(status) <= 90 else status[:89] + "…"


def markdown(report):
    names = [e for e in report["engines"]]
    lines = [
        f"Machine: {report['machine']['description']}  ",
        f"Date: {report['date']}  ",
        "Engines: " + "; ".join(f"{n} {report['engines'][n]['version'] or ''} ({report['engines'][n]['status']})" for n in names),
        "",
        "| workload | " + " | ".join(f"{n} median (min–max)" for n in names) + " | berth/docker | berth/podman |",
        "|---|" + "---|" * len(names) + "---|---|",
    ]
    for r in report["rows"]:
        ratios = ["", ""] if r.get("ratio_row") else [f"{r[k]:.2f}" if r.get(k) else "–" for k in ("berth/docker", "berth/podman")]
        lines.append(f"| {r['workload']} | " + " | ".join(fmt_cell(r["engines"][n]) for n in names) + f" | {ratios[0]} | {ratios[1]} |")
    lines += ["", "Peak RSS (VmHWM of daemons and shims; CLI = highest peak of one CLI call, from GNU time):", "", "| engine | process | peak RSS |", "|---|---|---|"]
    for engine, procs in report["rss_kib"].items():
        for proc, kib in sorted(procs.items()):
            lines.append(f"| {engine} | {proc} | {kib / 1024:.1f} MiB |")
    return "\n".join(lines) + "\n"


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    osname = next((l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release") if l.startswith("PRETTY_NAME")), "")
    fs, best = "?", ""
    for line in open("/proc/self/mounts"):
        _, target, fstype = line.split()[:3]
        if (STATE + "/").startswith(target.rstrip("/") + "/") and len(target) >= len(best):
            fs, best = fstype, target
    desc = f"{osname}, kernel {platform.release()}, {os.cpu_count()} × {cpu}, {mem / 1048576:.1f} GiB RAM, {fs} under {STATE}"
    return {"os": osname, "kernel": platform.release(), "cpu": cpu, "cores": os.cpu_count(), "mem_kib": mem, "fs": fs, "description": desc}


def version_of(e):
    try:
        if e.name == "berth":
            return e.out("--version").strip()
        if e.name == "docker":
            return "dockerd " + e.out("version", "--format", "{{.Server.Version}}").strip()
        return e.out("version", "--format", "{{.Client.Version}}").strip()
    except EngineError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--berth", default="target/release/berth", help="berth binary (default: target/release/berth)")
    ap.add_argument("--build-mib", type=int, default=100, help="MiB in workload j's build context (default: 100)")
    ap.add_argument("--only", default="abcdefghijklmno", help="workload letters to run, e.g. ae (default: all)")
    ap.add_argument("--engines", default="berth,docker,podman", help="comma list (default: berth,docker,podman)")
    ap.add_argument("--rounds", type=int, default=0, help="measured rounds per workload (default: per workload)")
    ap.add_argument("--volumes", type=int, default=1000, help="N for workloads d and g (default: 1000)")
    ap.add_argument("--containers", type=int, default=1000, help="C for workload o (default: 1000)")
    ap.add_argument("--files", type=int, default=100_000, help="files spread over the N volumes of g (default: 100000)")
    ap.add_argument("--big-mib", type=int, default=1024, help="size of the 20-layer image (default: 1024)")
    ap.add_argument("--copyup-mib", type=int, default=256, help="size of the copy-up file (default: 256)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 round, N=100, 2000 files, 64 MiB images")
    ap.add_argument("--out", default="bench/results", help="directory for latest.json and latest.md")
    ap.add_argument("--report-only", action="store_true", help="rewrite latest.md from latest.json, run nothing")
    args = ap.parse_args()
    if args.report_only:
        with open(f"{args.out}/latest.json") as f:
            md = markdown(json.load(f))
        with open(f"{args.out}/latest.md", "w") as f:
            f.write(md)
        print(md)
        return
    if args.quick:
        args.rounds, args.volumes, args.files, args.big_mib, args.copyup_mib = 1, 100, 2000, 64, 16
        args.containers = 50
        args.build_mib = 16
    if os.geteuid() != 0:
        sys.exit("bench.py: run as root (containers, mounts and a private dockerd)")
    os.makedirs(STATE, exist_ok=True)
    wanted = args.engines.split(",")

    engines, dockerd = [], None
    if "berth" in wanted:
        b = Engine("berth", [os.path.abspath(args.berth), "--root", f"{STATE}/berth"])
        if not os.path.exists(args.berth):
            b.status = f"not available ({args.berth} missing)"
        engines.append(b)
    if "docker" in wanted:
        # DOCKER_BUILDKIT=0: Docker's classic builder (workload j adds BuildKit rows).
        d = Engine("docker", ["docker", "-H", f"unix://{DOCKER_SOCK}"], {"DOCKER_BUILDKIT": "0"})
        if not (shutil.which("dockerd") and shutil.which("docker")):
            d.status = "skipped: dockerd/docker not installed"
        engines.append(d)
    if "podman" in wanted:
        p = Engine("podman", ["podman"], podman_env() if shutil.which("podman") else {})
        if not shutil.which("podman"):
            p.status = "skipped: podman not installed"
        engines.append(p)

    print("generating images...", flush=True)
    images = build_images(args.big_mib, args.copyup_mib)
    sampler = RssSampler()
    sampler.start()
    results = {letter: {} for letter in args.only if letter in WORKLOADS}
    bridged = any(letter in BRIDGED for letter in results)
    policy = forward_policy()
    try:
        for e in engines:
            if e.name == "docker" and not e.status:
                dockerd = start_dockerd(bridged)
            if e.status:
                print(f"{e.name}: {e.status}")
                continue
            try:
                if e.name == "podman":  # takes the lock type from containers.conf into the existing state
                    e.run("system", "renumber")
                rmi(e, "busybox:latest")
                e.run("import", images["busybox"], "busybox:latest")
            except EngineError as err:
                e.status = f"failed to import busybox: {err}"
                print(f"{e.name}: {e.status}")
        ctx = Ctx(args, images)
        for letter in results:
            run_workload(letter, engines, ctx, results)
        report = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "engines": {e.name: {"status": e.status or "ok", "version": None if e.status else version_of(e)} for e in engines},
            "settings": {"volumes": args.volumes, "containers": args.containers, "files": args.files, "big_mib": args.big_mib, "copyup_mib": args.copyup_mib, "rounds": args.rounds or "per workload"},
            "rows": summarize(results, engines),
        }
    finally:
        stop_registries()
        sampler.stop.set()
        sampler.sample()
        if dockerd:
            stop_dockerd(dockerd, next(e for e in engines if e.name == "docker"), bridged, policy)
    rss = {}
    for (engine, proc), kib in sampler.peak.items():
        rss.setdefault(engine, {})[proc] = kib
    for e in engines:
        if e.cli_rss_kib:
            rss.setdefault(e.name, {})[f"{e.name} CLI"] = e.cli_rss_kib
    report["rss_kib"] = rss
    os.makedirs(args.out, exist_ok=True)
    with open(f"{args.out}/latest.json", "w") as f:
        json.dump(report, f, indent=2)
    md = markdown(report)
    with open(f"{args.out}/latest.md", "w") as f:
        f.write(md)
    print("\n" + md)
    print(f"written: {args.out}/latest.json, {args.out}/latest.md")


if __name__ == "__main__":
    main()
