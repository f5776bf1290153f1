"""The workflow on a real (one-node, throwaway) Slurm cluster: scripts/slurm-local.sh brings it up,
the smoke workflow runs through `--profile profiles/slurm`, every job must have been a Slurm job, and
the claims must equal those of a local run. Skips, with the reason, where Slurm cannot be had."""

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading

import pandas as pd
import pytest

from conftest import ROOT, SNAKEMAKE, copy_workflow, run_snakemake

pytestmark = pytest.mark.slurm
SCRIPT = ROOT / "scripts" / "slurm-local.sh"


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _script(cmd, env):
    return subprocess.run(["timeout", "-k", "10", "300", str(SCRIPT), cmd], env=env,
                          capture_output=True, text=True)


def _require_slurm(env):
    """Skip, saying why, where the cluster cannot be had (Slurm not installable, no executor plugin)."""
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        pytest.skip("Slurm is not installed and there is no apt-get to install it")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install -e '.[test]')")
    r = _script("install", env)
    if r.returncode != 0:
        pytest.skip(f"Slurm cannot be installed here: {r.stderr.strip().splitlines()[-1:]}")


# The watchdog: a process of its own session (a Ctrl-C or a kill of pytest's process group spares it)
# that waits for the test process to end, however it ends, SIGKILL included, and then stops the
# cluster. It notices the end by being re-parented (to init or a subreaper), which no recycled PID can
# fake. It gives SIGKILL the same cleanup as the other exits; `slurm-local.sh start` stopping an
# earlier run's leftovers is the last resort (the watchdog killed too, the machine rebooted).
_WATCHDOG = """
import os, subprocess, sys, time
parent, script, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
while os.getppid() == parent:
    time.sleep(0.5)
with open(log, "a") as f:
    subprocess.run(["timeout", "-k", "10", "120", script, "stop"], stdout=f, stderr=f)
"""


@contextlib.contextmanager
def local_cluster(base):
    """A throwaway cluster under ``base``/cluster (free ports), yielding the environment that points
    Slurm's commands at it. It never outlives the test process: stopped on leaving the block; on
    SIGTERM or SIGINT by handlers that stop it and then hand the signal on (the previous handlers are
    restored afterwards); on any other exit of the interpreter by an atexit hook; and, when the process
    is killed outright (SIGKILL), by the watchdog above."""
    cdir = base / "cluster"
    ctld, slurmd, dbd, db = _free_ports(4)
    env = {**os.environ, "SLURM_LOCAL_DIR": str(cdir), "SLURM_LOCAL_CTLD_PORT": str(ctld),
           "SLURM_LOCAL_SLURMD_PORT": str(slurmd), "SLURM_LOCAL_DBD_PORT": str(dbd),
           "SLURM_LOCAL_DB_PORT": str(db)}
    # started before the cluster: a kill during `start` is covered as well
    watchdog = subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(SCRIPT), str(base / "watchdog.log"),
         str(cdir)], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    done = False

    def teardown():
        nonlocal done
        if not done:
            done = True
            _script("stop", env)  # also stops a `start` still under way
            watchdog.kill()
            watchdog.wait()

    def on_signal(signum, frame):
        teardown()
        previous = handlers.pop(signum, signal.SIG_DFL)
        signal.signal(signum, previous)
        if callable(previous):  # SIGINT: KeyboardInterrupt, pytest's own teardown runs
            previous(signum, frame)
        elif previous != signal.SIG_IGN:  # SIGTERM: die of it, as without the handler
            os.kill(os.getpid(), signum)

    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.signal(sig, on_signal)
            handlers[sig] = signal.SIG_DFL if previous is None else previous  # None: not set from Python
    atexit.register(teardown)
    try:
        r = _script("start", env)
        assert r.returncode == 0, f"slurm-local.sh start failed:\n{r.stdout}\n{r.stderr}"
        env["SLURM_CONF"] = str(cdir / "etc" / "slurm.conf")
        env["PATH"] = f"{cdir / 'bin'}:{env['PATH']}"
        yield env
    finally:
        teardown()
        atexit.unregister(teardown)
        for sig, previous in handlers.items():
            signal.signal(sig, previous)


@pytest.fixture(scope="session")
def slurm_ok():
    """Skips where Slurm cannot be had; a session fixture, so that a test asking for it first skips before
    the session fixtures it also asks for (the smoke run) are set up."""
    _require_slurm(dict(os.environ))


@pytest.fixture(scope="module")
def cluster(slurm_ok, tmp_path_factory):
    with local_cluster(tmp_path_factory.mktemp("slurm")) as env:
        yield env


def _claims(work):
    return pd.read_csv(work / "results" / "claims" / "claims.tsv", sep="\t")


#: the experiments the Slurm smoke run trains: one of numba's tabular agents and one torch experiment (a
#: resumable RL^2 learner and its numpy baselines), which between them have every kind of rule (training,
#: table, figures, claims, report). The smoke workflow as a whole runs locally in the workflow tier; a job
#: costs about five times longer under the one-node test cluster (submission, a Snakemake start per job,
#: status polling), which the whole smoke run would make ~16 minutes of CI.
SLURM_ONLY = "fourrooms_sutton,bandits_duan"


def test_smoke_workflow_runs_as_slurm_jobs(slurm_ok, cluster, smoke_local, tmp_path):
    work = copy_workflow(tmp_path / "wf")
    r = subprocess.run(
        ["timeout", "-k", "10", "1500", *SNAKEMAKE, "--profile", "profiles/slurm",
         "--configfile", "config/smoke.yaml", "--config", f"only={SLURM_ONLY}", "--jobs", "8",
         "--slurm-init-seconds-before-status-checks", "2", "--seconds-between-status-checks", "3"],
        cwd=work, env=cluster, capture_output=True, text=True,
    )
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-6000:]

    # every job but the local target rule `all` was submitted to Slurm ...
    dry = run_snakemake(smoke_local, "-n", "--forceall", "--config", f"only={SLURM_ONLY}").stdout
    rules = {line.split()[0] for line in dry.splitlines()
             if line and line.split()[0].startswith(("train", "figures_", "table", "claims", "report"))
             and len(line.split()) == 2 and line.split()[1].isdigit()}
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+) \(log: \S*/rule_([\w\-.]+)/", log)
    assert submitted, log[-4000:]
    assert {rule for _, rule in submitted} == rules
    # ... and Slurm's accounting saw each of those jobs complete
    acct = subprocess.run(["sacct", "-X", "-n", "-P", "-o", "JobID,State", "-j",
                           ",".join(j for j, _ in submitted)], env=cluster, capture_output=True, text=True)
    states = dict(line.split("|") for line in acct.stdout.split())
    assert set(states) == {j for j, _ in submitted}, acct.stdout + acct.stderr
    assert set(states.values()) == {"COMPLETED"}, states

    # the claims equal a local run's (claims on measured wall time only up to timing noise)
    from hrlmeta.claims import declared_claims
    from hrlmeta.experiments import REGISTRY

    timing = {c["id"] for c in declared_claims(REGISTRY, check_measures=False) if c.get("depends_on_timing")}
    only = SLURM_ONLY.split(",")
    here, there = _claims(smoke_local), _claims(work)
    keep = lambda df: df[~df["claim_id"].isin(timing) & df["experiment"].isin(only)].reset_index(drop=True)  # noqa: E731
    # the learner checks' verdicts are the learner_checks experiment's, which the Slurm run leaves out: "not run"
    pd.testing.assert_frame_equal(keep(there).drop(columns="learner_check"), keep(here).drop(columns="learner_check"))
    named = keep(there)["learner_check"].dropna()
    assert len(named) and all("not run" in v for v in named), named.tolist()
    assert set(keep(there)["claim_id"]) == set(keep(here)["claim_id"]) and len(keep(here)) > 20



RESUME_OVERLAY = """\
training: {checkpoint_every: 400}
experiments:
  pointmaze_hiro:
    algos: [hiro]
    params:
      train: {total_steps: 24000, n_envs: 4}
      eval: {every_steps: 4000, episodes: 2}
"""


def test_cancelled_training_job_resumes_under_slurm(slurm_ok, cluster, tmp_path):
    """A training job cancelled part-way (`scancel`) is resubmitted by the workflow (the profile's retry),
    resumes from its checkpoint, and writes the same bytes as an uninterrupted local job. This needs the
    profile's `slurm-status-command: squeue`: with sacct's "CANCELLED by <uid>" the plugin took the
    cancelled job for a running one and waited for it forever."""
    import time

    args = ["--configfile", "config/smoke.yaml", "config/resume.yaml", "--config", "only=pointmaze_hiro",
            "--", "results/tables/pointmaze_hiro.parquet"]
    ref = copy_workflow(tmp_path / "ref")
    (ref / "config" / "resume.yaml").write_text(RESUME_OVERLAY)
    run_snakemake(ref, *args[2:])        # run_snakemake adds --configfile config/smoke.yaml itself
    work = copy_workflow(tmp_path / "wf")
    (work / "config" / "resume.yaml").write_text(RESUME_OVERLAY)
    proc = subprocess.Popen(
        ["timeout", "-k", "10", "900", *SNAKEMAKE, "--profile", "profiles/slurm", "--jobs", "4",
         "--slurm-init-seconds-before-status-checks", "2", "--seconds-between-status-checks", "2", *args],
        cwd=work, env=cluster, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ckpts = work / "results" / "checkpoints" / "pointmaze_hiro" / "hiro"
    deadline = time.time() + 600
    while not list(ckpts.glob("*.ckpt")):
        assert proc.poll() is None and time.time() < deadline, "no checkpoint before the job ended"
        time.sleep(0.1)
    jobs = subprocess.run(["squeue", "-h", "-o", "%i %j"], env=cluster, capture_output=True, text=True).stdout
    train = [line.split()[0] for line in jobs.splitlines() if line.strip()]
    assert train, jobs
    subprocess.run(["scancel", *train], env=cluster, check=True)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-6000:]
    # the plugin saw the cancellation as a failure and Snakemake resubmitted the job
    assert f"SLURM-job '{train[0]}' failed, SLURM status is: 'CANCELLED'" in out, out[-6000:]
    assert "Trying to restart job" in out, out[-6000:]
    log = (work / "results" / "logs" / "train" / "pointmaze_hiro" / "hiro" / "seeds0-1.log").read_text()
    assert "resuming from" in log, log[-3000:]
    for s in (0, 1):
        got = (work / "results" / "runs" / "pointmaze_hiro" / "hiro" / f"seed{s}.parquet").read_bytes()
        assert got == (ref / "results" / "runs" / "pointmaze_hiro" / "hiro" / f"seed{s}.parquet").read_bytes()
    assert not list(ckpts.glob("*.ckpt*"))
