class BankAccount:
    def __init__(self):
        self._open = False
        self._balance = 0

    def _check(self):
        if not self._open:
            raise ValueError("account not open")

    def get_balance(self):
        self._check()
        return self._balance

    def open(self):
        if self._open:
            raise ValueError("account already open")
        self._open, self._balance = True, 0

    def deposit(self, amount):
        self._check()
        if amount <= 0:
            raise ValueError("amount must be greater than 0")
        self._balance += amount

    def withdraw(self, amount):
        self._check()
        if amount <= 0:
            raise ValueError("amount must be greater than 0")
        if amount > self._balance:
            raise ValueError("amount must be less than balance")
        self._balance -= amount

    def close(self):
        self._check()
        self._open = False
