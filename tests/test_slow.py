"""antrian/slow.py: the one factor every wait against a hang is scaled by (ANTRIAN_SLOW)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from antrian import slow


@pytest.fixture
def fresh(monkeypatch):
    """The module as in a new process: nothing measured yet, ANTRIAN_SLOW as the test sets it."""
    monkeypatch.setattr(slow, "_factor", None)
    monkeypatch.delenv(slow.ENV, raising=False)
    return monkeypatch


def test_a_given_factor_is_used_as_it_is(fresh):
    fresh.setenv(slow.ENV, "6")
    assert slow.factor() == 6.0 and slow.scaled(4) == 24.0
    fresh.setenv(slow.ENV, "0.5")  # read once per process
    assert slow.factor() == 6.0


@pytest.mark.parametrize("text", ["fast", "0", "-2", "inf", "nan"])
def test_a_factor_that_is_no_positive_number_is_refused_in_words(fresh, text):
    fresh.setenv(slow.ENV, text)
    with pytest.raises(slow.SlowFactorError, match="not a positive number"):
        slow.factor()


def test_unset_it_is_measured_once_and_handed_to_child_processes(fresh):
    measured = slow.factor()
    assert measured >= 1 and (measured * 2).is_integer()
    child = subprocess.run([sys.executable, "-c", "from antrian import slow; print(slow.factor())"],
                           capture_output=True, text=True, check=True)
    assert float(child.stdout) == measured


def test_a_slower_machine_measures_a_larger_factor(fresh):
    # The probe's best time against the reference: noise stays 1, a real slowdown is rounded to a half.
    fresh.setattr(slow, "_probe", lambda: slow.REFERENCE_SECONDS * 1.9)
    assert slow.measure() == 1.0
    fresh.setattr(slow, "_probe", lambda: slow.REFERENCE_SECONDS * 6.2)
    assert slow.measure() == 6.0
