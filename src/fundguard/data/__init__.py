"""Claims data: the national table schema, code tables, loading, validation and the synthetic region."""
