"""Deployment: ONNX export and an onnxruntime upscaler, the local web page, sharded batch inference.

Each module imports its optional packages (onnx, onnxruntime, gradio) only when called, through
`gansuite._extras.require_extra`, so `import gansuite.deploy` costs nothing.
"""

__all__: list[str] = []
