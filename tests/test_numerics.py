"""Pinned numerical kernels (hrlmeta.numerics): set on import, checked before torch training."""

import json
import os
import subprocess
import sys

from hrlmeta.numerics import PINNED


def _py(code, **env):
    e = {k: v for k, v in os.environ.items() if k not in PINNED and k != "HRLMETA_PIN_NUMERICS"}
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e)


def test_importing_hrlmeta_pins_the_kernels_over_other_values():
    r = _py("import json, os, hrlmeta\nfrom hrlmeta.numerics import PINNED\n"
            "print(json.dumps({k: os.environ.get(k) for k in PINNED}))", ATEN_CPU_CAPABILITY="avx512")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == PINNED


def test_torch_runs_the_pinned_kernels_and_a_late_pin_is_refused():
    ok = _py("import hrlmeta, torch\nfrom hrlmeta.numerics import configure_torch\n"
             "torch.ones(40).sum()\nconfigure_torch(1)\nprint(torch.backends.cpu.get_cpu_capability())")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == {"default": "DEFAULT", "avx2": "AVX2"}[PINNED["ATEN_CPU_CAPABILITY"]]
    # torch computed something (and chose its kernels) before hrlmeta could pin them: refuse to train
    late = _py("import torch\ntorch.ones(40).sum()\nimport hrlmeta\nfrom hrlmeta.numerics import configure_torch\n"
               "configure_torch(1)")
    if "RuntimeError" not in late.stderr:  # only where this CPU's own choice differs from the pinned one
        assert late.returncode == 0
    else:
        assert "pinned" in late.stderr
    off = _py("import hrlmeta, os\nprint(os.environ.get('MKL_CBWR'))", HRLMETA_PIN_NUMERICS="0")
    assert off.stdout.strip() == "None"


def test_keeping_freed_memory_changes_no_result():
    """`hrlmeta train` lets malloc keep freed memory (less system time): the same table either way."""
    code = ("import hashlib, hrlmeta\nfrom hrlmeta.numerics import keep_freed_memory\n"
            "from hrlmeta.config import load_schema, schema_defaults\n"
            "from hrlmeta.experiments import REGISTRY\n"
            "from hrlmeta.experiments.nav2d_finn import training as E\n"
            "p = {'meta': {'n_iterations': 2, 'n_tasks': 3, 'n_traj': 4}, 'policy': {'hidden': [16, 16]},\n"
            "     'eval': {'n_tasks': 2, 'n_traj': 4}, 'cost': {'repeats': 0}}\n"
            "p = schema_defaults(p, load_schema('nav2d_finn', REGISTRY))\n"
            "if {keep}:\n    assert keep_freed_memory()\n"
            "df = E.train('maml', [0], p)[0].drop(columns='wall_s')\n"
            "print(hashlib.sha256(df.to_csv().encode()).hexdigest())")
    out = []
    for keep in (False, True):
        r = _py(code.replace("{keep}", str(keep)))
        assert r.returncode == 0, r.stderr
        out.append(r.stdout.strip())
    assert out[0] == out[1]
