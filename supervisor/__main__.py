"""``python -m supervisor`` is ``missionctl``."""

from supervisor.cli.main import main

raise SystemExit(main())
