import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # fixturelib


@pytest.fixture(autouse=True)
def _private_cache_home(tmp_path_factory, monkeypatch):
    """Each test gets its own user cache directory (v6lint keeps its result cache there)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache-home")))
