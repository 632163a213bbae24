"""Locomotion tasks."""
