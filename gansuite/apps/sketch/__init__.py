"""Sketch to photo: pix2pix (Isola et al. 2017) on edge maps, trained with gansuite's `Trainer`.

`gansuite demo sketch drawing.png -o photo.png` runs the shipped generator on a line drawing;
`benchmarks/sketch.py` trains it and its L1-only twin on Canny edges of crops from the SR training
images and compares them on Set5/Set14 crops with LPIPS.
"""

from gansuite.apps.sketch.data import EdgePhotoCrops, drawing_to_edges, edges_of
from gansuite.apps.sketch.inference import SketchToPhoto
from gansuite.apps.sketch.models import UNetGenerator
from gansuite.apps.sketch.training import SketchHead, train_pix2pix

__all__ = [
    "EdgePhotoCrops",
    "SketchHead",
    "SketchToPhoto",
    "UNetGenerator",
    "drawing_to_edges",
    "edges_of",
    "train_pix2pix",
]
