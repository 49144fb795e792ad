"""apps.sketch: pix2pix sketch to photo on the core trainer, shipped weights and `gansuite demo sketch`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from gansuite.apps.sketch import EdgePhotoCrops, SketchToPhoto, UNetGenerator, drawing_to_edges, edges_of, train_pix2pix
from gansuite.cli import main
from gansuite.core.sampling import SeededIndex
from gansuite.errors import ConfigError
from gansuite.io import read_image, write_image


def test_unet_shapes_range_and_size_check() -> None:
    generator = UNetGenerator(base_channels=4, depth=3)
    out = generator(torch.rand(2, 1, 16, 24)).detach()
    assert out.shape == (2, 3, 16, 24) and float(out.min()) >= 0 and float(out.max()) <= 1
    with pytest.raises(ConfigError, match="divisible by 8"):
        generator(torch.rand(1, 1, 16, 20))


def test_edges_of_a_two_tone_photo_lie_on_its_boundary() -> None:
    photo = np.zeros((32, 32, 3), np.float32)
    photo[:, 16:] = 1.0
    edges = edges_of(photo)
    assert set(np.unique(edges)) == {0.0, 1.0}
    columns = np.nonzero(edges.any(axis=0))[0]
    assert columns.min() >= 14 and columns.max() <= 17  # only at the step
    assert edges[:, :10].sum() == 0 and edges[:, 22:].sum() == 0


def test_drawing_to_edges_thins_dark_strokes_on_paper_and_refuses_blank_pages() -> None:
    drawing = np.ones((40, 40), np.float32)
    drawing[18:23, 5:35] = 0.0  # a 5-pixel-wide dark stroke
    edges = drawing_to_edges(drawing)
    assert edges[:, 10:30].sum(axis=0).max() == 1  # one pixel wide
    assert np.nonzero(edges[:, 20])[0].tolist() == [20]  # on the stroke's centre line
    assert np.array_equal(drawing_to_edges(1 - drawing), edges)  # light on dark is the same drawing
    with pytest.raises(ConfigError, match="no strokes"):
        drawing_to_edges(np.ones((10, 10), np.float32))


def _photos(tmp_path, count: int = 2) -> list:
    rng = np.random.default_rng(0)
    files = []
    for i in range(count):
        image = np.zeros((48, 40, 3), np.float32)
        image[:, :, i % 3] = 0.8
        image[10:30, 8:30] = rng.random(3)
        files.append(write_image(tmp_path / f"photo{i}.png", image))
    return files


def test_crops_are_reproducible_and_paired_with_their_own_edges(tmp_path) -> None:
    dataset = EdgePhotoCrops(_photos(tmp_path), crop=32, crops_per_image=3)
    assert len(dataset) == 6
    edges, photo = dataset[SeededIndex(1, 123)]
    again_edges, again_photo = dataset[SeededIndex(1, 123)]
    assert torch.equal(photo, again_photo) and torch.equal(edges, again_edges)
    assert edges.shape == (1, 32, 32) and photo.shape == (3, 32, 32)
    assert np.array_equal(edges[0].numpy(), edges_of(photo.permute(1, 2, 0).numpy()))
    with pytest.raises(ConfigError, match="smaller than"):
        EdgePhotoCrops(_photos(tmp_path), crop=64)


def test_pix2pix_and_its_l1_twin_train_on_the_core(tmp_path) -> None:
    dataset = EdgePhotoCrops(_photos(tmp_path), crop=32, crops_per_image=4)
    gan = train_pix2pix(dataset, tmp_path / "gan", steps=2, batch_size=2, base_channels=4)
    twin = train_pix2pix(dataset, tmp_path / "l1", adversarial=False, steps=2, batch_size=2, base_channels=4)
    assert gan.discriminator is not None and twin.discriminator is None
    assert gan.discriminator.condition_channels == 1  # conditional PatchGAN: D sees the edges
    assert gan.latest_checkpoint() is not None and twin.latest_checkpoint() is not None


def test_from_edges_pads_and_crops_back_to_the_input_size() -> None:
    model = SketchToPhoto(UNetGenerator(base_channels=4, depth=3).eval())
    edges = np.zeros((21, 30), np.float32)
    edges[10, 3:25] = 1
    photo = model.from_edges(edges)
    assert photo.shape == (21, 30, 3) and photo.dtype == np.float32
    with pytest.raises(ConfigError, match=r"\(H, W\)"):
        model.from_edges(np.zeros((2, 21, 30), np.float32))


@pytest.fixture(scope="module")
def shipped() -> SketchToPhoto:
    return SketchToPhoto.from_pretrained()


def test_cli_demo_sketch_turns_a_drawing_into_a_photo(shipped: SketchToPhoto, tmp_path) -> None:
    drawing = np.ones((50, 70, 3), np.float32)
    drawing[20:23, 10:60] = 0.0
    drawing[10:45, 30:33] = 0.0
    source = write_image(tmp_path / "drawing.png", drawing)
    out = tmp_path / "photo.png"
    result = CliRunner().invoke(main, ["demo", "sketch", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    photo = read_image(out).color
    assert photo.shape == (50, 70, 3)
    assert float(photo.std()) > 0.002  # the lines show through (an all-flat output would be 0)
    missing = CliRunner().invoke(main, ["demo", "sketch", str(tmp_path / "none.png"), "-o", str(out), "--overwrite"])
    assert missing.exit_code != 0 and "none.png" in missing.output


def test_cli_demo_sketch_default_output_is_not_the_sample_photo(tmp_path, monkeypatch) -> None:
    """`demo photo` writes photo.png (the README's set-up); `demo sketch` without -o must not aim there."""
    monkeypatch.chdir(tmp_path)
    write_image(tmp_path / "photo.png", np.full((16, 16, 3), 0.5, np.float32))
    drawing = np.ones((16, 16, 3), np.float32)
    drawing[6:9, 2:14] = 0.0
    write_image(tmp_path / "drawing.png", drawing)
    result = CliRunner().invoke(main, ["demo", "sketch", "drawing.png"])
    assert result.exit_code == 0, result.output
    assert "sketch.png" in result.output and read_image(tmp_path / "sketch.png").color.shape == (16, 16, 3)


def test_cli_demo_sketch_never_writes_over_its_drawing(tmp_path) -> None:
    drawing = np.ones((16, 16, 3), np.float32)
    drawing[6:9, 2:14] = 0.0
    source = write_image(tmp_path / "drawing.png", drawing)
    before = source.read_bytes()
    for spelling in (source, tmp_path / "." / "drawing.png"):
        result = CliRunner().invoke(main, ["demo", "sketch", str(source), "-o", str(spelling), "--overwrite"])
        assert result.exit_code == 1 and "internal error" not in result.output
        assert "is the input clip" not in result.output and "never overwritten" in result.output
        assert source.read_bytes() == before


@pytest.mark.data
def test_shipped_model_is_perceptually_closer_than_an_untrained_one_on_set5(
    shipped: SketchToPhoto, data_dir, backbones_dir
) -> None:
    """On Set5 crops the shipped model's LPIPS beats the same network untrained by a clear margin."""
    from gansuite.metrics import LPIPSMetric

    lpips = LPIPSMetric(net="alex", backbones=backbones_dir, device="cpu")
    crops = []
    for path in sorted((data_dir / "sr" / "Set5" / "HR").glob("*.png")):
        photo = read_image(path).color
        top, left = photo.shape[0] // 2 - 64, photo.shape[1] // 2 - 64
        crops.append(photo[top:top + 128, left:left + 128])
    real = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2)
    made = torch.from_numpy(np.stack([shipped.from_edges(edges_of(c)) for c in crops])).permute(0, 3, 1, 2)
    torch.manual_seed(0)
    untrained = SketchToPhoto(UNetGenerator().eval())
    guess = torch.from_numpy(np.stack([untrained.from_edges(edges_of(c)) for c in crops])).permute(0, 3, 1, 2)
    assert float(lpips(made, real).mean()) < float(lpips(guess, real).mean()) - 0.03


def test_the_same_seed_trains_the_same_weights(tmp_path) -> None:
    dataset = EdgePhotoCrops(_photos(tmp_path), crop=32, crops_per_image=2)
    first = train_pix2pix(dataset, tmp_path / "a", steps=1, batch_size=2, base_channels=4, seed=5)
    torch.rand(100)  # the global random state before the call must not matter
    second = train_pix2pix(dataset, tmp_path / "b", steps=1, batch_size=2, base_channels=4, seed=5)
    for key, value in first.generator.state_dict().items():
        assert torch.equal(second.generator.state_dict()[key], value), key


def test_cli_demo_sketch_reads_a_transparent_drawing_as_it_looks_and_names_the_file(
    shipped: SketchToPhoto, tmp_path, monkeypatch
) -> None:
    """A drawing exported with a transparent background is black everywhere; it was 'the drawing has no strokes'."""
    import cv2

    rgba = np.zeros((40, 48, 4), np.uint8)  # transparent black paper, opaque black strokes
    rgba[18:21, 5:43, 3] = 255
    rgba[5:35, 22:25, 3] = 255
    cv2.imwrite(str(tmp_path / "transparent.png"), rgba)
    opaque = np.ones((40, 48, 3), np.float32)
    opaque[rgba[..., 3] > 0] = 0.0
    write_image(tmp_path / "opaque.png", opaque)
    for name in ("transparent", "opaque"):
        result = CliRunner().invoke(main, ["demo", "sketch", str(tmp_path / f"{name}.png"), "-o",
                                           str(tmp_path / f"{name}_photo.png")])
        assert result.exit_code == 0, result.output
    assert np.array_equal(read_image(tmp_path / "transparent_photo.png").color,
                          read_image(tmp_path / "opaque_photo.png").color)
    blank = write_image(tmp_path / "blank.png", np.ones((16, 16, 3), np.float32))
    result = CliRunner().invoke(main, ["demo", "sketch", str(blank), "-o", str(tmp_path / "p.png")])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {blank}: the drawing has no strokes: draw dark lines on a light " \
        "background (or light on dark)"


def test_cli_demo_sketch_refuses_a_huge_drawing_before_decoding_it(tmp_path, monkeypatch) -> None:
    """Was: 9000x9000 decoded and traced (10 s, 2.7 GB), then an error naming no file."""
    import cv2

    import gansuite.io as io_module

    big = tmp_path / "huge.png"
    cv2.imwrite(str(big), np.full((10, 2100), 255, np.uint8))
    monkeypatch.setattr(io_module, "read_image", lambda *a, **k: pytest.fail("decoded before the size check"))
    result = CliRunner().invoke(main, ["demo", "sketch", str(big), "-o", str(tmp_path / "p.png")])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: {big}: 2100x10 pixels; the sketch model takes drawings up to 2048 "
                                     "pixels a side; downscale it")
    with pytest.raises(ConfigError, match="sides <= 2048 pixels, got 2100x10"):
        SketchToPhoto(UNetGenerator(base_channels=4, depth=2)).from_drawing(np.ones((10, 2100), np.float32))


def test_a_photo_given_as_a_drawing_is_refused_with_from_photo_as_the_way(shipped: SketchToPhoto, tmp_path) -> None:
    """A photo was thinned into a maze of skeletons and drawn as one, without a word."""
    rng = np.random.default_rng(0)
    photo = np.clip(cv2_blur(rng.random((48, 64, 3)).astype(np.float32)), 0, 1)
    source = write_image(tmp_path / "holiday.jpg", photo)
    result = CliRunner().invoke(main, ["demo", "sketch", str(source), "-o", str(tmp_path / "a.png")])
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"Error: {source}: this looks like a photo, not a line drawing: ")
    assert "give a photo with --from-photo" in line and not (tmp_path / "a.png").exists()
    result = CliRunner().invoke(main, ["demo", "sketch", str(source), "--from-photo", "-o", str(tmp_path / "b.png")])
    assert result.exit_code == 0, result.output
    assert read_image(tmp_path / "b.png").color.shape == (48, 64, 3)
    result = CliRunner().invoke(main, ["demo", "sketch", str(source), "--from-photo", "--edges"])
    assert result.exit_code == 1 and "--edges and --from-photo conflict" in result.output
    with pytest.raises(ConfigError, match=r"looks like a photo.*at most 30%"):
        drawing_to_edges(photo)


def cv2_blur(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(image, (0, 0), 3.0)
