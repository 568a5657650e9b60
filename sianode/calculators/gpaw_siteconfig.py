"""GPAW build configuration for ``make dft`` (passed to GPAW's setup as ``GPAW_CONFIG``).

Serial GPAW (no MPI, no ScaLAPACK, no FFTW), linked against libxc and OpenBLAS from the
system packages ``libxc-dev`` and ``libopenblas-dev`` (the Makefile installs them with apt).
GPAW's setup executes this file with its default lists predefined; the assignments below
replace them. See https://gpaw.readthedocs.io/install.html (siteconfig.py).

The compiler is ``gcc``, not ``g++``: GPAW's extension ``_gpaw.so`` is C99 (it uses
``double complex``), which a C++ compiler rejects.
"""

compiler = "gcc"
mpi = False
scalapack = False
fftw = False
libraries = ["xc", "openblas"]
library_dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"]
include_dirs = ["/usr/include"]
extra_compile_args = ["-O2", "-std=c99", "-fPIC"]
