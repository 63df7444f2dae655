"""expand2/expand4: Spyker's Expand2/Expand4 spellings and every error path."""

import numpy as np
import pytest

from spyxlike.expand import expand2, expand4


def test_expand2_spellings():
    assert expand2(3, "s") == (3, 3)
    assert expand2((3,), "s") == (3, 3)
    assert expand2((2, 5), "s") == (2, 5)
    assert expand2([2, 5], "s") == (2, 5)
    assert expand2(np.int64(4), "s") == (4, 4)
    assert all(type(v) is int for v in expand2((np.int32(1), 2), "s"))


def test_expand4_spellings():
    assert expand4(1, "p") == (1, 1, 1, 1)
    assert expand4([2], "p") == (2, 2, 2, 2)
    # (vertical, horizontal) -> (top, left, bottom, right)
    assert expand4((1, 2), "p") == (1, 2, 1, 2)
    assert expand4((1, 2, 3, 4), "p") == (1, 2, 3, 4)
    assert expand4(0, "p") == (0, 0, 0, 0)


def test_minimum():
    assert expand2(1, "stride", minimum=1) == (1, 1)
    with pytest.raises(ValueError, match="stride entries must be >= 1, got 0"):
        expand2((1, 0), "stride", minimum=1)


@pytest.mark.parametrize("fn", [expand2, expand4])
def test_negative_rejected(fn):
    with pytest.raises(ValueError, match="conv: padding entries must be >= 0, got -1"):
        fn(-1, "conv: padding")
    with pytest.raises(ValueError, match="conv: padding"):
        fn((1, -2), "conv: padding")


@pytest.mark.parametrize("fn,bad", [(expand2, (1, 2, 3)), (expand2, ()), (expand2, (1, 2, 3, 4)),
                                    (expand4, (1, 2, 3)), (expand4, ()), (expand4, (1,) * 5)])
def test_wrong_length_rejected(fn, bad):
    with pytest.raises(ValueError, match=f"pool: kernel.*got length {len(bad)}"):
        fn(bad, "pool: kernel")


@pytest.mark.parametrize("fn", [expand2, expand4])
@pytest.mark.parametrize("bad", [1.0, (1.5, 2), True, (1, False), "2", None, {"a": 1}])
def test_non_int_rejected(fn, bad):
    with pytest.raises(TypeError, match="my_arg"):
        fn(bad, "my_arg")
