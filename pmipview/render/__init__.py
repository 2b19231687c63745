"""Stage 5: pure functions from decoded packets and reports to text, tables and files."""
