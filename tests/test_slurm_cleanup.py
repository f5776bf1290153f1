"""The throwaway Slurm cluster never outlives its test: a test process that starts it (through
test_slurm's `cluster` fixture) is killed, with SIGTERM and with SIGKILL, and afterwards no process of
that cluster is left; `slurm-local.sh start` stops what an earlier, killed run left in its directory;
`slurm-local.sh stop` never kills a process that only looks like one of its daemons (a recycled PID)."""

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from test_slurm import SCRIPT, _free_ports, slurm_ok  # noqa: F401  (slurm_ok: the fixture)

pytestmark = pytest.mark.slurm
TESTS = SCRIPT.parents[1] / "tests"

# The child test process: test_slurm's `cluster` fixture, then it waits to be killed.
CHILD = '''
import time

from test_slurm import cluster, slurm_ok  # noqa: F401  (the fixtures, as test_slurm's tests get them)


def test_hold(cluster):
    print("CLUSTER-UP", cluster["SLURM_LOCAL_DIR"], flush=True)
    time.sleep(600)
'''


def _cluster_procs(cdir):
    """PIDs of the processes of the cluster under ``cdir``, the watchdog and any `slurm-local.sh` of it
    included: an argument names a path under it, or the environment points Slurm or the script at it."""
    cdir = str(cdir)
    marks = {f"SLURM_LOCAL_DIR={cdir}", f"SLURM_CONF={cdir}/etc/slurm.conf"}
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                args = f.read().decode(errors="replace").split("\0")
            with open(f"/proc/{p}/environ", "rb") as f:
                environ = set(f.read().decode(errors="replace").split("\0"))
        except OSError:  # gone, or not ours to read
            continue
        if (any(a == cdir or a.startswith(cdir + "/") or f"={cdir}/" in a for a in args)
                or marks & environ):
            found.append(int(p))
    return found


def _daemons(cdir):
    """{daemon: pid} of the PID files under ``cdir``/run whose processes are running."""
    out = {}
    for f in (cdir / "run").glob("*.pid"):
        pid = int(f.read_text().strip() or 0)
        if pid and os.path.exists(f"/proc/{pid}"):
            out[f.stem] = pid
    return out


def _wait_gone(cdir, timeout):
    deadline = time.monotonic() + timeout
    while (left := _cluster_procs(cdir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def _describe(pids):
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().replace(b"\0", b" ").decode(errors="replace")
            out.append(f"{pid}: {args[:200]}")
        except OSError:
            pass
    return "\n".join(out)


def _start_child(tmp_path):
    """A pytest process holding a cluster from the `cluster` fixture; returns it and the cluster's dir
    once the cluster is up."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # the rootdir: not the project's addopts/markers
    (tmp_path / "test_hold.py").write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "--basetemp",
         str(tmp_path / "child"), "test_hold.py"],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
        # a test run started in the background (`cmd &` in a script) ignores SIGINT, and so would the child:
        # the child gets SIGINT's default back, as a terminal's Ctrl-C would find it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in child.stdout], daemon=True).start()
    seen = []
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if child.poll() is not None:
                break
            continue
        seen.append(line)
        if line.startswith("CLUSTER-UP "):
            return child, Path(line.split(maxsplit=1)[1].strip())
    child.kill()
    child.wait()
    pytest.fail("the child test process never brought its cluster up:\n" + "".join(seen)[-4000:])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL],
                         ids=["SIGTERM", "SIGINT", "SIGKILL"])
def test_killed_test_process_leaves_no_daemon(slurm_ok, tmp_path, sig):
    child, cdir = _start_child(tmp_path)
    try:
        daemons = _daemons(cdir)
        assert set(daemons) == {"munged", "mariadb", "slurmdbd", "slurmctld", "slurmd"}, daemons
        assert set(daemons.values()) <= set(_cluster_procs(cdir))
        child.send_signal(sig)
        # the handler hands the signal on: SIGTERM kills, SIGINT is pytest's KeyboardInterrupt (exit 2)
        assert child.wait(timeout=240) == (2 if sig == signal.SIGINT else -sig)   # a loaded CI machine is slow
        if sig != signal.SIGKILL:
            # the handler stopped the cluster before the process ended (only the watchdog may be left)
            alive = {d: p for d, p in daemons.items() if os.path.exists(f"/proc/{p}")}
            assert not alive, alive
        # SIGKILL: the watchdog stops it; either way nothing of the cluster is left soon after
        left = _wait_gone(cdir, 45)
        assert not left, _describe(left)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if _cluster_procs(cdir):  # a failed test still leaves nothing behind
            subprocess.run([str(SCRIPT), "stop"], env={**os.environ, "SLURM_LOCAL_DIR": str(cdir)},
                           capture_output=True, timeout=120)


def _script(cmd, env, timeout=300):
    r = subprocess.run([str(SCRIPT), cmd], env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"slurm-local.sh {cmd} failed:\n{r.stdout}\n{r.stderr}"
    return r


def _ports_env(cdir):
    ctld, slurmd, dbd, db = _free_ports(4)
    return {**os.environ, "SLURM_LOCAL_DIR": str(cdir), "SLURM_LOCAL_CTLD_PORT": str(ctld),
            "SLURM_LOCAL_SLURMD_PORT": str(slurmd), "SLURM_LOCAL_DBD_PORT": str(dbd),
            "SLURM_LOCAL_DB_PORT": str(db)}


def test_start_stops_a_killed_runs_daemons(slurm_ok, tmp_path):
    """An earlier run that was killed without `stop` left its daemons: the next `start` in the same
    directory (on other ports) finds them by their PID files and stops them."""
    cdir = tmp_path / "cluster"
    try:
        _script("start", _ports_env(cdir))
        old = _daemons(cdir)
        assert len(old) == 5, old
        r = _script("start", _ports_env(cdir))
        assert all(f"stopped stale {d} ({p})" in r.stderr for d, p in old.items()), r.stderr
        assert not [p for p in old.values() if os.path.exists(f"/proc/{p}")]
        new = _daemons(cdir)
        assert len(new) == 5 and not set(new.values()) & set(old.values()), (old, new)
        _script("stop", _ports_env(cdir))
        left = _cluster_procs(cdir)
        assert not left, _describe(left)
        _script("stop", _ports_env(cdir))  # idempotent
    finally:
        if _cluster_procs(cdir):
            subprocess.run([str(SCRIPT), "stop"], env=_ports_env(cdir), capture_output=True, timeout=120)


def test_stop_spares_a_recycled_pid(tmp_path):
    """PID files whose PIDs now belong to other processes, one even named like a daemon: `stop` leaves
    them running (and removes the PID files)."""
    cdir = tmp_path / "cluster"
    (cdir / "run").mkdir(parents=True)
    fake = tmp_path / "slurmd"
    shutil.copy(shutil.which("sleep"), fake)
    procs = [subprocess.Popen(["sleep", "60"]), subprocess.Popen([str(fake), "60"])]
    try:
        for name, p in zip(["slurmctld", "slurmd"], procs):
            (cdir / "run" / f"{name}.pid").write_text(f"{p.pid}\n")
        (cdir / "run" / "start.pid").write_text(f"{procs[0].pid}\n")
        _script("stop", {**os.environ, "SLURM_LOCAL_DIR": str(cdir)}, timeout=60)
        assert [p.poll() for p in procs] == [None, None]
        assert not list((cdir / "run").glob("*.pid"))
    finally:
        for p in procs:
            p.kill()
            p.wait()
