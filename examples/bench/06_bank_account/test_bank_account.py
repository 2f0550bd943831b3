import pytest

from bank_account import BankAccount


def opened():
    account = BankAccount()
    account.open()
    return account


def test_new_account_has_zero_balance():
    assert opened().get_balance() == 0


def test_deposits_and_withdrawals():
    account = opened()
    account.deposit(100)
    account.deposit(50)
    account.withdraw(30)
    assert account.get_balance() == 120


def test_reopened_account_starts_empty():
    account = opened()
    account.deposit(50)
    account.close()
    account.open()
    assert account.get_balance() == 0


@pytest.mark.parametrize("operation", ["get_balance", "close", "deposit", "withdraw"])
def test_closed_account_refuses(operation):
    account = BankAccount()
    args = (10,) if operation in ("deposit", "withdraw") else ()
    with pytest.raises(ValueError, match="account not open"):
        getattr(account, operation)(*args)


def test_open_twice():
    with pytest.raises(ValueError, match="account already open"):
        opened().open()


def test_amounts_must_be_positive():
    account = opened()
    with pytest.raises(ValueError, match="amount must be greater than 0"):
        account.deposit(-5)
    with pytest.raises(ValueError, match="amount must be greater than 0"):
        account.withdraw(0)


def test_cannot_overdraw():
    account = opened()
    account.deposit(25)
    with pytest.raises(ValueError, match="amount must be less than balance"):
        account.withdraw(50)
    assert account.get_balance() == 25
