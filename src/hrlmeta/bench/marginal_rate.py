"""Benchmark ``marginal_rate``: CPU seconds per cost unit of an experiment's algorithms, measured as the
*marginal* rate between two run sizes, so that a short calibration run is not dominated by its fixed cost
(process and library start-up, JIT, the first evaluation). ``hrlmeta plan --calibrate`` divides a whole
run's CPU time by its cost units, which is right for the run it measured but over-prices a much longer
one when the measured run was short; this bench is how an experiment that the default run does not train
(``lunarlander_meta``) gets a rate at all.

Per algorithm, one seed, one thread: the experiment's parameters (config plus ``--configfile`` overlays and
``--set`` values) with ``--param`` at each of the two ``--values``; ``rate = (cpu_2 - cpu_1) / (units_2 -
units_1)`` with the units of the experiment's ``cost`` (``experiment.yaml``). ``--write`` merges the rates
into ``config/costs.yaml`` (marked as marginal rates, with the machine and the command).

``python -m hrlmeta.bench marginal_rate --experiment lunarlander_meta --param meta.n_iterations --values 1 3
[--configfile config/paper.yaml] [--set eval.n_tasks=2 ...] [--algos ...] [--write]``
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import time


def _set(d: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
        if not isinstance(d, dict):
            raise KeyError(f"--set/--param {dotted}: {k!r} is not a mapping")
    d[keys[-1]] = value


def main(argv: list[str]) -> dict:
    p = argparse.ArgumentParser(prog="python -m hrlmeta.bench marginal_rate", description=__doc__.split("\n")[0])
    p.add_argument("--experiment", required=True)
    p.add_argument("--param", required=True, help="dotted params key that sets the run's size")
    p.add_argument("--values", nargs=2, required=True, type=json.loads, help="the two sizes (JSON values)")
    p.add_argument("--configfile", nargs="*", default=[])
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=JSON", help="other params for both runs")
    p.add_argument("--algos", nargs="*", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--write", action="store_true", help="merge the rates into the costs file")
    p.add_argument("--costs", default=None, help="costs file for --write (default config/costs.yaml)")
    a = p.parse_args(argv)
    from .. import plan
    from ..config import load_config
    from ..experiments import default
    from ..numerics import configure_torch

    configure_torch(1)
    reg = default()
    cfg = load_config(reg, *a.configfile)
    if a.experiment not in cfg["experiments"]:
        raise SystemExit(f"--experiment {a.experiment!r}: not in the config; experiments: {sorted(cfg['experiments'])}")
    exp = cfg["experiments"][a.experiment]
    base = copy.deepcopy(exp.get("params", {}))
    for kv in a.set:
        if "=" not in kv:
            raise SystemExit(f"--set {kv!r}: expected KEY=JSON")
        k, v = kv.split("=", 1)
        _set(base, k, json.loads(v))
    from ..pipeline import run_seeds

    out = {"experiment": a.experiment, "param": a.param, "values": a.values, "configfile": a.configfile,
           "set": a.set, "threads": 1, "algos": {}}
    rates = {}
    for algo in a.algos or exp["algos"]:
        reg.check_algo(a.experiment, algo)
        cpu, units = [], []
        for v in a.values:
            params = copy.deepcopy(base)
            _set(params, a.param, v)
            t0 = time.process_time()
            run_seeds(reg, a.experiment, algo, [a.seed], params)
            cpu.append(time.process_time() - t0)
            units.append(plan.units(a.experiment, algo, params, reg, batch=1))
        du = units[1] - units[0]
        rate = (cpu[1] - cpu[0]) / du if du > 0 else None
        out["algos"][algo] = {"cpu_s": cpu, "units": units, "marginal_cpu_s_per_unit": rate,
                              "whole_run_cpu_s_per_unit": [c / u if u else None for c, u in zip(cpu, units)]}
        if rate is not None and rate > 0:
            rates[algo] = float(f"{rate:.6g}")
    if a.write and rates:
        import yaml

        from ..tidy import atomic_write_text

        from pathlib import Path

        dest = Path(a.costs) if a.costs else plan.COSTS
        costs = plan.load_costs(dest)
        entry = costs["experiments"].setdefault(a.experiment, {})
        entry.setdefault("cpu_s_per_unit", {}).update(rates)
        entry.setdefault("seeds_measured", {}).update({k: 1 for k in rates})
        entry["marginal_rate"] = {
            "measured_on": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "command": " ".join(["python -m hrlmeta.bench marginal_rate", "--experiment", a.experiment, "--param",
                                 a.param, "--values", *map(json.dumps, a.values),
                                 *(["--configfile", *a.configfile] if a.configfile else []),
                                 *(["--set", *a.set] if a.set else []), *(["--algos", *a.algos] if a.algos else [])]),
        }
        text = dest.read_text() if dest.exists() else ""
        header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
        atomic_write_text(dest, header + yaml.safe_dump(costs, sort_keys=False))
        out["written"] = str(dest)
    return out
