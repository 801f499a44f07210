"""Where a message leaves: the one way to queue an SMS (outqueue), the queue as the worker
works it (outbound), delivery status reports, and why a send failed in plain words.
"""
