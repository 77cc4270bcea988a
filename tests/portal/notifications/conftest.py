import pytest

from portal.accounts.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def rep():
    return UserFactory(role=Role.SALES_REP, email="rep@leadbridge.example")


@pytest.fixture
def other_rep():
    return UserFactory(role=Role.SALES_REP, email="other@leadbridge.example")


@pytest.fixture
def sales_manager():
    return UserFactory(role=Role.SALES_MANAGER, email="boss@leadbridge.example")
