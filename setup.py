"""Only the optional C extension lives here; all other metadata is in pyproject.toml.

``optional=True``: without a compiler the install still succeeds and SM3 comes from
OpenSSL alone (``dangan.packages.sm3_multi`` falls back).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("dangan.packages._sm3mb", ["packages/_sm3mb.c"],
                             optional=True, extra_compile_args=["-O3"])])
