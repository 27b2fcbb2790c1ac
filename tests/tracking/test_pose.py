"""Head pose convention: the matrix maths round-trips and the signs are as documented."""

from __future__ import annotations

import numpy as np
import pytest

from avatar_driver.tracking.pose import euler_from_matrix, matrix_from_euler


@pytest.mark.parametrize(
    "ypr", [(0, 0, 0), (20, 0, 0), (0, 15, 0), (0, 0, 10), (20, -10, 5), (-30, 20, -15)]
)
def test_round_trip(ypr: tuple[float, float, float]) -> None:
    m = matrix_from_euler(*ypr)
    m[:3, 3] = (1.0, 2.0, -30.0)
    angles, translation = euler_from_matrix(m)
    np.testing.assert_allclose(angles, ypr, atol=1e-4)
    np.testing.assert_allclose(translation, (1.0, 2.0, -30.0))


def test_signs() -> None:
    # Yaw > 0: the nose (canonical +z) swings toward +x, the performer's left.
    assert matrix_from_euler(30, 0, 0)[0, 2] > 0
    # Pitch > 0: the nose points up (+y).
    assert matrix_from_euler(0, 30, 0)[1, 2] > 0
    # Roll > 0: the head's up axis leans toward +x (the performer's left shoulder).
    assert matrix_from_euler(0, 0, 30)[0, 1] > 0
