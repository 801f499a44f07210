"""What happens to a routed message as a case: answered when a reply went out (answers),
moved to its right owner (assignment), published on the public page (publications).
"""
