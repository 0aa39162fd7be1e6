"""The lab's Activity 3 job (crash alerts) as a PySpark Structured Streaming script, for side-by-side runs with Kindling.

Reads the lab's JSON log events from a Kafka topic, keeps High/Critical rows whose content contains
"crash" (any case), and counts them per 10 s tumbling window and user_id behind a 30 s watermark,
emitting counts > 2 in append mode: the same filter, watermark, window and HAVING as Kindling's
crash-alerts query (../../../shared/DESIGN.md section 1). Rows go to a JSON file sink (Spark's own
JSON shape); each batch's StreamingQueryProgress goes to --progress as one JSON line.

It runs Trigger.AvailableNow: everything the topic holds when the query starts, in batches of at
most --max-offsets-per-trigger offsets, then it stops. Settings are the lab's on a 2-core laptop:
local[2], spark.sql.shuffle.partitions 2, driver and UI bound to 127.0.0.1.

Usage: python3 crash_alerts.py --brokers 127.0.0.1:9092 --topic logs --out DIR [--max-offsets-per-trigger N]
Needs: pip install pyspark; Java 17; the Kafka connector
org.apache.spark:spark-sql-kafka-0-10_2.13:<pyspark version> (fetched by spark.jars.packages; Spark's
Ivy looks in ~/.m2 first, so `mvn dependency:get` primes it). The runner, bench/spark/run.ts, checks all
of this and says what is missing.
"""
import argparse
import json
import os
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--brokers", required=True, help="Kafka bootstrap servers, host:port[,...]")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--out", required=True, help="folder for rows/, checkpoint/ and progress.jsonl (emptied first by the runner)")
    ap.add_argument("--max-offsets-per-trigger", type=int, default=0, help="offsets per batch (0: no limit, one batch)")
    ap.add_argument("--driver-memory", default="1g")
    ap.add_argument("--connector", default=None, help="Maven coordinate of the Kafka connector (default: the one matching pyspark), or its jars (comma-separated .jar paths)")
    args = ap.parse_args()

    t_start = time.time()
    import pyspark
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import col, count, from_json, lower, to_timestamp, window
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    connector = args.connector or f"org.apache.spark:spark-sql-kafka-0-10_2.13:{pyspark.__version__}"
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("lab-activity-3-crash-alerts")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", args.driver_memory)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.jars" if ".jar" in connector else "spark.jars.packages", connector)
        # Window bounds print as UTC instants, like Kindling's rows.
        .config("spark.sql.session.timeZone", "UTC")
        # Keep every batch's progress, not only the last 100.
        .config("spark.sql.streaming.numRecentProgressUpdates", "100000")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    t_session = time.time()

    schema = StructType(
        [
            StructField("timestamp", LongType()),
            StructField("status", StringType()),
            StructField("severity", StringType()),
            StructField("source_ip", StringType()),
            StructField("user_id", StringType()),
            StructField("content", StringType()),
        ]
    )
    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", args.brokers)
        .option("subscribe", args.topic)
        .option("startingOffsets", "earliest")
    )
    if args.max_offsets_per_trigger > 0:
        reader = reader.option("maxOffsetsPerTrigger", str(args.max_offsets_per_trigger))
    raw = reader.load()

    # The lab's Activity 3, as written in the lab (DESIGN.md section 1).
    parsed = raw.select(from_json(col("value").cast("string"), schema).alias("data")).select("data.*")
    events = parsed.withColumn("event_time", to_timestamp((col("timestamp") / 1000).cast("double")))
    crashes = events.filter(lower(col("content")).contains("crash") & col("severity").isin("High", "Critical"))
    alerts = (
        crashes.withWatermark("event_time", "30 seconds")
        .groupBy(window(col("event_time"), "10 seconds"), col("user_id"))
        .agg(count("*").alias("crash_count"))
        .filter(col("crash_count") > 2)
    )

    query = (
        alerts.writeStream.outputMode("append")
        .format("json")
        .option("path", os.path.join(args.out, "rows"))
        .option("checkpointLocation", os.path.join(args.out, "checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    t_query = time.time()
    query.awaitTermination()
    t_end = time.time()

    progress = query.recentProgress
    with open(os.path.join(args.out, "progress.jsonl"), "w") as f:
        for p in progress:
            f.write(p.json + "\n")
    spark.stop()
    print(
        json.dumps(
            {
                "pyspark": pyspark.__version__,
                "connector": connector,
                "batches": len(progress),
                "inputRows": sum(p.numInputRows for p in progress),
                "startupMs": round((t_session - t_start) * 1000),
                "queryMs": round((t_end - t_query) * 1000),
                "wallMs": round((t_end - t_start) * 1000),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
