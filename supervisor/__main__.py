"""``python -m supervisor`` is ``missionctl``."""

from supervisor.cli.entry import main

raise SystemExit(main())
