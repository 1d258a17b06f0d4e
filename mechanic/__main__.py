from mechanic.cli.main import main

raise SystemExit(main())
