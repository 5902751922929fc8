"""systemd over D-Bus (pystemd): reading units, restarting them, following signals.

Nothing past this package sees pystemd types or bytes: everything is decoded into
the core's frozen dataclasses here.
"""
