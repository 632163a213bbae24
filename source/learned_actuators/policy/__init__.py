"""Policy training and playback entry points (Isaac Lab's unified rsl-rl CLI with our tasks loaded)."""
