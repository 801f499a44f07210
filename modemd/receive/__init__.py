"""Where a message enters: keep each received SMS as it arrived (inbound), then route it
by keyword to the official who answers it (routing, keywords.ini's table).
"""
