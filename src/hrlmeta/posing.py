"""Claims are pre-registered: each claim's posing is frozen before its result is read, and every later change
of the posing is a recorded revision.

The **posing** of a claim is what decides its verdict before any run: its ``measure``, ``params``,
``statistic``, ``expected_range`` (and ``expected``, its words), ``robustness`` grid and ``kind``
(:data:`POSING_KEYS`). Its **fingerprint** is a hash of the posing in canonical JSON. Each experiment folder
keeps the fingerprints of its claims in ``claims.lock`` (one line per claim: id, fingerprint, number of
revisions), written only by :func:`freeze` (``hrlmeta freeze``):

* a claim not yet in the lock is added (a new claim: its first posing is frozen);
* a claim whose fingerprint changed is re-frozen only when its ``revisions:`` list has grown since it was
  frozen (an entry ``{date, changed, why, result_known}`` says what changed and whether the result under
  the old posing was known); otherwise :func:`freeze` refuses and names the claim;
* a revision that records an earlier change without changing the posing now is accepted (the count moves).

:func:`problems` compares the declared claims with the locks (a test in the fast tier runs it), so a posing
cannot change silently: changing a threshold after seeing a result shows in ``revisions`` and in the
report, beneath the claim's row.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

#: the fields of a claim that make up its posing
POSING_KEYS = ("measure", "params", "statistic", "expected", "expected_range", "robustness", "kind")
LOCK_NAME = "claims.lock"


def posing(claim: dict) -> dict:
    """The claim's posing: :data:`POSING_KEYS` (absent keys as their defaults: no params, the measure's own
    statistic, no robustness grid, kind ``experimental``)."""
    out = {k: claim.get(k) for k in POSING_KEYS}
    out["params"] = out["params"] or {}
    out["robustness"] = out["robustness"] or {}
    out["kind"] = out["kind"] or "experimental"
    return out


def fingerprint(claim: dict) -> str:
    """16 hex digits of the SHA-256 of the posing in canonical JSON (sorted keys, no spaces; numbers as
    YAML gives them: ``1`` and ``1.0`` differ, as they would in a diff)."""
    text = json.dumps(posing(claim), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def lock_path(claims_path) -> Path:
    return Path(claims_path).with_name(LOCK_NAME)


def read_lock(path) -> dict[str, dict]:
    """``{claim_id: {"fingerprint": str, "revisions": int}}`` from a lock file (empty where absent). The file
    is a JSON object with one claim per line, so a diff shows exactly which posings moved."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a JSON object of claim ids")
    return doc


def write_lock(path, entries: dict[str, dict]) -> None:
    """Atomically (temporary file + rename), claims in declaration order, one per line."""
    path = Path(path)
    lines = [f"  {json.dumps(cid)}: {json.dumps(e, sort_keys=True)}" for cid, e in entries.items()]
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _by_file(registry) -> dict[Path, list[dict]]:
    from .claims import load_claims

    out: dict[Path, list[dict]] = {}
    for name in registry.available():
        path = registry.claims_path(name)
        if path is not None:
            out[Path(path)] = load_claims(path, experiment=name)
    return out


def _entry(claim: dict) -> dict:
    return {"fingerprint": fingerprint(claim), "revisions": len(claim.get("revisions") or [])}


def _state(was: dict | None, now: dict) -> str:
    """``new`` (not in the lock), ``unexplained`` (the posing moved and no revision entry was added),
    ``removed`` (a revision entry was taken away), ``revised`` (moved with a new entry, or an entry recording
    an earlier change was added), or ``frozen`` (as locked)."""
    if was is None:
        return "new"
    if was.get("fingerprint") != now["fingerprint"] and now["revisions"] <= was.get("revisions", 0):
        return "unexplained"
    if now["revisions"] < was.get("revisions", 0):
        return "removed"
    return "revised" if was != now else "frozen"


def _walk(registry):
    """(claims file, its lock, [(claim id, lock entry or None, entry now, state)]) per experiment."""
    for path, claims in _by_file(registry).items():
        lock = read_lock(lock_path(path))
        rows = []
        for c in claims:
            was, now = lock.get(c["id"]), _entry(c)
            rows.append((c["id"], was, now, _state(was, now)))
        yield path, lock, rows


def problems(registry) -> list[str]:
    """One line per claim whose posing differs from its frozen fingerprint (or that is not frozen, or whose
    revisions count differs from the lock's): file, claim id, what, and what to do. Empty when every posing
    is frozen as declared."""
    say = {
        "new": "posing not frozen (new claim): run `hrlmeta freeze`",
        "unexplained": "posing changed since it was frozen (fingerprint {was} -> {now}) and no revision entry says "
                       "why: add {{date, changed, why, result_known}} to its revisions:, then run `hrlmeta freeze`",
        "removed": "a revision entry was removed (the lock has {n_was}, the claim {n_now})",
        "revised": "revisions recorded but not frozen (fingerprint {was} -> {now}): run `hrlmeta freeze`",
    }
    out = []
    for path, lock, rows in _walk(registry):
        for cid, was, now, state in rows:
            if state != "frozen":
                out.append(f"{path}: claim {cid!r}: " + say[state].format(
                    was=(was or {}).get("fingerprint"), now=now["fingerprint"],
                    n_was=(was or {}).get("revisions"), n_now=now["revisions"]))
        for cid in sorted(set(lock) - {r[0] for r in rows}):
            out.append(f"{lock_path(path)}: claim {cid!r}: frozen but no longer declared: run `hrlmeta freeze`")
    return out


def freeze(registry) -> tuple[list[str], list[str]]:
    """Write each folder's ``claims.lock`` from its declared claims, refusing (per claim) a posing change that
    no new revision entry explains, and the removal of an entry. Returns (what was written, what was refused);
    a refused claim keeps its old lock entry."""
    done, refused = [], []
    for path, lock, rows in _walk(registry):
        new: dict[str, dict] = {}
        for cid, was, now, state in rows:
            if state in ("unexplained", "removed"):
                refused.append(f"{path}: claim {cid!r}: " + (
                    f"posing changed (fingerprint {was.get('fingerprint')} -> {now['fingerprint']}) without a new "
                    "revision entry: not frozen" if state == "unexplained" else
                    "a revision entry was removed: not frozen"))
                new[cid] = was
                continue
            if state == "new":
                done.append(f"{path}: claim {cid!r}: frozen ({now['fingerprint']})")
            elif state == "revised":
                done.append(f"{path}: claim {cid!r}: re-frozen after revision {now['revisions']} "
                            f"({was.get('fingerprint')} -> {now['fingerprint']})")
            new[cid] = now
        lpath = lock_path(path)
        done += [f"{lpath}: claim {cid!r}: dropped (no longer declared)" for cid in sorted(set(lock) - set(new))]
        if new != lock or list(new) != list(lock):
            write_lock(lpath, new)
    return done, refused


def revision_lines(claim: dict) -> list[str]:
    """The claim's revisions in words, oldest first, for the report."""
    out = []
    for r in claim.get("revisions") or []:
        known = "result under the old posing known" if r["result_known"] else "before its result was known"
        out.append(f"{r['date']}: {r['changed']} ({r['why']}; {known})")
    return out
