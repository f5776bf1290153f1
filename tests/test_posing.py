"""Pre-registration: every claim's posing is frozen in its folder's claims.lock, and a posing cannot change
without a revision entry that says what changed, why, and whether the old result was known."""

import textwrap

import pytest

from hrlmeta import posing
from hrlmeta.cli import main as cli_main
from hrlmeta.experiments import REGISTRY


def test_every_declared_posing_is_frozen_as_declared():
    found = posing.problems(REGISTRY)
    assert not found, "\n".join(found)


def test_every_claim_folder_has_its_lock():
    for name in REGISTRY.available():
        path = REGISTRY.claims_path(name)
        if path is not None:
            assert posing.lock_path(path).exists(), f"{name}: no claims.lock beside {path}"


CLAIM = """\
claims:
  - id: toy_speedup
    measure: speedup
    source: "a paper, Fig. 1"
    statement: "A is faster than B"
    metric: "ratio of steps, B / A"
    expected: "> 1"
    expected_range: [1, null]
    statistic: iqm
    params: {agent: a}
    robustness:
      vary:
        statistic: [iqm, median]
"""


class _Toy:
    def __init__(self, folder):
        self.folder = folder

    def available(self):
        return ("toy",)

    def claims_path(self, name):
        return self.folder / "claims.yaml"


@pytest.fixture
def toy(tmp_path):
    (tmp_path / "claims.yaml").write_text(CLAIM)
    return _Toy(tmp_path)


def test_a_new_claim_is_frozen_then_clean(toy):
    assert "new claim" in posing.problems(toy)[0]
    done, refused = posing.freeze(toy)
    assert len(done) == 1 and not refused
    assert posing.problems(toy) == []
    lock = posing.read_lock(toy.folder / "claims.lock")
    assert lock["toy_speedup"]["revisions"] == 0 and len(lock["toy_speedup"]["fingerprint"]) == 16


@pytest.mark.parametrize("old, new", [
    ("expected_range: [1, null]", "expected_range: [1.5, null]"),   # the threshold
    ("statistic: iqm\n", "statistic: median\n"),                    # the statistic
    ("params: {agent: a}", "params: {agent: b}"),                   # a measure parameter
    ("statistic: [iqm, median]", "statistic: [iqm]"),               # the robustness grid
    ("measure: speedup", "measure: slowdown"),                      # the measure
    ('expected: "> 1"', 'expected: "> 2"'),                         # the claimed value in words
])
def test_a_posing_change_without_revision_is_caught_and_refused(toy, old, new):
    posing.freeze(toy)
    path = toy.folder / "claims.yaml"
    path.write_text(path.read_text().replace(old, new, 1))
    found = posing.problems(toy)
    assert len(found) == 1 and "no revision entry" in found[0] and "toy_speedup" in found[0]
    done, refused = posing.freeze(toy)
    assert refused and not done
    assert posing.problems(toy) == found  # the lock kept the old posing


def test_wording_of_statement_metric_source_is_not_posing(toy):
    posing.freeze(toy)
    path = toy.folder / "claims.yaml"
    path.write_text(path.read_text().replace("A is faster than B", "A reaches the goal sooner than B")
                    .replace("Fig. 1", "Figure 1"))
    assert posing.problems(toy) == []


def test_a_revision_entry_lets_the_posing_move_and_is_reported(toy):
    posing.freeze(toy)
    path = toy.folder / "claims.yaml"
    path.write_text(path.read_text().replace("expected_range: [1, null]", "expected_range: [2, null]")
                    + textwrap.indent(textwrap.dedent("""\
                        revisions:
                          - date: 2026-12-07
                            changed: "threshold 1 -> 2"
                            why: "the paper says 'twice as fast'"
                            result_known: false
                        """), "    "))
    done, refused = posing.freeze(toy)
    assert not refused and "re-frozen after revision 1" in done[0]
    assert posing.problems(toy) == []
    from hrlmeta.claims import load_claims

    (c,) = load_claims(path, experiment="toy")
    assert posing.revision_lines(c) == [
        "2026-12-07: threshold 1 -> 2 (the paper says 'twice as fast'; before its result was known)"]
    # removing the entry again is caught
    path.write_text(path.read_text().split("    revisions:")[0])
    assert any("revision entry was removed" in p for p in posing.problems(toy))
    assert posing.freeze(toy)[1]


def test_revision_entries_are_validated(toy):
    from hrlmeta.claims import ClaimError, load_claims

    path = toy.folder / "claims.yaml"
    path.write_text(CLAIM + "    revisions:\n      - {date: 2026-12-07, changed: x}\n")
    with pytest.raises(ClaimError, match="revisions"):
        load_claims(path, experiment="toy")


def test_freeze_check_cli_is_clean_on_the_checkout(capsys):
    assert cli_main(["freeze", "--check"]) == 0
    assert "frozen as declared" in capsys.readouterr().out.splitlines()[-1]
