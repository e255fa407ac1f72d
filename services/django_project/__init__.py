"""One Django configuration shared by the seven Django services."""
