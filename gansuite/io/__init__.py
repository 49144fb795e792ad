"""Image and video input/output, bit depth, gray and alpha handling, atomic writes and tiling.

Everything that converts between files (or OpenCV arrays) and gansuite's
`(H, W, 3) float32 in [0, 1], RGB` images and `(T, H, W, C)` clips lives here.
"""

from gansuite.core.atomic import (
    atomic_path,
    atomic_write,
    atomic_write_bytes,
    check_not_input,
    check_output_path,
    output_folder_problem,
)
from gansuite.errors import OutputError, OutputExistsError
from gansuite.io._quiet import native_stderr_captured
from gansuite.io.animation import Animation, read_animation, write_animation
from gansuite.io.content import bleed_transparent_colour, has_equal_channels
from gansuite.io.image import (
    DEFAULT_MAX_PIXELS,
    WRITE_FORMATS,
    LoadedImage,
    decode_array,
    decode_bytes,
    encode_array,
    encode_bytes,
    from_tensor,
    probe_image,
    read_image,
    rgb_to_gray,
    to_tensor,
    write_image,
)
from gansuite.io.imresize import imresize, imresize_array  # the functions shadow the submodule's name
from gansuite.io.tiling import Box, TileBox, plan_tiles, tiled_apply
from gansuite.io.video import (
    CODECS,
    DEFAULT_FPS,
    FRAME_EXTENSIONS,
    VIDEO_CODECS,
    VIDEO_EXTENSIONS,
    TimedFrame,
    VideoClip,
    VideoInfo,
    VideoWarning,
    VideoWriter,
    iter_timed_frames,
    iter_video_frames,
    probe_video,
    read_video,
    require_frames,
    write_frames,
    write_video,
)

__all__ = [
    "CODECS",
    "DEFAULT_FPS",
    "DEFAULT_MAX_PIXELS",
    "FRAME_EXTENSIONS",
    "VIDEO_CODECS",
    "VIDEO_EXTENSIONS",
    "WRITE_FORMATS",
    "Animation",
    "Box",
    "LoadedImage",
    "OutputError",
    "OutputExistsError",
    "TileBox",
    "TimedFrame",
    "VideoClip",
    "VideoInfo",
    "VideoWarning",
    "VideoWriter",
    "atomic_path",
    "atomic_write",
    "atomic_write_bytes",
    "bleed_transparent_colour",
    "check_not_input",
    "check_output_path",
    "decode_array",
    "decode_bytes",
    "encode_array",
    "encode_bytes",
    "from_tensor",
    "has_equal_channels",
    "imresize",
    "imresize_array",
    "iter_timed_frames",
    "iter_video_frames",
    "native_stderr_captured",
    "output_folder_problem",
    "plan_tiles",
    "probe_image",
    "probe_video",
    "read_animation",
    "read_image",
    "read_video",
    "require_frames",
    "rgb_to_gray",
    "tiled_apply",
    "to_tensor",
    "write_animation",
    "write_frames",
    "write_image",
    "write_video",
]
