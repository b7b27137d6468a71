"""The built-in ops, one small `Function` per op, grouped by family."""
