"""Help texts that several subcommands share (one place for each; no imports, so every
``pmipview/cli*.py`` module can use them at import time)."""

FILE_HELP = ("Capture file(s): pcap, pcapng, .gz, or any format tshark reads; '-' reads "
             "standard input; several files are merged by time.")
NAMES_HELP = ("Name nodes from a hosts file ('address name' lines, /etc/hosts format); "
              "addresses with one name are one node.")
TIME_HELP = ("Arrow times: rel (seconds since the capture start), abs (UTC clock), delta "
             "(since the previous message).")
