"""Admin panels: users, warehouses and products, each a table over its service plus edit dialogs."""
