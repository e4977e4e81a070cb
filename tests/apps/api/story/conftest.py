"""Real sealing for the API story: the sealing app's fixtures (seals, workstations, keepers of
东海县人民政府) on top of the API fixtures."""

import pytest

from tests.apps.sealing.conftest import *  # noqa: F403
from tests.apps.sealing.conftest import BODY, PIN  # noqa: F401


@pytest.fixture
def real_sealing():
    return True
