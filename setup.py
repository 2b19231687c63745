"""The optional compiled hot path (Cython): built when a C compiler is there, else skipped.

Everything else is in pyproject.toml.  A missing Cython or compiler, or a failing build,
prints one warning and installs the pure-Python package, which behaves identically
(dissectors/speedups.py; ``PMIPVIEW_PURE=1`` forces it even when built).
"""

from __future__ import annotations

import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

MODULES = {
    "dissectors._cprefilter": "dissectors/_cprefilter.pyx",
    "pmipview.sources._creader": "pmipview/sources/_creader.pyx",
}


def _warn(what: object) -> None:
    print(f"pmipview: compiled hot path not built ({what}); the pure-Python path is used",
          file=sys.stderr)


class OptionalBuildExt(build_ext):
    """build_ext whose failure is a warning, never a failed install."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no Python headers...
            _warn(exc)

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(exc)


def _extensions() -> list:
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        _warn(exc)
        return []
    from setuptools import Extension

    exts = [Extension(name, [path], extra_compile_args=["-O2"])
            for name, path in MODULES.items()]
    try:
        return cythonize(exts, include_path=["."], quiet=True,
                         compiler_directives={"language_level": 3})
    except Exception as exc:
        _warn(exc)
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
