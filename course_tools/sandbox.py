"""Sandboxed kernels for autograding: bubblewrap and resource limits.

nbgrader runs each submitted notebook in a Jupyter kernel, as the instructor, in the course
folder. Here the kernel runs inside bubblewrap (``bwrap``, Debian's ``bubblewrap``) instead;
nbgrader_config.py plugs it in, so ``nbgrader autograde`` itself grades sandboxed:

    c.Autograde.autograde_preprocessors = pipeline.autograde_preprocessors()  # Execute -> SandboxedExecute
    c.SandboxedKernelManager.memory_mb = 4096                                 # and the other limits

What a sandboxed kernel sees:
    /usr, /lib*, a few files of /etc   read-only (the system's programs and libraries)
    the Python environment             read-only (sys.prefix, sys.base_prefix, course_lib)
    the notebook's folder              read-write, but a private copy: nothing the kernel writes
                                       reaches the instructor's disk (no symlink tricks on the
                                       files nbgrader writes afterwards)
    /tmp                               private, size-capped; HOME is /tmp
    its connection folder              the kernel's ipc sockets and connection file
Nothing else: not solutions/, the gradebook, other students' folders or the instructor's home;
the rest of its file system is read-only. No network (its own empty network namespace: the
client talks to it over ipc sockets), its own pid, ipc and uts namespaces, no way to make
namespaces of its own (seccomp), a clean environment, and limits on memory (the address space
of each process, and the memory of all its processes together, watched from outside),
processes, CPU time, file size and wall-clock time (``prlimit`` and ``timeout`` inside).

Run as root, bubblewrap itself cannot limit processes (root's processes are exempt from
RLIMIT_NPROC, also in a user namespace), so the kernel then runs as an unprivileged uid of its
own (``setpriv``), unique per grading process; run as anyone else, it runs in a user namespace
as that user, where the process limit counts the sandbox's processes only.

This module is the operating-system and Jupyter layer only: it imports nothing of nbgrader or
of course_tools. ``course_tools.execute.SandboxedExecute`` is the notebook side (a budget for
the whole notebook, interrupted cells, dead kernels, capped outputs), and
``course_tools.pipeline`` plugs both into nbgrader.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from traitlets import Bool, Integer, List, Unicode

INSTALL_HINT = ("install bubblewrap: `sudo apt-get install bubblewrap` (Debian, Ubuntu) or "
                "`sudo dnf install bubblewrap` (Fedora)")
MIN_BWRAP = (0, 8)  # --disable-userns, --size for tmpfs, --perms for --dir
UID_BASE = 3_000_000_000  # root: the kernel runs as UID_BASE + the grading process's pid
SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
             "/etc/fonts", "/etc/localtime", "/etc/nsswitch.conf", "/etc/hosts", "/etc/mime.types")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or too old to build the sandbox."""


def bwrap_problem() -> str | None:
    """Why the sandbox cannot be built here (None when it can), with how to fix it."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return f"bubblewrap (bwrap) is not installed; {INSTALL_HINT}"
    if sys.platform != "linux":
        return "the sandbox needs Linux namespaces"
    try:
        out = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError) as err:
        return f"bwrap does not run ({err}); {INSTALL_HINT}"
    version = tuple(int(n) for n in re.findall(r"\d+", out)[:2])
    if version < MIN_BWRAP:
        return f"bubblewrap {out.strip()} is too old (need {'.'.join(map(str, MIN_BWRAP))}+); {INSTALL_HINT}"
    return _trial_run()


@functools.lru_cache(maxsize=1)
def _trial_run() -> str | None:
    """Run `true` in the sandbox once: bwrap may be installed where namespaces are not allowed
    (a container without the privilege, a kernel that forbids unprivileged user namespaces)."""
    with tempfile.TemporaryDirectory(prefix="nbk-") as scratch:
        runtime = Path(scratch)
        (runtime / "work").mkdir()
        uid = UID_BASE + os.getpid() if os.geteuid() == 0 else None
        if uid is not None:
            _chown_tree(runtime, uid)
        command = bwrap_command(["true"], workdir=runtime / "work", private_workdir=runtime / "work", runtime=runtime,
                                memory_mb=512, max_processes=16, cpu_seconds=10, wall_seconds=10, file_mb=1,
                                tmp_mb=1, uid=uid)
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as err:
            return f"bwrap does not run here ({err})"
    if result.returncode != 0:
        why = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        return (f"bwrap cannot build the sandbox here ({why}); it needs Linux namespaces: a container must "
                "allow them (e.g. docker run --privileged), and unprivileged user namespaces must be enabled")
    return None


# seccomp: the kernel may not make namespaces of its own. As root the sandbox has no user
# namespace of its own to forbid them in (--disable-userns needs one), and a nested user
# namespace lets a notebook mount a tmpfs that no memory limit counts.
_ARCHES = {"x86_64": (0xC000003E, {"clone": 56, "unshare": 272, "clone3": 435}),  # AUDIT_ARCH_*, syscall numbers
           "aarch64": (0xC00000B7, {"clone": 220, "unshare": 97, "clone3": 435})}
_NEW_NAMESPACES = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET


def seccomp_filter() -> bytes | None:
    """A BPF program for bwrap --seccomp: unshare() and clone() into new namespaces fail with EPERM,
    clone3() with ENOSYS (so libc falls back to clone), other ABIs are killed; None off x86_64/aarch64."""
    arch = _ARCHES.get(os.uname().machine)
    if arch is None:
        return None
    audit_arch, nr = arch
    load, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, kill, errno = 0x7FFF0000, 0x80000000, 0x00050000
    program = [  # (code, jump if true, jump if false, k): jumps count the instructions skipped
        (load, 0, 0, 4),                      # 0 architecture
        (jeq, 0, 10, audit_arch),             # 1 another ABI (i386, ...): kill
        (load, 0, 0, 0),                      # 2 syscall number
        (jge, 8, 0, 0x40000000),              # 3 x32 ABI: kill
        (jeq, 5, 0, nr["unshare"]),           # 4 -> EPERM
        (jeq, 5, 0, nr["clone3"]),            # 5 -> ENOSYS
        (jeq, 0, 2, nr["clone"]),             # 6 not clone: allow
        (load, 0, 0, 16),                     # 7 clone's flags (low 32 bits of args[0])
        (jset, 1, 0, _NEW_NAMESPACES),        # 8 a new namespace -> EPERM
        (ret, 0, 0, allow),                   # 9
        (ret, 0, 0, errno | 1),               # 10 EPERM
        (ret, 0, 0, errno | 38),              # 11 ENOSYS
        (ret, 0, 0, kill),                    # 12
    ]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)


@functools.lru_cache(maxsize=1)
def kernel_course_lib() -> tuple[Path, ...]:
    """Where the kernel's own Python finds course_lib: asked of that Python in an empty
    environment, as the sandbox starts it (no PYTHONPATH), so an editable install of course_lib
    that lives outside the course is bound in too."""
    ask = ("import importlib.util as u; s = u.find_spec('course_lib'); "
           "print('\\n'.join(s.submodule_search_locations) if s and s.submodule_search_locations else '')")
    try:
        found = subprocess.run([sys.executable, "-c", ask], env={"PATH": "/usr/bin:/bin"}, cwd="/",
                               capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return tuple(Path(line) for line in found.stdout.splitlines() if line.strip())


def readonly_paths() -> list[tuple[Path, Path]]:
    """What the kernel needs of this Python, as (host path, path in the sandbox): the environment,
    its base install and course_lib. A path reached through a symlink (a virtual environment
    linked from elsewhere) is bound at both its real place and the linked one, since the kernel
    is started by the linked name."""
    paths = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.executable).parent.parent]
    spec = importlib.util.find_spec("course_lib")  # finds the (editable) package without importing it
    if spec is not None and spec.submodule_search_locations:
        paths += [Path(p) for p in spec.submodule_search_locations]
    paths += kernel_course_lib()
    binds: list[tuple[Path, Path]] = []
    for path in paths:
        for dest in {path.resolve(), Path(os.path.abspath(path))}:
            if path.resolve().is_dir():
                binds.append((path.resolve(), dest))
    unique: list[tuple[Path, Path]] = []
    for source, dest in sorted(set(binds), key=lambda pair: len(pair[1].parts)):
        if not any(dest.is_relative_to(d) and source == s / dest.relative_to(d) for s, d in unique):
            unique.append((source, dest))
    return unique


def bwrap_command(kernel_cmd: list[str], *, workdir: Path, private_workdir: Path, runtime: Path,
                  memory_mb: int, max_processes: int, cpu_seconds: int, wall_seconds: int,
                  file_mb: int, tmp_mb: int, uid: int | None = None,
                  extra_readonly: list[Path] = (), seccomp_fd: int | None = None) -> list[str]:
    """The command line that runs ``kernel_cmd`` sandboxed, its working folder ``workdir``
    backed by ``private_workdir``. ``uid``: run as that uid (needed when grading as root);
    ``seccomp_fd``: an open file descriptor holding ``seccomp_filter()``."""
    args = [shutil.which("bwrap") or "bwrap", "--die-with-parent", "--new-session"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    if uid is None:  # unprivileged: a user namespace, as the instructor's uid
        args += ["--unshare-all", "--unshare-user", "--disable-userns"]
    else:  # root: namespaces without a user namespace, then setpriv to an unprivileged uid
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                 "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    mounted: list[Path] = [Path("/usr")]  # host folders bound in: what lies under them exists already
    args += ["--ro-bind", "/usr", "/usr"]
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
            mounted.append(path)
    for name in ETC_FILES:
        args += ["--ro-bind-try", name, name]
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(tmp_mb << 20), "--tmpfs", "/tmp"]
    made: set[Path] = {Path("/"), Path("/proc"), Path("/dev"), Path("/tmp")}  # folders that exist in the sandbox

    def ensure_parents(dest: Path) -> list[str]:  # readable folders on the way (bwrap as root makes them 0700)
        args = []
        for parent in reversed(dest.parents):
            if parent not in made and not any(parent.is_relative_to(m) for m in mounted):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        return args

    for source, dest in [*readonly_paths(), *((Path(p), Path(p)) for p in extra_readonly)]:
        if not any(dest.is_relative_to(m) for m in mounted):
            args += ensure_parents(dest) + ["--ro-bind", str(source), str(dest)]
            mounted.append(dest)
    for source, dest in ((runtime, runtime), (private_workdir, workdir)):
        args += ensure_parents(dest) + ["--bind", str(source), str(dest)]
        mounted.append(dest)
    args += ["--remount-ro", "/", "--chdir", str(workdir), "--clearenv"]  # only /tmp and the binds stay writable
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp", "TMPDIR": "/tmp", "USER": "student", "LOGNAME": "student", "LANG": "C.UTF-8",
        # one thread and a fixed hash seed: the same submission gets the same numbers every time
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "NBGRADER_EXECUTION": os.environ.get("NBGRADER_EXECUTION", "autograde"),
    }
    for key, value in env.items():
        args += ["--setenv", key, value]
    args.append("--")
    if uid is not None:
        args += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    args += ["prlimit", f"--as={memory_mb << 20}", f"--nproc={max_processes}",
             f"--cpu={cpu_seconds}:{cpu_seconds + 5}", f"--fsize={file_mb << 20}", "--core=0",
             "--nofile=1024", "--", "timeout", "--signal=KILL", str(wall_seconds), *kernel_cmd]
    return args


def _copy_workdir(source: Path, dest: Path, max_bytes: int) -> None:
    """Copy the regular files of the notebook's folder (no symlinks, nothing over max_bytes)."""
    dest.mkdir()
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        target = dest / path.relative_to(source)
        if path.is_symlink():
            continue
        if path.is_dir():
            target.mkdir(exist_ok=True)
        elif path.is_file() and path.stat().st_size <= max_bytes:
            shutil.copyfile(path, target)


def _chown_tree(root: Path, uid: int) -> None:
    for path in [root, *root.rglob("*")]:
        os.lchown(path, uid, uid)


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run inside bubblewrap (see the module's docstring)."""

    sandboxed = Bool(True, help="Run kernels in the sandbox; False runs them as plain local processes.").tag(
        config=True)
    memory_mb = Integer(4096, help="Address-space limit of each kernel process (MiB).").tag(config=True)
    max_processes = Integer(64, help="Processes and threads the sandbox may have at once.").tag(config=True)
    cpu_seconds = Integer(900, help="CPU time limit of each kernel process (s).").tag(config=True)
    wall_seconds = Integer(900, help="Lifetime of a sandboxed kernel (s): a backstop for the notebook cap.").tag(
        config=True)
    file_mb = Integer(64, help="Largest file a kernel may write (MiB).").tag(config=True)
    tmp_mb = Integer(256, help="Size of the kernel's private /tmp (MiB).").tag(config=True)
    extra_readonly = List(Unicode(), help="More host paths the kernel may read.").tag(config=True)
    runtime_root = Unicode("/tmp", help="Where each kernel's connection folder goes (a short path: "
                           "ipc socket paths are limited to about 100 characters).").tag(config=True)
    total_memory_mb = Integer(6144, help="Memory (proportional set size) of all the sandbox's processes together "
                              "(MiB): "
                              "the address-space limit holds per process, and a notebook may fork.").tag(config=True)

    _runtime: Path | None = None
    killed_for: str | None = None  # why the memory watch stopped the kernel
    sandboxed_in: str | None = None  # the folder and uid of the kernel last started in the sandbox
    notes: tuple[str, ...] = ()  # what the caller should report about the last start (a missing seccomp filter)

    def _watch_memory(self, pid: int) -> None:
        """Kill the sandbox when its processes together hold more than total_memory_mb (checked 4 times a second)."""

        def total(processes, measure) -> int:
            size = 0
            for process in processes:
                for how in (measure, lambda p: p.memory_info().rss):  # rss where pss is not readable
                    try:
                        size += how(process)
                        break
                    except psutil.AccessDenied:
                        continue
                    except psutil.Error:  # gone meanwhile
                        break
            return size

        limit = self.total_memory_mb << 20
        try:
            sandbox = psutil.Process(pid)
            while sandbox.is_running() and sandbox.status() != psutil.STATUS_ZOMBIE:
                processes = [sandbox, *sandbox.children(recursive=True)]
                # resident sizes first (cheap, and never less); over the limit, the proportional
                # sizes decide, where pages a fork shares with its parent count once
                if total(processes, lambda p: p.memory_info().rss) > limit and \
                        (used := total(processes, lambda p: p.memory_full_info().pss)) > limit:
                    self.killed_for = (f"its processes together held {used >> 20} MiB, over the sandbox's "
                                       f"{self.total_memory_mb} MiB")
                    sandbox.kill()  # bwrap: --die-with-parent and the pid namespace take the rest along
                    return
                time.sleep(0.25)
        except psutil.Error:
            return

    async def _async_pre_start_kernel(self, **kw):  # type: ignore[override]
        if self.sandboxed:
            problem = bwrap_problem()
            if problem:
                raise SandboxUnavailable(f"cannot start a sandboxed kernel: {problem}")
            # ipc sockets in a folder both sides see: the kernel has no network, not even loopback
            root = self.runtime_root if len(self.runtime_root) < 64 else "/tmp"
            self._runtime = Path(tempfile.mkdtemp(prefix="nbk-", dir=root))
            self.transport, self.cache_ports = "ipc", False
            self.connection_file = str(self._runtime / "kernel.json")
            self.ip = str(self._runtime / "ipc")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        if not self.sandboxed:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        runtime = self._runtime
        assert runtime is not None
        workdir = Path(kw.get("cwd") or os.getcwd()).resolve()
        private = runtime / "work"
        _copy_workdir(workdir, private, max_bytes=self.file_mb << 20)
        uid = UID_BASE + os.getpid() if os.geteuid() == 0 else None
        if uid is not None:
            _chown_tree(runtime, uid)
            os.chmod(self.connection_file, 0o400)
        bpf = seccomp_filter()
        self.notes = ()
        if bpf is None and uid is not None:
            self.notes = (f"no seccomp filter for {os.uname().machine}: the kernel could make namespaces of its own",)
        read_end = None
        if bpf is not None:  # bwrap reads the filter from a pipe
            read_end, write_end = os.pipe()
            os.write(write_end, bpf)
            os.close(write_end)
        command = bwrap_command(
            kernel_cmd, workdir=workdir, private_workdir=private, runtime=runtime,
            memory_mb=self.memory_mb, max_processes=self.max_processes, cpu_seconds=self.cpu_seconds,
            wall_seconds=self.wall_seconds, file_mb=self.file_mb, tmp_mb=self.tmp_mb, uid=uid,
            extra_readonly=[Path(p) for p in self.extra_readonly], seccomp_fd=read_end)
        # the kernel's own stdout/stderr (file descriptors 1 and 2) never reach the grader's log
        kw.update(cwd=str(runtime), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                  env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                  pass_fds=() if read_end is None else (read_end,))
        self.log.debug("sandboxed kernel: %s", command)
        try:
            await super()._async_launch_kernel(command, **kw)
        finally:
            if read_end is not None:
                os.close(read_end)
        self.sandboxed_in = f"{workdir} (uid {uid if uid is not None else os.getuid()})"
        self.killed_for = None
        threading.Thread(target=self._watch_memory, args=(self.provisioner.process.pid,), daemon=True).start()

    async def _async_interrupt_kernel(self) -> None:
        if not (self.sandboxed and self.has_kernel):
            return await super()._async_interrupt_kernel()
        # a signal would reach bwrap, not the kernel: ask the kernel itself, as Jupyter's
        # "message" interrupt mode does (ipykernel then signals its own process group)
        msg = self.session.msg("interrupt_request", content={})
        self._connect_control_socket()
        self.session.send(self._control_socket, msg)

    interrupt_kernel = run_sync(_async_interrupt_kernel)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._runtime is not None and not restart:
            shutil.rmtree(self._runtime, ignore_errors=True)
            self._runtime = None

    cleanup_resources = _async_cleanup_resources  # as AsyncKernelManager does: nbclient calls this one
