"""Demo data for the first run: the membership behind the simulator's demo forum."""
