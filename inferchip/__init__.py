"""inferchip: TCO calculator for AI inference hardware."""

import sys

__version__ = "0.1.0"


class _PythonStrings:
    """pandas keeps text in pyarrow when pyarrow is installed (e.g. by the `parquet`
    extra), and some operations then behave differently (an empty text column mapped
    to numbers stays text, and multiplying it raises). inferchip's maths is written and
    tested with pandas' own python storage, so pin it the moment pandas is imported,
    before any frame exists (importing pandas here would slow `inferchip --help`)."""

    def find_spec(self, name, path=None, target=None):
        if name != "pandas":
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            exec_module = spec.loader.exec_module

            def run(module):
                exec_module(module)
                module.set_option("mode.string_storage", "python")

            spec.loader.exec_module = run
        return spec


if "pandas" in sys.modules:
    sys.modules["pandas"].set_option("mode.string_storage", "python")
elif not any(isinstance(finder, _PythonStrings) for finder in sys.meta_path):
    sys.meta_path.insert(0, _PythonStrings())
