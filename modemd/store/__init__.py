"""The database shared by the daemon and the web UI: the models, opening a database URL,
versioned migrations, and SQL rendered once per kind of database (sqlcache).
"""
