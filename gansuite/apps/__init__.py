"""Applications built only on gansuite's public API, each behind a `gansuite demo NAME` command.

- `gansuite.apps.crypto`: adversarial neural cryptography (Abadi & Andersen 2016), `gansuite demo crypto`.
- `gansuite.apps.digits`: DCGAN digits from noise (Radford et al. 2016), `gansuite demo generate`.
- `gansuite.apps.sketch`: pix2pix sketch to photo (Isola et al. 2017), `gansuite demo sketch`.

`gansuite/apps/anomaly_monitor.py` is a stand-alone script. Importing a submodule registers its networks
in gansuite's registries, so its shipped weights (in `gansuite/apps/weights/`) load with
`gansuite.core.load_weights`.
"""
