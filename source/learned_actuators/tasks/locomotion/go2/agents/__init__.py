"""rsl-rl agent cfgs."""
