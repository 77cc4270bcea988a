"""The two managers who write and sign agreements, for every scoring test that needs them."""

import pytest

from portal.accounts.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def marketing():
    return UserFactory(role=Role.MARKETING_MANAGER)


@pytest.fixture
def sales():
    return UserFactory(role=Role.SALES_MANAGER)
