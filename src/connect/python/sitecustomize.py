# Loaded by `kindling run` (this folder is put first on PYTHONPATH): lets a lab script written for a Spark cluster
# run unchanged against Kindling's Spark Connect server, noting once on stderr each call it turns into a no-op.
# pyspark's modules are patched as the script imports them (importing them here, during Python's startup, would
# make pyspark-client 4.2 take the process for a doctest run).
import importlib.machinery
import os
import sys

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


class _PatchOnImport:
    """A meta-path finder that finds the modules above as usual and patches each right after it runs."""

    def find_spec(self, name, path, target=None):
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


if os.environ.get("SPARK_REMOTE"):
    os.environ.pop("MASTER", None)
    sys.meta_path.insert(0, _PatchOnImport())
