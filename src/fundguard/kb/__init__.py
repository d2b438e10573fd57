"""Knowledge base: importers that turn official and local knowledge files into `kb_point` rows.

`importers.read_points(path)` reads one file into a DataFrame (no warehouse);
`store.import_files(con, paths)` writes them to the warehouse in one transaction.
"""
