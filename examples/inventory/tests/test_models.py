import pytest

from inventory.models import Item


def test_item_total_value():
    assert Item("bolt", unit_price=0.25, quantity=8).total_value == 2.0


def test_item_rejects_negative_quantity():
    with pytest.raises(ValueError):
        Item("nut", unit_price=0.1, quantity=-1)


def test_items_are_equal_by_value():
    assert Item("nut", 0.1, 3) == Item("nut", 0.1, 3)
