"""Command-line interface. Each module in this package registers one verb or verb group."""
