"""The optional compiled hot path (Cython): built when a C compiler is there, else skipped.

Everything else is in pyproject.toml.  What is compiled is listed once, in
``dissectors/speedups.py``: the hand-written twins (``TWINS``, .pyx) and the pure modules
Cython compiles as they are (``AS_IS``).  A missing Cython or compiler, or a module that
fails to build, prints one warning and leaves that module pure, which behaves identically
(``PMIPVIEW_PURE=1`` forces pure even when built).
"""

from __future__ import annotations

import runpy
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

_LISTS = runpy.run_path("dissectors/speedups.py")


def _warn(what: object) -> None:
    print(f"pmipview: compiled hot path: {what}; the pure-Python path is used there",
          file=sys.stderr)


class OptionalBuildExt(build_ext):
    """build_ext whose failure is a warning, never a failed install."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no Python headers...
            _warn(f"not built ({exc})")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(f"{ext.name} not built ({exc})")


def _extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        _warn(f"not built ({exc})")
        return []
    sources = dict(_LISTS["TWINS"])
    sources.update({name: name.replace(".", "/") + ".py" for name in _LISTS["AS_IS"]})
    out: list[Extension] = []
    for name, path in sources.items():
        directives = {"language_level": 3}
        if path.endswith(".py"):  # as it is: Python semantics, annotations are not C types
            directives["annotation_typing"] = False
        try:
            out += cythonize([Extension(name, [path], extra_compile_args=["-O2"])],
                             include_path=["."], quiet=True, compiler_directives=directives)
        except Exception as exc:
            _warn(f"{name} not translated ({exc})")
    return out


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
