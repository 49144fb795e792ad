"""Quality and speed benchmarks that write tables (markdown + JSON) with a manifest.

`gansuite.bench.sr` scores super-resolution methods with the papers' protocol;
`gansuite.bench.manifest` records how, with what and where the numbers were measured. The
submodules are imported on use, so ``import gansuite.bench`` stays light.
"""

__all__: list[str] = []
