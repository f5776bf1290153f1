"""The figures of ``nav2d_seedblog`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

import pandas as pd

from ...tidy import present
from .analysis import ALGOS, LABELS, adapt_rows


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    order = present(table, ALGOS)

    fig, ax = plt.subplots(figsize=(6, 4))
    mt = table[table["phase"] == "meta_train"]
    tr = present(mt, order)
    curve_iqm_ci(ax, mt, "iteration", "return", order=tr, labels=LABELS, smooth=10)
    ax.set_xlabel("meta-iteration (outer_loop call)")
    ax.set_ylabel("post-adaptation return (one trajectory per task)")
    ax.set_title("Chapter listing: meta-training (IQM over seeds, 95% CI)")
    if tr:
        ax.legend()
    savefig(fig, outdir / "nav2d_seedblog_meta_training.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    ad = adapt_rows(table)
    curve_iqm_ci(ax, ad, "step", "return", order=order, labels=LABELS)
    ax.axhline(-50, ls=":", color="grey", lw=1)
    ax.axhline(-20, ls="--", color="grey", lw=1, label="chapter's example (-50 -> -20)")
    ax.set_xlabel("SGD steps of adapt_to_task on the held-out goal")
    ax.set_ylabel("return of one trajectory (mean over test goals)")
    ax.set_title("Chapter listing: adaptation on held-out goals (IQM, 95% CI)")
    ax.legend(fontsize=8)
    savefig(fig, outdir / "nav2d_seedblog_adaptation.png")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    a = table[(table["phase"] == "meta_train")]
    if "audited" in a.columns:
        a = a[a["audited"].astype(bool)]
    pairs = [("cos_listing_maml", "vs true MAML\n(2nd order)"), ("cos_listing_fomaml", "vs FOMAML\n(1st order)"),
             ("cos_listing_pg_theta", "vs policy gradient\nat theta")]
    recs = []
    for algo in order:
        for col, lab in pairs:
            if col in a.columns:
                for v in a.loc[a["algo"] == algo, col].dropna():
                    recs.append({"algo": LABELS.get(algo, algo), "reference": lab, "cosine": v})
    if recs:
        import seaborn as sns

        sns.boxplot(data=pd.DataFrame(recs), x="reference", y="cosine", hue="algo", ax=axes[0], fliersize=2)
        axes[0].set_ylim(-1.05, 1.05)
        axes[0].set_xlabel("")
        axes[0].set_ylabel("cosine similarity with outer_loop's meta-gradient")
        axes[0].tick_params(axis="x", labelsize=8)
        axes[0].legend(fontsize=8)
        nrec = []
        for algo in order:
            for col, lab in [("norm_listing", "listing"), ("norm_maml", "true MAML"),
                             ("norm_fomaml", "FOMAML"), ("norm_second_order_term", "2nd-order term")]:
                if col in a.columns:
                    for v in a.loc[a["algo"] == algo, col].dropna():
                        nrec.append({"algo": LABELS.get(algo, algo), "gradient": lab, "norm": max(v, 1e-12)})
        sns.boxplot(data=pd.DataFrame(nrec), x="gradient", y="norm", hue="algo", ax=axes[1], fliersize=2)
        axes[1].set_yscale("log")
        axes[1].set_xlabel("")
        axes[1].set_ylabel("gradient norm (log scale)")
        axes[1].legend(fontsize=8)
    fig.suptitle("Audit of the listing's outer_loop meta-gradient (audited iterations, all seeds)")
    savefig(fig, outdir / "nav2d_seedblog_audit.png")
