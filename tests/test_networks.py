"""Registry-driven contract tests for every registered generator and discriminator."""

from __future__ import annotations

import inspect

import pytest
import torch

import gansuite.core.discriminators
import gansuite.tasks  # noqa: F401  (registers the task heads' networks)
from gansuite.core.checkpoint import export_weights, load_weights, read_weights_metadata
from gansuite.core.networks import DISCRIMINATORS, GENERATORS, NetworkSpec, build_network
from gansuite.core.registry import Registry
from gansuite.errors import CheckpointError, ConfigError, UnknownNameError

# small but valid settings per network, so the contract tests stay fast
SMALL = {
    ("discriminator", "vgg"): {"base_channels": 8, "input_size": 32},
    ("discriminator", "patchgan"): {"base_channels": 8},
    ("discriminator", "unet"): {"base_channels": 8},
    ("generator", "flow-unet"): {"base_channels": 8, "depth": 2},
}


def _specs() -> list[NetworkSpec]:
    specs = []
    for kind, registry in (("generator", GENERATORS), ("discriminator", DISCRIMINATORS)):
        for name in registry.names():
            kwargs = dict(SMALL.get((kind, name), {}))
            specs.append(NetworkSpec(kind, name, kwargs))
            # image discriminators also take a condition (pix2pix-style); the others (toy, crypto) don't
            if kind == "discriminator" and "condition_channels" in inspect.signature(registry.get(name)).parameters:
                specs.append(NetworkSpec(kind, name, {**kwargs, "condition_channels": 2}))
    return specs


def test_the_core_discriminators_are_registered() -> None:
    assert {"vgg", "patchgan", "unet"} <= set(DISCRIMINATORS.names())


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: f"{s.kind}-{s.name}-{s.kwargs.get('condition_channels', 0)}")
def test_network_contract(spec: NetworkSpec, tmp_path) -> None:
    net = build_network(spec).train()
    inputs = net.example_inputs(2)
    out = net(*inputs)
    assert out.shape[0] == 2
    assert torch.isfinite(out).all()
    (out.float() ** 2).mean().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None, f"no gradient reached {name}"
        assert torch.isfinite(p.grad).all(), f"non-finite gradient in {name}"
    assert any(p.grad.abs().sum() > 0 for p in net.parameters())

    # safetensors round trip rebuilds the same network from the file alone
    path = export_weights(tmp_path / "net.safetensors", net, card={"note": "test"})
    loaded = load_weights(path)
    net.eval()
    with torch.no_grad():
        torch.manual_seed(1)
        expected = net(*inputs)
        torch.manual_seed(1)
        assert torch.equal(loaded(*inputs), expected)
    spec_back, card = read_weights_metadata(path)
    assert spec_back == spec and card == {"note": "test"}
    assert path.with_suffix(".json").is_file()


def test_patchgan_takes_any_size() -> None:
    net = build_network(NetworkSpec("discriminator", "patchgan", {"base_channels": 8}))
    assert net(torch.rand(1, 3, 40, 56)).shape[:2] == (1, 1)
    assert net(torch.rand(1, 3, 64, 64)).shape[-1] > net(torch.rand(1, 3, 32, 32)).shape[-1]


def test_vgg_discriminator_rejects_other_sizes() -> None:
    net = build_network(NetworkSpec("discriminator", "vgg", {"base_channels": 8, "input_size": 32}))
    with pytest.raises(ConfigError, match="takes 32x32 inputs, got 48x48"):
        net(torch.rand(1, 3, 48, 48))


def test_condition_is_required_when_configured() -> None:
    net = build_network(NetworkSpec("discriminator", "patchgan", {"base_channels": 8, "condition_channels": 2}))
    with pytest.raises(ConfigError, match="condition with 2 channels"):
        net(torch.rand(1, 3, 32, 32))
    # a condition of another size is resized to the input's
    assert net(torch.rand(1, 3, 32, 32), torch.rand(1, 2, 8, 8)).shape[:2] == (1, 1)


def test_unknown_name_lists_valid_names_and_closest_match() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown discriminator 'patchgn'.*did you mean 'patchgan'"):
        build_network(NetworkSpec("discriminator", "patchgn"))


def test_duplicate_registration_raises() -> None:
    registry: Registry[int] = Registry("thing")
    registry.register("a")(1)
    with pytest.raises(ConfigError, match="registered twice"):
        registry.register("a")(2)


def test_bad_constructor_arguments_are_reported() -> None:
    with pytest.raises(ConfigError, match="bad arguments"):
        build_network(NetworkSpec("discriminator", "patchgan", {"no_such_option": 1}))


def test_loading_a_non_gansuite_file_fails_clearly(tmp_path) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file at all")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_weights(junk)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_weights(tmp_path / "missing.safetensors")
