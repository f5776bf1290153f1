"""The HTML report of the session's smoke run (`snakemake --report results/report.html`, the README's
command), opened in a real headless browser: the front page shows the claims table, and a figure renders.
Skips, with the reason, where Debian's `chromium` is not installed (.ci/run installs it)."""

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

from conftest import SNAKEMAKE

pytestmark = pytest.mark.workflow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MAX_BYTES = 20 * 10**6


@pytest.fixture(scope="module")
def report_html(smoke_local):
    r = subprocess.run([*SNAKEMAKE, "--configfile", "config/smoke.yaml", "--report", "results/report.html"],
                       cwd=smoke_local, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return smoke_local / "results" / "report.html"


def _browser(page, tmp_path):
    """The DOM of ``page`` after its scripts ran, as headless Chromium renders it."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000", "--dump-dom",
           page.as_uri()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def test_report_is_small_and_embeds_no_table(report_html):
    size = report_html.stat().st_size
    assert size < MAX_BYTES, f"{size / 1e6:.1f} MB"
    script = report_html.read_text().split('<script id="results">', 1)[1]
    results = json.loads(script.split("var results = ", 1)[1].split(";\n", 1)[0])
    assert results and not [k for k in results if k.endswith(".parquet")]  # tables summarised, not embedded
    assert any(k.endswith(".png") for k in results)


def test_front_page_shows_the_claims_table(report_html, smoke_local, tmp_path):
    dom = _browser(report_html, tmp_path)
    claims = pd.read_csv(smoke_local / "results" / "claims" / "claims.tsv", sep="\t")
    tables = re.findall(r"<table[^>]*claims[^>]*>.*?</table>", dom, flags=re.S)
    assert tables, "no claims table on the front page"
    table = tables[0]
    decided = claims.loc[claims["n_seeds"] > 0, "claim_id"]
    assert len(decided)
    for cid in decided:
        assert cid in table, cid
    assert any(v in table for v in ("holds", "fails", "inconclusive"))
    assert "showResultInfo" in table  # figure links open the figure in the report


def test_a_figure_renders(report_html, smoke_local, tmp_path):
    """The report opened, then one figure shown as a click on its eye button would; the browser must
    decode the embedded PNG (its natural width > 0)."""
    png = sorted((smoke_local / "results" / "figures").glob("fourrooms_sutton_*.png"))[0]
    key = json.dumps(f"results/figures/{png.name}")
    probe = f"""
<script>
setTimeout(function () {{
  app.setView({{content: "img", contentPath: results[{key}].data_uri, resultPath: {key}}});
  setTimeout(function () {{
    var img = document.querySelector('img[src^="data:image/png"]');
    document.body.setAttribute("data-figure-width", img ? String(img.naturalWidth) : "none");
  }}, 2000);
}}, 2000);
</script>
</body>"""
    page = tmp_path / "report_probe.html"
    html = report_html.read_text()
    head, _, tail = html.rpartition("</body>")
    page.write_text(head + probe + tail)
    dom = _browser(page, tmp_path)
    m = re.search(r'data-figure-width="([^"]*)"', dom)
    assert m, "the probe did not run"
    assert m.group(1) != "none" and int(m.group(1)) > 0, m.group(1)
