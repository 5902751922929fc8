"""The daemon's lifecycle and the one-shot sweeps, wiring core and adapters."""
