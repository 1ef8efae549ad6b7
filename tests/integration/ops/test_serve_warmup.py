"""`comptoir serve` loads the URLs and translations, then freezes what is alive before gunicorn forks, so the
collector's full passes skip the objects that live as long as the process (they set OR11's p99)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from comptoir.ops.management.commands.serve import _warm_then_freeze


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()  # the rest of the suite runs with an ordinary collector
    gc.set_threshold(*thresholds)


def test_warming_up_freezes_the_loaded_api_out_of_full_collections(unfrozen: None) -> None:
    # given a process with nothing frozen
    assert gc.get_freeze_count() == 0

    # when serve warms up before forking
    _warm_then_freeze()

    # then the API's router (built with the URLconf) is among the frozen objects, and a full pass skips them
    from comptoir.api.urls import api

    assert gc.get_freeze_count() > 10_000
    assert all(obj is not api for obj in gc.get_objects(generation=2))
    # and young objects wait for 10,000 allocations, more than a page of 100 orders holds
    assert gc.get_threshold()[0] == 10_000
