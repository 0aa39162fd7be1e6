# Patches pyspark's modules right after they run, as a script imports them (importing them during Python's start-up
# would make pyspark-client 4.2 take the process for a doctest run). Used by kindling run's sitecustomize.py and by
# bench:spark's overrides for the lab's script in real PySpark.
import importlib.machinery
import sys


class PatchOnImport:
    """A meta-path finder that finds the named modules as usual and patches each right after it runs."""

    def __init__(self, patches):
        self._patches = patches

    def find_spec(self, name, path, target=None):
        patch = self._patches.get(name)
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


def patch_on_import(patches):
    """Installs the finder: `patches` maps a module name to a function called with the module once it has run."""
    sys.meta_path.insert(0, PatchOnImport(patches))
