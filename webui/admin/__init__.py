"""The administrator's pages: users, contacts (with CSV import and export), keywords,
the blocklist, the audit log and the operators' own messages. Their templates are in
webui/templates/admin/.
"""
