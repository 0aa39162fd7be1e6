# Run by `kindling run` before the user's script: prints pyspark's version if its Spark Connect client imports, else the error.
import json

try:
    import pyspark
    from pyspark.sql.connect.session import SparkSession  # noqa: F401 - importing it is the check

    print(json.dumps({"ok": True, "version": pyspark.__version__}))
except Exception as e:  # noqa: BLE001 - any failure is reported, with its type
    print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))
