"""The command line: the parser, `main`, and one thin module per group of commands.

No domain logic lives here: each command is a call into the library."""
