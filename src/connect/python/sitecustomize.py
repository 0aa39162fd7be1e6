# Loaded by `kindling run` (this folder is put first on PYTHONPATH): lets a lab script written for a Spark cluster
# run unchanged against Kindling's Spark Connect server, noting once on stderr each call it turns into a no-op.
# pyspark's modules are patched as the script imports them (importing them here, during Python's startup, would
# make pyspark-client 4.2 take the process for a doctest run).
import os
import sys

from patch_on_import import patch_on_import

_noted = set()


def _note(key, text):
    if key not in _noted:
        _noted.add(key)
        print(f"Kindling: {text}", file=sys.stderr, flush=True)


class _NoSparkContext:
    """What `spark.sparkContext` gives under `kindling run`: setLogLevel is a no-op; anything else says why it is missing."""

    def setLogLevel(self, level):
        _note("setLogLevel", f"spark.sparkContext.setLogLevel({level!r}) has no effect (Spark Connect has no SparkContext; Kindling's log is its own terminal view)")

    def __getattr__(self, name):
        raise AttributeError(
            f"spark.sparkContext.{name} is not available under kindling run: a Spark Connect client has no SparkContext "
            "(only spark.sparkContext.setLogLevel is accepted, as a no-op)"
        )


def _patch_builder(classic):
    validate = classic.SparkSession.Builder._validate_startup_urls

    def _validate_startup_urls(self):
        # A lab script's .master("local[*]") or .master("spark://...") would clash with SPARK_REMOTE: Kindling is the master.
        master = self._options.pop("spark.master", None)
        if master is not None:
            _note("master", f"SparkSession.builder.master({master!r}) is ignored: the script runs on Kindling ({os.environ.get('SPARK_REMOTE')})")
        validate(self)

    classic.SparkSession.Builder._validate_startup_urls = _validate_startup_urls


def _patch_connect_session(connect):
    connect.SparkSession.sparkContext = property(lambda self: _NoSparkContext())


_PATCHES = {"pyspark.sql.session": _patch_builder, "pyspark.sql.connect.session": _patch_connect_session}


if os.environ.get("SPARK_REMOTE"):
    os.environ.pop("MASTER", None)
    patch_on_import(_PATCHES)
