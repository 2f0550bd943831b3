"""A small stock-keeping package: items, and a store that holds them."""
