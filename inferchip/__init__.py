"""inferchip: TCO calculator for AI inference hardware."""

import sys

__version__ = "0.1.0"


class _PinnedLoader:
    """Wraps pandas' own loader: runs it, then pins the text storage on the pandas module
    only (the wrapped loader is never modified, so a loader shared by many modules, as
    zipimport's or a frozen application's, is left as it was)."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        if module.__name__ == "pandas":
            module.set_option("mode.string_storage", "python")

    def __getattr__(self, name):  # get_resource_reader, is_package, ... of the real loader
        return getattr(self._loader, name)


class _PythonStrings:
    """pandas keeps text in pyarrow when pyarrow is installed (e.g. by the `parquet`
    extra), and some operations then behave differently (an empty text column mapped
    to numbers stays text, and multiplying it raises). inferchip's maths is written and
    tested with pandas' own python storage, so pin it the moment pandas is imported,
    before any frame exists (importing pandas here would slow `inferchip --help`).

    This sets a pandas option for the whole process: a program importing inferchip as a
    library gets python-backed text columns from then on (frames made before keep theirs)."""

    def find_spec(self, name, path=None, target=None):
        if name != "pandas":
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PinnedLoader(spec.loader)
        return spec


if "pandas" in sys.modules:
    sys.modules["pandas"].set_option("mode.string_storage", "python")
elif not any(type(finder).__name__ == "_PythonStrings" for finder in sys.meta_path):
    sys.meta_path.insert(0, _PythonStrings())
