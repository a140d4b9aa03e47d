"""Start-up reuses question banks checked before, and only those exact banks."""

import shutil

import pytest

from bot.bootstrap import load_checked_banks
from bot.domain.bank_loading import BanksInvalid
from bot.domain.banks import load_banks
from bot.settings import PROJECT_ROOT


@pytest.fixture
def bank_dir(tmp_path):
    copy = tmp_path / "banks"
    shutil.copytree(PROJECT_ROOT / "question_banks", copy, ignore=shutil.ignore_patterns("*.md"))
    return copy


def test_banks_checked_once_are_read_back_the_same(bank_dir, tmp_path):
    cache = tmp_path / "cache"
    first = load_checked_banks([bank_dir], cache)
    [kept] = cache.glob("banks-*.pickle")
    again = load_checked_banks([bank_dir], cache)
    assert again is not first and again.units.keys() == first.units.keys()
    assert again.unit("cg-310") == first.unit("cg-310") == load_banks([bank_dir]).unit("cg-310")
    assert list(cache.glob("banks-*.pickle")) == [kept]


def test_a_changed_bank_file_is_checked_again_and_a_broken_one_refused(bank_dir, tmp_path):
    cache = tmp_path / "cache"
    load_checked_banks([bank_dir], cache)
    bank = bank_dir / "cg-310.yaml"
    bank.write_text(bank.read_text(encoding="utf-8").replace("title:", "titel:", 1), encoding="utf-8")
    with pytest.raises(BanksInvalid):
        load_checked_banks([bank_dir], cache)
    assert len(list(cache.glob("banks-*.pickle"))) == 1  # a refused set is never kept
    bank.write_text(bank.read_text(encoding="utf-8").replace("titel:", "title:", 1).replace("\n", "\n\n", 1))
    load_checked_banks([bank_dir], cache)
    assert len(list(cache.glob("banks-*.pickle"))) == 1  # the newly checked set replaced the old


def test_a_damaged_cache_file_is_ignored(bank_dir, tmp_path):
    cache = tmp_path / "cache"
    load_checked_banks([bank_dir], cache)
    [kept] = cache.glob("banks-*.pickle")
    kept.write_bytes(b"not a pickle")
    assert "cg-310" in load_checked_banks([bank_dir], cache).units
    assert kept.read_bytes() != b"not a pickle"  # checked again and kept afresh


def test_no_cache_dir_means_no_cache(bank_dir, monkeypatch):
    def no_pickling(*_args, **_kwargs):
        raise AssertionError("nothing may be read from or written to a cache")

    monkeypatch.setattr("bot.bootstrap.pickle.loads", no_pickling)
    monkeypatch.setattr("bot.bootstrap.pickle.dumps", no_pickling)
    assert "cg-310" in load_checked_banks([bank_dir], None).units
