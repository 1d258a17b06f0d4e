from mechanic.cli import main

raise SystemExit(main())
