"""inferchip/__init__.py pins pandas' text storage when pandas is imported, through a wrapper
around pandas' loader that never modifies the loader itself (a loader shared by many modules,
as zipimport's or a frozen application's, must keep working for every other module)."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_shared_loader_keeps_working_and_only_pandas_is_pinned(tmp_path):
    fake = tmp_path / "fake" / "pandas"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("from pandas import sub\nCALLS = []\n"
                                      "def set_option(key, value):\n    CALLS.append((key, value))\n")
    (fake / "sub.py").write_text("VALUE = 1\n")
    script = textwrap.dedent(f"""
        import importlib.machinery, os, sys
        ROOT = {str(tmp_path / 'fake')!r}

        class Shared:  # one loader object for every module, like a frozen application's
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] != "pandas":
                    return None
                rel = name.replace(".", "/")
                init = os.path.join(ROOT, rel, "__init__.py")
                package = os.path.exists(init)
                origin = init if package else os.path.join(ROOT, rel + ".py")
                spec = importlib.machinery.ModuleSpec(name, self, origin=origin, is_package=package)
                if package:
                    spec.submodule_search_locations = [os.path.dirname(origin)]
                return spec

            def create_module(self, spec):
                return None

            def exec_module(self, module):
                source = open(module.__spec__.origin).read()
                exec(compile(source, module.__spec__.origin, "exec"), module.__dict__)

        shared = Shared()
        sys.meta_path.insert(0, shared)
        sys.path.insert(0, {str(ROOT)!r})
        import inferchip
        import pandas
        assert pandas.sub.VALUE == 1
        assert pandas.CALLS == [("mode.string_storage", "python")], pandas.CALLS
        assert type(shared).exec_module is Shared.exec_module  # the shared loader untouched
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_real_pandas_gets_python_text_storage():
    script = ("import inferchip, pandas as pd; "
              "print(pd.get_option('mode.string_storage'), pd.Series(['a']).dtype)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            cwd=str(ROOT))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "python"
