from syncd.cli import main

# As the installed command is called: its help, and its completion variable `_SYNCD_COMPLETE`.
main(prog_name="syncd")
