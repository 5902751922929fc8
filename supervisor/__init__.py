"""Mission Control: supervises the systemd timers and services of one host."""

__version__ = "0.1.0"
