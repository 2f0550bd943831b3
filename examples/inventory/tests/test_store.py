import pytest

from inventory.models import Item
from inventory.store import OutOfStock, Store


def make_store():
    store = Store()
    store.add(Item("bolt", unit_price=0.25, quantity=10))
    store.add(Item("nut", unit_price=0.10, quantity=5))
    return store


def test_adding_the_same_item_twice_adds_quantities():
    store = make_store()
    store.add(Item("bolt", unit_price=0.25, quantity=2))
    assert store.quantity("bolt") == 12


def test_remove_lowers_the_quantity():
    store = make_store()
    store.remove("nut", 3)
    assert store.quantity("nut") == 2


def test_removing_more_than_there_is_raises():
    store = make_store()
    with pytest.raises(OutOfStock, match="nut"):
        store.remove("nut", 6)
    assert store.quantity("nut") == 5


def test_unknown_item_has_no_stock():
    assert make_store().quantity("washer") == 0


def test_total_value_of_the_store():
    assert make_store().total_value() == pytest.approx(3.0)
