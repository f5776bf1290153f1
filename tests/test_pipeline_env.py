"""Pinned numerical kernels (hrlmeta.pipeline_env): set on import, checked before torch training."""

import os
import subprocess
import sys

from hrlmeta.pipeline_env import PINNED


def test_importing_hrlmeta_pins_the_kernels():
    for var, value in PINNED.items():
        assert os.environ.get(var) == value, var


def _py(code, **env):
    e = {k: v for k, v in os.environ.items() if k not in PINNED and k != "HRLMETA_PIN_NUMERICS"}
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e)


def test_torch_runs_the_pinned_kernels_and_a_late_pin_is_refused():
    ok = _py("import hrlmeta, torch\nfrom hrlmeta.pipeline_env import configure_torch\n"
             "torch.ones(40).sum()\nconfigure_torch(1)\nprint(torch.backends.cpu.get_cpu_capability())")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == {"default": "DEFAULT", "avx2": "AVX2"}[PINNED["ATEN_CPU_CAPABILITY"]]
    # torch computed something (and chose its kernels) before hrlmeta could pin them: refuse to train
    late = _py("import torch\ntorch.ones(40).sum()\nimport hrlmeta\nfrom hrlmeta.pipeline_env import configure_torch\n"
               "configure_torch(1)", ATEN_CPU_CAPABILITY="")
    if "RuntimeError" not in late.stderr:  # only where this CPU's own choice differs from the pinned one
        assert late.returncode == 0
    else:
        assert "pinned" in late.stderr
    off = _py("import hrlmeta, os\nprint(os.environ.get('MKL_CBWR'))", HRLMETA_PIN_NUMERICS="0")
    assert off.stdout.strip() == "None"
