"""The sealing app's fixtures (seals, workstations, an approved notice of 东海县) for the
exchange test that seals for real."""

import pytest

from tests.apps.sealing.conftest import *  # noqa: F403
from tests.apps.sealing.conftest import PIN as SEAL_PIN  # noqa: F401


@pytest.fixture
def real_sealing():
    return True
