# Loaded by `npm run bench:spark` (this folder first on PYTHONPATH) when it runs the lab's own script in real PySpark:
# the overrides `kindling run --brokers --available-now --sink jsonl:DIR --checkpoint-dir` make on Kindling's side,
# made here on Spark's, so both engines run the same unchanged file on the same topic:
# - builder.master(...) (the lab's spark://spark-master:7077) -> local[2], with the bench's session settings;
# - kafka.bootstrap.servers (the lab's kafka:9092) -> the bench's broker;
# - writeStream...start() -> trigger(availableNow=True), a fresh checkpointLocation, and the rows to a json sink;
# - awaitTermination() -> then every batch's progress goes to OUT/progress.jsonl.
# The import hook is kindling run's (src/connect/python, second on PYTHONPATH). Settings come from
# KINDLING_BENCH_LAB_{BROKERS,OUT,DRIVER_MEMORY,CONNECTOR}; CONNECTOR is a Maven coordinate (spark.jars.packages)
# or, when it holds .jar paths, the jars themselves (spark.jars).
import os

from patch_on_import import patch_on_import

ENV = {k: os.environ[f"KINDLING_BENCH_LAB_{k}"] for k in ("BROKERS", "OUT", "DRIVER_MEMORY", "CONNECTOR")}


def _patch_session(module):
    builder = module.SparkSession.Builder
    get_or_create = builder.getOrCreate
    builder.master = lambda self, master: self

    def getOrCreate(self):
        for key, value in {
            "spark.master": "local[2]",
            "spark.sql.shuffle.partitions": "2",
            "spark.driver.memory": ENV["DRIVER_MEMORY"],
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            ("spark.jars" if ".jar" in ENV["CONNECTOR"] else "spark.jars.packages"): ENV["CONNECTOR"],
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.streaming.numRecentProgressUpdates": "100000",
        }.items():
            self.config(key, value)
        return get_or_create(self)

    builder.getOrCreate = getOrCreate


def _patch_readwriter(module):
    reader_option = module.DataStreamReader.option
    module.DataStreamReader.option = lambda self, key, value: reader_option(self, key, ENV["BROKERS"] if key == "kafka.bootstrap.servers" else value)
    start = module.DataStreamWriter.start

    def start_overridden(self, *args, **kwargs):
        self.trigger(availableNow=True).format("json").option("path", os.path.join(ENV["OUT"], "rows"))
        self.option("checkpointLocation", os.path.join(ENV["OUT"], "checkpoint"))
        return start(self)

    module.DataStreamWriter.start = start_overridden


def _patch_query(module):
    await_termination = module.StreamingQuery.awaitTermination

    def awaitTermination(self, timeout=None):
        ended = await_termination(self, timeout)
        if not self.isActive:
            with open(os.path.join(ENV["OUT"], "progress.jsonl"), "w") as f:
                for p in self.recentProgress:
                    f.write(p.json + "\n")
        return ended

    module.StreamingQuery.awaitTermination = awaitTermination


_PATCHES = {"pyspark.sql.session": _patch_session, "pyspark.sql.streaming.readwriter": _patch_readwriter, "pyspark.sql.streaming.query": _patch_query}


patch_on_import(_PATCHES)
