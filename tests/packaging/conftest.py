"""The installed-wheel environment, built once per session (see wheel_env)."""

from __future__ import annotations

import pytest
from wheel_env import WheelEnv, make_wheel_env


@pytest.fixture(scope="session")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> WheelEnv:
    return make_wheel_env(tmp_path_factory.mktemp("wheel-env"))
