"""One configured SparkSession (settings measured in the stack notes: local IP, no UI, UTC, quiet logs)."""

from __future__ import annotations

import os
import warnings

from fundguard.config import load_settings


def get_spark(master: str | None = None, conf: dict[str, str] | None = None):
    """A SparkSession for `master` (default: config spark_master — local[*], a cluster URL or sc://…); `conf` is
    applied last, so it can set what is fixed once the session exists (e.g. spark.buffer.pageSize)."""
    # pandas 3 works for what we use (toArrow, no pandas UDFs); the warning would clutter the CLI.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    from pyspark.sql import SparkSession

    settings = load_settings()
    master = master or settings.spark_master
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName("fundguard")
    if master.startswith("sc://"):
        builder = builder.remote(master)
    else:
        builder = (
            builder.master(master)
            .config("spark.driver.memory", settings.spark_driver_memory)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.log.structuredLogging.enabled", "false")
        )
        if master.startswith("local"):
            # Local mode: keep Spark on loopback. A cluster's executors must reach the driver, so there the
            # driver binds as configured (spark.driver.host / SPARK_LOCAL_IP of the submitting host).
            builder = builder.config("spark.driver.bindAddress", "127.0.0.1")
    builder = (
        builder.config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
        # DuckDB's TIMESTAMP has no time zone: make Spark's the same so both engines agree.
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
    )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if not master.startswith("sc://"):
        spark.sparkContext.setLogLevel("ERROR")
    return spark
