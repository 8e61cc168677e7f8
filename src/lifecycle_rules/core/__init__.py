"""The pure core: no I/O, no clock, no globals. A history and a compiled pack in, a Result out."""
