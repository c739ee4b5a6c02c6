"""One service per file; each is built by ``db.Station`` with the Database (and FileStore) passed in."""
