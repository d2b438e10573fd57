"""Rule engine: load the rule library, bind parameters, run rules on DuckDB or Spark, write findings."""
