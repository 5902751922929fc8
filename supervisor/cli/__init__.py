"""The ``missionctl`` command line."""
