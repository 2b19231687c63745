"""Reference agents as sans-IO cores: LMA, MAG, DHCP server and client (see base.py)."""
